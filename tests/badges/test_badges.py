"""Badge definitions, grants, the seed data migration and the badges API."""

import importlib

import pytest
from django.apps import apps as global_apps
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from badges.models import BadgeDefinition, BadgeGrant
from badges.services import badge_grant, badge_revoke
from tests.badges.factories import BadgeDefinitionFactory, BadgeGrantFactory
from tests.helpers import assert_list_queries_constant
from tests.profiles.factories import UserFactory

pytestmark = pytest.mark.django_db

seed_migration = importlib.import_module("badges.migrations.0002_seed_badges")


def seeded() -> list[tuple]:
    return list(
        BadgeDefinition.objects.filter(
            badge__in=["early-adopter", "top-contributor", "moderator"]
        )
        .order_by("badge")
        .values_list("badge", "label", "is_tag_badge", "icon_url_64", "icon_url_16")
    )


SEEDED = [
    (
        "early-adopter",
        "Early Adopter",
        True,
        "/public/badges/early-adopter_64.png",
        "/public/badges/early-adopter_16.png",
    ),
    (
        "moderator",
        "Moderator",
        True,
        "/public/badges/moderator_64.png",
        "/public/badges/moderator_16.png",
    ),
    (
        "top-contributor",
        "Top Contributor",
        False,
        "/public/badges/top-contributor_64.png",
        None,
    ),
]


# --- the seed migration -------------------------------------------------------


def test_migration_seeded_the_three_badges():
    assert seeded() == SEEDED
    assert all(
        BadgeDefinition.objects.filter(badge=b).get().description for b, *_ in SEEDED
    )


def test_seeding_again_adds_nothing():
    seed_migration.seed_badges(global_apps, None)
    assert seeded() == SEEDED
    assert BadgeDefinition.objects.filter(badge="moderator").count() == 1


def test_unseeding_removes_the_badges_and_their_grants():
    grant = BadgeGrantFactory(definition=BadgeDefinition.objects.get(badge="moderator"))
    kept = BadgeGrantFactory()
    seed_migration.unseed_badges(global_apps, None)
    assert seeded() == []
    assert not BadgeGrant.objects.filter(pk=grant.pk).exists()
    assert BadgeGrant.objects.filter(pk=kept.pk).exists()
    seed_migration.seed_badges(global_apps, None)
    assert seeded() == SEEDED


# --- definitions --------------------------------------------------------------


def test_icon_urls_follow_the_badge_name():
    badge = BadgeDefinition.objects.create(
        badge="helper", label="Helper", is_tag_badge=True
    )
    assert (badge.icon_url_64, badge.icon_url_16) == (
        "/public/badges/helper_64.png",
        "/public/badges/helper_16.png",
    )
    badge.is_tag_badge = False
    badge.save(update_fields=["is_tag_badge"])
    badge.refresh_from_db()
    assert badge.icon_url_16 is None


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE badge_definitions SET icon_url_16 = NULL WHERE badge = 'moderator'",
        "UPDATE badge_definitions SET icon_url_64 = '/x.png' WHERE badge = 'moderator'",
        "UPDATE badge_definitions SET icon_url_16 = '/x.png' WHERE badge = 'moderator'",
    ],
)
def test_database_checks_the_icon_rules(sql):
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as c:
        c.execute(sql)


# --- grants -------------------------------------------------------------------


def test_grant_and_revoke():
    user = UserFactory()
    moderator = BadgeDefinition.objects.get(badge="moderator")
    grant = badge_grant(user=user, definition=moderator)
    assert grant.granted_at is not None
    with pytest.raises(ValidationError, match="already has"):
        badge_grant(user=user, definition=moderator)
    assert badge_revoke(user=user, definition=moderator) is True
    assert badge_revoke(user=user, definition=moderator) is False


def test_database_allows_one_grant_per_user_and_badge():
    grant = BadgeGrantFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        BadgeGrant.objects.create(user=grant.user, definition=grant.definition)


def test_grant_needs_a_defined_badge():
    with pytest.raises(IntegrityError), transaction.atomic():
        BadgeGrant.objects.create(user=UserFactory(), definition_id="no-such-badge")
        connection.check_constraints()


# --- API ----------------------------------------------------------------------


def test_definitions_are_readable_by_anyone_signed_in(api_client):
    body = api_client.get("/api/badges/badge-definitions/").json()
    assert [d["badge"] for d in body["results"]] == [
        "early-adopter",
        "moderator",
        "top-contributor",
    ]
    one = api_client.get("/api/badges/badge-definitions/moderator/").json()
    assert one["icon_url_16"] == "/public/badges/moderator_16.png"


