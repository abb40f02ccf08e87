"""The community admin: members are searched, filtered (the deleted too),
added, edited and deleted softly through the services; GitHub verifications,
reputation changes and acceptances have their own pages; invitations are
created, revoked and expired but never edited or deleted; daily highlights are
rebuilt; participation and the member-id counter are read-only."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from community import services
from community.admin import CommunityMemberAdmin
from community.models import (
    CommunityInvitation,
    CommunityMember,
    EventType,
    InvitationStatus,
    MemberDailyHighlight,
    MemberIdSequence,
    MemberParticipation,
    MemberRelationship,
    MemberStatus,
    ReputationTier,
)
from community.services import INT_MAX, INVITATION_ALPHABET
from tests.community.factories import MemberFactory
from tests.profiles.factories import UserFactory

pytestmark = pytest.mark.django_db


def url(model, view: str, *args) -> str:
    info = model._meta.app_label, model._meta.model_name
    return reverse(f"admin:{info[0]}_{info[1]}_{view}", args=args)


def member_page(member, name: str) -> str:
    return url(CommunityMember, name.replace("-", "_"), member.pk)


def accept_page(invitation) -> str:
    return url(CommunityInvitation, "accept", invitation.pk)


def listed(client, model, **params) -> set:
    response = client.get(url(model, "changelist"), params)
    assert response.status_code == 200
    return {obj.pk for obj in response.context["cl"].result_list}


def run_action(client, model, action: str, objs, **extra):
    """Post ``action`` on ``objs`` from the changelist; the response (a
    redirect back to it once the action has run) and the messages it left."""
    response = client.post(
        url(model, "changelist"),
        {"action": action, "_selected_action": [obj.pk for obj in objs], **extra},
    )
    return response, [str(m) for m in get_messages(response.wsgi_request)]


def member_form(member=None, **changes) -> dict:
    """The member add page's fields (without ``telegram_id``: the change page
    shows it read-only), as the page would post them for ``member``."""
    data = {
        "telegram_username": "",
        "name": "Ada",
        "primary_role": "developer",
        "organization": "",
        "country": "",
        "status": MemberStatus.MEMBER,
        "registration_fee_paid": "false",
        "registration_fee_tx_hash": "",
        "profile_data": "",
    }
    if member is not None:
        data.update(
            telegram_username=member.telegram_username or "",
            name=member.name,
            primary_role=member.primary_role,
            status=member.status,
        )
    return {**data, **changes}


def form_errors(response) -> str:
    """The object form page's errors, checked to be on the page too."""
    errors = str(response.context["form"].errors)
    for error in response.context["form"].errors.values():
        assert escape(error[0]) in response.content.decode()
    return errors


def admin_form_errors(response) -> str:
    return str(response.context["adminform"].form.errors)


def deleted(member):
    services.member_delete(member=member)
    member.refresh_from_db()
    return member


@pytest.fixture
def view_only_client(client):
    """Signed in as staff who may view the community tables, not change them."""
    user = UserFactory(is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="community", codename__startswith="view_"
        )
    )
    client.force_login(user)
    return client


# --- the member list ----------------------------------------------------------------


def test_members_are_found_by_member_id_usernames_and_telegram_id(admin_client):
    first, second, third = (
        MemberFactory(telegram_username=username)
        for username in ("alpha_tg", "beta_tg", "zed_tg")
    )
    services.member_github_verify(member=second, github_username="Octo-Cat")
    number = third.member_id.removeprefix("#")
    assert listed(admin_client, CommunityMember, q=third.member_id) == {third.pk}
    assert listed(admin_client, CommunityMember, q=number) == {third.pk}
    assert listed(admin_client, CommunityMember, q="zed_TG") == {third.pk}
    assert listed(admin_client, CommunityMember, q="octo-cat") == {second.pk}
    assert listed(admin_client, CommunityMember, q=first.telegram_id) == {first.pk}
    # The Telegram id is matched exactly, not as a part of one.
    assert listed(admin_client, CommunityMember, q=first.telegram_id[:-1]) == set()


