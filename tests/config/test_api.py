"""The API platform every app inherits: the first pages a newcomer opens,
the OpenAPI schema and its conventions, pagination, filters and ordering."""

import ipaddress
import json
import re
import uuid

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command
from rest_framework.test import APIClient, APIRequestFactory, force_authenticate

from profiles.api.views import PostViewSet
from tests.helpers import assert_error, existing_value
from tests.profiles.factories import PostFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(anon_client):
    return json.loads(anon_client.get("/api/schema/?format=json").content)


# --- the first pages ----------------------------------------------------------------


def test_home_page_links_the_docs_the_schema_and_the_admin(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    for url in ["/api/docs/", "/api/schema/", "/api/", "/admin/"]:
        assert f'href="{url}"' in html
        assert client.get(url).status_code in (200, 302)  # the admin: log in


def test_api_root_lists_each_app_and_the_platform(anon_client):
    response = anon_client.get("/api/")
    assert response.status_code == 200
    links = response.json()
    assert links == {
        "profiles": "http://testserver/api/profiles/",
        "badges": "http://testserver/api/badges/",
        "community": "http://testserver/api/community/",
        "chatbot": "http://testserver/api/chatbot/",
        "wellness": "http://testserver/api/wellness/",
        "safety": "http://testserver/api/safety/",
        "token": "http://testserver/api/auth/token/",
        "register": "http://testserver/api/auth/register/",
        "schema": "http://testserver/api/schema/",
        "docs": "http://testserver/api/docs/",
    }


@pytest.mark.parametrize(
    "app", ["profiles", "badges", "community", "chatbot", "wellness", "safety"]
)
def test_each_app_root_lists_its_endpoints(api_client, app):
    links = api_client.get(f"/api/{app}/").json()
    assert links and all(
        url.startswith(f"http://testserver/api/{app}/") for url in links.values()
    )


def test_docs_work_offline(anon_client):
    """The docs page loads its scripts and styles from this server only, and
    every one of them is a static file the project ships."""
    response = anon_client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "cdn." not in html and "https://" not in html
    assets = re.findall(r'(?:src|href)="/static/([^"]+)"', html)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    for asset in assets:
        assert finders.find(asset), asset


def test_browsable_api_renders_every_list_and_detail(client, every_table, schema):
    """People signed in to the admin can browse every GET of the API as HTML."""
    client.force_login(every_table)

    def get(url):
        response = client.get(url, HTTP_ACCEPT="application/json")
        return response.json() if response.status_code == 200 else None

    for path, item in schema["paths"].items():
        if "get" not in item:
            continue
        url = path
        for name in re.findall(r"{(\w+)}", path):
            value = existing_value(get, url, name)
            url = url.replace("{" + name + "}", str(value))
        response = client.get(url, HTTP_ACCEPT="text/html")
        assert response.status_code == 200, url
        assert response["Content-Type"].startswith("text/html"), url


# --- the schema ---------------------------------------------------------------------


def test_schema_validates_without_warnings(tmp_path):
    call_command(
        "spectacular", validate=True, fail_on_warn=True, file=str(tmp_path / "s.yaml")
    )


def test_the_schema_is_made_once_per_format(anon_client, monkeypatch):
    from drf_spectacular.generators import SchemaGenerator

    made = []
    make = SchemaGenerator.get_schema
    monkeypatch.setattr(
        SchemaGenerator,
        "get_schema",
        lambda self, **kwargs: made.append(1) or make(self, **kwargs),
    )
    monkeypatch.setattr("config.api.views.SchemaView._made", {})
    first = anon_client.get("/api/schema/?format=json")
    again = anon_client.get("/api/schema/?format=json")
    yaml = anon_client.get("/api/schema/")
    assert first.status_code == again.status_code == yaml.status_code == 200
    assert first.content == again.content
    assert first["Content-Type"].startswith("application/vnd.oai.openapi+json")
    assert yaml["Content-Type"].startswith("application/vnd.oai.openapi")
    assert yaml.content.startswith(b"openapi: 3")
    assert len(made) == 2  # JSON once, YAML once


@pytest.mark.parametrize("url", ["/api/", "/api/schema/?format=json", "/api/docs/"])
def test_what_anyone_may_read_is_rate_limited_per_address(rate_limits, url):
    rate_limits(anonymous=("1/hour", 2))
    # Addresses no other test (or earlier run, in Redis) has used.
    one, two = (
        APIClient(REMOTE_ADDR=str(ipaddress.IPv6Address(uuid.uuid4().bytes)))
        for _ in "12"
    )
    assert [one.get(url).status_code for _ in range(3)] == [200, 200, 429]
    assert two.get(url).status_code == 200


def test_schema_is_public_openapi_3_documenting_errors(schema):
    assert schema["openapi"].startswith("3.")
    me = schema["paths"]["/api/profiles/me/"]["patch"]["responses"]
    for status in ("400", "401", "403", "404", "409", "413", "415"):
        assert me[status]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Error"
        }


