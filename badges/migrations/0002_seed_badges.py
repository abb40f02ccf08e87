"""Seed the three badges seed 000 names. Re-running adds nothing; reversing
removes them, with their grants first (SQLite runs data migrations with its
foreign keys off, so nothing would cascade)."""

from django.db import migrations

BADGES = [
    {
        "badge": "early-adopter",
        "label": "Early Adopter",
        "description": "Joined while the app was new.",
        "is_tag_badge": True,
    },
    {
        "badge": "top-contributor",
        "label": "Top Contributor",
        "description": "Among the most active posters of the community.",
        "is_tag_badge": False,
    },
    {
        "badge": "moderator",
        "label": "Moderator",
        "description": "Helps keep the community safe.",
        "is_tag_badge": True,
    },
]


def icon_url(badge, size):
    # The rule of badges.models.icon_url, frozen here as migrations must be.
    return f"/public/badges/{badge}_{size}.png"


def seed_badges(apps, schema_editor):
    BadgeDefinition = apps.get_model("badges", "BadgeDefinition")
    for row in BADGES:
        BadgeDefinition.objects.get_or_create(
            badge=row["badge"],
            defaults={
                **row,
                "icon_url_64": icon_url(row["badge"], 64),
                "icon_url_16": icon_url(row["badge"], 16)
                if row["is_tag_badge"]
                else None,
            },
        )


def unseed_badges(apps, schema_editor):
    BadgeDefinition = apps.get_model("badges", "BadgeDefinition")
    BadgeGrant = apps.get_model("badges", "BadgeGrant")
    names = [row["badge"] for row in BADGES]
    BadgeGrant.objects.filter(definition__badge__in=names).delete()
    BadgeDefinition.objects.filter(badge__in=names).delete()


class Migration(migrations.Migration):
    dependencies = [("badges", "0001_initial")]

    operations = [migrations.RunPython(seed_badges, unseed_badges)]
