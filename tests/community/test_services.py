"""The community services: member ids (sequential, never reused, safe under
concurrent creation), invitations (create, accept with every refusal writing
nothing, one winner among concurrent acceptances, revoke, expire), soft
delete and restore, GitHub verification, reputation changes with their tiers
and audit events, participation and the daily highlights built from it."""

import re
import threading
from datetime import UTC, date, datetime, timedelta
from datetime import timezone as dt_timezone

import pytest
from django.core.exceptions import ValidationError
from django.db import DataError, IntegrityError, connection, connections, transaction
from django.utils import timezone

from community import services
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
    Platform,
    RelationshipType,
    ReputationTier,
    tier_for,
)
from community.services import INT_MAX, INT_MIN, INVITATION_ALPHABET
from tests.community.factories import MemberFactory

pytestmark = pytest.mark.django_db


def last_number() -> int:
    """The last member number handed out (0 before the first)."""
    row = MemberIdSequence.objects.filter(pk=1).first()
    return row.last_value if row else 0


def number(member_id: str) -> int:
    assert re.fullmatch(r"#[1-9][0-9]*", member_id), member_id
    return int(member_id[1:])


def codes(error: ValidationError, field: str) -> list[str]:
    return [e.code for e in error.error_dict[field]]


def snapshot() -> tuple:
    """Everything an acceptance (or a refused one) could write."""
    return (
        list(
            CommunityMember.all_objects.order_by("member_id").values_list(
                "member_id",
                "telegram_id",
                "telegram_username",
                "status",
                "invited_by",
                "deleted_at",
                "updated_at",
            )
        ),
        list(
            CommunityInvitation.objects.order_by("invitation_code").values_list(
                "invitation_code", "status", "accepted_by", "accepted_at", "updated_at"
            )
        ),
        list(MemberRelationship.objects.values_list("id", flat=True)),
        list(MemberParticipation.objects.values_list("id", flat=True)),
        last_number(),
    )