def test_rate_limited_operations_document_their_429(schema):
    """Every write (UserWriteThrottle: the writes scope) and the password
    endpoints document a 429; no read does."""
    operations = {
        (method, path): "429" in operation["responses"]
        for path, item in schema["paths"].items()
        for method, operation in item.items()
    }
    assert operations[("post", "/api/auth/token/")]
    assert operations[("post", "/api/auth/register/")]
    assert operations[("post", "/api/safety/chat-rooms/{room_id}/messages/")]
    assert operations[("put", "/api/profiles/me/highlights/order/")]
    writes = {op for op in operations if op[0] in ("post", "put", "patch", "delete")}
    assert all(operations[op] for op in writes)
    assert not any(operations[op] for op in operations if op[0] == "get")


def test_schema_has_no_orphan_components(schema):
    text = json.dumps({k: v for k, v in schema.items() if k != "components"})
    components = schema["components"]["schemas"]
    used, todo = set(), set(re.findall(r"#/components/schemas/(\w+)", text))
    while todo:
        name = todo.pop()
        used.add(name)
        found = re.findall(r"#/components/schemas/(\w+)", json.dumps(components[name]))
        todo |= set(found) - used
    assert set(components) == used


def test_schema_carries_the_limits_the_server_enforces(schema):
    components = schema["components"]["schemas"]
    tagline = components["PatchedMeRequest"]["properties"]["tagline"]
    assert tagline["maxLength"] == 48
    assert (
        components["HighlightOrderRequest"]["properties"]["post_ids"]["maxItems"] == 128
    )
    users = schema["paths"]["/api/profiles/users/"]["get"]["parameters"]
    page_size = next(p for p in users if p["name"] == "page_size")
    assert page_size["schema"]["maximum"] == 200


def test_path_parameters_name_one_entity_one_way(schema):
    """docs/api-conventions.md: a row's parameter is named after the column it
    matches (``{user_id}``, ``{post_id}``, a natural key by its own name:
    ``{badge}``), with one type wherever it appears."""
    types = {}
    for path, item in schema["paths"].items():
        for operation in item.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] != "path":
                    continue
                name = parameter["name"]
                assert name == "badge" or name.endswith("_id"), (path, name)
                kind = (parameter["schema"]["type"], parameter["schema"].get("format"))
                assert types.setdefault(name, kind) == kind, (path, name)
    assert types["user_id"] == ("string", "uuid")
    assert types["post_id"] == ("integer", "int64")


def test_foreign_keys_are_named_by_their_column(schema):
    """docs/api-conventions.md: a reference is ``<name>_id`` in requests and
    responses alike; ``<name>`` is always an embedded object."""
    components = schema["components"]["schemas"]
    assert set(components["ReactionRequest"]["properties"]) == {"post_id", "kind"}
    assert {"user_id", "post_id"} <= set(components["Reaction"]["properties"])
    assert set(components["BadgeGrantCreateRequest"]["properties"]) == {
        "user_id",
        "badge",
    }
    assert "user_id" in components["BadgeGrant"]["properties"]
    author = components["Post"]["properties"]["author"]
    assert author["allOf"] == [{"$ref": "#/components/schemas/Author"}]


# --- lists --------------------------------------------------------------------------


def test_page_size_is_bounded(api_client, settings):
    UserFactory._meta.model.objects.bulk_create(
        UserFactory.build(username=f"bulk{i}", email=f"bulk{i}@example.com")
        for i in range(settings.API_MAX_PAGE_SIZE + 5)
    )
    body = api_client.get("/api/profiles/users/?page_size=100000").json()
    assert len(body["results"]) == settings.API_MAX_PAGE_SIZE
    assert body["next"]
    default = api_client.get("/api/profiles/users/").json()
    assert len(default["results"]) == settings.REST_FRAMEWORK["PAGE_SIZE"]


