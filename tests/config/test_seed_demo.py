"""``manage.py seed_demo``: a coherent demo of every app, idempotent, scalable."""

import io
import re

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command

from profiles.models import User, UserHighlight
from tests.profiles.factories import UserFactory

pytestmark = pytest.mark.django_db

# Tables the demo leaves empty on purpose: Django's bookkeeping, API tokens
# (made at login), and the stats fallback (filled only while Redis is down).
NOT_DEMOED = {
    "admin.LogEntry",
    "auth.Group",
    "auth.Permission",
    "authtoken.Token",
    "authtoken.TokenProxy",
    "contenttypes.ContentType",
    "sessions.Session",
    "profiles.UserStatsCache",
}


def seed_demo(*args) -> str:
    out = io.StringIO()
    call_command("seed_demo", "--force", *args, stdout=out)
    return out.getvalue()


def row_counts() -> dict[str, int]:
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models()
        if model._meta.label not in NOT_DEMOED
    }


def test_every_table_gets_rows_and_a_second_run_adds_none():
    output = seed_demo()
    first = row_counts()
    assert [label for label, count in first.items() if not count] == []
    assert "100%" in output and "posts" in output
    seed_demo()
    assert row_counts() == first


def test_the_printed_staff_login_works(client):
    output = seed_demo()
    username, password = re.search(r"for /admin/: (\S+) / (\S+)", output).groups()
    assert client.login(username=username, password=password)
    assert client.get("/admin/").status_code == 200


def test_the_demo_is_coherent():
    seed_demo()
    highlights = UserHighlight.objects.order_by("user", "position")
    by_user = {}
    for highlight in highlights:
        by_user.setdefault(highlight.user_id, []).append(highlight.position)
    assert all(p == list(range(len(p))) for p in by_user.values())  # contiguous


def test_scale_multiplies_the_demo():
    seed_demo()
    before = row_counts()
    seed_demo("--scale", "3")
    after = row_counts()
    # Two accounts do not scale: the staff account and the community bot's.
    assert after["profiles.User"] == 3 * (before["profiles.User"] - 2) + 2
    members = "community.CommunityMember"
    assert after[members] == 3 * before[members]


def test_real_users_are_left_alone():
    ada = UserFactory(username="ada", tagline="Mine")
    seed_demo()
    ada.refresh_from_db()
    assert ada.tagline == "Mine" and not ada.highlights.exists()


def test_it_refuses_to_run_with_debug_off_unless_forced(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="--force"):
        call_command("seed_demo", stdout=io.StringIO())


def test_the_first_demo_user_reacts_much_more_than_the_others():
    """The benchmark's heaviest user (bench/run)."""
    seed_demo()
    users = User.objects.filter(username__startswith="demo-user-").order_by("username")
    counts = [user.reactions.count() for user in users]
    assert counts[0] > 5 * max(counts[1:])


def test_every_demo_user_has_chats_rooms_and_private_messages():
    """The showcase users' through the services, the others' bulk-inserted:
    every user has what the benchmark reads (bench/run)."""
    seed_demo()
    users = User.objects.filter(username__startswith="demo-user-")
    assert users.count() == 20
    for user in users:
        assert user.conversations.count() >= 5
        assert all(c.messages.exists() for c in user.conversations.all())
        assert user.tasks.exists()
        assert user.rooms.exists() and user.room_messages.exists()
        assert user.sent_messages.exists() or user.received_messages.exists()