def all_at_once(calls: list) -> tuple[list, list]:
    """Run ``calls`` in threads, each on its own connection, released together;
    return their results and exceptions (None where there was none)."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)
    errors: list = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=10)
            results[index] = call()
        except Exception as exc:
            errors[index] = exc
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=run, args=(index, call))
        for index, call in enumerate(calls)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return results, errors


# --- member ids ---------------------------------------------------------------------


def test_member_ids_count_up_from_one():
    assert last_number() == 0
    members = MemberFactory.create_batch(3)
    assert [m.member_id for m in members] == ["#1", "#2", "#3"]
    assert last_number() == 3


def test_member_ids_are_sequential_after_earlier_members():
    start = last_number()
    members = MemberFactory.create_batch(4)
    assert [number(m.member_id) for m in members] == [start + n for n in (1, 2, 3, 4)]


def test_member_id_of_a_soft_deleted_member_is_not_reused():
    _, second = MemberFactory.create_batch(2)
    services.member_delete(member=second)
    third = MemberFactory()
    assert number(third.member_id) == number(second.member_id) + 1


def test_member_id_of_a_removed_row_is_not_reused():
    (member,) = MemberFactory.create_batch(1)
    CommunityMember.all_objects.filter(pk=member.pk).delete()
    assert number(MemberFactory().member_id) == number(member.member_id) + 1


def test_a_rolled_back_creation_gives_its_number_back():
    before = last_number()
    with pytest.raises(RuntimeError), transaction.atomic():
        MemberFactory(telegram_id="5001")
        assert last_number() == before + 1
        raise RuntimeError("undo")
    assert last_number() == before
    assert not CommunityMember.all_objects.filter(telegram_id="5001").exists()
    assert number(MemberFactory().member_id) == before + 1


def test_creating_a_member_with_a_taken_telegram_id_is_refused_and_takes_no_number():
    member = MemberFactory(telegram_id="5002")
    services.member_delete(member=member)
    before = last_number()
    with pytest.raises(ValidationError) as error:
        services.member_create(telegram_id="5002", name="Again", primary_role="dev")
    assert codes(error.value, "telegram_id") == ["unique"]
    assert "restore" in str(error.value)
    assert last_number() == before


def test_concurrent_creations_get_distinct_consecutive_ids(
    postgresql, transactional_db
):
    threads, each = 8, 3

    def create(thread):
        return [
            services.member_create(
                telegram_id=str(60_000 + thread * 10 + n),
                name=f"Thread {thread} member {n}",
                primary_role="developer",
            ).member_id
            for n in range(each)
        ]

    results, errors = all_at_once(
        [lambda t=thread: create(t) for thread in range(threads)]
    )
    assert errors == [None] * threads
    ids = [member_id for batch in results for member_id in batch]
    assert len(set(ids)) == threads * each
    stored = CommunityMember.all_objects.values_list("member_id", flat=True)
    assert sorted(number(m) for m in stored) == list(range(1, threads * each + 1))
    assert last_number() == CommunityMember.all_objects.count() == threads * each


# --- invitation_create --------------------------------------------------------------


@pytest.fixture
def creator():
    return MemberFactory(name="Creator")


def test_invitation_codes_are_16_characters_of_the_alphabet_and_unique(creator):
    invitations = [services.invitation_create(created_by=creator) for _ in range(50)]
    for invitation in invitations:
        assert len(invitation.invitation_code) == 16
        assert set(invitation.invitation_code) <= set(INVITATION_ALPHABET)
    assert len({i.invitation_code for i in invitations}) == 50
    assert not set(INVITATION_ALPHABET) & set("01OIL")


def test_invitation_is_pending_and_expires_after_the_configured_days(creator, settings):
    settings.COMMUNITY_INVITATION_DAYS = 3
    before = timezone.now()
    invitation = services.invitation_create(
        created_by=creator, invited_telegram_username="@Somebody"
    )
    after = timezone.now()
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.PENDING
    assert invitation.created_by_id == creator.member_id
    assert invitation.invited_telegram_username == "Somebody"
    assert before + timedelta(days=3) <= invitation.expires_at
    assert invitation.expires_at <= after + timedelta(days=3)
    assert (invitation.accepted_by_id, invitation.accepted_at) == (None, None)


def test_invitation_keeps_a_given_expiry(creator):
    expires = timezone.now() + timedelta(hours=2)
    invitation = services.invitation_create(created_by=creator, expires_at=expires)
    invitation.refresh_from_db()
    assert invitation.expires_at == expires


@pytest.mark.parametrize("status", [MemberStatus.NOT_MEMBER, MemberStatus.SUSPENDED])
def test_only_members_may_invite(status):
    outsider = MemberFactory(status=status)
    with pytest.raises(ValidationError) as error:
        services.invitation_create(created_by=outsider)
    assert codes(error.value, "created_by") == ["not_a_member"]
    assert not CommunityInvitation.objects.exists()


def test_a_deleted_member_may_not_invite(creator):
    services.member_delete(member=creator)
    creator = CommunityMember.all_objects.get(pk=creator.pk)
    with pytest.raises(ValidationError) as error:
        services.invitation_create(created_by=creator)
    assert codes(error.value, "created_by") == ["not_a_member"]
    assert not CommunityInvitation.objects.exists()


@pytest.mark.parametrize("ago", [timedelta(0), timedelta(seconds=1), timedelta(days=3)])
def test_an_expiry_in_the_past_is_refused(creator, ago):
    with pytest.raises(ValidationError) as error:
        services.invitation_create(created_by=creator, expires_at=timezone.now() - ago)
    assert codes(error.value, "expires_at") == ["in_the_past"]
    assert not CommunityInvitation.objects.exists()


def test_a_clashing_code_is_drawn_again(creator, monkeypatch):
    taken = services.invitation_create(created_by=creator).invitation_code
    draws = iter([taken, taken, "ABCDEFGHJKMNPQRS"])
    monkeypatch.setattr(services, "invitation_code_new", lambda: next(draws))
    invitation = services.invitation_create(created_by=creator)
    assert invitation.invitation_code == "ABCDEFGHJKMNPQRS"
    assert CommunityInvitation.objects.count() == 2


# --- invitation_accept --------------------------------------------------------------


@pytest.fixture
def invitation(creator):
    return services.invitation_create(created_by=creator)


def accept(invitation, telegram_id="9001", **fields):
    fields.setdefault("name", "New Person")
    fields.setdefault("primary_role", "designer")
    return services.invitation_accept(
        invitation_code=invitation.invitation_code, telegram_id=telegram_id, **fields
    )


def test_accepting_creates_a_member_invited_by_the_creator(creator, invitation):
    before = timezone.now()
    accepted = accept(invitation, telegram_username="@New_Person")

    member = CommunityMember.objects.get(telegram_id="9001")
    assert member.member_id == f"#{number(creator.member_id) + 1}"
    assert (member.name, member.primary_role) == ("New Person", "designer")
    assert member.telegram_username == "New_Person"
    assert member.status == MemberStatus.MEMBER
    assert member.invited_by_id == creator.member_id

    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.ACCEPTED
    assert invitation.accepted_by_id == member.member_id
    assert before <= invitation.accepted_at <= timezone.now()
    assert accepted.accepted_at == invitation.accepted_at
    assert accepted.accepted_by_id == member.member_id

    (relationship,) = MemberRelationship.objects.all()
    assert relationship.relationship_type == RelationshipType.INVITED
    assert (relationship.entity_id_a, relationship.entity_id_b) == (
        creator.member_id,
        member.member_id,
    )
    assert relationship.content["invitation_id"] == str(invitation.invitation_id)
    assert relationship.content["invitation_code"] == invitation.invitation_code


def test_accepting_links_an_existing_person_who_is_not_a_member(creator, invitation):
    person = MemberFactory(
        telegram_id="9002",
        status=MemberStatus.NOT_MEMBER,
        name="Known Person",
        telegram_username="known",
    )
    before = last_number()
    services.invitation_accept(
        invitation_code=invitation.invitation_code, telegram_id="9002"
    )
    assert last_number() == before
    member = CommunityMember.objects.get(telegram_id="9002")
    assert member.pk == person.pk
    assert member.member_id == person.member_id
    assert member.name == "Known Person"
    assert member.telegram_username == "known"
    assert member.status == MemberStatus.MEMBER
    assert member.invited_by_id == creator.member_id
    assert CommunityMember.all_objects.count() == 2
    invitation.refresh_from_db()
    assert invitation.accepted_by_id == person.member_id
    relationship = MemberRelationship.objects.get()
    assert relationship.entity_id_b == person.member_id


@pytest.mark.parametrize("typed", [str.lower, lambda code: f"  {code.lower()} "])
def test_a_code_is_accepted_in_any_letter_case(invitation, typed):
    services.invitation_accept(
        invitation_code=typed(invitation.invitation_code),
        telegram_id="9003",
        name="Lower Case",
        primary_role="writer",
    )
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.ACCEPTED


@pytest.mark.parametrize("given", ["Alice_X", "alice_x", "@ALICE_X", " @Alice_x "])
def test_an_invitation_for_someone_accepts_them_whatever_the_case_or_at(creator, given):
    invitation = services.invitation_create(
        created_by=creator, invited_telegram_username="@Alice_X"
    )
    accept(invitation, telegram_username=given)
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.ACCEPTED


def assert_refused(invitation, field: str, code: str, **kwargs) -> ValidationError:
    """Accepting with ``kwargs`` raises ``code`` on ``field`` and writes nothing."""
    before = snapshot()
    with pytest.raises(ValidationError) as error:
        accept(invitation, **kwargs)
    assert code in codes(error.value, field), error.value
    assert snapshot() == before
    return error.value


def test_an_unknown_code_is_refused(creator):
    unknown = CommunityInvitation(invitation_code="ZZZZZZZZZZZZZZZZ")
    assert_refused(unknown, "invitation_code", "does_not_exist")


def test_a_used_invitation_is_refused(invitation):
    accept(invitation, telegram_id="9010")
    assert_refused(invitation, "invitation_code", "used", telegram_id="9011")


def test_a_revoked_invitation_is_refused(invitation):
    services.invitation_revoke(invitation=invitation)
    assert_refused(invitation, "invitation_code", "revoked")


def test_an_expired_invitation_is_refused(invitation):
    CommunityInvitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    assert services.invitations_expire() == 1
    assert_refused(invitation, "invitation_code", "expired")


def test_an_invitation_marked_expired_is_refused_before_its_time(invitation):
    CommunityInvitation.objects.filter(pk=invitation.pk).update(
        status=InvitationStatus.EXPIRED
    )
    assert_refused(invitation, "invitation_code", "expired")


def test_a_pending_invitation_past_its_time_is_refused(invitation):
    CommunityInvitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert_refused(invitation, "invitation_code", "expired")
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.PENDING


@pytest.mark.parametrize("given", [None, "", "bob", "@alice_y", "alice_x_"])
def test_an_invitation_for_someone_else_is_refused(creator, given):
    invitation = services.invitation_create(
        created_by=creator, invited_telegram_username="alice_x"
    )
    assert_refused(
        invitation, "telegram_username", "wrong_recipient", telegram_username=given
    )


@pytest.mark.parametrize("status", [MemberStatus.MEMBER, MemberStatus.SUSPENDED])
def test_someone_already_in_the_community_cannot_accept(invitation, status):
    MemberFactory(telegram_id="9020", status=status)
    assert_refused(invitation, "telegram_id", "already_member", telegram_id="9020")


def test_a_deleted_member_cannot_accept(invitation):
    person = MemberFactory(telegram_id="9021", status=MemberStatus.NOT_MEMBER)
    services.member_delete(member=person)
    assert_refused(invitation, "telegram_id", "deleted", telegram_id="9021")


@pytest.mark.parametrize(
    "missing",
    [{"name": None}, {"primary_role": None}, {"name": "", "primary_role": None}],
)
def test_someone_new_must_give_a_name_and_a_role(invitation, missing):
    before = snapshot()
    with pytest.raises(ValidationError) as error:
        accept(invitation, **missing)
    assert {field: codes(error.value, field) for field in error.value.error_dict} == {
        field: ["required"] for field in missing
    }
    assert snapshot() == before


def test_an_acceptance_rolled_back_by_its_caller_leaves_nothing(creator, invitation):
    before = snapshot()
    with pytest.raises(RuntimeError), transaction.atomic():
        accept(invitation)
        assert CommunityMember.objects.filter(telegram_id="9001").exists()
        raise RuntimeError("the caller's next step failed")
    assert snapshot() == before
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.PENDING
    assert not MemberRelationship.objects.exists()
    accept(invitation, telegram_id="9002")  # the code is still good


def test_an_acceptance_failing_in_the_database_leaves_nothing(invitation):
    """A name too long for varchar(255) fails the member's INSERT after its
    number was drawn: the whole acceptance rolls back, number included."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite does not enforce varchar lengths")
    before = snapshot()
    with pytest.raises(DataError):
        accept(invitation, name="x" * 256)
    assert snapshot() == before