def test_definitions_filter_tag_badges(api_client):
    body = api_client.get("/api/badges/badge-definitions/?is_tag_badge=false").json()
    assert [d["badge"] for d in body["results"]] == ["top-contributor"]


def test_only_staff_with_permissions_write_definitions(api_client, staff_client):
    payload = {"badge": "helper", "label": "Helper", "is_tag_badge": True}
    assert api_client.post("/api/badges/badge-definitions/", payload).status_code == 403
    response = staff_client.post("/api/badges/badge-definitions/", payload)
    assert response.status_code == 201
    assert response.json()["icon_url_16"] == "/public/badges/helper_16.png"


def test_badge_identifier_cannot_change(staff_client):
    response = staff_client.patch(
        "/api/badges/badge-definitions/moderator/", {"badge": "mod", "label": "Mod"}
    )
    assert response.status_code == 200
    assert response.json()["badge"] == "moderator"
    assert response.json()["label"] == "Mod"


def test_definition_with_grants_cannot_be_deleted(staff_client):
    BadgeGrantFactory(definition=BadgeDefinition.objects.get(badge="moderator"))
    assert (
        staff_client.delete("/api/badges/badge-definitions/moderator/").status_code
        == 409
    )
    assert (
        staff_client.delete(
            "/api/badges/badge-definitions/top-contributor/"
        ).status_code
        == 204
    )


@pytest.mark.parametrize("badge", ["has space", "x" * 51, "", "\x00"])
def test_badge_identifier_must_be_a_short_slug(staff_client, badge):
    response = staff_client.post(
        "/api/badges/badge-definitions/", {"badge": badge, "label": "X"}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "badge"


def test_grants_nest_their_definition(api_client, user):
    BadgeGrantFactory(
        user=user, definition=BadgeDefinition.objects.get(badge="moderator")
    )
    body = api_client.get(f"/api/badges/badge-grants/?user={user.pk}").json()
    (grant,) = body["results"]
    assert grant["badge"] == "moderator"
    assert grant["user"] == str(user.pk)
    assert grant["definition"]["label"] == "Moderator"
    assert grant["definition"]["icon_url_64"] == "/public/badges/moderator_64.png"


def test_staff_grant_and_revoke_through_the_api(api_client, staff_client, user):
    payload = {"user": str(user.pk), "badge": "early-adopter"}
    assert api_client.post("/api/badges/badge-grants/", payload).status_code == 403
    created = staff_client.post("/api/badges/badge-grants/", payload)
    assert created.status_code == 201
    assert created.json()["definition"]["badge"] == "early-adopter"
    again = staff_client.post("/api/badges/badge-grants/", payload)
    assert again.status_code == 400
    assert again.json()["errors"][0]["code"] == "badge_already_granted"
    grant_id = created.json()["id"]
    assert api_client.delete(f"/api/badges/badge-grants/{grant_id}/").status_code == 403
    assert (
        staff_client.delete(f"/api/badges/badge-grants/{grant_id}/").status_code == 204
    )
    assert not BadgeGrant.objects.filter(user=user).exists()


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"badge": "nope"}, "badge"),
        ({"badge": "nul\x00"}, "badge"),
        ({"badge": "not a slug"}, "badge"),
        ({"user": "00000000-0000-4000-8000-000000000000"}, "user"),
    ],
)
def test_grant_of_unknown_badge_or_user_is_a_400(staff_client, user, payload, field):
    response = staff_client.post(
        "/api/badges/badge-grants/",
        {"user": str(user.pk), "badge": "moderator", **payload},
    )
    assert response.status_code == 400
    assert {e["field"] for e in response.json()["errors"]} == {field}


def test_definition_path_must_be_a_slug(api_client):
    assert api_client.get("/api/badges/badge-definitions/a%00b/").status_code == 404


def test_grant_list_queries_do_not_grow(api_client):
    assert_list_queries_constant(
        api_client,
        "/api/badges/badge-grants/",
        lambda n: BadgeGrantFactory.create_batch(n),
    )


def test_definition_list_queries_do_not_grow(api_client):
    assert_list_queries_constant(
        api_client,
        "/api/badges/badge-definitions/?page_size=100",
        lambda n: BadgeDefinitionFactory.create_batch(n),
    )
