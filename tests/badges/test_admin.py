"""The badges admin: definitions get their icons, grants go through the
services."""

import pytest
from django.urls import reverse

from badges.models import BadgeDefinition, BadgeGrant
from tests.badges.factories import BadgeGrantFactory

pytestmark = pytest.mark.django_db


def test_granting_a_badge_twice_in_the_admin_is_a_form_error(admin_client, user):
    BadgeGrantFactory(
        user=user, definition=BadgeDefinition.objects.get(badge="moderator")
    )
    response = admin_client.post(
        reverse("admin:badges_badgegrant_add"),
        {"user": user.pk, "definition": "moderator"},
    )
    assert response.status_code == 200
    assert "already has this badge" in str(response.context["adminform"].form.errors)


def test_tag_badge_definition_made_in_the_admin_gets_its_icons(admin_client):
    response = admin_client.post(
        reverse("admin:badges_badgedefinition_add"),
        {"badge": "helper", "label": "Helper", "is_tag_badge": "on"},
    )
    assert response.status_code == 302
    badge = BadgeDefinition.objects.get(badge="helper")
    assert (badge.icon_url_64, badge.icon_url_16) == (
        "/public/badges/helper_64.png",
        "/public/badges/helper_16.png",
    )


def test_badge_identifier_must_be_a_slug_in_the_admin(admin_client):
    response = admin_client.post(
        reverse("admin:badges_badgedefinition_add"),
        {"badge": "no spaces", "label": "X"},
    )
    assert response.status_code == 200
    assert "slug" in str(response.context["adminform"].form.errors)


def test_grants_in_the_admin_go_through_the_services(
    admin_client, user, django_capture_on_commit_callbacks
):
    add = reverse("admin:badges_badgegrant_add")
    with django_capture_on_commit_callbacks() as callbacks:
        response = admin_client.post(add, {"user": user.pk, "definition": "moderator"})
    assert response.status_code == 302
    grant = BadgeGrant.objects.get(user=user)
    assert len(callbacks) == 1  # announced: the user's stats are invalidated
    with django_capture_on_commit_callbacks() as callbacks:
        admin_client.post(
            reverse("admin:badges_badgegrant_changelist"),
            {
                "action": "delete_selected",
                "_selected_action": [grant.pk],
                "post": "yes",
            },
        )
    assert not BadgeGrant.objects.exists()
    assert len(callbacks) == 1


def test_the_definition_list_shows_each_icon(admin_client):
    page = admin_client.get(reverse("admin:badges_badgedefinition_changelist"))
    assert '<img src="/public/badges/moderator_64.png"' in page.content.decode()
