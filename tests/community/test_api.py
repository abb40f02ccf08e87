"""The community directory's API (seed 001): who may call it (staff and
service accounts; view-only readers without Telegram ids and GitHub data),
members and their soft delete, invitations and their acceptance (also many at
once), relationships, participation events one by one and in batches, daily
highlights, and the lean bodies, query counts and cursors of every list."""

import itertools
import json
import threading
from datetime import UTC, date, datetime, timedelta
from urllib.parse import quote

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.db import connection, connections
from django.utils import timezone
from rest_framework.test import APIClient

from community import services
from community.api.serializers import (
    MAX_EVENTS,
    PRIVATE_FIELDS,
    DailyHighlightSerializer,
    InvitationSerializer,
    MemberSerializer,
    ParticipationSerializer,
    RelationshipSerializer,
)
from community.models import (
    CommunityInvitation,
    CommunityMember,
    EventType,
    InvitationStatus,
    MemberDailyHighlight,
    MemberIdSequence,
    MemberParticipation,
    MemberRelationship,
    MemberStatus,
    ReputationTier,
)
from community.services import INT_MAX, INVITATION_ALPHABET
from config.accounts import service_account
from config.api.renderers import JSONRenderer
from tests.community.factories import MemberFactory
from tests.conftest import token_client
from tests.helpers import (
    assert_error,
    assert_list_queries_constant,
    error_fields,
    ok,
    results,
    schema_operations,
    schema_paths,
)
from tests.profiles.factories import UserFactory

pytestmark = pytest.mark.django_db

COMMUNITY = "/api/community/"
MEMBERS = f"{COMMUNITY}community-members/"
INVITATIONS = f"{COMMUNITY}community-invitations/"
ACCEPT = f"{INVITATIONS}accept/"
RELATIONSHIPS = f"{COMMUNITY}member-relationships/"
PARTICIPATION = f"{COMMUNITY}member-participation/"
BATCH = f"{PARTICIPATION}batch/"
HIGHLIGHTS = f"{COMMUNITY}member-daily-highlights/"
BUILD = f"{HIGHLIGHTS}build/"

VIEW_PERMISSIONS = [
    "view_communitymember",
    "view_communityinvitation",
    "view_memberrelationship",
    "view_memberparticipation",
    "view_memberdailyhighlight",
]
DAY = date(2024, 5, 1)
NOON = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


# --- helpers and fixtures -----------------------------------------------------------


def member_url(member, suffix: str = "") -> str:
    """``/community-members/247/``: the member id without its ``#``."""
    return f"{MEMBERS}{member.member_id.removeprefix('#')}/{suffix}"


def client_with(*codenames: str) -> APIClient:
    """A client signed in as a new user (not staff) holding only the community
    permissions ``codenames``."""
    user = UserFactory()
    permissions = Permission.objects.filter(
        content_type__app_label="community", codename__in=codenames
    )
    assert permissions.count() == len(codenames), codenames
    user.user_permissions.add(*permissions)
    return token_client(user)


def table_state() -> list[list[dict]]:
    """Every row of every community table: equal before and after a request
    means the request wrote nothing."""
    managers = [
        CommunityMember.all_objects,
        CommunityInvitation.objects,
        MemberRelationship.objects,
        MemberParticipation.objects,
        MemberDailyHighlight.objects,
        MemberIdSequence.objects,
    ]
    return [list(manager.order_by("pk").values()) for manager in managers]


def drf(data) -> object:
    """``data`` as the API's renderer writes it, read back."""
    return json.loads(JSONRenderer().render(data))


def member_ids(response) -> list[str]:
    return [row["member_id"] for row in results(response)]


