"""The safety tables as the database keeps them: cascades and SET NULL in
PostgreSQL itself, the moderation log keeping its author, the added CHECKs,
and the seed's indexes serving their reads."""

import pytest
from django.db import IntegrityError, connection, transaction

from safety import services
from safety.models import (
    Block,
    ChatRoom,
    ChatRoomMember,
    ChatRoomMessage,
    ModerationAction,
    Presence,
    Report,
)
from tests.helpers import sql
from tests.profiles.factories import UserFactory
from tests.safety.factories import RoomFactory, every_safety_table

pytestmark = pytest.mark.django_db


def test_deleting_a_room_in_sql_keeps_its_reports(postgresql):
    owner = UserFactory()
    every_safety_table(owner)
    room = ChatRoom.objects.get(owner=owner)
    report = Report.objects.get()
    sql("DELETE FROM chat_rooms WHERE id = %s", [room.pk])
    assert not ChatRoomMember.objects.filter(room_id=room.pk).exists()
    assert not ChatRoomMessage.objects.exists()
    assert Presence.objects.get(user=owner).room_id is None
    report.refresh_from_db()
    assert (report.reported_room_id, report.reported_message_id) == (None, None)
    assert report.reported_user_id is not None  # the message's author, kept


def test_a_moderator_with_actions_cannot_be_deleted(postgresql):
    moderator, target = UserFactory(), UserFactory()
    services.moderation_action_create(
        moderator=moderator, target_user=target, action_type="warn", reason="x"
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        sql("SET CONSTRAINTS ALL IMMEDIATE")  # Django's keys are deferred
        sql("DELETE FROM users WHERE id = %s", [moderator.pk])
    sql("SET CONSTRAINTS ALL DEFERRED")
    sql("DELETE FROM users WHERE id = %s", [target.pk])
    assert ModerationAction.objects.get().target_user_id is None


@pytest.mark.parametrize(
    "make",
    [
        lambda u, v, room: ChatRoomMember.objects.create(room=room, user=room.owner),
        lambda u, v, room: ChatRoomMember.objects.create(
            room=room, user=u, role="BOSS"
        ),
        lambda u, v, room: Block.objects.create(blocker=u, blocked=u),
        lambda u, v, room: ModerationAction.objects.create(
            moderator=u, action_type="ban", reason="x"
        ),
        lambda u, v, room: ModerationAction.objects.create(
            moderator=u, action_type="mute", reason="", target_user=v
        ),
        lambda u, v, room: ModerationAction.objects.create(
            moderator=u, action_type="mute", reason="x", duration_minutes=0
        ),
        lambda u, v, room: ChatRoom.objects.create(
            owner=u, room_name="r", max_participants=0
        ),
        lambda u, v, room: Presence.objects.create(user=u, status="busy"),
    ],
    ids=[
        "member twice",
        "unknown role",
        "self-block",
        "unknown action",
        "no reason",
        "zero minutes",
        "no capacity",
        "unknown status",
    ],
)
def test_constraints_refuse(make):
    u, v = UserFactory(), UserFactory()
    room = RoomFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        make(u, v, room)


@pytest.mark.parametrize(
    "table, statement, index",
    [
        (
            "reports",
            "SELECT id FROM reports WHERE status = 'pending'",
            "idx_reports_status",
        ),
        (
            "reports",
            "SELECT id FROM reports WHERE reported_user_id = %s",
            "idx_reports_reported_user",
        ),
        (
            "blocks",
            "SELECT blocked_id FROM blocks WHERE blocked_id = %s",
            "idx_blocks_blocked",
        ),
        (
            "presence",
            "SELECT user_id FROM presence WHERE status = 'online'",
            "idx_presence_status",
        ),
        (
            "moderation_actions",
            "SELECT id FROM moderation_actions WHERE target_user_id = %s",
            "idx_moderation_target",
        ),
        (
            "chat_room_messages",
            "SELECT id FROM chat_room_messages WHERE room_id = 1 "
            "ORDER BY created_at DESC, id DESC LIMIT 50",
            "idx_room_messages_room_created",
        ),
    ],
)
def test_indexes_serve_their_reads(postgresql, table, statement, index):
    for _ in range(3):
        every_safety_table(UserFactory())
    params = [UserFactory().pk] if "%s" in statement else []
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {table}")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {statement}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert index in plan, plan