def test_one_code_accepted_by_eight_people_at_once_has_one_winner(
    postgresql, transactional_db
):
    code = services.invitation_create(created_by=MemberFactory()).invitation_code
    people = 8
    results, errors = all_at_once(
        [
            lambda n=n: services.invitation_accept(
                invitation_code=code,
                telegram_id=str(70_000 + n),
                name=f"Person {n}",
                primary_role="developer",
            )
            for n in range(people)
        ]
    )
    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    losers = [e for e in errors if e is not None]
    assert len(losers) == people - 1
    assert all(isinstance(e, ValidationError) for e in losers), losers
    assert all(codes(e, "invitation_code") == ["used"] for e in losers)
    assert CommunityMember.all_objects.count() == 2
    assert MemberRelationship.objects.count() == 1
    invitation = CommunityInvitation.objects.get()
    assert invitation.accepted_by_id == winners[0].accepted_by_id
    assert CommunityMember.objects.get(member_id=invitation.accepted_by_id).status == (
        MemberStatus.MEMBER
    )
    assert last_number() == 2  # the losers drew no number


def test_one_code_accepted_twice_at_once_has_one_winner(in_parallel):
    code = services.invitation_create(created_by=MemberFactory()).invitation_code

    def accept_as(telegram_id):
        return lambda: services.invitation_accept(
            invitation_code=code,
            telegram_id=telegram_id,
            name=f"Person {telegram_id}",
            primary_role="developer",
        )

    results, errors = in_parallel(accept_as("71001"), accept_as("71002"))
    assert set(results) == {"first"}, errors
    assert codes(errors["second"], "invitation_code") == ["used"]
    winner = CommunityMember.objects.get(telegram_id="71001")
    assert winner.status == MemberStatus.MEMBER
    assert CommunityInvitation.objects.get().accepted_by_id == winner.member_id
    assert not CommunityMember.all_objects.filter(telegram_id="71002").exists()
    assert MemberRelationship.objects.count() == 1