def test_members_filter_by_status_and_the_deleted_are_listed(admin_client):
    live = MemberFactory()
    suspended = MemberFactory(status=MemberStatus.SUSPENDED)
    gone = deleted(MemberFactory())
    everyone = {live.pk, suspended.pk, gone.pk}
    assert listed(admin_client, CommunityMember) == everyone  # unlike the API
    assert listed(admin_client, CommunityMember, deleted="no") == {
        live.pk,
        suspended.pk,
    }
    assert listed(admin_client, CommunityMember, deleted="yes") == {gone.pk}
    assert listed(admin_client, CommunityMember, status__exact="suspended") == {
        suspended.pk
    }
    page = admin_client.get(url(CommunityMember, "changelist"))
    html = page.content.decode()
    assert "Not deleted" in html and "?deleted=yes" in html


# --- adding, editing and deleting members -------------------------------------------


def test_adding_a_member_gives_them_the_next_member_id(admin_client):
    before = MemberFactory()
    response = admin_client.post(
        url(CommunityMember, "add"),
        member_form(telegram_id="424242", telegram_username="@ada_tg"),
    )
    assert response.status_code == 302
    member = CommunityMember.objects.get(telegram_id="424242")
    assert int(member.member_id[1:]) == int(before.member_id[1:]) + 1
    assert MemberIdSequence.objects.get().last_value == int(member.member_id[1:])
    assert member.telegram_username == "ada_tg"  # as the service stores it
    assert (member.name, member.status) == ("Ada", MemberStatus.MEMBER)
    assert response["Location"] == url(CommunityMember, "changelist")


def test_adding_a_member_with_a_live_members_telegram_id_is_a_form_error(
    admin_client,
):
    MemberFactory(telegram_id="777")
    last = MemberIdSequence.objects.get().last_value
    response = admin_client.post(
        url(CommunityMember, "add"), member_form(telegram_id="777")
    )
    assert response.status_code == 200
    assert "this Telegram id" in admin_form_errors(response)
    assert CommunityMember.all_objects.count() == 1
    assert MemberIdSequence.objects.get().last_value == last


def test_adding_a_member_with_a_deleted_members_telegram_id_is_a_form_error(
    admin_client,
):
    deleted(MemberFactory(telegram_id="777"))
    last = MemberIdSequence.objects.get().last_value
    response = admin_client.post(
        url(CommunityMember, "add"), member_form(telegram_id="777")
    )
    assert response.status_code == 200
    assert (
        "A member has this Telegram id (deleted: restore them instead)."
        in admin_form_errors(response)
    )
    assert CommunityMember.all_objects.count() == 1
    assert MemberIdSequence.objects.get().last_value == last


def test_adding_a_member_with_a_malformed_telegram_id_is_a_form_error(admin_client):
    response = admin_client.post(
        url(CommunityMember, "add"), member_form(telegram_id="@ada")
    )
    assert response.status_code == 200
    assert "at most 20 digits" in admin_form_errors(response)
    assert not CommunityMember.all_objects.exists()


def test_editing_a_member_writes_the_edited_fields_only(admin_client):
    member = MemberFactory(name="Old name", country="NL")
    change = url(CommunityMember, "change", member.pk)
    page = admin_client.get(change)
    assert page.status_code == 200
    assert 'name="telegram_id"' not in page.content.decode()  # read-only
    # Meanwhile the bot changes the score, through the service.
    services.member_reputation_change(member=member, delta=150, reason="helped")
    data = member_form(
        member, name="New name", country="NL", telegram_username="@new_tg"
    )
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.post(change, data)
    assert response.status_code == 302
    member.refresh_from_db()
    assert (member.name, member.telegram_username) == ("New name", "new_tg")
    assert (member.reputation_score, member.reputation_tier) == (
        150,
        ReputationTier.CONTRIBUTOR,
    )
    updates = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith("UPDATE") and "community_members" in q["sql"]
    ]
    assert len(updates) == 1
    assert "reputation_score" not in updates[0] and "country" not in updates[0]


def loads_then(admin_class, monkeypatch, meanwhile) -> None:
    """On a POST, ``admin_class`` loads its row and then ``meanwhile(row)``
    changes it, as a concurrent request would, before the admin saves."""
    original = admin_class.get_object

    def get_object(self, request, object_id, from_field=None):
        obj = original(self, request, object_id, from_field)
        if request.method == "POST" and obj is not None:
            meanwhile(obj)
        return obj

    monkeypatch.setattr(admin_class, "get_object", get_object)


