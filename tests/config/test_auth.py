"""Authentication: tokens for a username or email, registration, sessions, and
the rate limit on the endpoints that check passwords."""

import secrets
import time

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from profiles.models import User
from tests.helpers import assert_error
from tests.profiles.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


# --- tokens -------------------------------------------------------------------------


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


def test_username_match_wins_over_someone_elses_email(anon_client):
    owner = UserFactory(username="x@example.com", email="owner@example.com")
    UserFactory(username="other", email="x@example.com", password="other pw 123")
    response = anon_client.post(
        "/api/auth/token/", {"username": "x@example.com", "password": PASSWORD}
    )
    assert response.status_code == 200
    assert response.json()["token"] == owner.auth_token.key


@pytest.mark.parametrize(
    "body",
    [
        {"username": "ada", "password": "wrong"},
        {"username": "nobody", "password": PASSWORD},
        {"username": "ADA", "password": PASSWORD},  # usernames are exact
    ],
)
def test_wrong_credentials_are_the_documented_400(anon_client, body):
    UserFactory(username="ada")
    response = anon_client.post("/api/auth/token/", body)
    body = assert_error(response, 400, "invalid")
    assert body["errors"] == [
        {
            "field": None,
            "code": "authorization",
            "message": "Unable to log in with provided credentials.",
        }
    ]


@pytest.mark.parametrize(
    "body, field",
    [
        ({"username": "ada"}, "password"),
        ({"username": "ada\x00", "password": PASSWORD}, "username"),
        ({"username": "ada", "password": PASSWORD, "remember": True}, "remember"),
    ],
)
def test_malformed_token_requests_name_the_field(anon_client, body, field):
    UserFactory(username="ada")
    response = assert_error(anon_client.post("/api/auth/token/", body), 400, "invalid")
    assert [e["field"] for e in response["errors"]] == [field]


def test_inactive_user_gets_no_token(anon_client):
    UserFactory(username="ada", is_active=False)
    response = anon_client.post(
        "/api/auth/token/", {"username": "ada", "password": PASSWORD}
    )
    assert_error(response, 400, "invalid")


def test_session_authentication_works(client, user):
    client.force_login(user)
    assert client.get("/api/profiles/me/").json()["id"] == str(user.pk)


def test_bad_token_is_a_401(anon_client):
    anon_client.credentials(HTTP_AUTHORIZATION="Token nope")
    assert_error(anon_client.get("/api/profiles/me/"), 401, "authentication_failed")


# --- registration -------------------------------------------------------------------

STRONG = "a long pass phrase 42"


