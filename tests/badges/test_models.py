"""Badge definitions and grants as the database holds them, and the data
migration that seeds the three badges."""

import importlib

import pytest
from django.apps import apps as global_apps
from django.db import IntegrityError, connection, transaction

from badges.models import BadgeDefinition, BadgeGrant
from tests.badges.factories import BadgeGrantFactory
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


def test_database_allows_one_grant_per_user_and_badge():
    grant = BadgeGrantFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        BadgeGrant.objects.create(user=grant.user, definition=grant.definition)


def test_grant_needs_a_defined_badge():
    with pytest.raises(IntegrityError), transaction.atomic():
        BadgeGrant.objects.create(user=UserFactory(), definition_id="no-such-badge")
        connection.check_constraints()