def test_editing_a_member_keeps_a_change_made_during_the_save(
    admin_client, monkeypatch
):
    member = MemberFactory()
    loads_then(
        CommunityMemberAdmin,
        monkeypatch,
        lambda obj: services.member_reputation_change(
            member=obj, delta=600, reason="meanwhile"
        ),
    )
    response = admin_client.post(
        url(CommunityMember, "change", member.pk),
        member_form(member, status=MemberStatus.SUSPENDED),
    )
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.status == MemberStatus.SUSPENDED
    assert (member.reputation_score, member.reputation_tier) == (
        600,
        ReputationTier.EXPERT,
    )


def test_telegram_id_cannot_be_changed_in_the_admin(admin_client):
    member = MemberFactory(telegram_id="555")
    response = admin_client.post(
        url(CommunityMember, "change", member.pk),
        member_form(member, telegram_id="556"),
    )
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.telegram_id == "555"


def referenced_member():
    """A member referred to from every side: an invitation they accepted,
    invitations they made (one pending, one accepted), participation and
    highlights."""
    inviter = MemberFactory()
    invitation = services.invitation_create(created_by=inviter)
    member = services.invitation_accept(
        invitation_code=invitation.invitation_code,
        telegram_id="9001",
        name="Referenced",
        primary_role="designer",
    ).accepted_by
    accepted = services.invitation_create(created_by=member)
    services.invitation_accept(
        invitation_code=accepted.invitation_code,
        telegram_id="9002",
        name="Invitee",
        primary_role="developer",
    )
    pending = services.invitation_create(created_by=member)
    services.participation_record(
        events=[
            {
                "member_id": member.member_id,
                "event_type": EventType.MESSAGE,
                "platform": "telegram",
                "room_id": "general",
            }
        ]
    )
    services.daily_highlights_build(day=timezone.now().date())
    return member, accepted, pending


def test_deleting_a_member_in_the_admin_is_soft(admin_client):
    member, accepted, pending = referenced_member()
    delete = url(CommunityMember, "delete", member.pk)
    page = admin_client.get(delete)
    assert page.status_code == 200  # nothing protected: nothing goes
    html = page.content.decode()
    assert "Are you sure" in html and "protected" not in html
    response = admin_client.post(delete, {"post": "yes"})
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.is_deleted
    assert not CommunityMember.objects.filter(pk=member.pk).exists()
    pending.refresh_from_db()
    accepted.refresh_from_db()
    assert pending.status == InvitationStatus.REVOKED
    assert accepted.status == InvitationStatus.ACCEPTED
    assert MemberParticipation.objects.filter(member=member).exists()
    assert MemberDailyHighlight.objects.filter(member=member).exists()


def test_delete_selected_is_soft_and_leaves_the_deleted_alone(admin_client):
    member, _, pending = referenced_member()
    other = MemberFactory()
    gone = deleted(MemberFactory())
    was_deleted_at = gone.deleted_at
    confirm, _ = run_action(
        admin_client, CommunityMember, "delete_selected", [member, other, gone]
    )
    assert confirm.status_code == 200
    assert "Are you sure" in confirm.content.decode()
    assert not CommunityMember.all_objects.deleted().exclude(pk=gone.pk).exists()
    response, _ = run_action(
        admin_client,
        CommunityMember,
        "delete_selected",
        [member, other, gone],
        post="yes",
    )
    assert response.status_code == 302
    assert set(CommunityMember.all_objects.deleted().values_list("pk", flat=True)) == {
        member.pk,
        other.pk,
        gone.pk,
    }
    assert CommunityMember.all_objects.count() == 5  # inviter and invitee stay
    gone.refresh_from_db()
    assert gone.deleted_at == was_deleted_at
    pending.refresh_from_db()
    assert pending.status == InvitationStatus.REVOKED


# --- member actions -----------------------------------------------------------------


