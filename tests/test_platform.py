"""The API platform every app inherits: settings, auth, errors, pagination,
ordering and the OpenAPI schema and docs."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.db import IntegrityError

from badges.models import BadgeDefinition
from config.api import exception_handler
from tests.badges.factories import BadgeGrantFactory
from tests.profiles.factories import PASSWORD, PostFactory, UserFactory

ROOT = Path(__file__).resolve().parent.parent


def run_with_env(args: list[str], **env) -> subprocess.CompletedProcess:
    """Run ``args`` in the project with a clean settings environment plus ``env``."""
    clean = {k: v for k, v in os.environ.items() if k not in SETTINGS_ENV}
    return subprocess.run(
        args,
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        check=False,
    )


def django_in_subprocess(code: str, **env) -> str:
    """Run ``code`` with Django set up; return what it printed."""
    result = run_with_env(
        [sys.executable, "-c", f"import django; django.setup(); {code}"], **env
    )
    assert result.returncode == 0, result.stderr
    return result.stdout + result.stderr


SETTINGS_ENV = {"DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS"}
PRINT_BACKENDS = (
    "from django.conf import settings as s; "
    "print(s.DATABASES['default']['ENGINE'], s.CACHES['default']['BACKEND'], s.DEBUG)"
)


# --- settings -----------------------------------------------------------------


def test_defaults_need_nothing_set():
    out = django_in_subprocess(PRINT_BACKENDS)
    assert out.split() == [
        "django.db.backends.sqlite3",
        "django.core.cache.backends.locmem.LocMemCache",
        "True",
    ]


def test_database_url_and_redis_url_select_postgresql_and_redis():
    out = django_in_subprocess(
        PRINT_BACKENDS,
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/anything",
        REDIS_URL="redis://127.0.0.1:6379/0",
    )
    assert out.split()[:2] == [
        "django.db.backends.postgresql",
        "django.core.cache.backends.redis.RedisCache",
    ]


def test_check_deploy_is_clean_with_production_variables():
    out = django_in_subprocess(
        "from django.core.management import call_command; "
        "call_command('check', deploy=True, fail_level='WARNING')",
        DEBUG="false",
        SECRET_KEY="x7#kq!v2$" * 8,
        ALLOWED_HOSTS="api.example.com",
    )
    assert "no issues" in out


# --- schema and docs ----------------------------------------------------------


def test_schema_validates_without_warnings(tmp_path):
    call_command(
        "spectacular", validate=True, fail_on_warn=True, file=str(tmp_path / "s.yaml")
    )


@pytest.mark.django_db
def test_schema_is_public_openapi_3_documenting_errors(anon_client):
    response = anon_client.get("/api/schema/?format=json")
    assert response.status_code == 200
    schema = json.loads(response.content)
    assert schema["openapi"].startswith("3.")
    assert "Error" in schema["components"]["schemas"]
    me = schema["paths"]["/api/profiles/me/"]["patch"]["responses"]
    assert me["400"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }


@pytest.mark.django_db
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


# --- authentication -----------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("login", ["username", "email", "EMAIL"])
def test_token_for_username_or_email_in_any_case(anon_client, login):
    user = UserFactory(username="ada", email="Ada.Lovelace@Example.com")
    value = {
        "username": "ada",
        "email": "ada.lovelace@example.com",
        "EMAIL": "ADA.LOVELACE@EXAMPLE.COM",
    }[login]
    response = anon_client.post(
        "/api/auth/token/", {"username": value, "password": PASSWORD}
    )
    assert response.status_code == 200, response.json()
    anon_client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    assert anon_client.get("/api/profiles/me/").json()["id"] == str(user.pk)


@pytest.mark.django_db
def test_username_match_wins_over_someone_elses_email(anon_client):
    owner = UserFactory(username="x@example.com", email="owner@example.com")
    UserFactory(username="other", email="x@example.com", password="other pw 123")
    response = anon_client.post(
        "/api/auth/token/", {"username": "x@example.com", "password": PASSWORD}
    )
    assert response.status_code == 200
    assert response.json()["token"] == owner.auth_token.key


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [
        {"username": "ada", "password": "wrong"},
        {"username": "nobody", "password": PASSWORD},
        {"username": "ada"},
        {"username": "ada\x00", "password": PASSWORD},
    ],
)
def test_bad_credentials_are_a_400(anon_client, body):
    UserFactory(username="ada")
    response = anon_client.post("/api/auth/token/", body)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


@pytest.mark.django_db
def test_inactive_user_gets_no_token(anon_client):
    UserFactory(username="ada", is_active=False)
    response = anon_client.post(
        "/api/auth/token/", {"username": "ada", "password": PASSWORD}
    )
    assert response.status_code == 400


@pytest.mark.django_db
def test_session_authentication_works(client, user):
    client.force_login(user)
    assert client.get("/api/profiles/me/").json()["id"] == str(user.pk)


@pytest.mark.django_db
def test_bad_token_is_a_401(anon_client):
    anon_client.credentials(HTTP_AUTHORIZATION="Token nope")
    response = anon_client.get("/api/profiles/me/")
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


# --- one error format ---------------------------------------------------------


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status
    body = response.json()
    assert set(body) == {"status", "code", "detail", "errors"}
    assert (body["status"], body["code"]) == (status, code)
    assert body["detail"]
    return body


@pytest.mark.django_db
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


@pytest.mark.django_db
def test_nested_errors_have_dotted_paths(api_client):
    body = assert_error(
        api_client.patch("/api/profiles/me/", {"profile": {"theme_color": "x"}}),
        400,
        "invalid",
    )
    assert body["errors"][0]["field"] == "profile.theme_color"
    assert body["detail"].startswith("profile.theme_color: ")


@pytest.mark.django_db
def test_an_echoed_lone_surrogate_does_not_break_the_error(api_client):
    response = api_client.post(
        "/api/profiles/reactions/",
        json.dumps({"post": PostFactory().pk, "kind": "\ud800"}),
        content_type="application/json",
    )
    body = assert_error(response, 400, "invalid")
    assert body["errors"][0]["message"] == '"\ufffd" is not a valid choice.'


# --- pagination, filters, ordering --------------------------------------------


@pytest.mark.django_db
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


@pytest.mark.django_db
def test_page_out_of_range_is_a_404(api_client):
    assert_error(api_client.get("/api/profiles/users/?page=99"), 404, "not_found")


@pytest.mark.django_db
def test_ordering_on_an_indexed_column(api_client):
    UserFactory(username="b")
    UserFactory(username="a")
    body = api_client.get("/api/profiles/users/?ordering=-username").json()
    names = [u["username"] for u in body["results"]]
    assert names == sorted(names, reverse=True)


@pytest.mark.django_db
def test_ordering_on_anything_else_is_a_400(api_client):
    body = assert_error(
        api_client.get("/api/profiles/users/?ordering=email"), 400, "invalid"
    )
    assert body["errors"][0]["field"] == "ordering"
    assert "choose from username" in body["errors"][0]["message"]


@pytest.mark.django_db
def test_bad_filter_value_is_a_400(api_client):
    body = assert_error(
        api_client.get("/api/profiles/posts/?author=not-a-uuid"), 400, "invalid"
    )
    assert body["errors"][0]["field"] == "author"


@pytest.mark.django_db
def test_browsable_api_renders_every_list_and_detail(client, staff_user):
    """People signed in to the admin can browse the API as HTML."""
    post = PostFactory(author=staff_user)
    client.force_login(staff_user)
    for url in [
        "/api/profiles/users/",
        f"/api/profiles/users/{staff_user.pk}/",
        f"/api/profiles/users/{staff_user.pk}/stats/",
        f"/api/profiles/users/{staff_user.pk}/highlights/",
        f"/api/profiles/users/{staff_user.pk}/reacted-posts/",
        "/api/profiles/me/",
        "/api/profiles/me/highlights/",
        "/api/profiles/posts/",
        f"/api/profiles/posts/{post.pk}/",
        "/api/profiles/reactions/",
        "/api/profiles/user-profiles/",
        "/api/profiles/user-stats-cache/",
        "/api/badges/badge-definitions/",
        "/api/badges/badge-definitions/moderator/",
        "/api/badges/badge-grants/",
    ]:
        response = client.get(url, HTTP_ACCEPT="text/html")
        assert response.status_code == 200, url
        assert response["Content-Type"].startswith("text/html"), url


def test_production_refuses_to_start_without_a_secret_key():
    result = run_with_env(
        [sys.executable, "manage.py", "check"],
        DEBUG="false",
        ALLOWED_HOSTS="api.example.com",
    )
    assert result.returncode != 0
    assert "Set the SECRET_KEY environment variable" in result.stderr


@pytest.mark.django_db
def test_a_lost_race_against_a_constraint_is_a_409_not_a_500():
    response = exception_handler(IntegrityError("duplicate key"), {})
    assert response.status_code == 409
    assert response.data == {
        "status": 409,
        "code": "conflict",
        "detail": "The request conflicts with the current state of the data.",
        "errors": [],
    }