def test_ordering_on_an_indexed_column(api_client):
    UserFactory(username="b")
    UserFactory(username="a")
    body = api_client.get("/api/profiles/users/?ordering=-username").json()
    names = [u["username"] for u in body["results"]]
    assert names == sorted(names, reverse=True)


def test_ordering_breaks_ties_by_id_in_the_same_direction(api_client, user):
    posts = PostFactory.create_batch(4, author=user)
    type(posts[0]).objects.update(created_at=posts[0].created_at)  # one instant
    ids = [p.pk for p in posts]
    newest = api_client.get("/api/profiles/posts/?ordering=-created_at").json()
    assert [p["id"] for p in newest["results"]] == ids[::-1]
    oldest = api_client.get("/api/profiles/posts/?ordering=created_at").json()
    assert [p["id"] for p in oldest["results"]] == ids


def test_ordering_on_anything_else_is_a_400(api_client):
    body = assert_error(
        api_client.get("/api/profiles/users/?ordering=email"), 400, "invalid"
    )
    assert body["errors"][0]["field"] == "ordering"
    assert "choose from username" in body["errors"][0]["message"]


@pytest.mark.parametrize(
    "query, field, message",
    [
        ("author_id=not-a-uuid", "author_id", "This is not a valid UUID."),
        ("user_id=12", "user_id", "This is not a valid UUID."),
        ("post_id=1.5", "post_id", "Enter a whole number."),
        ("post_id=0", "post_id", "greater than or equal to 1"),
        ("post_id=9223372036854775808", "post_id", "less than or equal to"),
    ],
)
def test_a_malformed_filter_value_is_a_400_saying_so(api_client, query, field, message):
    url = "/api/profiles/posts/" if "author" in query else "/api/profiles/reactions/"
    body = assert_error(api_client.get(f"{url}?{query}"), 400, "invalid")
    assert body["errors"][0]["field"] == field
    assert message in body["errors"][0]["message"]


def test_a_foreign_key_filter_costs_no_query_of_its_own(api_client, user):
    """Filtering by a user does not look the user up first."""
    from tests.helpers import get_counting_queries

    PostFactory(author=user)
    api_client.get("/api/profiles/posts/")  # the token is cached from now on
    _, unfiltered = get_counting_queries(api_client, "/api/profiles/posts/")
    _, filtered = get_counting_queries(
        api_client, f"/api/profiles/posts/?author_id={user.pk}"
    )
    assert filtered == unfiltered


# --- responses ----------------------------------------------------------------------


@pytest.mark.parametrize("accept", [None, "*/*", "application/json"])
def test_json_clients_get_compact_json(api_client, accept):
    headers = {"HTTP_ACCEPT": accept} if accept else {}
    response = api_client.get("/api/profiles/me/", **headers)
    assert response["Content-Type"] == "application/json"
    assert b": " not in response.content and b", " not in response.content


def test_other_accept_headers_are_negotiated_as_drf_does(api_client):
    pretty = api_client.get(
        "/api/profiles/me/", HTTP_ACCEPT="application/json; indent=2"
    )
    assert pretty.content.startswith(b'{\n  "id"')
    html = api_client.get("/api/profiles/me/?format=api")
    assert html["Content-Type"].startswith("text/html")
    refused = api_client.get("/api/profiles/me/", HTTP_ACCEPT="application/xml")
    assert_error(refused, 406, "not_acceptable")


def test_the_redis_cache_reuses_its_client(redis_up):
    from django.core.cache import cache

    client = cache._cache.get_client()
    assert cache._cache.get_client(write=True) is client
    cache.set("reuse", 1)
    assert cache.get("reuse") == 1


def test_the_lean_path_keeps_a_views_scoping(user, other_user):
    """LeanListMixin reads get_queryset(): a view that scopes rows there (as
    private rows must be) lists only those."""

    class MyPosts(PostViewSet):
        def get_queryset(self):
            return super().get_queryset().filter(author=self.request.user)

    mine = PostFactory(author=user)
    PostFactory(author=other_user)
    request = APIRequestFactory().get("/api/profiles/posts/")
    force_authenticate(request, user)
    response = MyPosts.as_view({"get": "list"})(request)
    assert [post["id"] for post in response.data["results"]] == [mine.pk]