def test_restore_action_restores_the_selected_deleted_members(admin_client):
    gone, also_gone = deleted(MemberFactory()), deleted(MemberFactory())
    live = MemberFactory()
    response, messages = run_action(
        admin_client, CommunityMember, "restore_members", [gone, live]
    )
    assert response.status_code == 302
    assert messages == ["1 member(s) restored."]
    gone.refresh_from_db()
    also_gone.refresh_from_db()
    assert not gone.is_deleted
    assert also_gone.is_deleted  # not selected


def test_verify_github_on_file_action_reports_the_skipped(admin_client):
    holder, claimant, without = MemberFactory.create_batch(3)
    # The list's order (by score) decides who of the two gets the account.
    services.member_reputation_change(member=holder, delta=10, reason="first")
    services.member_github_verify(
        member=holder, github_username="shared", verified=False
    )
    services.member_github_verify(
        member=claimant, github_username="SHARED", verified=False
    )
    response, messages = run_action(
        admin_client,
        CommunityMember,
        "verify_github_on_file",
        [holder, claimant, without],
    )
    assert response.status_code == 302
    assert len(messages) == 1
    message = messages[0]
    assert message.startswith("1 GitHub account(s) verified. Skipped 2:")
    assert f"{without.member_id} has no GitHub username" in message
    assert f"{claimant.member_id}: Another member has verified" in message
    for member in (holder, claimant, without):
        member.refresh_from_db()
    assert holder.github_verified and holder.github_verified_at is not None
    assert not claimant.github_verified and not without.github_verified


# --- member object forms ------------------------------------------------------------


def test_member_change_page_links_both_forms_while_the_member_is_live(admin_client):
    member = MemberFactory()
    html = admin_client.get(url(CommunityMember, "change", member.pk)).content.decode()
    assert f'href="{member_page(member, "verify-github")}"' in html
    assert f'href="{member_page(member, "reputation")}"' in html
    deleted(member)
    html = admin_client.get(url(CommunityMember, "change", member.pk)).content.decode()
    assert member_page(member, "verify-github") not in html
    assert member_page(member, "reputation") not in html
    assert admin_client.get(member_page(member, "verify-github")).status_code == 404
    assert admin_client.get(member_page(member, "reputation")).status_code == 404


def test_verify_github_page_records_a_verification(admin_client):
    member = MemberFactory()
    page = member_page(member, "verify-github")
    assert admin_client.get(page).status_code == 200
    response = admin_client.post(
        page,
        {
            "github_username": "ada-l",
            "github_verified": "on",
            "github_profile_data": '{"login": "ada-l"}',
        },
    )
    assert response.status_code == 302
    assert response["Location"] == url(CommunityMember, "change", member.pk)
    member.refresh_from_db()
    assert (member.github_username, member.github_verified) == ("ada-l", True)
    assert member.github_verified_at is not None
    assert member.github_profile_data == {"login": "ada-l"}
    # Unticked: a failed check is recorded as such.
    response = admin_client.post(page, {"github_username": "ada-l"})
    assert response.status_code == 302
    member.refresh_from_db()
    assert not member.github_verified and member.github_verified_at is None
    assert member.github_profile_data is None


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (
            {"github_username": "OCTO", "github_verified": "on"},
            "has verified this GitHub account",
        ),
        ({"github_username": "-bad-"}, "does not start or end with a hyphen"),
        (
            {"github_username": "fine", "github_profile_data": "[1, 2]"},
            "Enter a JSON object",
        ),
    ],
    ids=["verified-by-another", "bad-username", "not-an-object"],
)
def test_verify_github_page_shows_errors_and_writes_nothing(admin_client, data, error):
    holder, member = MemberFactory.create_batch(2)
    services.member_github_verify(member=holder, github_username="octo")
    response = admin_client.post(member_page(member, "verify-github"), data)
    assert response.status_code == 200
    assert error in form_errors(response)
    member.refresh_from_db()
    assert member.github_username is None and not member.github_verified


