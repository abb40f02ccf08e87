"""Strict JSON input on every writable field of every endpoint.

The operations and their fields are read from the OpenAPI schema, so an
endpoint added later is covered with no change here: for each property of each
request body, values of the wrong JSON type must each be a 400 naming that
field with ``invalid_type``, and a key the body does not document must be a
400 naming it with ``unknown_field``. Every writable text field (nested ones
and list items too) takes a whitespace-only string without a 5xx: it is
stored (as null where blank means none) or refused with a 400 naming it.
"""

import pytest

from tests.helpers import assert_error, existing_value

pytestmark = pytest.mark.django_db

# Values of other JSON types than the one a property documents.
WRONG_VALUES = {
    "string": [123, 1.5, True, [], {}],
    "integer": ["1", 1.0, 1.5, True, [], {}],
    "number": ["1", True, [], {}],
    "boolean": ["true", "false", 1, 0],
    "array": ["1", 1, {}],
    "object": ["x", 1, []],
}


@pytest.fixture
def schema(anon_client):
    return anon_client.get("/api/schema/?format=json").json()


def resolve(schema: dict, node: dict) -> dict:
    """``node`` with ``$ref``/``allOf`` references to components followed."""
    while True:
        if "$ref" in node:
            node = schema["components"]["schemas"][node["$ref"].split("/")[-1]]
        elif len(node.get("allOf", [])) == 1:
            node = {
                **node["allOf"][0],
                **{k: v for k, v in node.items() if k != "allOf"},
            }
        else:
            return node


def body_operations(schema: dict):
    """``(method, path, properties)`` of every operation taking a JSON object."""
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" not in content:
                continue
            body = resolve(schema, content["application/json"]["schema"])
            yield method, path, body.get("properties", {})


def operation_url(client, path: str) -> str:
    """``path`` with each parameter naming a row that exists."""

    def get(url):
        response = client.get(url)
        return response.json() if response.status_code == 200 else None

    for name in path.split("{")[1:]:
        name = name.split("}")[0]
        value = existing_value(get, path, name)
        assert value is not None, f"no row for {{{name}}} in {path}"
        path = path.replace("{" + name + "}", str(value))
    return path


def send(client, method: str, url: str, body: dict):
    return getattr(client, method)(url, body, format="json")


def test_every_write_takes_strict_types_and_known_fields(
    staff_client, every_table, schema
):
    checked = 0
    for method, path, properties in body_operations(schema):
        url = operation_url(staff_client, path)
        response = send(staff_client, method, url, {"no_such_field": 1})
        body = assert_error(response, 400, "invalid")
        assert {"field": "no_such_field", "code": "unknown_field"} in [
            {k: e[k] for k in ("field", "code")} for e in body["errors"]
        ], (method, path, body)
        for name, node in properties.items():
            json_type = resolve(schema, node).get("type", "string")
            for wrong in WRONG_VALUES[json_type]:
                response = send(staff_client, method, url, {name: wrong})
                body = assert_error(response, 400, "invalid")
                codes = {e["code"] for e in body["errors"] if e["field"] == name}
                assert codes == {"invalid_type"}, (method, path, name, wrong, body)
                checked += 1
    assert checked > 50  # the schema really was walked


def text_fields(schema: dict, properties: dict, path: tuple = ()):
    """``(path, value)`` of every writable string of a body: its top-level
    properties, those of nested objects (``profile.bio``) and the items of
    lists of strings (``tags.0``); ``value`` puts ``"   "`` there."""
    for name, node in properties.items():
        node = resolve(schema, node)
        if node.get("readOnly"):
            continue
        here = (*path, name)
        if node.get("type", "string") == "string":
            yield here, "   "
        elif node.get("type") == "array":
            if resolve(schema, node.get("items", {})).get("type") == "string":
                yield (*here, "0"), ["   "]
        elif node.get("type") == "object" and "properties" in node:
            for inner, value in text_fields(schema, node["properties"]):
                yield (*here, *inner), value


def body_at(path: tuple, value) -> dict:
    """The body ``{"a": {"b": value}}`` for the path ``("a", "b")`` (a list
    item's index is the list itself)."""
    if path[-1] == "0":
        path = path[:-1]
    for name in reversed(path[1:]):
        value = {name: value}
    return {path[0]: value}