def assert_one_acceptance_by(telegram_id: str, results, errors) -> None:
    assert len([r for r in results if r is not None]) == 1, errors
    for error in errors:
        if isinstance(error, ValidationError):
            assert codes(error, "telegram_id") == ["already_member"]
        elif error is not None:
            assert isinstance(error, IntegrityError), error
    (member,) = CommunityMember.all_objects.filter(telegram_id=telegram_id)
    assert member.status == MemberStatus.MEMBER
    (accepted,) = CommunityInvitation.objects.filter(status=InvitationStatus.ACCEPTED)
    assert accepted.accepted_by_id == member.member_id
    (relationship,) = MemberRelationship.objects.all()
    assert relationship.entity_id_b == member.member_id
    # The creator is #1 and the one new member #2: the losers' numbers went
    # back with their rolled-back transactions.
    assert last_number() == 2


def test_one_person_accepting_two_codes_at_once_joins_once(in_parallel):
    creator = MemberFactory()
    first, second = (
        services.invitation_create(created_by=creator).invitation_code for _ in range(2)
    )

    def accept_code(code):
        return lambda: services.invitation_accept(
            invitation_code=code,
            telegram_id="72000",
            name="Eager",
            primary_role="developer",
        )

    results, errors = in_parallel(accept_code(first), accept_code(second))
    assert "first" in results, errors
    assert codes(errors["second"], "telegram_id") == ["already_member"]
    assert_one_acceptance_by("72000", list(results.values()), list(errors.values()))
    assert CommunityInvitation.objects.filter(status="pending").count() == 1


def test_one_person_accepting_six_codes_at_once_joins_once(
    postgresql, transactional_db
):
    creator = MemberFactory()
    invitation_codes = [
        services.invitation_create(created_by=creator).invitation_code for _ in range(6)
    ]
    results, errors = all_at_once(
        [
            lambda code=code: services.invitation_accept(
                invitation_code=code,
                telegram_id="73000",
                name="Very Eager",
                primary_role="developer",
            )
            for code in invitation_codes
        ]
    )
    assert_one_acceptance_by("73000", results, errors)
    assert CommunityInvitation.objects.filter(status="pending").count() == 5
    assert CommunityMember.all_objects.count() == 2


# --- invitation_revoke and invitations_expire ---------------------------------------


def test_revoking_a_pending_invitation(invitation):
    revoked = services.invitation_revoke(invitation=invitation)
    assert revoked.status == InvitationStatus.REVOKED
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.REVOKED


@pytest.mark.parametrize("status", ["accepted", "revoked", "expired"])
def test_only_a_pending_invitation_can_be_revoked(invitation, status):
    if status == "accepted":
        accept(invitation)
    elif status == "revoked":
        services.invitation_revoke(invitation=invitation)
    else:
        CommunityInvitation.objects.filter(pk=invitation.pk).update(
            status=InvitationStatus.EXPIRED
        )
    with pytest.raises(ValidationError) as error:
        services.invitation_revoke(invitation=invitation)
    assert codes(error.value, "invitation_code") == [status]
    invitation.refresh_from_db()
    assert invitation.status == status


