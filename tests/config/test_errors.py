"""One error body for every 4xx; which database errors are a 409 and which a
logged 500; request bodies of any size, depth and encoding."""

import json
import logging

import pytest
from django.db import IntegrityError, connection, transaction
from rest_framework.test import APIClient

from badges.models import BadgeDefinition
from config.api.errors import exception_handler
from profiles.models import Reaction, User
from tests.badges.factories import BadgeGrantFactory
from tests.helpers import assert_error
from tests.profiles.factories import PostFactory, ReactionFactory, UserFactory

pytestmark = pytest.mark.django_db


# --- the error body -----------------------------------------------------------------


def test_error_format_for_each_4xx(api_client, staff_client, user):
    post = PostFactory(author=user)
    assert_error(api_client.get("/api/profiles/nowhere/"), 404, "not_found")
    assert_error(api_client.get("/api/profiles/posts/123456789/"), 404, "not_found")
    assert_error(
        api_client.get("/api/profiles/posts/99999999999999999999/"), 404, "not_found"
    )
    assert_error(api_client.put("/api/profiles/me/", {}), 405, "method_not_allowed")
    assert_error(
        api_client.post("/api/profiles/posts/", "x", content_type="text/plain"),
        415,
        "unsupported_media_type",
    )
    assert_error(
        api_client.post("/api/profiles/posts/", "{", content_type="application/json"),
        400,
        "parse_error",
    )
    assert_error(
        api_client.post("/api/badges/badge-definitions/", {"badge": "x", "label": "X"}),
        403,
        "permission_denied",
    )
    BadgeGrantFactory(definition=BadgeDefinition.objects.get(badge="moderator"))
    body = assert_error(
        staff_client.delete("/api/badges/badge-definitions/moderator/"), 409, "conflict"
    )
    assert "badge grants" in body["detail"]
    body = assert_error(
        api_client.patch(f"/api/profiles/posts/{post.pk}/", {"body": ""}),
        400,
        "invalid",
    )
    assert body["errors"] == [
        {"field": "body", "code": "blank", "message": "This field may not be blank."}
    ]


def test_nested_errors_have_dotted_paths(api_client):
    body = assert_error(
        api_client.patch("/api/profiles/me/", {"profile": {"theme_color": "x"}}),
        400,
        "invalid",
    )
    assert body["errors"][0]["field"] == "profile.theme_color"
    assert body["detail"].startswith("profile.theme_color: ")


def test_an_echoed_lone_surrogate_does_not_break_the_error(api_client):
    response = api_client.post(
        "/api/profiles/reactions/",
        json.dumps({"post_id": PostFactory().pk, "kind": "\ud800"}),
        content_type="application/json",
    )
    body = assert_error(response, 400, "invalid")
    assert body["errors"][0]["message"] == '"\ufffd" is not a valid choice.'


