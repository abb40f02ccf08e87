"""Granting and revoking badges, and what the services tell other apps."""

import pytest
from django.core.exceptions import ValidationError

from badges.models import BadgeDefinition
from badges.services import badge_grant, badge_revoke
from badges.signals import grants_changed
from tests.profiles.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_grant_and_revoke():
    user = UserFactory()
    moderator = BadgeDefinition.objects.get(badge="moderator")
    grant = badge_grant(user=user, definition=moderator)
    assert grant.granted_at is not None
    with pytest.raises(ValidationError, match="already has"):
        badge_grant(user=user, definition=moderator)
    assert badge_revoke(user=user, definition=moderator) is True
    assert badge_revoke(user=user, definition=moderator) is False


def test_grants_and_revokes_are_announced():
    heard = []

    def listener(sender, user_ids, **kwargs):
        heard.append(user_ids)

    grants_changed.connect(listener)
    try:
        user = UserFactory()
        moderator = BadgeDefinition.objects.get(badge="moderator")
        badge_grant(user=user, definition=moderator)
        with pytest.raises(ValidationError):
            badge_grant(user=user, definition=moderator)
        badge_revoke(user=user, definition=moderator)
        badge_revoke(user=user, definition=moderator)  # had none: no news
    finally:
        grants_changed.disconnect(listener)
    assert heard == [[user.pk], [user.pk]]