def test_expiring_marks_only_overdue_pending_invitations(creator):
    now = timezone.now()

    def made(status=None, overdue=False):
        invitation = services.invitation_create(created_by=creator)
        if status == "accepted":
            accept(invitation, telegram_id=str(9100 + CommunityMember.objects.count()))
        elif status == "revoked":
            services.invitation_revoke(invitation=invitation)
        if overdue:
            CommunityInvitation.objects.filter(pk=invitation.pk).update(
                expires_at=now - timedelta(hours=1)
            )
        return invitation.pk

    overdue = [made(overdue=True), made(overdue=True)]
    current = made()
    accepted = made("accepted", overdue=True)
    revoked = made("revoked", overdue=True)

    assert services.invitations_expire() == 2
    statuses = dict(CommunityInvitation.objects.values_list("pk", "status"))
    assert statuses == {
        overdue[0]: "expired",
        overdue[1]: "expired",
        current: "pending",
        accepted: "accepted",
        revoked: "revoked",
    }
    assert services.invitations_expire() == 0


def test_expiring_as_of_a_given_time(invitation):
    assert services.invitations_expire(now=timezone.now()) == 0
    assert services.invitations_expire(now=invitation.expires_at) == 1
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.EXPIRED


# --- member_delete and member_restore -----------------------------------------------


def test_deleting_a_member_hides_them_and_revokes_their_pending_invitations(creator):
    other = MemberFactory()
    pending = services.invitation_create(created_by=creator)
    used = services.invitation_create(created_by=creator)
    accept(used)
    others = services.invitation_create(created_by=other)

    services.member_delete(member=creator)

    assert not CommunityMember.objects.filter(pk=creator.pk).exists()
    deleted = CommunityMember.all_objects.get(pk=creator.pk)
    assert deleted.deleted_at is not None
    statuses = dict(CommunityInvitation.objects.values_list("pk", "status"))
    assert statuses == {
        pending.pk: "revoked",
        used.pk: "accepted",
        others.pk: "pending",
    }


def test_restoring_a_member_shows_them_again_but_revoked_stays_revoked(creator):
    pending = services.invitation_create(created_by=creator)
    services.member_delete(member=creator)
    restored = services.member_restore(
        member=CommunityMember.all_objects.get(pk=creator.pk)
    )
    assert restored.deleted_at is None
    member = CommunityMember.objects.get(pk=creator.pk)
    assert member.deleted_at is None
    pending.refresh_from_db()
    assert pending.status == InvitationStatus.REVOKED
    services.invitation_create(created_by=member)  # may invite again


def test_deleting_twice_is_refused(creator):
    services.member_delete(member=creator)
    deleted = CommunityMember.all_objects.get(pk=creator.pk)
    when = deleted.deleted_at
    with pytest.raises(ValidationError) as error:
        services.member_delete(member=deleted)
    assert codes(error.value, "member_id") == ["deleted"]
    deleted.refresh_from_db()
    assert deleted.deleted_at == when


def test_restoring_a_live_member_is_refused(creator):
    with pytest.raises(ValidationError) as error:
        services.member_restore(member=creator)
    assert codes(error.value, "member_id") == ["not_deleted"]


# --- member_github_verify -----------------------------------------------------------


def test_verifying_github_records_username_time_and_profile(creator):
    before = timezone.now()
    verified = services.member_github_verify(
        member=creator, github_username="Octo-Cat", profile_data={"public_repos": 8}
    )
    assert isinstance(verified.github_verified_at, datetime)
    creator.refresh_from_db()
    assert creator.github_username == "Octo-Cat"
    assert creator.github_verified is True
    assert before <= creator.github_verified_at <= timezone.now()
    assert creator.github_profile_data == {"public_repos": 8}


def test_a_failed_check_clears_the_verification(creator):
    services.member_github_verify(member=creator, github_username="octocat")
    services.member_github_verify(
        member=creator, github_username="octocat", verified=False, profile_data=None
    )
    creator.refresh_from_db()
    assert creator.github_verified is False
    assert creator.github_verified_at is None
    assert creator.github_username == "octocat"
    assert creator.github_profile_data is None


@pytest.mark.parametrize("second_name", ["octocat", "OCTOCAT", "OctoCat"])
def test_a_github_account_is_verified_for_one_member_only(creator, second_name):
    other = MemberFactory()
    services.member_github_verify(member=creator, github_username="OctoCat")
    with pytest.raises(ValidationError) as error:
        services.member_github_verify(member=other, github_username=second_name)
    assert codes(error.value, "github_username") == ["unique"]
    other.refresh_from_db()
    assert (other.github_username, other.github_verified) == (None, False)


def test_a_failed_check_of_a_verified_account_is_recorded_for_another_member(creator):
    other = MemberFactory()
    services.member_github_verify(member=creator, github_username="octocat")
    services.member_github_verify(
        member=other, github_username="octocat", verified=False
    )
    other.refresh_from_db()
    assert (other.github_username, other.github_verified) == ("octocat", False)


def test_a_member_may_verify_their_own_account_again(creator):
    services.member_github_verify(member=creator, github_username="octocat")
    services.member_github_verify(
        member=creator, github_username="OctoCat", profile_data={"login": "OctoCat"}
    )
    creator.refresh_from_db()
    assert creator.github_username == "OctoCat"
    assert creator.github_verified