def test_unknown_paths_outside_the_api_stay_html(client):
    response = client.get("/nowhere/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


# --- which database errors are a 409 ------------------------------------------------


def integrity_error(write) -> IntegrityError:
    """The IntegrityError the database raises for ``write``."""
    with pytest.raises(IntegrityError) as error, transaction.atomic():
        write()
    return error.value


def test_a_duplicate_is_a_409_with_the_constraints_message():
    reaction = ReactionFactory()
    error = integrity_error(
        lambda: Reaction.objects.create(
            user=reaction.user, post=reaction.post, kind=reaction.kind
        )
    )
    response = exception_handler(error, {})
    assert response.status_code == 409
    message = "You already reacted to this post that way."
    assert response.data == {
        "status": 409,
        "code": "conflict",
        "detail": message,
        "errors": [{"field": None, "code": "unique", "message": message}],
    }


@pytest.mark.parametrize(
    "column, value", [("email", "TAKEN@example.com"), ("auth0_sub", "auth0|taken")]
)
def test_a_duplicate_in_one_column_names_the_field(column, value):
    UserFactory(email="taken@example.com", auth0_sub="auth0|taken")
    error = integrity_error(
        lambda: User.objects.create(
            username="new", **{"email": "n@x.org", column: value}
        )
    )
    response = exception_handler(error, {})
    assert response.status_code == 409
    assert [e["field"] for e in response.data["errors"]] == [column]


def test_a_check_violation_is_not_a_409():
    """A CHECK the serializer forgot is a bug: DRF re-raises it (a 500)."""
    user = UserFactory()
    error = integrity_error(
        lambda: user.highlights.create(post=PostFactory(), position=-1)
    )
    assert exception_handler(error, {}) is None


@pytest.fixture
def faulty_client(user):
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(user)
    return client


@pytest.mark.urls("tests.config.fault_urls")
def test_a_check_violation_through_a_request_is_a_logged_json_500(
    faulty_client, user, caplog
):
    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = faulty_client.post("/api/faults/check/")
    body = assert_error(response, 500, "server_error")
    assert body["errors"] == []
    assert "Internal Server Error: /api/faults/check/" in caplog.text
    assert "user_profiles_journaling_frequency_check" in caplog.text
    assert not hasattr(User.objects.get(pk=user.pk), "profile")


@pytest.mark.urls("tests.config.fault_urls")
@pytest.mark.django_db(transaction=True)
def test_a_reference_to_a_deleted_row_found_at_commit_is_a_409(faulty_client, user):
    response = faulty_client.post("/api/faults/dangling/")
    body = assert_error(response, 409, "conflict")
    expected = {
        "postgresql": ("post_id", "does_not_exist"),
        "sqlite": (None, "foreign_key"),
    }
    error = body["errors"][0]
    assert (error["field"], error["code"]) == expected[connection.vendor]
    assert not Reaction.objects.exists()


# --- request bodies -----------------------------------------------------------------


def post_raw(client, body: bytes | str, content_type="application/json"):
    return client.generic(
        "POST", "/api/profiles/posts/", body, content_type=content_type
    )


@pytest.mark.parametrize("depth", [33, 100_000])
def test_deeply_nested_json_is_a_400(api_client, depth):
    body = '{"body": ' + "[" * depth + "]" * depth + "}"
    response = assert_error(post_raw(api_client, body), 400, "parse_error")
    assert "32 levels" in response["detail"]


def test_json_nested_32_levels_reaches_the_serializer(api_client):
    body = '{"body": ' + "[" * 31 + "]" * 31 + "}"
    response = assert_error(post_raw(api_client, body), 400, "invalid")
    assert response["errors"][0]["code"] == "invalid_type"


def test_a_body_over_the_limit_is_a_413(api_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    at_limit = json.dumps({"body": "x" * (1000 - 12)})
    assert len(at_limit) == 1000
    assert post_raw(api_client, at_limit).status_code == 201
    body = assert_error(post_raw(api_client, at_limit + " "), 413, "payload_too_large")
    assert "1000 bytes" in body["detail"]


def test_a_request_django_refuses_before_any_view_is_json_under_the_api(
    client, settings
):
    settings.ALLOWED_HOSTS = ["api.example.com"]
    assert_error(client.get("/api/", HTTP_HOST="evil.example"), 400, "bad_request")
    page = client.get("/admin/", HTTP_HOST="evil.example")
    assert page.status_code == 400
    assert page["Content-Type"].startswith("text/html")


@pytest.mark.parametrize(
    "body, problem",
    [
        (b'{"body": "caf\xe9"}', "not valid UTF-8"),  # Latin-1 bytes
        (b'{"body": "\xed\xa0\x80"}', "not valid UTF-8"),  # an encoded surrogate
        (b"\xef\xbb\xbf{}", "BOM"),
        (b'{"body": NaN}', "NaN is not valid JSON"),
        (b'{"body": Infinity}', "Infinity is not valid JSON"),
    ],
)
def test_bytes_that_are_not_json_are_a_400_saying_why(api_client, body, problem):
    response = assert_error(post_raw(api_client, body), 400, "parse_error")
    assert problem in response["detail"]


def test_a_charset_other_than_utf8_is_a_415(api_client):
    response = post_raw(
        api_client,
        '{"body": "café"}'.encode("latin-1"),
        content_type="application/json; charset=latin-1",
    )
    body = assert_error(response, 415, "unsupported_media_type")
    assert "UTF-8" in body["detail"]


def test_an_unknown_charset_is_read_as_utf8(api_client):
    response = post_raw(
        api_client, '{"body": "café"}', content_type="application/json; charset=nope"
    )
    assert response.status_code == 201
    assert response.json()["body"] == "café"


@pytest.mark.parametrize("document", ["[]", '"text"', "12", "null", "true"])
def test_a_body_that_is_not_an_object_is_a_400(api_client, document):
    response = assert_error(post_raw(api_client, document), 400, "invalid")
    assert response["errors"][0]["field"] is None