def test_register_then_use_the_api_at_once(anon_client):
    response = anon_client.post(
        "/api/auth/register/", {"email": "Grace@Example.COM", "password": STRONG}
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == {"id", "username", "email", "token"}
    assert (body["username"], body["email"]) == ("Grace", "Grace@example.com")
    user = User.objects.get(pk=body["id"])
    assert user.check_password(STRONG)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {body['token']}")
    assert client.get("/api/profiles/me/").json()["email"] == "Grace@example.com"
    login = anon_client.post(
        "/api/auth/token/", {"username": "grace@example.com", "password": STRONG}
    )
    assert login.json()["token"] == body["token"]


def test_the_schema_gives_the_password_rules_minimum_length(anon_client):
    schema = anon_client.get("/api/schema/?format=json").json()
    password = schema["components"]["schemas"]["RegisterRequest"]["properties"]
    assert password["password"]["minLength"] == 8  # MinimumLengthValidator's


def test_register_with_a_username(anon_client):
    response = anon_client.post(
        "/api/auth/register/",
        {"email": "g@example.com", "password": STRONG, "username": "grace"},
    )
    assert response.json()["username"] == "grace"


def test_a_made_up_username_never_collides(anon_client):
    UserFactory(username="grace")
    response = anon_client.post(
        "/api/auth/register/", {"email": "GRACE@example.org", "password": STRONG}
    )
    username = response.json()["username"]
    assert username.startswith("GRACE-") and username.lower() != "grace"


@pytest.mark.parametrize(
    "body, field, code",
    [
        ({"email": "taken@EXAMPLE.com"}, "email", "unique_email"),
        ({"username": "TAKEN"}, "username", "unique_username"),
        ({"password": "short"}, "password", "min_length"),
        ({"password": "password123"}, "password", "password_too_common"),
        ({"password": "83729104658392"}, "password", "password_entirely_numeric"),
        ({"password": "newcomer@example.com1"}, "password", "password_too_similar"),
        ({"email": "not-an-email"}, "email", "invalid"),
        ({"username": "no spaces"}, "username", "invalid"),
    ],
)
def test_register_refusals_name_the_field(anon_client, body, field, code):
    UserFactory(username="taken", email="taken@example.com")
    payload = {"email": "newcomer@example.com", "password": STRONG, **body}
    response = anon_client.post("/api/auth/register/", payload)
    body = assert_error(response, 400, "invalid")
    assert (field, code) in [(e["field"], e["code"]) for e in body["errors"]]
    assert User.objects.count() == 1


# --- rate limits --------------------------------------------------------------------


@pytest.fixture
def rate_of_two(rate_limits):
    rate_limits(password=("2/minute", 2))


def from_address():
    """A client whose address no other test (or earlier run) has used."""
    octets = ".".join(str(secrets.randbelow(250)) for _ in range(3))
    return APIClient(REMOTE_ADDR=f"10.{octets}")


@pytest.fixture(params=["locmem", "redis_up"])
def cache_kind(request):
    request.getfixturevalue(request.param)


@pytest.mark.parametrize(
    "url, body",
    [
        ("/api/auth/token/", {"username": "ada", "password": "wrong"}),
        ("/api/auth/register/", {"email": "x", "password": "y"}),
    ],
)
def test_password_endpoints_are_rate_limited(cache_kind, rate_of_two, url, body):
    client = from_address()
    for _ in range(2):
        assert client.post(url, body).status_code == 400
    response = client.post(url, body)
    error = assert_error(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0
    assert "throttled" in error["detail"]
    assert from_address().post(url, body).status_code == 400  # others still may


def test_forwarded_for_does_not_dodge_the_limit(rate_of_two):
    client = from_address()
    for n in range(2):
        client.post("/api/auth/token/", {}, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
    response = client.post("/api/auth/token/", {}, HTTP_X_FORWARDED_FOR="192.0.2.9")
    assert response.status_code == 429


def test_with_redis_down_logins_work_and_the_limit_holds_per_process(
    redis_down, rate_of_two, caplog
):
    UserFactory(username="ada")
    client = from_address()
    login = {"username": "ada", "password": PASSWORD}
    statuses = [client.post("/api/auth/token/", login).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert "counted in this process" in caplog.text


# --- failed logins, by address and by account ---------------------------------------


@pytest.fixture
def three_failures(rate_limits):
    """An address may fail three times an hour, an account six."""
    rate_limits(login_address=("3/hour", 3), login_account=("6/hour", 6))


def address() -> str:
    return from_address().defaults["REMOTE_ADDR"]


def admin_login(client, username: str, password: str, address: str):
    return client.post(
        "/admin/login/",
        {"username": username, "password": password, "next": "/admin/"},
        REMOTE_ADDR=address,
    )


WRONG = "Please enter the correct username and password"
LOCKED = "Too many failed logins from your address or for this account"


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


@pytest.mark.parametrize("cache", ["locmem", "redis_up"])
def test_the_admin_refuses_an_address_after_its_failures_not_the_account(
    request, cache, client, three_failures
):
    request.getfixturevalue(cache)
    UserFactory(username="boss", is_staff=True)
    attacker = address()
    for _ in range(3):
        assert WRONG in admin_login(client, "boss", "guess", attacker).text
    # Refused: the right password too, and (uncounted) as often as tried:
    # the account's six are not used up by this address.
    for password in ["guess"] * 4 + [PASSWORD]:
        page = admin_login(client, "boss", password, attacker)
        assert page.status_code == 200 and LOCKED in page.text
        assert "try again in 20 minutes" in page.text  # 3 an hour
        assert not signed_in(client)
    response = admin_login(client, "boss", PASSWORD, address())
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert signed_in(client)


def test_the_token_endpoint_refuses_an_address_after_its_failures(three_failures):
    UserFactory(username="ada")
    attacker = from_address()
    for _ in range(3):
        response = attacker.post(
            "/api/auth/token/", {"username": "ada", "password": "guess"}
        )
        assert_error(response, 400, "invalid")
    response = attacker.post(
        "/api/auth/token/", {"username": "ada", "password": PASSWORD}
    )
    assert_error(response, 429, "throttled")
    assert 1100 < int(response["Retry-After"]) <= 1200  # 3 an hour
    response = from_address().post(
        "/api/auth/token/", {"username": "ada", "password": PASSWORD}
    )
    assert response.status_code == 200


def test_an_account_is_refused_after_failures_from_several_addresses(
    client, three_failures
):
    UserFactory(username="ada", email="ada@example.com", is_staff=True)
    for login in ("ada", "ADA@example.com"):  # its username and its email
        attacker = from_address()
        for _ in range(3):
            response = attacker.post(
                "/api/auth/token/", {"username": login, "password": "guess"}
            )
            assert response.status_code == 400
    response = from_address().post(
        "/api/auth/token/", {"username": "ada", "password": PASSWORD}
    )
    assert_error(response, 429, "throttled")
    assert LOCKED in admin_login(client, "ada", PASSWORD, address()).text
    assert not signed_in(client)
    # A name no account has is limited the same way: a refusal does not
    # tell whether the account exists.
    for _ in range(2):
        attacker = from_address()
        for _ in range(3):
            attacker.post("/api/auth/token/", {"username": "nobody", "password": "x"})
    response = from_address().post(
        "/api/auth/token/", {"username": "nobody", "password": "x"}
    )
    assert_error(response, 429, "throttled")


def test_only_failures_count(client, three_failures):
    UserFactory(username="ada", is_staff=True)
    office = address()
    for _ in range(10):
        assert admin_login(client, "ada", PASSWORD, office).status_code == 302
        client.logout()
    for _ in range(3):
        assert WRONG in admin_login(client, "ada", "guess", office).text
    assert LOCKED in admin_login(client, "ada", PASSWORD, office).text


def test_the_lock_lifts_once_the_wait_is_over(client, rate_limits):
    rate_limits(login_address=("1/second", 2), login_account=("10/second", 10))
    UserFactory(username="boss", is_staff=True)
    attacker = address()
    for _ in range(2):
        assert WRONG in admin_login(client, "boss", "guess", attacker).text
    assert LOCKED in admin_login(client, "boss", PASSWORD, attacker).text
    time.sleep(1.05)  # one failure's interval
    response = admin_login(client, "boss", PASSWORD, attacker)
    assert response.status_code == 302 and signed_in(client)


# --- the token cache ----------------------------------------------------------------


@pytest.fixture(params=["locmem", "redis_up"])
def token_cache(request):
    request.getfixturevalue(request.param)


def queries_to_authenticate(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        client.get("/api/")  # no query of its own
    return len(queries)


def test_a_token_is_read_from_the_database_once(token_cache, api_client):
    # The token and its user, then the user's permissions and their groups'.
    assert queries_to_authenticate(api_client) == 3
    assert queries_to_authenticate(api_client) == 0


MEMBERS = "/api/community/community-members/"  # needs the view permission


def view_members() -> Permission:
    return Permission.objects.get(
        content_type__app_label="community", codename="view_communitymember"
    )


def test_a_known_tokens_permissions_cost_no_query(
    token_cache, api_client, user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # as the change commits
        user.user_permissions.add(view_members())
    assert api_client.get(MEMBERS).status_code == 200  # cached now
    with CaptureQueriesContext(connection) as queries:
        assert api_client.get(MEMBERS).status_code == 200
    assert not [q for q in queries if "auth_permission" in q["sql"]], queries


def in_group(user, *permissions) -> Group:
    group = Group.objects.create(name="readers")
    group.permissions.add(*permissions)
    user.groups.add(group)
    return group


# How a user comes to hold a permission, and how they lose it again, on either
# side of each many-to-many relation.
GRANTS = {
    "directly": (
        lambda user, perm: user.user_permissions.add(perm),
        lambda user, perm: user.user_permissions.remove(perm),
    ),
    "from the permission's side": (
        lambda user, perm: perm.user_set.add(user),
        lambda user, perm: perm.user_set.clear(),
    ),
    "by joining a group": (
        lambda user, perm: in_group(user, perm),
        lambda user, perm: Group.objects.get().user_set.remove(user),
    ),
    "by their groups being cleared": (
        lambda user, perm: in_group(user, perm),
        lambda user, perm: user.groups.clear(),
    ),
    "through the group's permissions": (
        lambda user, perm: in_group(user).permissions.add(perm),
        lambda user, perm: Group.objects.get().permissions.clear(),
    ),
    "through the permission's groups": (
        lambda user, perm: perm.group_set.add(in_group(user)),
        lambda user, perm: perm.group_set.remove(Group.objects.get()),
    ),
    "until the group is deleted": (
        lambda user, perm: in_group(user, perm),
        lambda user, perm: Group.objects.get().delete(),
    ),
}


@pytest.mark.parametrize("how", GRANTS)
def test_permissions_given_and_taken_apply_at_once(token_cache, api_client, user, how):
    grant, revoke = GRANTS[how]
    perm = view_members()
    assert api_client.get(MEMBERS).status_code == 403  # cached, without it
    grant(user, perm)
    assert api_client.get(MEMBERS).status_code == 200
    revoke(user, perm)
    assert api_client.get(MEMBERS).status_code == 403


def test_a_deleted_permission_is_refused_at_once(token_cache, api_client, user):
    perm = view_members()
    in_group(user, perm)
    assert api_client.get(MEMBERS).status_code == 200
    perm.delete()
    assert api_client.get(MEMBERS).status_code == 403


def test_a_revoked_token_stops_working_at_once(token_cache, api_client, user):
    assert api_client.get("/api/profiles/me/").status_code == 200  # cached now
    user.auth_token.delete()
    assert_error(api_client.get("/api/profiles/me/"), 401, "authentication_failed")


def test_a_deactivated_user_is_refused_at_once(token_cache, api_client, user):
    assert api_client.get("/api/profiles/me/").status_code == 200
    user.is_active = False
    user.save()
    assert_error(api_client.get("/api/profiles/me/"), 401, "authentication_failed")


def test_a_changed_user_is_cached_again_once_the_change_commits(
    token_cache, api_client, user, django_capture_on_commit_callbacks
):
    assert queries_to_authenticate(api_client) == 3
    with django_capture_on_commit_callbacks(execute=True):
        user.tagline = "changed"
        user.save()
        # Until the change commits, the token is read from the database (its
        # user and permissions as the transaction stands), and never cached.
        assert queries_to_authenticate(api_client) == 1
        assert queries_to_authenticate(api_client) == 1
    assert queries_to_authenticate(api_client) == 3
    assert queries_to_authenticate(api_client) == 0


def test_new_staff_rights_apply_at_once(token_cache, api_client, user):
    assert api_client.get("/api/profiles/user-stats-cache/").status_code == 403
    user.is_staff = True
    user.save()
    assert api_client.get("/api/profiles/user-stats-cache/").status_code == 200


def test_with_redis_down_tokens_are_checked_in_the_database(
    redis_down, api_client, caplog
):
    assert api_client.get("/api/profiles/me/").status_code == 200
    assert queries_to_authenticate(api_client) == 1
    assert "tokens are checked in the database" in caplog.text