def test_two_members_verifying_one_account_at_once_verify_it_once(in_parallel):
    """The loser's check finds no holder yet (the winner has not committed):
    the partial unique index refuses it, an IntegrityError the API answers
    with 409; a ValidationError would do as well."""
    ada, bob = MemberFactory.create_batch(2)
    results, errors = in_parallel(
        lambda: services.member_github_verify(member=ada, github_username="octocat"),
        lambda: services.member_github_verify(member=bob, github_username="OctoCat"),
    )
    assert set(results) == {"first"}, errors
    assert isinstance(errors["second"], IntegrityError | ValidationError)
    assert list(
        CommunityMember.objects.filter(github_verified=True).values_list(
            "member_id", "github_username"
        )
    ) == [(ada.member_id, "octocat")]
    bob.refresh_from_db()
    assert (bob.github_username, bob.github_verified_at) == (None, None)


@pytest.mark.parametrize(
    "username", ["", "-octo", "octo-", "oc--to", "octo cat", "octo_cat", "a" * 40]
)
def test_a_malformed_github_username_is_refused(creator, username):
    with pytest.raises(ValidationError):
        services.member_github_verify(member=creator, github_username=username)
    creator.refresh_from_db()
    assert (creator.github_username, creator.github_verified) == (None, False)


@pytest.mark.parametrize("profile", [["a", "list"], "text", 3])
def test_a_github_profile_that_is_not_an_object_is_refused(creator, profile):
    with pytest.raises(ValidationError) as error:
        services.member_github_verify(
            member=creator, github_username="octocat", profile_data=profile
        )
    assert codes(error.value, "profile_data") == ["invalid_type"]
    creator.refresh_from_db()
    assert creator.github_username is None


# --- member_reputation_change -------------------------------------------------------


def test_score_and_tier_move_together_across_every_threshold(creator):
    steps = [
        (99, 99, ReputationTier.NOVICE),
        (1, 100, ReputationTier.CONTRIBUTOR),
        (399, 499, ReputationTier.CONTRIBUTOR),
        (1, 500, ReputationTier.EXPERT),
        (1499, 1999, ReputationTier.EXPERT),
        (1, 2000, ReputationTier.CHAMPION),
        (-1, 1999, ReputationTier.EXPERT),
        (-1900, 99, ReputationTier.NOVICE),
        (-200, -101, ReputationTier.NOVICE),
        (201, 100, ReputationTier.CONTRIBUTOR),
    ]
    for delta, score, tier in steps:
        changed = services.member_reputation_change(
            member=creator, delta=delta, reason=f"step {delta}"
        )
        assert (changed.reputation_score, changed.reputation_tier) == (score, tier)
        creator.refresh_from_db()
        assert (creator.reputation_score, creator.reputation_tier) == (score, tier)


def test_each_change_is_recorded_as_a_reputation_event(creator):
    services.member_reputation_change(member=creator, delta=120, reason="welcome")
    services.member_reputation_change(member=creator, delta=-20, reason="spam")
    events = {
        e.event_metadata["reason"]: e
        for e in MemberParticipation.objects.filter(member=creator)
    }
    assert {
        reason: (e.event_type, e.platform, e.room_id, e.event_metadata)
        for reason, e in events.items()
    } == {
        "welcome": (
            EventType.REPUTATION,
            Platform.SYSTEM,
            "",
            {"delta": 120, "reason": "welcome", "score": 120},
        ),
        "spam": (
            EventType.REPUTATION,
            Platform.SYSTEM,
            "",
            {"delta": -20, "reason": "spam", "score": 100},
        ),
    }
    # In order of time; SQLite's clock has milliseconds, so both may share
    # one (and the random ids do not break the tie in the order made).
    assert events["welcome"].occurred_at <= events["spam"].occurred_at


def scored(member, score: int) -> None:
    """Give ``member`` ``score`` (and its tier) directly: a change may move the
    score by at most services.MAX_REPUTATION_DELTA."""
    CommunityMember.all_objects.filter(pk=member.pk).update(
        reputation_score=score, reputation_tier=tier_for(score)
    )


@pytest.mark.parametrize("start, delta", [(INT_MAX, 1), (INT_MIN, -1)])
def test_a_score_beyond_int32_is_refused(creator, start, delta):
    scored(creator, start)
    events = MemberParticipation.objects.count()
    with pytest.raises(ValidationError) as error:
        services.member_reputation_change(member=creator, delta=delta, reason="x")
    assert codes(error.value, "delta") == ["range"]
    creator.refresh_from_db()
    assert creator.reputation_score == start
    assert MemberParticipation.objects.count() == events


def test_the_score_may_reach_the_int32_bounds(creator):
    scored(creator, INT_MAX - 5)
    services.member_reputation_change(member=creator, delta=5, reason="max")
    creator.refresh_from_db()
    assert (creator.reputation_score, creator.reputation_tier) == (
        INT_MAX,
        ReputationTier.CHAMPION,
    )
    scored(creator, INT_MIN + 5)
    services.member_reputation_change(member=creator, delta=-5, reason="min")
    creator.refresh_from_db()
    assert (creator.reputation_score, creator.reputation_tier) == (
        INT_MIN,
        ReputationTier.NOVICE,
    )


def test_a_deleted_member_gets_no_reputation(creator):
    services.member_delete(member=creator)
    with pytest.raises(ValidationError) as error:
        services.member_reputation_change(member=creator, delta=10, reason="x")
    assert codes(error.value, "member_id") == ["deleted"]
    member = CommunityMember.all_objects.get(pk=creator.pk)
    assert member.reputation_score == 0
    assert not MemberParticipation.objects.exists()