def test_every_text_field_takes_whitespace_without_a_server_error(
    staff_client, every_table, schema
):
    """Blank text is null where the column is nullable, and every validator
    sees text or nothing: whitespace alone once reached a length validator as
    None (a 500 on ``PATCH /me/ {"tagline": "   "}``)."""
    checked = 0
    for method, path, properties in body_operations(schema):
        url = operation_url(staff_client, path)
        for field_path, value in text_fields(schema, properties):
            field = ".".join(field_path)
            response = send(staff_client, method, url, body_at(field_path, value))
            assert response.status_code < 500, (method, path, field, response)
            if response.status_code >= 300:
                body = assert_error(response, response.status_code, "invalid")
                named = {e["field"] for e in body["errors"]}
                # A PATCH sends this field alone: a 400 is about it.
                assert method != "patch" or field in named, (path, field, body)
            checked += 1
    assert checked > 50  # the schema really was walked


@pytest.mark.parametrize(
    "value, message",
    [
        ("1", "Expected an integer, got a string."),
        (1.0, "Expected an integer, got a number with a fraction or exponent."),
        (True, "Expected an integer, got a boolean."),
        (None, "This field may not be null."),
    ],
)
def test_type_errors_say_which_type_was_expected(api_client, value, message):
    response = api_client.post("/api/profiles/me/highlights/", {"post_id": value})
    body = assert_error(response, 400, "invalid")
    assert body["errors"][0]["field"] == "post_id"
    assert body["errors"][0]["message"] == message


def test_list_items_are_checked_one_by_one(api_client):
    response = api_client.put(
        "/api/profiles/me/highlights/order/", {"post_ids": [1, "2", 3, 4.5]}
    )
    body = assert_error(response, 400, "invalid")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [
        ("post_ids.1", "invalid_type"),
        ("post_ids.3", "invalid_type"),
    ]


def test_nested_objects_are_checked_too(api_client):
    response = api_client.patch(
        "/api/profiles/me/",
        {"profile": {"display_name": 7, "dispaly_name": "typo", "created_at": "x"}},
    )
    body = assert_error(response, 400, "invalid")
    assert {(e["field"], e["code"]) for e in body["errors"]} == {
        ("profile.display_name", "invalid_type"),
        ("profile.dispaly_name", "unknown_field"),
        ("profile.created_at", "read_only"),
    }


def test_an_unknown_field_message_lists_the_fields_one_can_send(api_client, user):
    response = api_client.patch("/api/profiles/me/", {"tagln": "Hi"})
    body = assert_error(response, 400, "invalid")
    assert body["errors"] == [
        {
            "field": "tagln",
            "code": "unknown_field",
            "message": "Unknown field; the fields you can send are: tagline, profile.",
        }
    ]
    user.refresh_from_db()
    assert user.tagline is None


@pytest.mark.parametrize("field", ["email", "username", "id", "created_at"])
def test_a_read_only_field_in_a_write_is_a_400(api_client, user, field):
    response = api_client.patch("/api/profiles/me/", {field: "x", "tagline": "kept?"})
    body = assert_error(response, 400, "invalid")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [(field, "read_only")]
    user.refresh_from_db()
    assert user.tagline is None


def test_a_number_field_takes_integers_and_fractions_alike(api_client):
    """JSON has one number type: a float field takes 1 as well as 0.5, but
    not "1" or true."""
    vector = [1, 0.5, -2, 3e-3]
    response = api_client.post("/api/wellness/user-features/", {"vector": vector})
    assert response.status_code == 201, response.content
    assert response.json()["vector"] == [1.0, 0.5, -2.0, 0.003]
    response = api_client.patch(
        f"/api/wellness/user-features/{response.json()['user_id']}/",
        {"vector": [1, "1", True]},
    )
    body = assert_error(response, 400, "invalid")
    assert [(e["field"], e["message"]) for e in body["errors"]] == [
        ("vector.1", "Expected a number, got a string."),
        ("vector.2", "Expected a number, got a boolean."),
    ]