def test_reputation_page_records_the_change(admin_client):
    member = MemberFactory()
    page = member_page(member, "reputation")
    assert admin_client.get(page).status_code == 200
    response = admin_client.post(page, {"delta": "600", "reason": "organised a meetup"})
    assert response.status_code == 302
    member.refresh_from_db()
    assert (member.reputation_score, member.reputation_tier) == (
        600,
        ReputationTier.EXPERT,
    )
    event = MemberParticipation.objects.get(member=member)
    assert event.event_type == EventType.REPUTATION
    assert event.event_metadata == {
        "delta": 600,
        "reason": "organised a meetup",
        "score": 600,
    }
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    assert messages == [f"{member.member_id} now has 600 points (Expert)."]


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"delta": "1000000", "reason": "too much"}, "The score would leave"),
        ({"delta": "1000001", "reason": "too much"}, "less than or equal to"),
        ({"delta": "5", "reason": ""}, "This field is required"),
    ],
    ids=["score-overflows", "delta-too-big", "no-reason"],
)
def test_reputation_page_shows_errors_and_writes_nothing(admin_client, data, error):
    member = MemberFactory()
    CommunityMember.objects.filter(pk=member.pk).update(
        reputation_score=INT_MAX - 10, reputation_tier=ReputationTier.CHAMPION
    )
    response = admin_client.post(member_page(member, "reputation"), data)
    assert response.status_code == 200
    assert error in form_errors(response)
    member.refresh_from_db()
    assert member.reputation_score == INT_MAX - 10
    assert not MemberParticipation.objects.exists()


# --- accepting invitations ----------------------------------------------------------


def test_invitation_change_page_is_read_only_and_links_accept_while_pending(
    admin_client,
):
    invitation = services.invitation_create(created_by=MemberFactory())
    change = url(CommunityInvitation, "change", invitation.pk)
    html = admin_client.get(change).content.decode()
    assert f'href="{accept_page(invitation)}">Accept</a>' in html
    for field in ("invitation_code", "created_by", "expires_at", "status"):
        assert f'name="{field}"' not in html
    assert invitation.invitation_code in html
    services.invitation_revoke(invitation=invitation)
    html = admin_client.get(change).content.decode()
    assert accept_page(invitation) not in html


def test_accept_page_accepts_for_someone_new(admin_client):
    inviter = MemberFactory()
    invitation = services.invitation_create(
        created_by=inviter, invited_telegram_username="newbie"
    )
    page = accept_page(invitation)
    assert admin_client.get(page).status_code == 200
    response = admin_client.post(
        page,
        {
            "telegram_id": "31337",
            "telegram_username": "@NewBie",
            "name": "New Bie",
            "primary_role": "writer",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == url(CommunityInvitation, "change", invitation.pk)
    invitation.refresh_from_db()
    member = CommunityMember.objects.get(telegram_id="31337")
    assert invitation.status == InvitationStatus.ACCEPTED
    assert invitation.accepted_by_id == member.member_id
    assert (member.status, member.invited_by_id) == (
        MemberStatus.MEMBER,
        inviter.member_id,
    )
    assert (member.name, member.telegram_username) == ("New Bie", "NewBie")
    assert MemberRelationship.objects.filter(
        entity_id_a=inviter.member_id, entity_id_b=member.member_id
    ).exists()


def test_accept_page_makes_a_known_non_member_a_member(admin_client):
    known = MemberFactory(status=MemberStatus.NOT_MEMBER)
    invitation = services.invitation_create(created_by=MemberFactory())
    response = admin_client.post(
        accept_page(invitation), {"telegram_id": known.telegram_id}
    )
    assert response.status_code == 302
    known.refresh_from_db()
    assert known.status == MemberStatus.MEMBER


@pytest.mark.parametrize("state", ["accepted", "revoked", "expired"])
def test_accept_page_is_only_for_pending_invitations(admin_client, state):
    invitation = services.invitation_create(created_by=MemberFactory())
    if state == "accepted":
        services.invitation_accept(
            invitation_code=invitation.invitation_code,
            telegram_id="8080",
            name="First",
            primary_role="developer",
        )
    elif state == "revoked":
        services.invitation_revoke(invitation=invitation)
    else:
        services.invitations_expire(now=invitation.expires_at)
    invitation.refresh_from_db()
    assert invitation.status == state
    page = accept_page(invitation)
    assert admin_client.get(page).status_code == 404
    response = admin_client.post(
        page, {"telegram_id": "8081", "name": "Second", "primary_role": "developer"}
    )
    assert response.status_code == 404
    assert not CommunityMember.all_objects.filter(telegram_id="8081").exists()


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (
            {"telegram_id": "1", "telegram_username": "intruder", "name": "X"},
            "This invitation is for @invitee.",
        ),
        ({"telegram_id": "1", "telegram_username": "invitee"}, "Required for someone"),
        ({"telegram_id": "12ab", "telegram_username": "invitee"}, "at most 20 digits"),
        ({"telegram_id": "MEMBER", "telegram_username": "invitee"}, "already in the"),
        ({"telegram_id": "DELETED", "telegram_username": "invitee"}, "restore them"),
    ],
    ids=["wrong-recipient", "no-name", "bad-telegram-id", "a-member", "deleted"],
)
def test_accept_page_shows_errors_and_writes_nothing(admin_client, data, error):
    inviter = MemberFactory()
    ids = {"MEMBER": MemberFactory().telegram_id}
    ids["DELETED"] = deleted(MemberFactory(status=MemberStatus.NOT_MEMBER)).telegram_id
    data = {**data, "telegram_id": ids.get(data["telegram_id"], data["telegram_id"])}
    invitation = services.invitation_create(
        created_by=inviter, invited_telegram_username="invitee"
    )
    members = CommunityMember.all_objects.count()
    last = MemberIdSequence.objects.get().last_value
    response = admin_client.post(accept_page(invitation), data)
    assert response.status_code == 200
    assert error in form_errors(response)
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.PENDING
    assert CommunityMember.all_objects.count() == members
    assert MemberIdSequence.objects.get().last_value == last
    assert not MemberRelationship.objects.exists()