def test_two_changes_at_once_both_apply(in_parallel):
    member = MemberFactory()
    results, errors = in_parallel(
        lambda: services.member_reputation_change(member=member, delta=450, reason="a"),
        lambda: services.member_reputation_change(member=member, delta=60, reason="b"),
    )
    assert errors == {}
    assert results["second"].reputation_score == 510
    member.refresh_from_db()
    assert (member.reputation_score, member.reputation_tier) == (
        510,
        ReputationTier.EXPERT,
    )
    scores = sorted(
        e["score"]
        for e in MemberParticipation.objects.values_list("event_metadata", flat=True)
    )
    assert scores == [450, 510]


# --- participation_record -----------------------------------------------------------


def event(member, event_type=EventType.MESSAGE, **fields):
    return {
        "member_id": member.member_id,
        "event_type": event_type,
        "platform": Platform.TELEGRAM,
        "room_id": "general",
        **fields,
    }


def test_recording_inserts_every_event(creator):
    other = MemberFactory()
    rows = services.participation_record(
        events=[
            event(creator),
            event(creator, EventType.REACTION, event_metadata={"emoji": "👍"}),
            event(other, EventType.VOICE, event_metadata={"minutes": 12}),
        ]
    )
    assert len(rows) == 3
    stored = sorted(
        MemberParticipation.objects.values_list(
            "member_id", "event_type", "event_metadata"
        )
    )
    assert stored == sorted(
        [
            (creator.member_id, "MESSAGE", None),
            (creator.member_id, "REACTION", {"emoji": "👍"}),
            (other.member_id, "VOICE", {"minutes": 12}),
        ]
    )


def test_an_event_without_a_time_happened_now(creator):
    before = timezone.now()
    services.participation_record(events=[event(creator)])
    after = timezone.now()
    occurred = MemberParticipation.objects.get().occurred_at
    assert before <= occurred <= after
    creator.refresh_from_db()
    assert creator.last_active_at == occurred


def test_last_active_moves_to_the_latest_event_and_never_back(creator):
    other = MemberFactory()
    noon = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)
    services.participation_record(
        events=[
            event(creator, occurred_at=noon + timedelta(hours=2)),
            event(creator, occurred_at=noon),
            event(other, occurred_at=noon - timedelta(hours=5)),
            event(creator, occurred_at=noon + timedelta(hours=1)),
        ]
    )
    creator.refresh_from_db()
    other.refresh_from_db()
    assert creator.last_active_at == noon + timedelta(hours=2)
    assert other.last_active_at == noon - timedelta(hours=5)

    # An older event (a bot catching up) does not move it back...
    services.participation_record(events=[event(creator, occurred_at=noon)])
    creator.refresh_from_db()
    assert creator.last_active_at == noon + timedelta(hours=2)
    # ...a newer one moves it forward, for that member only.
    services.participation_record(
        events=[event(creator, occurred_at=noon + timedelta(hours=3, microseconds=1))]
    )
    creator.refresh_from_db()
    other.refresh_from_db()
    assert creator.last_active_at == noon + timedelta(hours=3, microseconds=1)
    assert other.last_active_at == noon - timedelta(hours=5)
    assert MemberParticipation.objects.count() == 6


def test_recording_nothing_writes_nothing(creator):
    assert services.participation_record(events=[]) == []
    assert not MemberParticipation.objects.exists()


# --- daily_highlights_build ---------------------------------------------------------

DAY = date(2024, 3, 10)
MIDNIGHT = datetime(2024, 3, 10, tzinfo=UTC)


def highlights() -> dict:
    return {
        (h.member_id, h.highlight_date): (
            h.message_count,
            h.reaction_count,
            h.voice_minutes,
            h.reputation_earned,
        )
        for h in MemberDailyHighlight.objects.all()
    }


@pytest.fixture
def day_of_events(creator):
    """Two members' events on DAY, and others just outside it."""
    other = MemberFactory()
    plus_two = dt_timezone(timedelta(hours=2))
    services.participation_record(
        events=[
            # DAY, from its first instant...
            event(creator, occurred_at=MIDNIGHT),
            event(creator, occurred_at=MIDNIGHT + timedelta(hours=9)),
            event(creator, occurred_at=MIDNIGHT + timedelta(hours=23, minutes=59)),
            event(creator, EventType.REACTION, occurred_at=MIDNIGHT),
            event(
                creator,
                EventType.VOICE,
                occurred_at=MIDNIGHT + timedelta(hours=3),
                event_metadata={"minutes": 15},
            ),
            event(
                creator,
                EventType.VOICE,
                occurred_at=MIDNIGHT + timedelta(hours=4),
                event_metadata={"minutes": 20},
            ),
            {
                **event(creator, EventType.REPUTATION),
                "platform": Platform.SYSTEM,
                "room_id": "",
                "occurred_at": MIDNIGHT + timedelta(hours=5),
                "event_metadata": {"delta": 30, "reason": "a", "score": 30},
            },
            {
                **event(creator, EventType.REPUTATION),
                "platform": Platform.SYSTEM,
                "room_id": "",
                "occurred_at": MIDNIGHT + timedelta(hours=6),
                "event_metadata": {"delta": -50, "reason": "b", "score": -20},
            },
            # ...to its last (01:59 on the 11th at UTC+2 is 23:59 UTC on DAY).
            event(
                other,
                EventType.REACTION,
                occurred_at=datetime(2024, 3, 11, 1, 59, 59, 999_999, tzinfo=plus_two),
            ),
            # The day before: its last microsecond, and 01:00 at UTC+2 on DAY.
            event(creator, occurred_at=MIDNIGHT - timedelta(microseconds=1)),
            event(creator, occurred_at=datetime(2024, 3, 10, 1, 0, tzinfo=plus_two)),
            # The day after: its midnight.
            event(other, occurred_at=MIDNIGHT + timedelta(days=1)),
        ]
    )
    return creator, other


