"""Every input has a size (docs/api-conventions.md#limits).

Every text a client writes has a maximum length: the OpenAPI schema publishes
it (``maxLength``), the API refuses one character more with a 400 naming the
field and the limit, the admin's forms refuse it too, and so a page of a list
has a bounded size in bytes. The operations and fields are read from the
schema, so a field added later without a limit fails here.
"""

import pytest
from django.contrib import admin
from django.urls import reverse

from config.fields import JSON_OBJECT_MAX_LENGTH, BoundedTextField
from profiles.models import Post, UserProfile
from safety.models import ChatRoomMessage
from tests.config.test_strict_input import (
    body_at,
    body_operations,
    operation_url,
    resolve,
    send,
)
from tests.helpers import assert_error, error_fields
from tests.safety.factories import RoomFactory
from wellness.models import Habit, Story

pytestmark = pytest.mark.django_db

# Strings that need no maxLength: the format or the choices bound them.
BOUNDED_FORMATS = {"uuid", "date", "date-time"}
# The most bytes one character of text takes in a JSON body: a control
# character such as U+0001 is written "\u0001".
JSON_BYTES_PER_CHARACTER = 6
# A row's bytes beside its texts: keys, ids, dates, a username (150 letters).
ROW_OVERHEAD = 1_024
PAGE_SIZE = 200  # API_MAX_PAGE_SIZE


@pytest.fixture
def schema(anon_client):
    return anon_client.get("/api/schema/?format=json").json()


def max_length(schema: dict, node: dict) -> int | str | None:
    """What bounds a string property: its ``maxLength`` (the largest of its
    ``oneOf`` variants'), ``"enum"``, its format, or None when nothing does."""
    node = resolve(schema, node)
    if "enum" in node:
        return "enum"
    if node.get("format") in BOUNDED_FORMATS:
        return node["format"]
    if "oneOf" in node:
        bounds = [max_length(schema, variant) for variant in node["oneOf"]]
        if None in bounds:
            return None
        lengths = [bound for bound in bounds if isinstance(bound, int)]
        return max(lengths) if lengths else "enum"
    return node.get("maxLength")


def written_texts(schema: dict, properties: dict, path: tuple = ()):
    """``(path, node)`` of every writable string of a body, nested objects'
    (``profile.bio``) and lists' items (``tags.0``) too."""
    for name, node in properties.items():
        node = resolve(schema, node)
        if node.get("readOnly"):
            continue
        here = (*path, name)
        if node.get("type") == "array":
            items = resolve(schema, node.get("items", {}))
            if items.get("type") == "string":
                yield (*here, "0"), items
        elif node.get("type") == "object" and "properties" in node:
            yield from written_texts(schema, node["properties"], here)
        elif node.get("type", "string") == "string":
            yield here, node


def request_texts(schema: dict):
    """``(method, path, field path, node)`` of every writable string of every
    request body in the schema."""
    for method, path, properties in body_operations(schema):
        for field, node in written_texts(schema, properties):
            yield method, path, field, node


def test_every_text_a_client_writes_has_a_max_length(schema):
    unbounded = [
        f"{method.upper()} {path} {'.'.join(field)}"
        for method, path, field, node in request_texts(schema)
        if max_length(schema, node) is None
    ]
    assert unbounded == []


def test_text_over_its_limit_is_a_400_naming_the_field_and_the_limit(
    staff_client, every_table, schema
):
    checked = 0
    for method, path, field, node in request_texts(schema):
        limit = max_length(schema, node)
        if not isinstance(limit, int):
            continue
        url = operation_url(staff_client, path)
        value = "x" * (limit + 1)
        if field[-1] == "0":  # a list's item
            value = [value]
        response = send(staff_client, method, url, body_at(field, value))
        body = assert_error(response, 400, "invalid")
        name = ".".join(field)
        messages = [e["message"] for e in body["errors"] if e["field"] == name]
        assert any(f"{limit} characters" in m for m in messages), (path, name, body)
        checked += 1
    assert checked > 100  # the schema really was walked


@pytest.mark.parametrize(
    "url, body, field, limit",
    [
        ("/api/profiles/posts/", {}, "body", 5_000),
        ("/api/wellness/stories/", {"title": "t"}, "content", 10_000),
        ("/api/chatbot/tasks/", {"title": "t"}, "description", 5_000),
        ("/api/safety/chat-rooms/", {"room_name": "r"}, "description", 500),
        ("/api/safety/reports/", {"report_type": "spam"}, "description", 2_000),
    ],
)
def test_the_issues_texts_stop_at_their_limit(
    api_client, user, other_user, url, body, field, limit
):
    """The five texts of 100 000 characters once stored (issue 22): a text
    of the limit is stored, one character more is a 400 and stores nothing."""
    if "reports" in url:
        body["reported_user_id"] = str(other_user.pk)
    too_long = api_client.post(url, {**body, field: "é" * (limit + 1)})
    assert error_fields(too_long) == [(field, "max_length")]
    assert assert_error(too_long, 400, "invalid")["errors"][0]["message"] == (
        f"Ensure this field has no more than {limit} characters."
    )
    response = api_client.post(url, {**body, field: "é" * limit})
    assert response.status_code == 201, response.content
    assert response.json()[field] == "é" * limit


def test_a_profile_text_over_its_limit_through_me(api_client, user):
    response = api_client.patch("/api/profiles/me/", {"profile": {"bio": "b" * 501}})
    assert error_fields(response) == [("profile.bio", "max_length")]
    assert not UserProfile.objects.exists()
    response = api_client.patch("/api/profiles/me/", {"profile": {"bio": "b" * 500}})
    assert response.json()["profile"]["bio"] == "b" * 500