def event(member, **fields) -> dict:
    """A participation event as a bot posts it."""
    return {
        "member_id": member.member_id,
        "event_type": "MESSAGE",
        "platform": "telegram",
        "room_id": "general",
        **fields,
    }


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@pytest.fixture
def bot() -> APIClient:
    """The community bot: a service account holding every community
    permission, signed in with its token."""
    token = service_account("bot", ["community"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def reader() -> APIClient:
    """A user who may read every community table, but not see Telegram ids
    and GitHub data (no ``view_private_data``)."""
    return client_with(*VIEW_PERMISSIONS)


@pytest.fixture
def member():
    return MemberFactory(name="Ada", telegram_username="ada")


@pytest.fixture
def directory():
    """A row in every community table: a verified inviter, the member who
    accepted their invitation (and the INVITED relationship), a pending
    invitation, a deleted member, events and the day's highlights."""
    inviter = MemberFactory(name="Inviter")
    services.member_reputation_change(member=inviter, delta=120, reason="welcome")
    services.member_github_verify(
        member=inviter, github_username="inviter-gh", profile_data={"login": "x"}
    )
    accepted = services.invitation_create(created_by=inviter)
    services.invitation_accept(
        invitation_code=accepted.invitation_code,
        telegram_id="777000",
        telegram_username="invitee",
        name="Invitee",
        primary_role="designer",
    )
    services.participation_record(
        events=[event(inviter, occurred_at=NOON), event(inviter, event_type="REACTION")]
    )
    services.daily_highlights_build(day=DAY)
    services.invitation_create(created_by=inviter, invited_telegram_username="x")
    services.member_delete(member=MemberFactory(name="Gone"))
    return inviter


def community_operations() -> list[tuple[str, str]]:
    """``(method, url)`` of every community operation, each path parameter
    replaced by an existing row's (``directory``), percent-encoded."""
    live = CommunityMember.objects.order_by("member_id").first()
    values = {
        "member_id": quote(live.member_id, safe=""),
        "invitation_id": CommunityInvitation.objects.get(status="pending").pk,
        "member_relationship_id": MemberRelationship.objects.first().pk,
        "member_participation_id": MemberParticipation.objects.first().pk,
        "member_daily_highlight_id": MemberDailyHighlight.objects.first().pk,
    }
    return [(method, url) for method, _, url in schema_operations(COMMUNITY, values)]


def send(client, method: str, url: str):
    if method in ("get", "delete"):
        return getattr(client, method)(url)
    return getattr(client, method)(url, {})


# --- access -------------------------------------------------------------------------


def test_the_schema_lists_every_community_operation():
    operations = {
        (m, path) for path, methods in schema_paths(COMMUNITY) for m in methods
    }
    member = f"{MEMBERS}{{member_id}}/"
    assert operations >= {
        ("get", MEMBERS),
        ("post", MEMBERS),
        ("get", member),
        ("put", member),
        ("patch", member),
        ("delete", member),
        ("post", f"{member}restore/"),
        ("post", f"{member}verify-github/"),
        ("post", f"{member}reputation/"),
        ("post", INVITATIONS),
        ("post", ACCEPT),
        ("post", f"{INVITATIONS}{{invitation_id}}/revoke/"),
        ("delete", f"{RELATIONSHIPS}{{member_relationship_id}}/"),
        ("post", PARTICIPATION),
        ("post", BATCH),
        ("get", f"{HIGHLIGHTS}{{member_daily_highlight_id}}/"),
        ("post", BUILD),
    }
    assert len(operations) == 27


def test_anonymous_callers_get_401_on_every_operation(anon_client, directory):
    before = table_state()
    for method, url in community_operations():
        response = send(anon_client, method, url)
        assert response.status_code == 401, (method, url, response.content)
        assert_error(response, 401, "not_authenticated")
    assert table_state() == before


def test_ordinary_users_get_403_on_every_operation(api_client, directory):
    before = table_state()
    for method, url in community_operations():
        response = send(api_client, method, url)
        assert response.status_code == 403, (method, url, response.content)
        assert_error(response, 403, "permission_denied")
    assert table_state() == before


def test_view_only_users_read_everything_and_write_nothing(reader, directory):
    before = table_state()
    for method, url in community_operations():
        response = send(reader, method, url)
        if method == "get":
            assert response.status_code == 200, (url, response.content)
        else:
            assert response.status_code == 403, (method, url, response.content)
            assert_error(response, 403, "permission_denied")
    assert table_state() == before


@pytest.mark.parametrize("who", ["staff", "service account"])
def test_staff_and_service_accounts_pass_every_permission_check(
    staff_client, bot, directory, who
):
    """An empty body is a 400 where one is needed; never a 401, 403 or 500."""
    client = staff_client if who == "staff" else bot
    for method, url in community_operations():
        response = send(client, method, url)
        assert response.status_code not in (401, 403), (method, url, response.content)
        assert response.status_code < 500, (method, url, response.content)
        if response.status_code >= 400:
            assert_error(response, response.status_code, response.json()["code"])


def test_a_service_account_runs_the_directory_and_sees_private_data(bot):
    new = {"telegram_id": "5001", "name": "Ada", "primary_role": "dev"}
    created = ok(bot.post(MEMBERS, {**new, "status": "member"}), 201)
    assert created["telegram_id"] == "5001"
    ada = CommunityMember.objects.get(member_id=created["member_id"])
    ok(
        bot.post(
            member_url(ada, "verify-github/"),
            {"github_username": "ada-l", "github_profile_data": {"login": "ada-l"}},
        )
    )
    body = ok(bot.get(member_url(ada)))
    assert (body["telegram_id"], body["github_username"]) == ("5001", "ada-l")
    assert body["github_profile_data"] == {"login": "ada-l"}
    assert ok(bot.get(MEMBERS, {"telegram_id": "5001"}))["results"] == [body]
    ok(bot.post(member_url(ada, "reputation/"), {"delta": 5, "reason": "hi"}))
    code = ok(bot.post(INVITATIONS, {"created_by": ada.member_id}), 201)[
        "invitation_code"
    ]
    joiner = {"telegram_id": "5002", "name": "Bob", "primary_role": "design"}
    bob = ok(bot.post(ACCEPT, {"invitation_code": code, **joiner}))["accepted_by"]
    revocable = ok(bot.post(INVITATIONS, {"created_by": ada.member_id}), 201)
    ok(bot.post(f"{INVITATIONS}{revocable['invitation_id']}/revoke/"))
    ok(bot.post(BATCH, {"events": [event(ada), event(ada)]}), 201)
    ok(bot.post(BUILD, {"highlight_date": str(timezone.now().date())}))
    link = {"entity_id_a": ada.member_id, "entity_id_b": bob}
    mentor = {**link, "relationship_type": "MENTORED", "content": {}}
    relationship = ok(bot.post(RELATIONSHIPS, mentor), 201)
    ok(bot.patch(f"{RELATIONSHIPS}{relationship['id']}/", {"content": {"a": 1}}))
    ok(bot.delete(f"{RELATIONSHIPS}{relationship['id']}/"), 204)
    assert ok(bot.patch(member_url(ada), {"country": "UK"}))["country"] == "UK"
    ok(bot.delete(member_url(ada)), 204)
    ok(bot.post(member_url(ada, "restore/")))
    ada.refresh_from_db()
    assert (ada.reputation_score, ada.github_verified, ada.country) == (5, True, "UK")
    assert CommunityMember.objects.get(member_id=bob).invited_by_id == ada.member_id
    assert MemberParticipation.objects.filter(member=ada).count() == 3
    assert MemberDailyHighlight.objects.filter(member=ada).exists()


def test_view_only_readers_get_null_private_fields(reader, directory):
    inviter = directory
    body = reader.get(member_url(inviter)).json()
    assert {name: body[name] for name in PRIVATE_FIELDS} == dict.fromkeys(
        PRIVATE_FIELDS
    )
    assert (body["name"], body["github_verified"]) == ("Inviter", True)
    assert body["github_verified_at"] is not None
    for row in results(reader.get(MEMBERS)):
        assert [row[name] for name in PRIVATE_FIELDS] == [None, None, None]


@pytest.mark.parametrize(
    "query",
    [{"telegram_id": "777000"}, {"status": "member", "telegram_id": "777000"}],
)
def test_view_only_readers_may_not_filter_by_private_fields(
    reader, staff_client, directory, query
):
    assert_error(reader.get(MEMBERS, query), 403, "permission_denied")
    assert staff_client.get(MEMBERS, query).status_code == 200


@pytest.mark.parametrize("name", ["github_username", "github_profile_data"])
def test_private_fields_that_are_no_filters_are_unknown_to_everyone(
    reader, staff_client, directory, name
):
    """They once answered the whole list, unfiltered, to staff."""
    for client in (reader, staff_client):
        response = client.get(MEMBERS, {name: "inviter-gh"})
        assert error_fields(response) == [(name, "unknown_parameter")]


def test_staff_filter_members_by_telegram_id(staff_client, directory):
    response = staff_client.get(MEMBERS, {"telegram_id": "777000"})
    assert member_ids(response) == [
        CommunityMember.objects.get(telegram_id="777000").member_id
    ]


def change_action(name: str, inviter) -> tuple[str, dict]:
    """URL and body of a POST action that changes rows."""
    ghost = MemberFactory()
    services.member_delete(member=ghost)
    pending = services.invitation_create(created_by=inviter)
    return {
        "revoke": (f"{INVITATIONS}{pending.pk}/revoke/", {}),
        "accept": (
            ACCEPT,
            {
                "invitation_code": pending.invitation_code,
                "telegram_id": "8080",
                "name": "New",
                "primary_role": "dev",
            },
        ),
        "restore": (member_url(ghost, "restore/"), {}),
        "verify_github": (
            member_url(inviter, "verify-github/"),
            {"github_username": "someone"},
        ),
        "reputation": (member_url(inviter, "reputation/"), {"delta": 1, "reason": "x"}),
    }[name]


@pytest.mark.parametrize(
    "action, model",
    [
        ("revoke", "communityinvitation"),
        ("accept", "communityinvitation"),
        ("restore", "communitymember"),
        ("verify_github", "communitymember"),
        ("reputation", "communitymember"),
    ],
)
def test_actions_that_change_rows_need_the_change_permission(member, action, model):
    url, body = change_action(action, member)
    adder = client_with(f"add_{model}", f"view_{model}")
    before = table_state()
    assert_error(adder.post(url, body), 403, "permission_denied")
    assert table_state() == before
    changer = client_with(f"change_{model}")
    response = changer.post(url, body)
    assert response.status_code == 200, response.content
    assert table_state() != before


def test_rebuilding_highlights_needs_the_change_permission(member):
    services.participation_record(events=[event(member, occurred_at=NOON)])
    services.daily_highlights_build(day=DAY)
    adder = client_with("add_memberdailyhighlight")
    MemberParticipation.objects.create(
        member=member, event_type="MESSAGE", platform="telegram", occurred_at=NOON
    )
    before = table_state()
    assert_error(
        adder.post(BUILD, {"highlight_date": "2024-05-01"}), 403, "permission_denied"
    )
    assert table_state() == before


def test_errors_do_not_map_telegram_ids_to_members_for_readers_without_the_permission(
    member,
):
    services.member_delete(member=member)
    creator = client_with("add_communitymember", "view_communitymember")
    response = creator.post(
        MEMBERS,
        {"telegram_id": member.telegram_id, "name": "X", "primary_role": "dev"},
    )
    assert error_fields(response) == [("telegram_id", "unique")]
    assert member.member_id not in response.content.decode()


# --- members ------------------------------------------------------------------------


def test_create_member_assigns_the_next_member_id(staff_client, member):
    number = int(member.member_id[1:])
    response = staff_client.post(
        MEMBERS,
        {
            "telegram_id": "123456789",
            "telegram_username": "@Grace",
            "name": "Grace",
            "primary_role": "developer",
            "country": "US",
            "profile_data": {"languages": ["en", "fr"], "bio": "Hi 👋"},
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["member_id"] == f"#{number + 1}"
    assert (body["telegram_username"], body["status"]) == ("Grace", "not_member")
    assert (body["reputation_score"], body["reputation_tier"]) == (0, "Novice")
    row = CommunityMember.objects.get(member_id=body["member_id"])
    assert (row.telegram_id, row.name, row.country) == ("123456789", "Grace", "US")
    assert row.profile_data == {"languages": ["en", "fr"], "bio": "Hi 👋"}
    assert body == drf(MemberSerializer(row).data)


@pytest.mark.parametrize(
    "extra, field, code",
    [
        ({"member_id": "#5"}, "member_id", "unknown_field"),
        ({"reputation_score": 10}, "reputation_score", "unknown_field"),
        ({"github_verified": True}, "github_verified", "unknown_field"),
        ({"telegram_id": "12a"}, "telegram_id", "invalid"),
        ({"telegram_id": "+123"}, "telegram_id", "invalid"),
        ({"telegram_id": "1" * 21}, "telegram_id", "invalid"),
        ({"telegram_id": 123}, "telegram_id", "invalid_type"),
        ({"profile_data": ["a"]}, "profile_data", "invalid_type"),
        ({"profile_data": "text"}, "profile_data", "invalid_type"),
        ({"profile_data": 5}, "profile_data", "invalid_type"),
        ({"status": "banned"}, "status", "invalid_choice"),
        ({"registration_fee_paid": None}, "registration_fee_paid", "null"),
        ({"name": ""}, "name", "blank"),
    ],
)
def test_create_member_rejects_bad_input(staff_client, member, extra, field, code):
    before = table_state()
    body = {"telegram_id": "424242", "name": "Grace", "primary_role": "dev", **extra}
    assert error_fields(staff_client.post(MEMBERS, body)) == [(field, code)]
    assert table_state() == before


@pytest.mark.parametrize("deleted", [False, True], ids=["live", "deleted"])
def test_a_telegram_id_belongs_to_one_member_even_once_deleted(
    staff_client, member, deleted
):
    if deleted:
        services.member_delete(member=member)
    before = table_state()
    response = staff_client.post(
        MEMBERS, {"telegram_id": member.telegram_id, "name": "X", "primary_role": "d"}
    )
    assert error_fields(response) == [("telegram_id", "unique")]
    assert table_state() == before


def test_empty_nullable_text_is_stored_as_null(staff_client):
    response = staff_client.post(
        MEMBERS,
        {
            "telegram_id": "31337",
            "name": "Ada",
            "primary_role": "dev",
            "organization": "",
            "country": "",
            "registration_fee_tx_hash": "",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert [body["organization"], body["country"]] == [None, None]
    assert body["registration_fee_tx_hash"] is None


def test_member_path_takes_the_number_with_or_without_hash(staff_client, member):
    number = member.member_id[1:]
    for url in (f"{MEMBERS}{number}/", f"{MEMBERS}%23{number}/"):
        response = staff_client.get(url)
        assert response.status_code == 200, (url, response.content)
        assert response.json()["member_id"] == member.member_id


@pytest.mark.parametrize("segment", ["abc", "%23", "0", "9" * 18, "9" * 19, "1.5"])
def test_unknown_member_paths_are_404(staff_client, member, segment):
    assert_error(staff_client.get(f"{MEMBERS}{segment}/"), 404, "not_found")


def test_patch_edits_the_allowed_fields(staff_client, member):
    response = staff_client.patch(
        member_url(member),
        {
            "name": "Ada L.",
            "telegram_username": "@ada_l",
            "country": "UK",
            "status": "suspended",
            "profile_data": {"a": 1},
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["name"], body["telegram_username"], body["status"]) == (
        "Ada L.",
        "ada_l",
        "suspended",
    )
    member.refresh_from_db()
    assert (member.name, member.telegram_username, member.country) == (
        "Ada L.",
        "ada_l",
        "UK",
    )
    assert member.profile_data == {"a": 1}
    assert body == drf(MemberSerializer(member).data)


def test_put_replaces_the_editable_fields(staff_client, member):
    response = staff_client.put(
        member_url(member), {"name": "Grace", "primary_role": "designer"}
    )
    assert response.status_code == 200, response.content
    member.refresh_from_db()
    assert (member.name, member.primary_role) == ("Grace", "designer")
    assert error_fields(staff_client.put(member_url(member), {"name": "X"})) == [
        ("primary_role", "required")
    ]


@pytest.mark.parametrize(
    "change, field, code",
    [
        ({"telegram_id": "1"}, "telegram_id", "unknown_field"),
        ({"reputation_score": 5000}, "reputation_score", "unknown_field"),
        ({"reputation_tier": "Champion"}, "reputation_tier", "unknown_field"),
        ({"github_verified": True}, "github_verified", "unknown_field"),
        ({"github_username": "x"}, "github_username", "unknown_field"),
        ({"member_id": "#1"}, "member_id", "unknown_field"),
        ({"invited_by": "#1"}, "invited_by", "unknown_field"),
        ({"deleted_at": None}, "deleted_at", "unknown_field"),
        ({"profile_data": [1]}, "profile_data", "invalid_type"),
        ({"name": None}, "name", "null"),
    ],
)
def test_patch_refuses_what_a_client_may_not_edit(
    staff_client, member, change, field, code
):
    before = table_state()
    response = staff_client.patch(member_url(member), {"name": "Kept?", **change})
    assert error_fields(response) == [(field, code)]
    assert table_state() == before


def test_delete_is_soft_and_restore_brings_the_member_back(staff_client, member):
    other = MemberFactory()
    pending = services.invitation_create(created_by=member)
    url = member_url(member)
    assert staff_client.delete(url).status_code == 204
    assert_error(staff_client.get(url), 404, "not_found")
    assert member_ids(staff_client.get(MEMBERS)) == [other.member_id]
    row = CommunityMember.all_objects.get(pk=member.pk)
    assert row.deleted_at is not None and row.name == "Ada"
    pending.refresh_from_db()
    assert pending.status == InvitationStatus.REVOKED
    assert_error(staff_client.delete(url), 404, "not_found")
    assert_error(staff_client.patch(url, {"name": "X"}), 404, "not_found")
    restored = staff_client.post(member_url(member, "restore/"))
    assert restored.status_code == 200, restored.content
    assert restored.json()["member_id"] == member.member_id
    assert staff_client.get(url).status_code == 200
    assert CommunityMember.objects.get(pk=member.pk).deleted_at is None
    pending.refresh_from_db()
    assert pending.status == InvitationStatus.REVOKED  # stays revoked


def test_restoring_a_live_member_is_a_404(staff_client, member):
    before = table_state()
    assert_error(staff_client.post(member_url(member, "restore/")), 404, "not_found")
    assert table_state() == before


def test_verify_github_records_the_check(staff_client, member):
    response = staff_client.post(
        member_url(member, "verify-github/"),
        {"github_username": "Octo-Cat", "github_profile_data": {"public_repos": 8}},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["github_username"], body["github_verified"]) == ("Octo-Cat", True)
    assert body["github_profile_data"] == {"public_repos": 8}
    member.refresh_from_db()
    assert member.github_verified and member.github_username == "Octo-Cat"
    assert member.github_verified_at is not None
    assert body == drf(MemberSerializer(member).data)
    failed = staff_client.post(
        member_url(member, "verify-github/"),
        {"github_username": "other", "github_verified": False},
    )
    assert failed.json()["github_verified"] is False
    member.refresh_from_db()
    assert (member.github_username, member.github_verified_at) == ("other", None)
    assert member.github_profile_data is None


def test_a_github_account_is_verified_for_one_member(staff_client, member):
    services.member_github_verify(member=member, github_username="octo-cat")
    other = MemberFactory()
    before = table_state()
    response = staff_client.post(
        member_url(other, "verify-github/"), {"github_username": "OCTO-CAT"}
    )
    assert error_fields(response) == [("github_username", "unique")]
    assert table_state() == before


@pytest.mark.parametrize(
    "body, field, code",
    [
        ({"github_username": "-bad"}, "github_username", "invalid"),
        ({"github_username": "a--b"}, "github_username", "invalid"),
        ({"github_username": "a" * 40}, "github_username", "max_length"),
        ({}, "github_username", "required"),
        (
            {"github_username": "ok", "github_profile_data": ["x"]},
            "github_profile_data",
            "invalid_type",
        ),
        (
            {"github_username": "ok", "github_verified": "yes"},
            "github_verified",
            "invalid_type",
        ),
    ],
)
def test_verify_github_rejects_bad_input(staff_client, member, body, field, code):
    before = table_state()
    response = staff_client.post(member_url(member, "verify-github/"), body)
    errors = error_fields(response)  # 40 characters also break the pattern
    assert (field, code) in errors and {f for f, _ in errors} == {field}
    assert table_state() == before


def test_reputation_moves_the_score_and_the_tier(staff_client, member):
    url = member_url(member, "reputation/")
    steps = [
        (150, 150, "Contributor"),
        (400, 550, "Expert"),
        (1500, 2050, "Champion"),
        (-2100, -50, "Novice"),
        (149, 99, "Novice"),
        (1, 100, "Contributor"),
    ]
    for delta, score, tier in steps:
        response = staff_client.post(url, {"delta": delta, "reason": "because"})
        assert response.status_code == 200, response.content
        assert (
            response.json()["reputation_score"],
            response.json()["reputation_tier"],
        ) == (score, tier)
        member.refresh_from_db()
        assert (member.reputation_score, member.reputation_tier) == (score, tier)
    logged = MemberParticipation.objects.filter(
        member=member, event_type=EventType.REPUTATION
    )
    assert sorted(e.event_metadata["delta"] for e in logged) == sorted(
        delta for delta, _, _ in steps
    )
    assert {(e.platform, e.event_metadata["reason"]) for e in logged} == {
        ("system", "because")
    }


@pytest.mark.parametrize(
    "body, field, code",
    [
        ({"delta": "5", "reason": "x"}, "delta", "invalid_type"),
        ({"delta": 1.5, "reason": "x"}, "delta", "invalid_type"),
        ({"delta": 1_000_001, "reason": "x"}, "delta", "max_value"),
        ({"delta": -1_000_001, "reason": "x"}, "delta", "min_value"),
        ({"delta": 5}, "reason", "required"),
        ({"delta": 5, "reason": "x" * 201}, "reason", "max_length"),
    ],
)
def test_reputation_rejects_bad_input(staff_client, member, body, field, code):
    before = table_state()
    response = staff_client.post(member_url(member, "reputation/"), body)
    assert error_fields(response) == [(field, code)]
    assert table_state() == before


def test_reputation_beyond_the_integer_range_is_a_400(staff_client, member):
    CommunityMember.objects.filter(pk=member.pk).update(
        reputation_score=INT_MAX - 10, reputation_tier=ReputationTier.CHAMPION
    )
    before = table_state()
    response = staff_client.post(
        member_url(member, "reputation/"), {"delta": 11, "reason": "x"}
    )
    assert error_fields(response) == [("delta", "range")]
    assert table_state() == before


def test_deleted_members_have_no_actions(staff_client, member):
    services.member_delete(member=member)
    before = table_state()
    for suffix, body in [
        ("reputation/", {"delta": 1, "reason": "x"}),
        ("verify-github/", {"github_username": "x"}),
    ]:
        response = staff_client.post(member_url(member, suffix), body)
        assert_error(response, 404, "not_found")
    assert table_state() == before


def test_member_ordering(staff_client):
    ada, bob, cy = MemberFactory.create_batch(3)
    services.member_reputation_change(member=bob, delta=600, reason="x")
    services.member_reputation_change(member=cy, delta=150, reason="x")
    start = datetime(2024, 1, 1, tzinfo=UTC)
    for offset, who in enumerate([cy, ada, bob]):
        CommunityMember.objects.filter(pk=who.pk).update(
            created_at=start + timedelta(days=offset)
        )
    by_score = [bob.member_id, cy.member_id, ada.member_id]
    assert member_ids(staff_client.get(MEMBERS)) == by_score
    ordered = staff_client.get(MEMBERS, {"ordering": "-reputation_score"})
    assert member_ids(ordered) == by_score
    ordered = staff_client.get(MEMBERS, {"ordering": "created_at"})
    assert member_ids(ordered) == [cy.member_id, ada.member_id, bob.member_id]
    ordered = staff_client.get(MEMBERS, {"ordering": "-created_at"})
    assert member_ids(ordered) == [bob.member_id, ada.member_id, cy.member_id]
    for bad in ("name", "telegram_id", "created_at,name"):
        response = staff_client.get(MEMBERS, {"ordering": bad})
        assert error_fields(response) == [("ordering", "invalid")]


def test_member_ties_are_ordered_by_key_across_pages(staff_client):
    MemberFactory.create_batch(5)
    expected = list(
        CommunityMember.objects.order_by("-reputation_score", "-id").values_list(
            "member_id", flat=True
        )
    )
    seen, url = [], f"{MEMBERS}?page_size=2"
    while url:
        body = staff_client.get(url).json()
        seen += [row["member_id"] for row in body["results"]]
        url = body["next"]
    assert seen == expected


def test_member_filters(staff_client, directory):
    inviter = directory
    invitee = CommunityMember.objects.get(telegram_id="777000")
    suspended = MemberFactory(status=MemberStatus.SUSPENDED)
    assert member_ids(staff_client.get(MEMBERS, {"invited_by": inviter.member_id})) == [
        invitee.member_id
    ]
    assert member_ids(staff_client.get(MEMBERS, {"github_verified": "true"})) == [
        inviter.member_id
    ]
    assert member_ids(staff_client.get(MEMBERS, {"status": "suspended"})) == [
        suspended.member_id
    ]
    assert member_ids(staff_client.get(MEMBERS, {"invited_by": "#0"})) == []
    assert error_fields(staff_client.get(MEMBERS, {"status": "gone"})) == [
        ("status", "invalid_choice")
    ]


# --- invitations --------------------------------------------------------------------


def test_create_invitation(staff_client, member):
    response = staff_client.post(
        INVITATIONS,
        {"created_by": member.member_id, "invited_telegram_username": "@Grace"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    code = body["invitation_code"]
    assert len(code) == 16 and set(code) <= set(INVITATION_ALPHABET)
    assert (body["created_by"], body["status"]) == (member.member_id, "pending")
    assert body["invited_telegram_username"] == "Grace"
    assert (body["accepted_by"], body["accepted_at"]) == (None, None)
    row = CommunityInvitation.objects.get(invitation_code=code)
    assert str(row.pk) == body["invitation_id"]
    week = timezone.now() + timedelta(days=7)
    assert abs(row.expires_at - week) < timedelta(minutes=1)
    later = (timezone.now() + timedelta(days=2)).replace(microsecond=0)
    response = staff_client.post(
        INVITATIONS, {"created_by": member.member_id, "expires_at": iso(later)}
    )
    assert response.json()["expires_at"] == iso(later)
    assert response.json()["invitation_code"] != code


@pytest.mark.parametrize(
    "creator, field, code",
    [
        ("unknown", "created_by", "does_not_exist"),
        ("deleted", "created_by", "does_not_exist"),
        ("not a member", "created_by", "not_a_member"),
        ("suspended", "created_by", "not_a_member"),
        ("past expiry", "expires_at", "in_the_past"),
        ("number", "created_by", "invalid_type"),
    ],
)
def test_create_invitation_refuses(staff_client, member, creator, field, code):
    body = {"created_by": member.member_id}
    if creator == "unknown":
        body["created_by"] = "#999999"
    elif creator == "deleted":
        services.member_delete(member=member)
    elif creator == "not a member":
        body["created_by"] = MemberFactory(status=MemberStatus.NOT_MEMBER).member_id
    elif creator == "suspended":
        body["created_by"] = MemberFactory(status=MemberStatus.SUSPENDED).member_id
    elif creator == "past expiry":
        body["expires_at"] = iso(timezone.now() - timedelta(minutes=1))
    else:
        body["created_by"] = int(member.member_id[1:])
    before = table_state()
    assert error_fields(staff_client.post(INVITATIONS, body)) == [(field, code)]
    assert table_state() == before


def test_accept_makes_a_new_member_invited_by_the_creator(staff_client, member):
    invitation = services.invitation_create(
        created_by=member, invited_telegram_username="newbie"
    )
    next_id = f"#{int(member.member_id[1:]) + 1}"
    response = staff_client.post(
        ACCEPT,
        {
            "invitation_code": f" {invitation.invitation_code.lower()} ",
            "telegram_id": "4242",
            "telegram_username": "@NewBie",
            "name": "Newbie",
            "primary_role": "designer",
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["accepted_by"]) == ("accepted", next_id)
    assert body["accepted_at"] is not None
    assert body["invitation_id"] == str(invitation.pk)
    newbie = CommunityMember.objects.get(member_id=next_id)
    assert (newbie.telegram_id, newbie.telegram_username, newbie.name) == (
        "4242",
        "NewBie",
        "Newbie",
    )
    assert (newbie.status, newbie.invited_by_id) == ("member", member.member_id)
    invitation.refresh_from_db()
    assert (invitation.status, invitation.accepted_by_id) == ("accepted", next_id)
    (link,) = MemberRelationship.objects.all()
    assert (link.entity_id_a, link.relationship_type, link.entity_id_b) == (
        member.member_id,
        "INVITED",
        next_id,
    )
    assert link.content == {
        "invitation_id": str(invitation.pk),
        "invitation_code": invitation.invitation_code,
    }
    assert body == drf(
        InvitationSerializer(
            CommunityInvitation.objects.select_related("created_by", "accepted_by").get(
                pk=invitation.pk
            )
        ).data
    )


def test_accept_by_someone_already_in_the_directory(staff_client, member):
    known = MemberFactory(status=MemberStatus.NOT_MEMBER, telegram_username="old")
    invitation = services.invitation_create(created_by=member)
    members = CommunityMember.all_objects.count()
    response = staff_client.post(
        ACCEPT,
        {
            "invitation_code": invitation.invitation_code,
            "telegram_id": known.telegram_id,
        },
    )
    assert response.status_code == 200, response.content
    assert response.json()["accepted_by"] == known.member_id
    assert CommunityMember.all_objects.count() == members
    known.refresh_from_db()
    assert (known.status, known.invited_by_id) == ("member", member.member_id)
    assert known.telegram_username == "old"


def _accept_failure(case: str, inviter) -> tuple[dict, list[tuple[str, str]]]:
    """The body of an acceptance that fails for ``case``, and its errors."""
    invitation = services.invitation_create(
        created_by=inviter,
        invited_telegram_username="alice" if case == "wrong_recipient" else None,
    )
    body = {
        "invitation_code": invitation.invitation_code,
        "telegram_id": "6060",
        "telegram_username": "bob",
        "name": "Bob",
        "primary_role": "dev",
    }
    code = case
    if case == "does_not_exist":
        body["invitation_code"] = "Z" * 16
    elif case == "used":
        services.invitation_accept(
            invitation_code=invitation.invitation_code,
            telegram_id="7070",
            name="First",
            primary_role="dev",
        )
    elif case == "revoked":
        services.invitation_revoke(invitation=invitation)
    elif case == "expired":
        CommunityInvitation.objects.filter(pk=invitation.pk).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )
    elif case == "expired by the job":
        CommunityInvitation.objects.filter(pk=invitation.pk).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )
        assert services.invitations_expire() == 1
        code = "expired"
    elif case == "already_member":
        body["telegram_id"] = MemberFactory(status=MemberStatus.MEMBER).telegram_id
    elif case == "already_member (suspended)":
        suspended = MemberFactory(status=MemberStatus.SUSPENDED)
        body["telegram_id"] = suspended.telegram_id
        code = "already_member"
    elif case == "deleted":
        gone = MemberFactory(status=MemberStatus.NOT_MEMBER)
        services.member_delete(member=gone)
        body["telegram_id"] = gone.telegram_id
    elif case == "required":
        del body["name"], body["primary_role"]
        return body, [("name", "required"), ("primary_role", "required")]
    field = {
        "wrong_recipient": "telegram_username",
        "already_member": "telegram_id",
        "deleted": "telegram_id",
    }.get(code, "invitation_code")
    return body, [(field, code)]


@pytest.mark.parametrize(
    "case",
    [
        "does_not_exist",
        "used",
        "revoked",
        "expired",
        "expired by the job",
        "wrong_recipient",
        "already_member",
        "already_member (suspended)",
        "deleted",
        "required",
    ],
)
def test_accept_failures_say_why_and_write_nothing(staff_client, member, case):
    body, errors = _accept_failure(case, member)
    before = table_state()
    assert error_fields(staff_client.post(ACCEPT, body)) == errors
    assert table_state() == before


def test_accept_without_a_username_for_a_personal_invitation(staff_client, member):
    invitation = services.invitation_create(
        created_by=member, invited_telegram_username="alice"
    )
    before = table_state()
    response = staff_client.post(
        ACCEPT,
        {
            "invitation_code": invitation.invitation_code,
            "telegram_id": "1",
            "name": "A",
            "primary_role": "d",
        },
    )
    assert error_fields(response) == [("telegram_username", "wrong_recipient")]
    assert table_state() == before
    response = staff_client.post(
        ACCEPT,
        {
            "invitation_code": invitation.invitation_code,
            "telegram_id": "1",
            "telegram_username": "@ALICE",
            "name": "A",
            "primary_role": "d",
        },
    )
    assert response.status_code == 200, response.content


@pytest.mark.parametrize(
    "body, field, code",
    [
        ({"telegram_id": "1"}, "invitation_code", "required"),
        ({"invitation_code": "X"}, "telegram_id", "required"),
        ({"invitation_code": "X", "telegram_id": "12x"}, "telegram_id", "invalid"),
        ({"invitation_code": "X", "telegram_id": 12}, "telegram_id", "invalid_type"),
        (
            {"invitation_code": "X" * 33, "telegram_id": "1"},
            "invitation_code",
            "max_length",
        ),
        ({"invitation_code": "X", "telegram_id": "1", "x": 1}, "x", "unknown_field"),
    ],
)
def test_accept_rejects_bad_input(staff_client, body, field, code):
    assert error_fields(staff_client.post(ACCEPT, body)) == [(field, code)]


def test_revoke_a_pending_invitation_once(staff_client, member):
    invitation = services.invitation_create(created_by=member)
    url = f"{INVITATIONS}{invitation.pk}/revoke/"
    response = staff_client.post(url)
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "revoked"
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.REVOKED
    before = table_state()
    assert error_fields(staff_client.post(url)) == [("invitation_code", "revoked")]
    assert table_state() == before


def test_revoke_an_accepted_invitation_is_a_400(staff_client, member):
    invitation = services.invitation_create(created_by=member)
    services.invitation_accept(
        invitation_code=invitation.invitation_code,
        telegram_id="99",
        name="X",
        primary_role="d",
    )
    before = table_state()
    response = staff_client.post(f"{INVITATIONS}{invitation.pk}/revoke/")
    assert error_fields(response) == [("invitation_code", "accepted")]
    assert table_state() == before
    unknown = f"{INVITATIONS}00000000-0000-4000-8000-000000000000/revoke/"
    assert_error(staff_client.post(unknown), 404, "not_found")
    assert_error(staff_client.get(f"{INVITATIONS}not-a-uuid/"), 404, "not_found")


def test_invitation_filters(staff_client, directory):
    inviter = directory
    invitee = CommunityMember.objects.get(telegram_id="777000")

    def codes(**query):
        response = staff_client.get(INVITATIONS, query)
        assert response.status_code == 200, response.content
        return [row["status"] for row in results(response)]

    assert codes(status="pending") == ["pending"]
    assert codes(created_by=inviter.member_id) == ["pending", "accepted"]
    assert codes(accepted_by=invitee.member_id) == ["accepted"]
    pending = CommunityInvitation.objects.get(status="pending")
    assert codes(invitation_code=pending.invitation_code) == ["pending"]


def _accept_in_threads(token_key: str, code: str, count: int) -> list:
    """POST ``count`` acceptances of ``code`` at once, each from its own
    client and connection; their responses."""
    barrier = threading.Barrier(count)
    responses: list = [None] * count

    def accept(index: int) -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token_key}")
        try:
            barrier.wait(timeout=30)
            responses[index] = client.post(
                ACCEPT,
                {
                    "invitation_code": code,
                    "telegram_id": str(880_000 + index),
                    "name": f"Racer {index}",
                    "primary_role": "dev",
                },
            )
        except Exception as exc:  # shown by the test's assertion
            responses[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=accept, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return responses


@pytest.mark.django_db(transaction=True)
def test_many_acceptances_of_one_code_at_once_exactly_one_wins():
    if connection.vendor != "postgresql":
        pytest.skip("row locks are PostgreSQL's; SQLite runs one writer at a time")
    inviter = MemberFactory()
    invitation = services.invitation_create(created_by=inviter)
    token = service_account("bot", ["community"])
    members = CommunityMember.all_objects.count()
    responses = _accept_in_threads(token.key, invitation.invitation_code, count=8)
    assert all(r is not None and not isinstance(r, Exception) for r in responses), (
        responses
    )
    winners = [r for r in responses if r.status_code == 200]
    assert len(winners) == 1, [(r.status_code, r.content) for r in responses]
    for loser in responses:
        if loser is not winners[0]:
            assert error_fields(loser) == [("invitation_code", "used")]
    assert CommunityMember.all_objects.count() == members + 1
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.ACCEPTED
    assert invitation.accepted_by_id == winners[0].json()["accepted_by"]
    new = CommunityMember.objects.get(member_id=invitation.accepted_by_id)
    assert new.telegram_id.startswith("88") and new.invited_by_id == inviter.member_id
    assert MemberRelationship.objects.filter(relationship_type="INVITED").count() == 1


# --- relationships ------------------------------------------------------------------


def test_relationship_crud(staff_client):
    response = staff_client.post(
        RELATIONSHIPS,
        {
            "entity_id_a": "#1",
            "entity_id_b": "#2",
            "relationship_type": "MENTORED",
            "content": {"since": 2023, "topics": ["rust"]},
        },
    )
    assert response.status_code == 201, response.content
    row = MemberRelationship.objects.get()
    assert str(row.pk) == response.json()["id"]
    assert (row.entity_id_a, row.entity_id_b, row.relationship_type) == (
        "#1",
        "#2",
        "MENTORED",
    )
    assert row.content == {"since": 2023, "topics": ["rust"]}
    url = f"{RELATIONSHIPS}{row.pk}/"
    assert staff_client.get(url).json() == response.json()
    patched = staff_client.patch(url, {"content": {"since": 2022}})
    assert patched.status_code == 200, patched.content
    assert patched.json()["content"] == {"since": 2022}
    put = staff_client.put(
        url,
        {
            "entity_id_a": "#3",
            "entity_id_b": "#4",
            "relationship_type": "ENDORSED",
            "content": {},
        },
    )
    assert put.status_code == 200, put.content
    row.refresh_from_db()
    assert (row.entity_id_a, row.relationship_type, row.content) == (
        "#3",
        "ENDORSED",
        {},
    )
    assert staff_client.get(url).json() == put.json()
    assert staff_client.delete(url).status_code == 204
    assert not MemberRelationship.objects.exists()
    assert_error(staff_client.get(url), 404, "not_found")


@pytest.mark.parametrize(
    "change, field, code",
    [
        ({"content": []}, "content", "invalid_type"),
        ({"content": "text"}, "content", "invalid_type"),
        ({"content": 3}, "content", "invalid_type"),
        ({"content": None}, "content", "null"),
        ({"relationship_type": "FRIENDS"}, "relationship_type", "invalid_choice"),
        ({"relationship_type": "mentored"}, "relationship_type", "invalid_choice"),
        ({"entity_id_a": ""}, "entity_id_a", "blank"),
        ({"id": "00000000-0000-4000-8000-000000000000"}, "id", "read_only"),
        ({"created_at": "2024-01-01T00:00:00Z"}, "created_at", "read_only"),
    ],
)
def test_relationship_rejects_bad_input(staff_client, change, field, code):
    body = {
        "entity_id_a": "#1",
        "entity_id_b": "#2",
        "relationship_type": "MENTORED",
        "content": {},
        **change,
    }
    assert error_fields(staff_client.post(RELATIONSHIPS, body)) == [(field, code)]
    assert not MemberRelationship.objects.exists()
    row = MemberRelationship.objects.create(
        entity_id_a="#1", entity_id_b="#2", relationship_type="MENTORED", content={}
    )
    before = table_state()
    response = staff_client.patch(f"{RELATIONSHIPS}{row.pk}/", change)
    assert error_fields(response) == [(field, code)]
    assert table_state() == before


def test_relationship_filters(staff_client):
    def add(a, b, kind):
        return MemberRelationship.objects.create(
            entity_id_a=a, entity_id_b=b, relationship_type=kind, content={}
        )

    mentors = add("#1", "#2", "MENTORED")
    invited = add("#3", "#1", "INVITED")
    add("#2", "#3", "COLLABORATED")

    def ids(**query):
        response = staff_client.get(RELATIONSHIPS, query)
        assert response.status_code == 200, response.content
        return {row["id"] for row in results(response)}

    assert ids(entity_id="#1") == {str(mentors.pk), str(invited.pk)}
    assert ids(entity_id_a="#1") == {str(mentors.pk)}
    assert ids(entity_id_b="#1") == {str(invited.pk)}
    assert ids(relationship_type="MENTORED") == {str(mentors.pk)}
    assert ids(entity_id="#1", relationship_type="INVITED") == {str(invited.pk)}
    assert ids(entity_id="#9") == set()
    response = staff_client.get(RELATIONSHIPS, {"relationship_type": "FRIENDS"})
    assert error_fields(response) == [("relationship_type", "invalid_choice")]


# --- participation ------------------------------------------------------------------


def test_post_one_event(staff_client, member):
    response = staff_client.post(PARTICIPATION, event(member, occurred_at=iso(NOON)))
    assert response.status_code == 201, response.content
    row = MemberParticipation.objects.get()
    assert response.json() == drf(ParticipationSerializer(row).data)
    assert (row.member_id, row.event_type, row.occurred_at) == (
        member.member_id,
        "MESSAGE",
        NOON,
    )
    assert row.event_metadata is None
    member.refresh_from_db()
    assert member.last_active_at == NOON
    assert staff_client.get(f"{PARTICIPATION}{row.pk}/").json() == response.json()


def test_an_event_without_a_time_happens_now(staff_client, member):
    before = timezone.now()
    response = staff_client.post(PARTICIPATION, event(member))
    assert response.status_code == 201, response.content
    row = MemberParticipation.objects.get()
    assert before <= row.occurred_at <= timezone.now()
    member.refresh_from_db()
    assert member.last_active_at == row.occurred_at


def test_last_active_at_only_moves_forward(staff_client, member):
    later = NOON + timedelta(hours=3)
    ok(staff_client.post(PARTICIPATION, event(member, occurred_at=iso(later))), 201)
    ok(staff_client.post(PARTICIPATION, event(member, occurred_at=iso(NOON))), 201)
    member.refresh_from_db()
    assert member.last_active_at == later
    latest = NOON + timedelta(hours=5)
    response = staff_client.post(
        BATCH,
        {
            "events": [
                event(member, occurred_at=iso(latest)),
                event(member, occurred_at=iso(NOON)),
            ]
        },
    )
    assert response.status_code == 201, response.content
    member.refresh_from_db()
    assert member.last_active_at == latest


@pytest.mark.parametrize(
    "change, field, code",
    [
        ({"member_id": "#999999"}, "member_id", "invalid"),
        ({"event_type": "REPUTATION"}, "event_type", "invalid_choice"),
        ({"platform": "system"}, "platform", "invalid_choice"),
        ({"room_id": ""}, "room_id", "blank"),
        ({"event_metadata": [1]}, "event_metadata", "invalid_type"),
        ({"occurred_at": "yesterday"}, "occurred_at", "invalid"),
        ({"id": "00000000-0000-4000-8000-000000000000"}, "id", "unknown_field"),
    ],
)
def test_post_one_bad_event(staff_client, member, change, field, code):
    before = table_state()
    response = staff_client.post(PARTICIPATION, {**event(member), **change})
    assert error_fields(response) == [(field, code)]
    assert table_state() == before


def test_post_a_batch_in_order(staff_client, member):
    other = MemberFactory()
    events = [
        event(member, room_id="one", occurred_at=iso(NOON)),
        event(other, room_id="two", event_type="REACTION", platform="discord"),
        event(
            member,
            room_id="three",
            event_type="VOICE",
            event_metadata={"minutes": 15, "channel": "x"},
            occurred_at=iso(NOON + timedelta(minutes=1)),
        ),
    ]
    response = staff_client.post(BATCH, {"events": events})
    assert response.status_code == 201, response.content
    body = response.json()
    assert list(body) == ["events"]
    assert [e["room_id"] for e in body["events"]] == ["one", "two", "three"]
    assert [e["member_id"] for e in body["events"]] == [
        member.member_id,
        other.member_id,
        member.member_id,
    ]
    rows = {
        str(pk): row
        for pk, row in MemberParticipation.objects.in_bulk(
            [e["id"] for e in body["events"]]
        ).items()
    }
    assert len(rows) == 3
    assert body["events"] == drf(
        ParticipationSerializer([rows[e["id"]] for e in body["events"]], many=True).data
    )
    assert rows[body["events"][2]["id"]].event_metadata == {
        "minutes": 15,
        "channel": "x",
    }


def _bad_event(case: str, member) -> tuple[dict, str, str]:
    """An event that spoils a batch for ``case``: the event, the field and the
    code of its error."""
    if case == "unknown member":
        return event(member, member_id="#999999"), "member_id", "invalid"
    if case == "deleted member":
        gone = MemberFactory()
        services.member_delete(member=gone)
        return event(gone), "member_id", "invalid"
    if case == "REPUTATION":
        return event(member, event_type="REPUTATION"), "event_type", "invalid_choice"
    if case == "system":
        return event(member, platform="system"), "platform", "invalid_choice"
    if case == "future":
        soon = timezone.now() + timedelta(minutes=10)
        return event(member, occurred_at=iso(soon)), "occurred_at", "invalid"
    if case == "metadata not an object":
        return event(member, event_metadata="x"), "event_metadata", "invalid_type"
    if case == "unknown field":
        return {**event(member), "minutes": 3}, "minutes", "unknown_field"
    minutes = {
        "VOICE without metadata": None,
        "VOICE without minutes": {},
        "VOICE minutes a string": {"minutes": "15"},
        "VOICE minutes a float": {"minutes": 15.5},
        "VOICE minutes a boolean": {"minutes": True},
        "VOICE minutes negative": {"minutes": -1},
        "VOICE minutes over a day": {"minutes": 1441},
    }[case]
    bad = event(member, event_type="VOICE")
    if minutes is not None:
        bad["event_metadata"] = minutes
    return bad, "event_metadata", "invalid"


@pytest.mark.parametrize(
    "case",
    [
        "unknown member",
        "deleted member",
        "REPUTATION",
        "system",
        "future",
        "metadata not an object",
        "unknown field",
        "VOICE without metadata",
        "VOICE without minutes",
        "VOICE minutes a string",
        "VOICE minutes a float",
        "VOICE minutes a boolean",
        "VOICE minutes negative",
        "VOICE minutes over a day",
    ],
)
def test_a_batch_with_one_bad_event_inserts_nothing(staff_client, member, case):
    bad, field, code = _bad_event(case, member)
    events = [event(member), event(member), bad, event(member)]
    before = table_state()
    response = staff_client.post(BATCH, {"events": events})
    assert error_fields(response) == [(f"events.2.{field}", code)]
    assert table_state() == before


def test_voice_minutes_and_clock_skew_at_their_limits_are_accepted(
    staff_client, member
):
    events = [
        event(member, event_type="VOICE", event_metadata={"minutes": 0}),
        event(member, event_type="VOICE", event_metadata={"minutes": 1440}),
        event(member, occurred_at=iso(timezone.now() + timedelta(minutes=4))),
    ]
    response = staff_client.post(BATCH, {"events": events})
    assert response.status_code == 201, response.content
    assert MemberParticipation.objects.count() == 3


@pytest.mark.parametrize(
    "events, field, code",
    [
        ([], "events", "empty"),
        (MAX_EVENTS + 1, "events", "max_length"),
        ("x", "events", "invalid_type"),
        ({"a": 1}, "events", "invalid_type"),
        (None, "events", "null"),
        ([1], "events.0", "invalid_type"),
    ],
)
def test_batch_size_and_shape(staff_client, member, events, field, code):
    if isinstance(events, int):
        events = [event(member)] * events
    before = table_state()
    assert error_fields(staff_client.post(BATCH, {"events": events})) == [(field, code)]
    assert table_state() == before
    assert error_fields(staff_client.post(BATCH, {})) == [("events", "required")]


def test_a_batch_of_the_largest_size_is_accepted(staff_client, member):
    response = staff_client.post(BATCH, {"events": [event(member)] * MAX_EVENTS})
    assert response.status_code == 201, response.content
    assert len(response.json()["events"]) == MAX_EVENTS
    assert MemberParticipation.objects.count() == MAX_EVENTS


def test_participation_filters(staff_client, member):
    other = MemberFactory()
    t0, t1, t2 = (NOON + timedelta(hours=h) for h in range(3))
    services.participation_record(
        events=[
            {**event(member), "occurred_at": t0},
            {
                **event(member, event_type="VOICE", platform="discord"),
                "event_metadata": {"minutes": 3},
                "occurred_at": t1,
            },
            {**event(other, event_type="REACTION"), "occurred_at": t2},
        ]
    )

    def times(**query):
        response = staff_client.get(PARTICIPATION, query)
        assert response.status_code == 200, response.content
        return [row["occurred_at"] for row in results(response)]

    assert times() == [iso(t2), iso(t1), iso(t0)]
    assert times(member_id=member.member_id) == [iso(t1), iso(t0)]
    assert times(event_type="REACTION") == [iso(t2)]
    assert times(platform="discord") == [iso(t1)]
    assert times(occurred_after=iso(t1)) == [iso(t2), iso(t1)]
    assert times(occurred_before=iso(t1)) == [iso(t0)]
    assert times(occurred_after=iso(t0), occurred_before=iso(t2)) == [iso(t1), iso(t0)]
    assert times(member_id=member.member_id, platform="telegram") == [iso(t0)]
    assert times(ordering="occurred_at") == [iso(t0), iso(t1), iso(t2)]
    for query, field in [
        ({"occurred_after": "not a time"}, "occurred_after"),
        ({"event_type": "LIKE"}, "event_type"),
        ({"platform": "irc"}, "platform"),
    ]:
        response = staff_client.get(PARTICIPATION, query)
        assert [f for f, _ in error_fields(response)] == [field]


def test_participation_pages_by_cursor_without_repeats(staff_client, member):
    """Three events share one time (one batch without times): the key breaks
    the tie, so pages of 2 neither repeat nor skip a row, both ways."""
    services.participation_record(events=[event(member) for _ in range(3)])
    services.participation_record(
        events=[
            {**event(member), "occurred_at": NOON + timedelta(seconds=s)}
            for s in (0, 0, 1, 2)
        ]
    )
    expected = [
        str(pk)
        for pk in MemberParticipation.objects.order_by(
            "-occurred_at", "-id"
        ).values_list("id", flat=True)
    ]
    pages, url = [], f"{PARTICIPATION}?page_size=2"
    while url:
        body = staff_client.get(url).json()
        assert set(body) == {"next", "previous", "results"}
        pages.append([row["id"] for row in body["results"]])
        url = body["next"]
    assert [row for page in pages for row in page] == expected
    assert [len(page) for page in pages] == [2, 2, 2, 1]
    back, url = [], body["previous"]
    while url:
        body = staff_client.get(url).json()
        back = [row["id"] for row in body["results"]] + back
        url = body["previous"]
    assert back == expected[:-1]


# --- daily highlights ---------------------------------------------------------------


def test_build_sums_a_utc_day_and_twice_gives_the_same_rows(staff_client, member):
    other = MemberFactory()
    start = datetime.combine(DAY, datetime.min.time(), tzinfo=UTC)
    services.participation_record(
        events=[
            {**event(member), "occurred_at": start},  # the first instant counts
            {**event(member), "occurred_at": NOON},
            {**event(member, event_type="REACTION"), "occurred_at": NOON},
            {
                **event(member, event_type="VOICE"),
                "event_metadata": {"minutes": 15},
                "occurred_at": NOON,
            },
            {
                **event(member, event_type="VOICE"),
                "event_metadata": {"minutes": 30},
                "occurred_at": NOON,
            },
            {**event(other, event_type="REACTION"), "occurred_at": NOON},
            # Outside the day: the instant before it, and the next day's first.
            {**event(other), "occurred_at": start - timedelta(microseconds=1)},
            {**event(other), "occurred_at": start + timedelta(days=1)},
        ]
    )
    response = staff_client.post(BUILD, {"highlight_date": "2024-05-01"})
    assert response.status_code == 200, response.content
    assert response.json() == {"highlight_date": "2024-05-01", "members": 2}
    counts = ("message_count", "reaction_count", "voice_minutes", "reputation_earned")
    rows = {
        row["member_id"]: row
        for row in MemberDailyHighlight.objects.filter(highlight_date=DAY).values(
            "id", "member_id", "created_at", *counts
        )
    }
    assert {k: [rows[k][c] for c in counts] for k in rows} == {
        member.member_id: [2, 1, 45, 0],
        other.member_id: [0, 1, 0, 0],
    }
    again = staff_client.post(BUILD, {"highlight_date": "2024-05-01"})
    assert again.json() == {"highlight_date": "2024-05-01", "members": 2}
    assert {
        row["member_id"]: row
        for row in MemberDailyHighlight.objects.filter(highlight_date=DAY).values(
            "id", "member_id", "created_at", *counts
        )
    } == rows
    assert MemberDailyHighlight.objects.count() == 2
    listed = results(staff_client.get(HIGHLIGHTS, {"highlight_date": "2024-05-01"}))
    assert {row["id"] for row in listed} == {str(row["id"]) for row in rows.values()}


def test_build_sums_reputation_earned(staff_client, member):
    services.member_reputation_change(member=member, delta=30, reason="a")
    services.member_reputation_change(member=member, delta=-10, reason="b")
    day = MemberParticipation.objects.filter(member=member).first().occurred_at.date()
    response = staff_client.post(BUILD, {"highlight_date": day.isoformat()})
    assert response.json() == {"highlight_date": day.isoformat(), "members": 1}
    row = MemberDailyHighlight.objects.get()
    assert (row.member_id, row.reputation_earned, row.message_count) == (
        member.member_id,
        20,
        0,
    )


def test_build_of_the_last_representable_day_is_not_a_500(staff_client):
    staff_client.raise_request_exception = False
    response = staff_client.post(BUILD, {"highlight_date": "9999-12-31"})
    assert response.status_code < 500, response.content


@pytest.mark.parametrize(
    "body, field, code",
    [
        ({}, "highlight_date", "required"),
        ({"highlight_date": "2024-13-01"}, "highlight_date", "invalid"),
        ({"highlight_date": 20240501}, "highlight_date", "invalid_type"),
        ({"highlight_date": "2024-05-01", "members": 3}, "members", "read_only"),
    ],
)
def test_build_rejects_bad_input(staff_client, body, field, code):
    assert error_fields(staff_client.post(BUILD, body)) == [(field, code)]


def test_highlight_filters(staff_client, member):
    other = MemberFactory()
    days = [date(2024, 5, d) for d in (1, 2, 3)]
    for who in (member, other):
        MemberDailyHighlight.objects.bulk_create(
            MemberDailyHighlight(member=who, highlight_date=day, message_count=1)
            for day in days
        )

    def rows(**query):
        response = staff_client.get(HIGHLIGHTS, query)
        assert response.status_code == 200, response.content
        return [(row["member_id"], row["highlight_date"]) for row in results(response)]

    assert {d for _, d in rows()} == {"2024-05-01", "2024-05-02", "2024-05-03"}
    assert [d for _, d in rows(member_id=member.member_id)] == [
        "2024-05-03",
        "2024-05-02",
        "2024-05-01",
    ]
    assert {m for m, _ in rows(member_id=member.member_id)} == {member.member_id}
    assert {d for _, d in rows(date_after="2024-05-02")} == {"2024-05-02", "2024-05-03"}
    assert {d for _, d in rows(date_before="2024-05-02")} == {
        "2024-05-01",
        "2024-05-02",
    }
    assert rows(
        member_id=other.member_id, date_after="2024-05-02", date_before="2024-05-02"
    ) == [(other.member_id, "2024-05-02")]
    assert error_fields(staff_client.get(HIGHLIGHTS, {"date_after": "May"})) == [
        ("date_after", "invalid")
    ]


# --- JSON objects and stored times -------------------------------------------------


def _json_object_write(case: str, member) -> tuple[str, str, dict]:
    """Method, URL and body of a write that stores ``{"note": "a\\x00b"}`` in a
    JSON object column (``case``), and the error field expected."""
    value = {"note": "a\x00b"}
    return {
        "profile_data": (
            MEMBERS,
            {
                "telegram_id": "1",
                "name": "A",
                "primary_role": "d",
                "profile_data": value,
            },
        ),
        "github_profile_data": (
            member_url(member, "verify-github/"),
            {"github_username": "octo", "github_profile_data": value},
        ),
        "event_metadata": (PARTICIPATION, event(member, event_metadata=value)),
        "content": (
            RELATIONSHIPS,
            {
                "entity_id_a": "#1",
                "entity_id_b": "#2",
                "relationship_type": "MENTORED",
                "content": value,
            },
        ),
    }[case]


@pytest.mark.parametrize(
    "field", ["profile_data", "github_profile_data", "event_metadata", "content"]
)
def test_a_nul_character_in_a_json_object_is_a_400(staff_client, member, field):
    staff_client.raise_request_exception = False
    url, body = _json_object_write(field, member)
    before = table_state()
    response = staff_client.post(url, body)
    assert response.status_code == 400, response.content
    assert [f for f, _ in error_fields(response)] == [field]
    assert table_state() == before


ON_SQLITE = settings.DATABASES["default"]["ENGINE"].endswith("sqlite3")


def test_member_cursor_pages_over_database_default_times(staff_client):
    first, second, third = MemberFactory.create_batch(3)
    instants = {
        first: "2024-01-01 00:00:00",  # what Now() writes on a whole second
        second: "2024-01-01 00:00:00",
        third: "2024-01-01 00:00:01.500000",
    }
    for who, text in instants.items():
        if ON_SQLITE:
            with connection.cursor() as cursor:
                cursor.execute(
                    "UPDATE community_members SET created_at = %s WHERE id = %s",
                    [text, who.pk.hex],
                )
        else:
            moment = datetime.fromisoformat(text).replace(tzinfo=UTC)
            CommunityMember.objects.filter(pk=who.pk).update(created_at=moment)
    expected = list(
        CommunityMember.objects.order_by("created_at", "id").values_list(
            "member_id", flat=True
        )
    )
    seen, url = [], f"{MEMBERS}?ordering=created_at&page_size=1"
    while url and len(seen) < 6:
        body = staff_client.get(url).json()
        seen += [row["member_id"] for row in body["results"]]
        url = body["next"]
    assert seen == expected


# --- the lean bodies are the documented ones ----------------------------------------


@pytest.fixture
def rich_rows(directory):
    """The directory, with rows whose times have no microseconds, null counts,
    unicode and nested JSON."""
    inviter = directory
    whole = datetime(2024, 3, 1, 9, 30, tzinfo=UTC)
    plain = MemberFactory(
        name="Zoë 🌍",
        organization="ACME",
        profile_data={"nested": {"list": [1, 2.5, None, True]}, "emoji": "👋"},
    )
    CommunityMember.objects.filter(pk=plain.pk).update(
        created_at=whole, last_active_at=whole
    )
    services.invitation_create(
        created_by=inviter, expires_at=whole + timedelta(days=9999)
    )
    MemberRelationship.objects.create(
        entity_id_a=inviter.member_id,
        entity_id_b=plain.member_id,
        relationship_type="ENDORSED",
        content={"note": "ünïcode", "deep": {"a": [{}]}},
    )
    services.participation_record(
        events=[
            {**event(plain), "occurred_at": whole},
            {
                **event(plain, event_type="VOICE"),
                "event_metadata": {"minutes": 5},
                "occurred_at": whole,
            },
        ]
    )
    MemberDailyHighlight.objects.create(
        member=plain, highlight_date=DAY, message_count=None, reputation_earned=-5
    )
    return inviter


def test_lean_bodies_equal_the_serializers(staff_client, reader, rich_rows):
    members = CommunityMember.objects.select_related("invited_by").order_by(
        "-reputation_score", "-id"
    )
    expected = drf(MemberSerializer(members, many=True).data)
    hidden = [{**row, **dict.fromkeys(PRIVATE_FIELDS)} for row in expected]
    assert results(staff_client.get(f"{MEMBERS}?page_size=200")) == expected
    assert results(reader.get(f"{MEMBERS}?page_size=200")) == hidden
    for row, public in zip(expected, hidden, strict=True):
        url = f"{MEMBERS}{quote(row['member_id'], safe='')}/"
        assert staff_client.get(url).json() == row
        assert reader.get(url).json() == public
    assert any(row["github_profile_data"] for row in expected)

    for url, queryset, serializer, key in [
        (
            INVITATIONS,
            CommunityInvitation.objects.select_related(
                "created_by", "accepted_by"
            ).order_by("-created_at", "-invitation_id"),
            InvitationSerializer,
            "invitation_id",
        ),
        (
            RELATIONSHIPS,
            MemberRelationship.objects.order_by("-created_at", "-id"),
            RelationshipSerializer,
            "id",
        ),
        (
            PARTICIPATION,
            MemberParticipation.objects.order_by("-occurred_at", "-id"),
            ParticipationSerializer,
            "id",
        ),
        (
            HIGHLIGHTS,
            MemberDailyHighlight.objects.order_by("-highlight_date", "-id"),
            DailyHighlightSerializer,
            "id",
        ),
    ]:
        expected = drf(serializer(queryset, many=True).data)
        assert len(expected) >= 2, url
        for client in (staff_client, reader):
            assert results(client.get(f"{url}?page_size=200")) == expected, url
            for row in expected:
                assert client.get(f"{url}{row[key]}/").json() == row, url


# --- lists cost the same for 1 and 50 rows ------------------------------------------


def test_member_list_queries_do_not_grow(staff_client):
    assert_list_queries_constant(
        staff_client, MEMBERS, lambda n: MemberFactory.create_batch(n)
    )


def test_invitation_list_queries_do_not_grow(staff_client, member):
    def add(n):
        for _ in range(n):
            services.invitation_create(created_by=member)

    assert_list_queries_constant(staff_client, INVITATIONS, add)


def test_relationship_list_queries_do_not_grow(staff_client):
    def add(n):
        MemberRelationship.objects.bulk_create(
            MemberRelationship(
                entity_id_a="#1",
                entity_id_b=f"#{i}",
                relationship_type="ENDORSED",
                content={"i": i},
            )
            for i in range(n)
        )

    assert_list_queries_constant(staff_client, RELATIONSHIPS, add)


def test_participation_list_queries_do_not_grow(staff_client, member):
    def add(n):
        services.participation_record(events=[event(member) for _ in range(n)])

    assert_list_queries_constant(staff_client, PARTICIPATION, add)


def test_highlight_list_queries_do_not_grow(staff_client, member):
    days = itertools.count()

    def add(n):
        MemberDailyHighlight.objects.bulk_create(
            MemberDailyHighlight(
                member=member, highlight_date=DAY + timedelta(days=next(days))
            )
            for _ in range(n)
        )

    assert_list_queries_constant(staff_client, HIGHLIGHTS, add)


def test_member_list_queries_do_not_grow_for_a_view_only_reader(reader, member):
    """A reader's permissions cost queries of their own, but not per row."""

    def add(n):
        MemberFactory.create_batch(n, status=MemberStatus.SUSPENDED)

    assert_list_queries_constant(reader, f"{MEMBERS}?status=suspended", add)