def test_highlights_sum_one_utc_day(day_of_events):
    creator, other = day_of_events
    assert services.daily_highlights_build(day=DAY) == 2
    assert highlights() == {
        (creator.member_id, DAY): (3, 1, 35, -20),
        (other.member_id, DAY): (0, 1, 0, 0),
    }


def test_events_at_the_edges_fall_on_their_own_day(day_of_events):
    creator, other = day_of_events
    assert services.daily_highlights_build(day=DAY - timedelta(days=1)) == 1
    assert services.daily_highlights_build(day=DAY + timedelta(days=1)) == 1
    assert highlights() == {
        (creator.member_id, DAY - timedelta(days=1)): (2, 0, 0, 0),
        (other.member_id, DAY + timedelta(days=1)): (1, 0, 0, 0),
    }


def test_building_twice_gives_the_same_rows(day_of_events):
    services.daily_highlights_build(day=DAY)
    first = {h.pk: h for h in MemberDailyHighlight.objects.all()}
    assert services.daily_highlights_build(day=DAY) == 2
    second = {h.pk: h for h in MemberDailyHighlight.objects.all()}
    assert set(first) == set(second)
    assert MemberDailyHighlight.objects.count() == 2
    for pk, row in first.items():
        assert (row.member_id, row.highlight_date, row.message_count) == (
            second[pk].member_id,
            second[pk].highlight_date,
            second[pk].message_count,
        )


def test_a_rebuild_picks_up_new_events_in_place(day_of_events):
    creator, _ = day_of_events
    services.daily_highlights_build(day=DAY)
    row = MemberDailyHighlight.objects.get(member=creator)
    services.participation_record(
        events=[event(creator, occurred_at=MIDNIGHT + timedelta(hours=12))]
    )
    services.daily_highlights_build(day=DAY)
    rebuilt = MemberDailyHighlight.objects.get(member=creator)
    assert rebuilt.pk == row.pk
    assert rebuilt.message_count == 4


def test_a_member_with_no_events_left_loses_the_days_row(day_of_events):
    creator, other = day_of_events
    services.daily_highlights_build(day=DAY)
    services.daily_highlights_build(day=DAY + timedelta(days=1))
    MemberParticipation.objects.filter(
        member=other, occurred_at__lt=MIDNIGHT + timedelta(days=1)
    ).delete()
    assert services.daily_highlights_build(day=DAY) == 1
    assert set(highlights()) == {
        (creator.member_id, DAY),
        (other.member_id, DAY + timedelta(days=1)),  # another day: untouched
    }


def test_a_day_without_events_has_no_rows(day_of_events):
    assert services.daily_highlights_build(day=date(2024, 1, 1)) == 0
    assert not MemberDailyHighlight.objects.exists()


def test_highlights_sum_todays_reputation_changes(creator):
    services.member_reputation_change(member=creator, delta=130, reason="talk")
    services.member_reputation_change(member=creator, delta=-30, reason="spam")
    services.participation_record(events=[event(creator)])
    today = timezone.now().astimezone(UTC).date()
    assert services.daily_highlights_build(day=today) == 1
    assert highlights() == {(creator.member_id, today): (1, 0, 0, 100)}


@pytest.mark.parametrize("delta", [-1_000_001, 1_000_001, 3_000_000_000])
def test_a_reputation_change_beyond_the_maximum_is_refused(creator, delta):
    with pytest.raises(ValidationError) as raised:
        services.member_reputation_change(member=creator, delta=delta, reason="x")
    assert raised.value.error_dict["delta"][0].code == "max_value"
    creator.refresh_from_db()
    assert creator.reputation_score == 0
    assert not MemberParticipation.objects.exists()


def test_a_days_reputation_sum_is_held_within_the_column(creator):
    """Deltas recorded by any writer may sum beyond ``integer``: the day's
    row holds the nearest value the column can."""
    big = {
        "member_id": creator.member_id,
        "event_type": "REPUTATION",
        "platform": "system",
        "room_id": "",
        "event_metadata": {"delta": 1_500_000_000},
    }
    services.participation_record(events=[big, big])
    today = timezone.now().astimezone(UTC).date()
    assert services.daily_highlights_build(day=today) == 1
    assert MemberDailyHighlight.objects.get().reputation_earned == INT_MAX
