"""The safety admin: reports reviewed by actions that record who and when,
an append-only moderation log, rooms with their members."""

import pytest

from safety import services
from safety.models import ChatRoomMember, ModerationAction, Report
from tests.profiles.factories import UserFactory
from tests.safety.factories import RoomFactory

pytestmark = pytest.mark.django_db

ADMIN = "/admin/safety/"


def test_reports_are_reviewed_by_actions(admin_client, staff_user):
    room = RoomFactory()
    report = services.report_create(
        reporter=UserFactory(), reported_room=room, report_type="spam"
    )
    page = admin_client.get(f"{ADMIN}report/{report.pk}/change/")
    assert f"/admin/safety/chatroom/{room.pk}/change/" in page.content.decode()
    response = admin_client.post(
        f"{ADMIN}report/",
        {"action": "mark_reviewing", "_selected_action": [report.pk]},
    )
    assert response.status_code == 302
    report.refresh_from_db()
    assert (report.status, report.reviewed_by_id) == ("reviewing", staff_user.pk)
    assert report.reviewed_at is not None
    admin_client.post(
        f"{ADMIN}report/", {"action": "mark_resolved", "_selected_action": [report.pk]}
    )
    admin_client.post(
        f"{ADMIN}report/", {"action": "mark_reviewing", "_selected_action": [report.pk]}
    )
    assert Report.objects.get().status == "resolved"  # no way back
    assert admin_client.get(f"{ADMIN}report/add/").status_code == 403


def test_the_moderation_log_is_added_to_never_changed(admin_client, staff_user):
    target = UserFactory()
    response = admin_client.post(
        f"{ADMIN}moderationaction/add/",
        {
            "target_user": target.pk,
            "action_type": "mute",
            "reason": "flood",
            "duration_minutes": 10,
        },
    )
    assert response.status_code == 302
    action = ModerationAction.objects.get()
    assert (action.moderator_id, action.target_user_id) == (staff_user.pk, target.pk)
    url = f"{ADMIN}moderationaction/{action.pk}/"
    page = admin_client.get(f"{url}change/")
    assert page.status_code == 200 and 'name="reason"' not in page.content.decode()
    admin_client.post(f"{url}change/", {"reason": "nothing"})
    assert admin_client.get(f"{url}delete/").status_code == 403
    assert ModerationAction.objects.get().reason == "flood"


def test_a_room_added_in_the_admin_has_its_owner_as_member(admin_client):
    owner = UserFactory()
    response = admin_client.post(
        f"{ADMIN}chatroom/add/",
        {
            "room_name": "Staff room",
            "owner": owner.pk,
            "is_public": "on",
            "background_color": "#1A1A1E",
            "max_participants": 10,
            "members-TOTAL_FORMS": 0,
            "members-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 302, response.content[:2000]
    member = ChatRoomMember.objects.get()
    assert (member.user_id, member.role) == (owner.pk, "OWNR")
