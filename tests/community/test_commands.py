"""The community's management commands (invitations expired, daily highlights
built for a range of days) and ``service_account``, which gives a bot a token
and every permission of the community app."""

import io
from datetime import UTC, date, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management import CommandError, call_command
from django.utils import timezone
from rest_framework.authtoken.models import Token

from community import services
from community.models import (
    CommunityInvitation,
    EventType,
    InvitationStatus,
    MemberDailyHighlight,
    Platform,
)
from tests.community.factories import MemberFactory

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


# --- community_expire_invitations ---------------------------------------------------


def test_expire_invitations_expires_the_overdue_pending_ones_and_says_how_many():
    creator = MemberFactory()
    invitations = [services.invitation_create(created_by=creator) for _ in range(4)]
    overdue, also_overdue, current, revoked = invitations
    services.invitation_revoke(invitation=revoked)
    CommunityInvitation.objects.filter(
        pk__in=[overdue.pk, also_overdue.pk, revoked.pk]
    ).update(expires_at=timezone.now() - timedelta(minutes=5))

    assert run("community_expire_invitations") == "2 invitation(s) expired.\n"
    assert dict(CommunityInvitation.objects.values_list("pk", "status")) == {
        overdue.pk: InvitationStatus.EXPIRED,
        also_overdue.pk: InvitationStatus.EXPIRED,
        current.pk: InvitationStatus.PENDING,
        revoked.pk: InvitationStatus.REVOKED,
    }
    assert run("community_expire_invitations") == "0 invitation(s) expired.\n"


# --- community_daily_highlights -----------------------------------------------------


def message_at(member, when: datetime) -> dict:
    return {
        "member_id": member.member_id,
        "event_type": EventType.MESSAGE,
        "platform": Platform.TELEGRAM,
        "room_id": "general",
        "occurred_at": when,
    }


@pytest.fixture
def three_days():
    """Messages on 8, 9 (two members) and 10 March 2024, UTC."""
    ada, bob = MemberFactory.create_batch(2)
    services.participation_record(
        events=[
            message_at(ada, datetime(2024, 3, 8, 12, tzinfo=UTC)),
            message_at(ada, datetime(2024, 3, 9, 0, tzinfo=UTC)),
            message_at(bob, datetime(2024, 3, 9, 23, 59, 59, tzinfo=UTC)),
            message_at(ada, datetime(2024, 3, 10, 8, tzinfo=UTC)),
            message_at(ada, datetime(2024, 3, 10, 9, tzinfo=UTC)),
        ]
    )
    return ada, bob


def rows() -> list[tuple]:
    return sorted(
        MemberDailyHighlight.objects.values_list(
            "id", "member_id", "highlight_date", "message_count"
        )
    )


def test_daily_highlights_builds_each_day_up_to_the_date(three_days):
    ada, bob = three_days
    out = run("community_daily_highlights", "--date", "2024-03-10", "--days", "2")
    assert out == "2024-03-09: 2 member(s).\n2024-03-10: 1 member(s).\n"
    assert sorted(
        MemberDailyHighlight.objects.values_list(
            "member_id", "highlight_date", "message_count"
        )
    ) == sorted(
        [
            (ada.member_id, date(2024, 3, 9), 1),
            (bob.member_id, date(2024, 3, 9), 1),
            (ada.member_id, date(2024, 3, 10), 2),
        ]
    )


def test_daily_highlights_builds_one_day_by_default(three_days):
    (ada, _) = three_days
    assert run("community_daily_highlights", "--date", "2024-03-08") == (
        "2024-03-08: 1 member(s).\n"
    )
    assert list(
        MemberDailyHighlight.objects.values_list("member_id", "highlight_date")
    ) == [(ada.member_id, date(2024, 3, 8))]


def test_daily_highlights_twice_gives_the_same_rows(three_days):
    args = ("community_daily_highlights", "--date", "2024-03-10", "--days", "3")
    first_out = run(*args)
    first = rows()
    assert len(first) == 4
    assert run(*args) == first_out
    assert rows() == first


def test_daily_highlights_without_a_date_builds_yesterday():
    member = MemberFactory()
    yesterday = timezone.now().date() - timedelta(days=1)
    services.participation_record(
        events=[
            message_at(member, datetime.combine(yesterday, datetime.min.time(), UTC))
        ]
    )
    assert run("community_daily_highlights") == f"{yesterday}: 1 member(s).\n"
    assert MemberDailyHighlight.objects.get().highlight_date == yesterday


@pytest.mark.parametrize(
    "args, message",
    [
        (("--date", "10/03/2024"), "YYYY-MM-DD"),
        (("--date", "2024-02-30"), "YYYY-MM-DD"),
        (("--date", "yesterday"), "YYYY-MM-DD"),
        (("--date", "2024-03-10", "--days", "0"), "--days"),
        (("--days", "-3"), "--days"),
    ],
)
def test_daily_highlights_refuses_bad_arguments(three_days, args, message):
    with pytest.raises(CommandError, match=message):
        run("community_daily_highlights", *args)
    assert not MemberDailyHighlight.objects.exists()


# --- service_account ----------------------------------------------------------------


def test_service_account_gets_every_community_permission_and_a_token():
    out = run("service_account", "community-bot", "community")

    user = get_user_model().objects.get(username="community-bot")
    token = Token.objects.get(user=user)
    assert out == f"{token.key}\n"
    assert not user.is_staff
    assert not user.is_superuser
    assert user.is_active
    assert not user.has_usable_password()
    assert list(user.groups.values_list("name", flat=True)) == ["community service"]

    group = Group.objects.get(name="community service")
    community = Permission.objects.filter(content_type__app_label="community")
    assert community.count() > 20  # four per model, and the custom one
    assert set(group.permissions.all()) == set(community)
    assert user.has_perm("community.view_private_data")
    assert user.has_perm("community.add_communitymember")
    assert user.has_perm("community.change_communityinvitation")
    assert not user.has_perm("profiles.add_post")


def test_service_account_twice_keeps_one_user_and_one_token():
    first = run("service_account", "community-bot", "community")
    second = run("service_account", "community-bot", "community")
    assert first == second
    assert get_user_model().objects.filter(username="community-bot").count() == 1
    assert Token.objects.filter(user__username="community-bot").count() == 1
    assert Group.objects.filter(name="community service").count() == 1


def test_service_account_of_an_unknown_app_is_refused_and_writes_nothing():
    with pytest.raises(CommandError, match="no_such_app"):
        run("service_account", "community-bot", "community", "no_such_app")
    assert not get_user_model().objects.filter(username="community-bot").exists()
    assert not Token.objects.exists()
    assert not Group.objects.filter(name="community service").exists()
