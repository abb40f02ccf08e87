"""The safety layer in the admin: reviewing a report, the moderation log,
banning a room member."""

from safety import services
from safety.models import ChatRoomMember, ModerationAction
from tests.profiles.factories import UserFactory
from tests.safety.factories import RoomFactory


def test_review_a_report_on_its_page(staff, staff_member):
    owner, troll = UserFactory(username="owner"), UserFactory(username="troll")
    room = RoomFactory(owner=owner, room_name="Lobby")
    services.room_join(room=room, user=troll)
    message = services.room_message_post(room=room, user=troll, message="buy now")
    report = services.report_create(
        reporter=owner, reported_message=message, report_type="spam"
    )
    staff.open("/admin/safety/report/")
    staff.filter_by("status", "Pending")
    staff.click_link(str(report), within="#result_list")
    assert staff.text(".field-message_reported .readonly") == "buy now"

    staff.choose("CHANGE_FORM-action", "Mark the selected reports reviewing")
    staff.press("Run")
    assert staff.messages() == ["1 report(s) now reviewing."]
    report.refresh_from_db()
    assert (report.status, report.reviewed_by) == ("reviewing", staff_member)
    staff.choose("CHANGE_FORM-action", "Mark the selected reports resolved")
    staff.press("Run")
    report.refresh_from_db()
    assert report.status == "resolved"
    assert staff.text(".field-status .readonly") == "Resolved"
    staff.screenshot()


def test_record_a_moderation_action_that_cannot_be_edited(staff, staff_member):
    troll = UserFactory(username="troll")
    staff.open("/admin/safety/moderationaction/add/")
    staff.autocomplete("target_user", "tro", "troll")
    staff.choose("action_type", "Mute")
    staff.fill("reason", "spam in the lobby")
    staff.fill("duration_minutes", "60")
    staff.save()
    action = ModerationAction.objects.get()
    assert (action.target_user, action.moderator, action.action_type) == (
        troll,
        staff_member,
        "mute",
    )
    assert (action.reason, action.duration_minutes) == ("spam in the lobby", 60)
    assert staff.messages()[0].startswith("The moderation action")

    staff.click_link("Mute", within="#result_list")
    assert staff.text("h1") == "View moderation action"
    assert staff.text(".field-reason .readonly") == "spam in the lobby"
    assert not staff.has("input[name=_save], input[name=reason], .deletelink")
    staff.screenshot()


def test_ban_a_room_member(staff):
    owner, troll = UserFactory(username="owner"), UserFactory(username="troll")
    room = RoomFactory(owner=owner, room_name="Lobby")
    services.room_join(room=room, user=troll)
    staff.open("/admin/safety/chatroom/")
    staff.click_link("Lobby", within="#result_list")
    row = staff.inline_row("members", "troll")
    staff.tick(f"{row}-is_banned")
    staff.save()
    assert staff.messages() == ["The chat room “Lobby” was changed successfully."]
    banned = ChatRoomMember.objects.filter(room=room, is_banned=True)
    assert list(banned.values_list("user__username", flat=True)) == ["troll"]

    staff.open("/admin/safety/chatroommember/")
    staff.filter_by("is banned", "Yes")
    (shown,) = staff.rows()
    assert "troll" in shown
    staff.screenshot()