def test_accepting_an_overdue_pending_invitation_is_a_form_error(admin_client):
    invitation = services.invitation_create(created_by=MemberFactory())
    CommunityInvitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    response = admin_client.post(
        accept_page(invitation),
        {"telegram_id": "4", "name": "Late", "primary_role": "developer"},
    )
    assert response.status_code == 200
    assert "This invitation has expired." in str(
        response.context["form"].non_field_errors()
    )
    assert not CommunityMember.objects.filter(telegram_id="4").exists()


def test_object_forms_need_the_change_permission(view_only_client):
    member = MemberFactory()
    invitation = services.invitation_create(created_by=member)
    assert (
        view_only_client.get(url(CommunityMember, "change", member.pk)).status_code
        == 200
    )
    pages = {
        member_page(member, "verify-github"): {"github_username": "sneaky"},
        member_page(member, "reputation"): {"delta": "100", "reason": "sneaky"},
        accept_page(invitation): {
            "telegram_id": "66",
            "name": "Sneaky",
            "primary_role": "developer",
        },
    }
    for page, data in pages.items():
        assert view_only_client.get(page).status_code == 403, page
        assert view_only_client.post(page, data).status_code == 403, page
    member.refresh_from_db()
    invitation.refresh_from_db()
    assert member.github_username is None and member.reputation_score == 0
    assert invitation.status == InvitationStatus.PENDING


# --- invitations --------------------------------------------------------------------


def test_an_invitations_change_page_only_shows_it(admin_client):
    """Invitations are never edited: no Save button, and a POST to the change
    page writes nothing (a save would write back the values it loaded, undoing
    an acceptance committed meanwhile)."""
    invitation = services.invitation_create(created_by=MemberFactory())
    change = url(CommunityInvitation, "change", invitation.pk)
    page = admin_client.get(change)
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    expires = invitation.expires_at
    response = admin_client.post(
        change, {"_save": "Save", "expires_at_0": "2000-01-01", "expires_at_1": "0:0"}
    )
    assert response.status_code == 403
    invitation.refresh_from_db()
    assert (invitation.status, invitation.expires_at) == ("pending", expires)


def invitation_form(created_by, **changes) -> dict:
    expires = timezone.localtime(timezone.now() + timedelta(days=3))
    return {
        "created_by": created_by.member_id,
        "invited_telegram_username": "",
        "expires_at_0": expires.strftime("%Y-%m-%d"),
        "expires_at_1": expires.strftime("%H:%M:%S"),
        **changes,
    }


