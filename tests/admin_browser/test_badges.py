"""Badges in the admin: granted and revoked from the user list."""

from badges.models import BadgeGrant
from tests.badges.factories import BadgeDefinitionFactory
from tests.profiles.factories import UserFactory


def test_grant_and_revoke_a_badge_from_the_user_list(staff):
    mentor = BadgeDefinitionFactory(badge="mentor", label="Mentor")
    ada = UserFactory(username="ada")
    grace = UserFactory(username="grace")
    BadgeGrant.objects.create(user=grace, definition=mentor)
    staff.open("/admin/profiles/user/")

    staff.act("Grant “Mentor” badge to selected users", "ada", "grace")
    assert staff.messages() == ["“Mentor” granted to 1 user(s); 1 already had it."]
    assert set(BadgeGrant.objects.values_list("user__username", flat=True)) == {
        "ada",
        "grace",
    }
    staff.filter_by("badge", "Mentor")
    assert [row.split()[0] for row in staff.rows()] == ["ada", "grace"]
    staff.screenshot("granted")

    staff.act("Revoke “Mentor” badge from selected users", "ada")
    assert staff.messages() == ["“Mentor” revoked from 1 user(s); 0 did not have it."]
    assert list(BadgeGrant.objects.values_list("user", flat=True)) == [grace.pk]
    staff.open(f"/admin/profiles/user/{ada.pk}/change/")
    assert "Mentor" not in staff.text("#badge_grants-group")
    staff.open(f"/admin/profiles/user/{grace.pk}/change/")
    assert "Mentor" in staff.text("#badge_grants-group")
