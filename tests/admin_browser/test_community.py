"""The community directory in the admin: invitations made, accepted and
revoked; members added, deleted and restored; a member's activity."""

from django.utils import timezone

from community import services
from community.models import CommunityInvitation, CommunityMember, InvitationStatus
from tests.community.factories import MemberFactory

INVITATIONS = "/admin/community/communityinvitation/"
MEMBERS = "/admin/community/communitymember/"


def test_create_accept_and_revoke_invitations(staff):
    founder = MemberFactory(name="Founder", telegram_username="founder")
    staff.open(INVITATIONS + "add/")
    staff.autocomplete("created_by", "Found", f"{founder.member_id} Founder")
    staff.fill("invited_telegram_username", "@newcomer")
    staff.save()
    invitation = CommunityInvitation.objects.get()
    assert (invitation.created_by, invitation.invited_telegram_username) == (
        founder,
        "newcomer",
    )
    assert invitation.status == InvitationStatus.PENDING
    assert staff.messages() == [
        f"The community invitation “{invitation.invitation_code}” was added "
        "successfully."
    ]

    staff.click_link(invitation.invitation_code, within="#result_list")
    staff.click_link("Accept")
    staff.fill("telegram_id", "424242")
    staff.fill("telegram_username", "newcomer")
    staff.fill("name", "New Comer")
    staff.press("Accept")
    assert staff.texts(".errors .errorlist") == [
        "Required for someone not in the directory yet."
    ]
    assert staff.has(".field-primary_role.errors")
    assert not CommunityMember.objects.filter(telegram_id="424242").exists()
    staff.fill("primary_role", "designer")
    staff.press("Accept")
    newcomer = CommunityMember.objects.get(telegram_id="424242")
    assert staff.messages() == [f"Accepted by {newcomer.member_id}."]
    invitation.refresh_from_db()
    assert (invitation.status, invitation.accepted_by) == (
        InvitationStatus.ACCEPTED,
        newcomer,
    )
    assert not staff.has(".field-object_form_links a")  # accepted: no Accept

    second = services.invitation_create(created_by=founder)
    staff.open(INVITATIONS)
    staff.act(
        "Revoke selected pending invitations",
        second.invitation_code,
        invitation.invitation_code,
    )
    assert staff.messages() == [
        f"1 invitation(s) revoked. Skipped 1: {invitation} is accepted"
    ]
    second.refresh_from_db()
    assert second.status == InvitationStatus.REVOKED
    staff.filter_by("status", "Revoked")
    assert [row.split()[0] for row in staff.rows()] == [second.invitation_code]
    staff.screenshot()


def test_add_delete_and_restore_a_member(staff):
    staff.open(MEMBERS + "add/")
    staff.fill("telegram_id", "777")
    staff.fill("name", "Ada")
    staff.fill("primary_role", "engineer")
    staff.save()
    ada = CommunityMember.objects.get(telegram_id="777")
    assert staff.messages() == [f"The community member “{ada}” was added successfully."]

    staff.click_link(ada.member_id, within="#result_list")
    staff.click_link("Delete")
    staff.press("Yes, I\u2019m sure")
    ada.refresh_from_db()
    assert ada.deleted_at is not None
    assert CommunityMember.all_objects.filter(pk=ada.pk).exists()  # soft

    staff.filter_by("deleted", "Deleted")
    assert [row.split()[0] for row in staff.rows()] == [ada.member_id]
    staff.act("Restore selected deleted members", ada.member_id)
    assert staff.messages() == ["1 member(s) restored."]
    ada.refresh_from_db()
    assert ada.deleted_at is None
    staff.filter_by("deleted", "Not deleted")
    assert [row.split()[0] for row in staff.rows()] == [ada.member_id]
    staff.screenshot()


def test_a_members_participation_and_daily_highlights(staff):
    ada = MemberFactory(name="Ada")
    other = MemberFactory(name="Other")
    services.participation_record(
        events=[
            {
                "member_id": ada.member_id,
                "event_type": "MESSAGE",
                "platform": "telegram",
                "room_id": "general",
            },
            {
                "member_id": ada.member_id,
                "event_type": "VOICE",
                "platform": "discord",
                "room_id": "voice",
                "event_metadata": {"minutes": 15},
            },
            {
                "member_id": other.member_id,
                "event_type": "MESSAGE",
                "platform": "telegram",
                "room_id": "general",
            },
        ]
    )
    services.daily_highlights_build(day=timezone.now().date())
    staff.open(MEMBERS)
    staff.click_link(ada.member_id, within="#result_list")

    staff.click_link("Member participation", within=".field-related")
    events = staff.rows()
    assert len(events) == 2
    assert {row.split()[1] for row in events} == {"Message", "Voice"}
    assert all(row.split()[0] == ada.member_id for row in events)
    staff.screenshot("participation")

    staff.driver.back()
    staff.click_link("Member daily highlights", within=".field-related")
    (day,) = staff.rows()
    # member, date, messages, reactions, voice minutes, reputation
    assert day.split()[0] == ada.member_id
    assert day.split()[-4:] == ["1", "0", "15", "0"]
    staff.screenshot("daily-highlights")
