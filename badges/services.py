"""Granting and revoking badges: the one way the admin and the API change grants.

Both announce the change with ``badges.signals.grants_changed``.
"""

from django.core.exceptions import ValidationError
from django.db import transaction

from badges.models import BadgeDefinition, BadgeGrant
from badges.signals import grants_changed


@transaction.atomic
def badge_grant(*, user, definition: BadgeDefinition) -> BadgeGrant:
    """Grant ``definition`` to ``user``; a user holds each badge at most once."""
    if BadgeGrant.objects.filter(user=user, definition=definition).exists():
        raise ValidationError(
            f"{user} already has the {definition.label} badge.",
            code="badge_already_granted",
        )
    grant = BadgeGrant.objects.create(user=user, definition=definition)
    grants_changed.send(sender=BadgeGrant, user_ids=[user.pk])
    return grant


@transaction.atomic
def badge_revoke(*, user, definition: BadgeDefinition) -> bool:
    """Take ``definition`` away from ``user``; False if they did not have it."""
    deleted, _ = BadgeGrant.objects.filter(user=user, definition=definition).delete()
    if deleted:
        grants_changed.send(sender=BadgeGrant, user_ids=[user.pk])
    return bool(deleted)
