"""Query parameters (docs/api-conventions.md#query-parameters): every operation
of the OpenAPI schema takes the query parameters it documents and refuses any
other with a 400 naming it. Operations are read from the schema, so one added
later is covered with no change here.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from safety import services as safety
from tests.config.test_strict_input import operation_url
from tests.helpers import (
    assert_error,
    assert_list_queries_constant,
    error_fields,
    ok,
    results,
)
from tests.profiles.factories import UserFactory
from tests.safety.factories import RoomFactory

pytestmark = pytest.mark.django_db

UNKNOWN = "no_such_parameter"
# DRF's ObtainAuthToken is not a generic view: it reads no query parameter
# (config.api.parameters checks generic views: every app's, me/, register/).
NOT_CHECKED = {"/api/auth/token/"}


@pytest.fixture
def schema(anon_client):
    return anon_client.get("/api/schema/?format=json").json()


def operations(schema: dict, methods: set[str]):
    """``(method, path, documented query parameters)`` of the schema."""
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in methods and path not in NOT_CHECKED:
                query = operation.get("parameters", [])
                yield method, path, [p["name"] for p in query if p["in"] == "query"]


def unknown_parameter_message(documented: list[str]) -> str:
    return (
        "Unknown query parameter; the parameters you can send are: "
        f"{', '.join(sorted(documented)) or 'none'}."
    )


def test_every_read_refuses_a_parameter_it_does_not_document(
    staff_client, every_table, schema
):
    checked = 0
    for _, path, documented in operations(schema, {"get"}):
        url = operation_url(staff_client, path)
        response = staff_client.get(url, {UNKNOWN: "1"})
        body = assert_error(response, 400, "invalid")
        assert body["errors"] == [
            {
                "field": UNKNOWN,
                "code": "unknown_parameter",
                "message": unknown_parameter_message(documented),
            }
        ], path
        checked += 1
    assert checked > 50  # the schema really was walked


def test_every_read_takes_each_parameter_it_documents(
    staff_client, every_table, schema
):
    """Each documented parameter, empty (which filters nothing), and
    ``format``, which DRF reads everywhere, are taken."""
    checked = 0
    for _, path, documented in operations(schema, {"get"}):
        url = operation_url(staff_client, path)
        for name in [*documented, "format"]:
            value = "json" if name == "format" else ""
            response = staff_client.get(url, {name: value})
            assert response.status_code == 200, (path, name, response.content)
            checked += 1
    assert checked > 100


def test_every_write_refuses_a_parameter_and_changes_nothing(
    staff_client, every_table, schema
):
    """Before the view runs: a DELETE with one deletes nothing."""
    urls = {
        path: operation_url(staff_client, path)
        for _, path, _ in operations(schema, {"post", "put", "patch", "delete"})
    }
    checked = 0
    for method, path, _ in operations(schema, {"post", "put", "patch", "delete"}):
        response = getattr(staff_client, method)(f"{urls[path]}?{UNKNOWN}=1", {})
        assert error_fields(response) == [(UNKNOWN, "unknown_parameter")], path
        checked += 1
    assert checked > 50
    for path, url in urls.items():  # every row is still there
        if "{" in path and "get" in schema["paths"][path]:
            assert staff_client.get(url).status_code == 200, path


def test_an_unknown_parameter_is_not_a_silent_unfiltered_list(staff_client):
    """Issue 22: ``?search=`` and ``?country=`` on the members list answered
    every member; now they name themselves, with the filters there are."""
    response = staff_client.get(
        "/api/community/community-members/", {"search": "ada", "country": "PT"}
    )
    body = assert_error(response, 400, "invalid")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [
        ("search", "unknown_parameter"),
        ("country", "unknown_parameter"),
    ]
    assert body["errors"][0]["message"] == (
        "Unknown query parameter; the parameters you can send are: cursor, "
        "github_verified, invited_by, ordering, page_size, status, telegram_id."
    )


def test_a_misspelled_filter_is_a_400(api_client):
    response = api_client.get("/api/chatbot/tasks/", {"complete": "true"})
    assert error_fields(response) == [("complete", "unknown_parameter")]
    assert ok(api_client.get("/api/chatbot/tasks/", {"completed": "true"})) == {
        "next": None,
        "previous": None,
        "results": [],
    }


def test_an_unknown_parameter_is_refused_before_any_query(api_client):
    api_client.get("/api/profiles/posts/")  # the token, cached
    with CaptureQueriesContext(connection) as queries:
        response = api_client.get("/api/profiles/posts/", {"serach": "x"})
    assert error_fields(response) == [("serach", "unknown_parameter")]
    assert len(queries) == 0


# --- the safety filters that were read by hand ------------------------------------


def test_private_messages_with_one_user(api_client, user):
    friend, other = UserFactory(), UserFactory()
    safety.private_message_send(sender=user, recipient=friend, message="to friend")
    safety.private_message_send(sender=friend, recipient=user, message="from friend")
    safety.private_message_send(sender=other, recipient=user, message="from other")
    url = "/api/safety/private-messages/"
    assert len(results(api_client.get(url))) == 3
    with_friend = results(api_client.get(url, {"with_user_id": str(friend.pk)}))
    assert [row["message"] for row in with_friend] == ["from friend", "to friend"]


def test_a_conversation_costs_one_query_for_1_or_50_messages(api_client, user):
    friend = UserFactory()

    def add(n):
        for _ in range(n):
            safety.private_message_send(sender=friend, recipient=user, message="hi")
        safety.private_message_send(sender=UserFactory(), recipient=user, message="x")

    url = f"/api/safety/private-messages/?with_user_id={friend.pk}"
    assert assert_list_queries_constant(api_client, url, add) == 1


@pytest.mark.parametrize("value", ["nope", "1", "00000000-0000-0000-0000"])
def test_private_messages_with_a_malformed_user_id_is_a_400(api_client, value):
    response = api_client.get("/api/safety/private-messages/", {"with_user_id": value})
    body = assert_error(response, 400, "invalid")
    assert body["errors"] == [
        {
            "field": "with_user_id",
            "code": "invalid",
            "message": "This is not a valid UUID.",
        }
    ]


def test_presence_in_a_room(api_client, user):
    room = RoomFactory(owner=user)
    other_room = RoomFactory()
    safety.presence_heartbeat(user=user, status="online", room_id=room.pk)
    friend = UserFactory()
    safety.room_join(room=other_room, user=friend)
    safety.presence_heartbeat(user=friend, status="online", room_id=other_room.pk)
    rows = results(api_client.get("/api/safety/presence/", {"room_id": room.pk}))
    assert [row["user_id"] for row in rows] == [str(user.pk)]


def test_presence_in_a_room_costs_one_query_for_1_or_50_users(
    api_client, user, settings
):
    settings.SAFETY_ROOM_CAPACITY = 100
    room = RoomFactory(owner=user, max_participants=100)

    def add(n):
        for _ in range(n):
            member = UserFactory()
            safety.room_join(room=room, user=member)
            safety.presence_heartbeat(user=member, status="online", room_id=room.pk)
        safety.presence_heartbeat(user=UserFactory(), status="online")

    url = f"/api/safety/presence/?room_id={room.pk}"
    assert assert_list_queries_constant(api_client, url, add) == 1


@pytest.mark.parametrize(
    "value, code",
    [
        ("abc", "invalid"),
        ("1.5", "invalid"),
        ("0", "min_value"),
        ("-1", "min_value"),
        ("9" * 20, "max_value"),
    ],
)
def test_presence_in_a_malformed_room_is_a_400_not_an_empty_list(
    api_client, value, code
):
    response = api_client.get("/api/safety/presence/", {"room_id": value})
    assert error_fields(response) == [("room_id", code)]