def test_adding_an_invitation_goes_through_the_service(admin_client):
    inviter = MemberFactory()
    add = url(CommunityInvitation, "add")
    page = admin_client.get(add)
    assert page.status_code == 200
    assert page.context["adminform"].form.initial["expires_at"] > timezone.now()
    response = admin_client.post(
        add, invitation_form(inviter, invited_telegram_username="@Someone")
    )
    assert response.status_code == 302
    invitation = CommunityInvitation.objects.get()
    assert invitation.created_by_id == inviter.member_id
    assert invitation.status == InvitationStatus.PENDING
    assert len(invitation.invitation_code) == 16
    assert set(invitation.invitation_code) <= set(INVITATION_ALPHABET)
    assert invitation.invited_telegram_username == "Someone"
    assert invitation.expires_at > timezone.now() + timedelta(days=2)


@pytest.mark.parametrize("creator", ["not-a-member", "suspended", "deleted"])
def test_adding_an_invitation_from_a_non_member_is_a_form_error(admin_client, creator):
    if creator == "not-a-member":
        member = MemberFactory(status=MemberStatus.NOT_MEMBER)
    elif creator == "suspended":
        member = MemberFactory(status=MemberStatus.SUSPENDED)
    else:
        member = deleted(MemberFactory())
    response = admin_client.post(
        url(CommunityInvitation, "add"), invitation_form(member)
    )
    assert response.status_code == 200
    errors = admin_form_errors(response)
    if creator == "deleted":  # not even offered
        assert "Select a valid choice" in errors
    else:
        assert "Only members can invite." in errors
    assert not CommunityInvitation.objects.exists()


def test_adding_an_invitation_that_expired_already_is_a_form_error(admin_client):
    past = timezone.localtime(timezone.now() - timedelta(days=1))
    response = admin_client.post(
        url(CommunityInvitation, "add"),
        invitation_form(
            MemberFactory(),
            expires_at_0=past.strftime("%Y-%m-%d"),
            expires_at_1=past.strftime("%H:%M:%S"),
        ),
    )
    assert response.status_code == 200
    assert "Must be in the future." in admin_form_errors(response)
    assert not CommunityInvitation.objects.exists()


def test_invitations_cannot_be_deleted(admin_client):
    invitation = services.invitation_create(created_by=MemberFactory())
    assert (
        admin_client.get(url(CommunityInvitation, "delete", invitation.pk)).status_code
        == 403
    )
    response = admin_client.post(
        url(CommunityInvitation, "delete", invitation.pk), {"post": "yes"}
    )
    assert response.status_code == 403
    _, messages = run_action(
        admin_client, CommunityInvitation, "delete_selected", [invitation], post="yes"
    )
    assert messages == ["No action selected."]
    assert CommunityInvitation.objects.filter(pk=invitation.pk).exists()


def test_revoke_action_revokes_the_pending_and_reports_the_rest(admin_client):
    inviter = MemberFactory()
    pending, other_pending, used = (
        services.invitation_create(created_by=inviter) for _ in range(3)
    )
    services.invitation_accept(
        invitation_code=used.invitation_code,
        telegram_id="5150",
        name="Used",
        primary_role="developer",
    )
    untouched = services.invitation_create(created_by=inviter)
    response, messages = run_action(
        admin_client,
        CommunityInvitation,
        "revoke_invitations",
        [pending, other_pending, used],
    )
    assert response.status_code == 302
    assert messages == [
        f"2 invitation(s) revoked. Skipped 1: {used.invitation_code} is accepted"
    ]
    status = dict(CommunityInvitation.objects.values_list("pk", "status"))
    assert status == {
        pending.pk: InvitationStatus.REVOKED,
        other_pending.pk: InvitationStatus.REVOKED,
        used.pk: InvitationStatus.ACCEPTED,
        untouched.pk: InvitationStatus.PENDING,
    }