def test_a_json_object_over_its_limit_is_a_400(api_client):
    meta = {"notes": "n" * JSON_OBJECT_MAX_LENGTH}
    response = api_client.post("/api/wellness/habits/", {"name": "run", "meta": meta})
    body = assert_error(response, 400, "invalid")
    assert [(e["field"], e["message"]) for e in body["errors"]] == [
        (
            "meta",
            f"Ensure this JSON has at most {JSON_OBJECT_MAX_LENGTH} characters "
            f"(it has {JSON_OBJECT_MAX_LENGTH + 12}).",
        )
    ]
    assert not Habit.objects.exists()


# --- the admin -------------------------------------------------------------------


def test_every_admin_form_refuses_text_over_its_limit(rf, staff_user):
    """Each admin form that edits a limited text refuses one character more,
    saying the limit (the model field's validator), with no ``maxlength``
    for the browser to cut pasted text at silently."""
    request = rf.get("/")
    request.user = staff_user
    checked = set()
    for model, model_admin in admin.site._registry.items():
        form_class = model_admin.get_form(request, None)
        for field in model._meta.concrete_fields:
            if not isinstance(field, BoundedTextField):
                continue
            if field.name not in form_class.base_fields:
                continue  # read-only there: a report's description is its author's
            form = form_class(data={field.name: "x" * (field.max_length + 1)})
            assert not form.is_valid()
            assert form.errors[field.name] == [
                f"Ensure this value has at most {field.max_length} characters "
                f"(it has {field.max_length + 1})."
            ]
            assert "maxlength" not in str(form[field.name])
            checked.add(f"{model._meta.label}.{field.name}")
    assert {"profiles.Post.body", "wellness.Story.content"} <= checked
    assert len(checked) >= 15


def test_a_post_over_its_limit_is_refused_by_the_admin(admin_client, user):
    add = reverse("admin:profiles_post_add")
    response = admin_client.post(add, {"author": user.pk, "body": "p" * 5_001})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["body"] == [
        "Ensure this value has at most 5000 characters (it has 5001)."
    ]
    assert not Post.objects.exists()


def test_a_json_object_over_its_limit_is_refused_by_the_admin(admin_client, user):
    meta = '{"notes": "' + "n" * JSON_OBJECT_MAX_LENGTH + '"}'
    response = admin_client.post(
        reverse("admin:wellness_habit_add"),
        {"user": user.pk, "name": "run", "meta": meta},
    )
    assert response.status_code == 200
    assert "at most 8192 characters" in str(
        response.context["adminform"].form.errors["meta"]
    )
    assert not Habit.objects.exists()


# --- a page's size ---------------------------------------------------------------


def fill_page(model, row) -> None:
    """``row`` and copies of it: a full page of the largest rows."""
    values = {f.attname: getattr(row, f.attname) for f in model._meta.concrete_fields}
    values.pop(model._meta.pk.attname)
    model.objects.bulk_create(model(**values) for _ in range(PAGE_SIZE - 1))


def assert_page_bounded(client, url: str, texts: dict[str, int]) -> None:
    """A page of ``PAGE_SIZE`` rows whose texts are at their limits is at
    most the bound those limits give (each character at its longest in
    JSON), and not far from it: the first text, written with such
    characters, alone fills most of it."""
    response = client.get(f"{url}?page_size={PAGE_SIZE}")
    assert response.status_code == 200
    assert len(response.json()["results"]) == PAGE_SIZE
    bound = PAGE_SIZE * (sum(texts.values()) * JSON_BYTES_PER_CHARACTER + ROW_OVERHEAD)
    longest_text = next(iter(texts.values())) * JSON_BYTES_PER_CHARACTER
    assert PAGE_SIZE * longest_text < len(response.content) <= bound


def longest(client, url: str, body: dict, field: str, limit: int) -> dict:
    """Write a row through the API with ``field`` at ``limit`` characters of
    the longest kind in JSON; one more is refused (the limit holds)."""
    refused = client.post(url, {**body, field: "\x01" * (limit + 1)})
    assert error_fields(refused) == [(field, "max_length")]
    response = client.post(url, {**body, field: "\x01" * limit})
    assert response.status_code == 201, response.content
    return response.json()


def test_a_page_of_posts_has_a_bounded_size(api_client):
    """Once a 2.4 MB post made a page of posts 2.5 MB; now a page of 200
    posts of 5 000 characters is at most 6.2 MB, whatever is written."""
    row = longest(api_client, "/api/profiles/posts/", {}, "body", 5_000)
    fill_page(Post, Post.objects.get(pk=row["id"]))
    assert_page_bounded(api_client, "/api/profiles/posts/", {"body": 5_000})


def test_a_page_of_stories_has_a_bounded_size(api_client):
    tags = [f"{i:02d}" + "t" * 62 for i in range(20)]
    body = {"title": "\x01" * 140, "tags": tags, "visibility": "public"}
    row = longest(api_client, "/api/wellness/stories/", body, "content", 10_000)
    fill_page(Story, Story.objects.get(pk=row["id"]))
    texts = {"content": 10_000, "title": 140, "tags": 20 * (64 + 3)}
    assert_page_bounded(api_client, "/api/wellness/stories/", texts)


def test_a_page_of_room_messages_has_a_bounded_size(api_client, user):
    room = RoomFactory(owner=user)
    url = f"/api/safety/chat-rooms/{room.pk}/messages/"
    media_url = "https://media.example/" + "m" * (2_000 - 26) + ".png"
    row = longest(api_client, url, {"media_url": media_url}, "message", 4_000)
    fill_page(ChatRoomMessage, ChatRoomMessage.objects.get(pk=row["id"]))
    assert_page_bounded(api_client, url, {"message": 4_000, "media_url": 2_000})
