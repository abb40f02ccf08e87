"""badges' part of ``manage.py seed_demo`` (config/seeding.py): the seeded badges
granted to some demo users and to the demo staff account."""

from django.contrib.auth import get_user_model

from badges.models import BadgeGrant
from badges.signals import grants_changed
from config.seeding import USERNAME_PREFIX, Demo


def seed(demo: Demo) -> None:
    users = list(demo.users())
    grants = [
        *(BadgeGrant(user=user, definition_id="early-adopter") for user in users[::3]),
        *(
            BadgeGrant(user=user, definition_id="top-contributor")
            for user in users[::7]
        ),
    ]
    staff = get_user_model().objects.filter(username=f"{USERNAME_PREFIX}admin").first()
    if staff is not None:
        grants.append(BadgeGrant(user=staff, definition_id="moderator"))
    BadgeGrant.objects.bulk_create(grants, ignore_conflicts=True)
    grants_changed.send(sender=BadgeGrant, user_ids=[grant.user_id for grant in grants])
    demo.say(f"Badges granted to {len({g.user_id for g in grants})} demo accounts.")