def test_expire_action_expires_every_overdue_invitation(admin_client):
    inviter = MemberFactory()
    overdue, also_overdue, current, revoked = (
        services.invitation_create(created_by=inviter) for _ in range(4)
    )
    services.invitation_revoke(invitation=revoked)
    CommunityInvitation.objects.exclude(pk=current.pk).update(
        expires_at=timezone.now() - timedelta(hours=1)
    )
    response, messages = run_action(
        admin_client, CommunityInvitation, "expire_overdue", [current]
    )
    assert response.status_code == 302
    assert messages == ["2 overdue invitation(s) expired."]
    status = dict(CommunityInvitation.objects.values_list("pk", "status"))
    assert status == {
        overdue.pk: InvitationStatus.EXPIRED,
        also_overdue.pk: InvitationStatus.EXPIRED,
        current.pk: InvitationStatus.PENDING,
        revoked.pk: InvitationStatus.REVOKED,
    }


# --- highlights, participation, the member-id counter -------------------------------


def messages_on(member, day: date, count: int) -> None:
    at = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)
    services.participation_record(
        events=[
            {
                "member_id": member.member_id,
                "event_type": EventType.MESSAGE,
                "platform": "telegram",
                "room_id": "general",
                "occurred_at": at,
            }
        ]
        * count
    )


def test_rebuild_action_recomputes_the_selected_days(admin_client):
    member = MemberFactory()
    first, second = date(2024, 3, 1), date(2024, 3, 2)
    for day in (first, second):
        messages_on(member, day, 1)
        services.daily_highlights_build(day=day)
    messages_on(member, first, 2)
    messages_on(member, second, 4)
    selected = MemberDailyHighlight.objects.get(highlight_date=first)
    response, messages = run_action(
        admin_client, MemberDailyHighlight, "rebuild_days", [selected]
    )
    assert response.status_code == 302
    assert messages == ["1 day(s) rebuilt."]
    counts = dict(
        MemberDailyHighlight.objects.values_list("highlight_date", "message_count")
    )
    assert counts == {first: 3, second: 1}  # the second day was not selected


def test_participation_and_the_counter_are_read_only(admin_client):
    member = MemberFactory()
    services.member_reputation_change(member=member, delta=1, reason="hi")
    event = MemberParticipation.objects.get()
    sequence = MemberIdSequence.objects.get()
    assert admin_client.get(url(MemberParticipation, "add")).status_code == 403
    change = url(MemberParticipation, "change", event.pk)
    assert 'name="room_id"' not in admin_client.get(change).content.decode()
    assert admin_client.post(change, {"room_id": "x"}).status_code == 403
    assert admin_client.get(url(MemberIdSequence, "add")).status_code == 403
    delete = url(MemberIdSequence, "delete", sequence.pk)
    assert admin_client.get(delete).status_code == 403
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    run_action(
        admin_client, MemberIdSequence, "delete_selected", [sequence], post="yes"
    )
    changelist = admin_client.get(url(MemberIdSequence, "changelist"))
    assert "delete_selected" not in changelist.content.decode()
    change = url(MemberIdSequence, "change", sequence.pk)
    assert admin_client.post(change, {"last_value": "0"}).status_code == 403
    assert MemberIdSequence.objects.get().last_value == sequence.last_value


# --- permissions of the actions -----------------------------------------------------


def test_staff_who_may_only_view_cannot_run_actions_that_write(view_only_client):
    gone = deleted(MemberFactory())
    invitation = services.invitation_create(created_by=MemberFactory())
    _, messages = run_action(
        view_only_client, CommunityMember, "restore_members", [gone]
    )
    gone.refresh_from_db()
    _, revoke_messages = run_action(
        view_only_client, CommunityInvitation, "revoke_invitations", [invitation]
    )
    invitation.refresh_from_db()
    assert (gone.is_deleted, invitation.status) == (True, InvitationStatus.PENDING)
    # Not offered at all: no action runs, nothing reports success.
    assert messages in ([], ["No action selected."])
    assert revoke_messages in ([], ["No action selected."])


def test_invitation_creator_autocomplete_offers_live_members_only(admin_client):
    live = MemberFactory(name="Findme Live")
    gone = deleted(MemberFactory(name="Findme Gone"))
    response = admin_client.get(
        reverse("admin:autocomplete"),
        {
            "term": "Findme",
            "app_label": "community",
            "model_name": "communityinvitation",
            "field_name": "created_by",
        },
    )
    assert response.status_code == 200
    offered = {result["id"] for result in response.json()["results"]}
    assert live.member_id in offered
    assert gone.member_id not in offered
