"""The chatbot tables as the database holds them (seed 002): ON DELETE
CASCADE in the database itself (a user deleted with raw SQL takes their tasks,
conversations and messages; a conversation its messages), the role CHECK,
the seed's index names (and PostgreSQL's planner choosing the composite ones
for the lists), UUID keys made by the database, and the timestamps."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import IntegrityError, connection, transaction

from chatbot import services
from chatbot.models import Conversation, Message, Role, Task
from tests.chatbot.factories import ConversationFactory, TaskFactory
from tests.profiles.factories import UserFactory

pytestmark = pytest.mark.django_db

SEED_INDEXES = {
    "tasks": {"idx_tasks_user_id", "idx_tasks_user_id_created_at"},
    "conversations": {
        "idx_conversations_user_id",
        "idx_conversations_user_id_updated_at",
    },
    "messages": {
        "idx_messages_conversation_id",
        "idx_messages_user_id",
        "idx_messages_conversation_id_created_at",
    },
}
START = datetime(2024, 1, 1, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
PAGE = 51  # the API reads a page (50) and one more row


def chatter(user) -> Conversation:
    """A task of ``user`` and a conversation of theirs with two turns (four
    messages, the agent adding a task in the first)."""
    TaskFactory(user=user)
    conversation = ConversationFactory(user=user)
    services.message_post(conversation=conversation, content="add buy milk")
    services.message_post(conversation=conversation, content="list")
    return conversation


def counts(user) -> tuple[int, int, int]:
    return (
        Task.objects.filter(user=user).count(),
        Conversation.objects.filter(user=user).count(),
        Message.objects.filter(user=user).count(),
    )


def raw(sql: str, params=()) -> list:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


# --- ON DELETE CASCADE, by the database ---------------------------------------------


def test_deleting_a_user_with_raw_sql_deletes_their_chatbot_rows():
    user, other = UserFactory(), UserFactory()
    chatter(user)
    chatter(other)
    assert counts(user) == (2, 1, 4)

    raw("DELETE FROM users WHERE id = %s", [user.pk.hex])

    assert counts(user) == (0, 0, 0)
    assert not Task.objects.filter(user_id=user.pk).exists()
    assert counts(other) == (2, 1, 4)


def test_deleting_a_conversation_with_raw_sql_deletes_its_messages():
    user = UserFactory()
    conversation, kept = chatter(user), ConversationFactory(user=user)
    services.message_post(conversation=kept, content="list")

    raw("DELETE FROM conversations WHERE id = %s", [conversation.pk.hex])

    assert not Message.objects.filter(conversation_id=conversation.pk).exists()
    assert Message.objects.filter(conversation=kept).count() == 2
    assert Task.objects.filter(user=user).count() == 2  # tasks are not messages


def test_deleting_a_conversation_through_the_orm_deletes_its_messages():
    conversation = chatter(UserFactory())
    conversation.delete()
    assert not Message.objects.filter(conversation_id=conversation.pk).exists()


# --- CHECK and NOT NULL -------------------------------------------------------------


@pytest.mark.parametrize("role", ["system", "USER", ""])
def test_the_role_check_refuses_other_values(role):
    conversation = ConversationFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        raw(
            "INSERT INTO messages (id, conversation_id, user_id, role, content, "
            "created_at) VALUES (%s, %s, %s, %s, 'hi', CURRENT_TIMESTAMP)",
            [
                "0" * 31 + "1",
                conversation.pk.hex,
                conversation.user_id.hex,
                role,
            ],
        )
    assert not Message.objects.exists()


@pytest.mark.parametrize("role", Role.values)
def test_the_role_check_accepts_user_and_agent(role):
    conversation = ConversationFactory()
    message = Message.objects.create(
        conversation=conversation, user=conversation.user, role=role, content="hi"
    )
    assert Message.objects.get(pk=message.pk).role == role


# --- the seed's indexes -------------------------------------------------------------


@pytest.mark.parametrize("table", SEED_INDEXES)
def test_the_seed_index_names_exist(table):
    with connection.cursor() as cursor:
        names = set(connection.introspection.get_constraints(cursor, table))
    assert SEED_INDEXES[table] <= names


def fill(users: int = 10, each: int = 200) -> tuple:
    """``users`` users with ``each`` tasks and ``each`` messages (a minute
    apart) in one conversation each; the last user and conversation."""
    for _ in range(users):
        user = UserFactory()
        Task.objects.bulk_create(
            Task(user=user, title=f"task {n}", created_at=START + n * MINUTE)
            for n in range(each)
        )
        conversation = ConversationFactory(user=user)
        Message.objects.bulk_create(
            Message(
                conversation=conversation,
                user=user,
                role=Role.USER,
                content="x",
                created_at=START + n * MINUTE,
            )
            for n in range(each)
        )
    return user, conversation


def plan(table: str, sql: str, params) -> str:
    raw(f"ANALYZE {table}")
    # On these small tables a bitmap scan of the user's rows and a sort can
    # cost the same as the composite index (the choice flipped between
    # runs): the index must be the one that serves the order.
    raw("SET LOCAL enable_seqscan = off")
    raw("SET LOCAL enable_sort = off")
    return "\n".join(row[0] for row in raw(f"EXPLAIN {sql}", params))


def test_a_users_tasks_newest_first_read_the_composite_index(postgresql):
    user, _ = fill()
    query = Task.objects.filter(user=user).order_by("-created_at", "-id")[:PAGE]
    sql, params = query.query.sql_with_params()
    assert "idx_tasks_user_id_created_at" in plan("tasks", sql, params)


def test_a_conversations_messages_in_order_read_the_composite_index(postgresql):
    _, conversation = fill()
    query = Message.objects.filter(conversation=conversation).order_by(
        "created_at", "id"
    )[:PAGE]
    sql, params = query.query.sql_with_params()
    assert "idx_messages_conversation_id_created_at" in plan("messages", sql, params)


def test_a_users_conversations_by_activity_read_the_composite_index(postgresql):
    for _ in range(20):
        user = UserFactory()
        Conversation.objects.bulk_create(
            Conversation(user=user, title=f"c{n}") for n in range(100)
        )
    query = Conversation.objects.filter(user=user).order_by("-updated_at", "-id")[:PAGE]
    sql, params = query.query.sql_with_params()
    assert "idx_conversations_user_id_updated_at" in plan("conversations", sql, params)


# --- keys and defaults made by the database ---------------------------------------


def test_raw_inserts_get_uuid_keys_and_defaults_from_the_database(postgresql):
    user = UserFactory()
    [(task_id, completed, created, updated)] = raw(
        "INSERT INTO tasks (user_id, title) VALUES (%s, 'raw') "
        "RETURNING id, completed, created_at, updated_at",
        [user.pk.hex],
    )
    [(conversation_id,)] = raw(
        "INSERT INTO conversations (user_id) VALUES (%s) RETURNING id", [user.pk.hex]
    )
    [(message_id,)] = raw(
        "INSERT INTO messages (conversation_id, user_id, role, content) "
        "VALUES (%s, %s, 'user', 'hi') RETURNING id",
        [conversation_id, user.pk.hex],
    )
    assert completed is False
    assert created == updated
    assert Task.objects.get(pk=task_id).title == "raw"
    assert Conversation.objects.get(pk=conversation_id).title is None
    message = Message.objects.get(pk=message_id)
    assert (message.conversation_id, message.tool_calls) == (conversation_id, None)
    assert len({task_id, conversation_id, message_id}) == 3


def test_new_rows_have_equal_timestamps_and_an_update_moves_updated_at():
    task = TaskFactory()
    task.refresh_from_db()
    assert task.created_at == task.updated_at
    assert task.completed is False and task.description is None
    Task.objects.filter(pk=task.pk).update(
        updated_at=task.created_at - timedelta(seconds=1)
    )
    task.refresh_from_db()
    before = task.updated_at
    services.task_update(task=task, title="renamed")
    task.refresh_from_db()
    assert task.updated_at > before
    assert task.created_at <= task.updated_at


def test_string_forms():
    task = TaskFactory(title="buy milk")
    untitled = ConversationFactory(title=None)
    message = Message(role=Role.AGENT, content="x" * 100)
    assert str(task) == "buy milk"
    assert str(untitled) == f"Conversation {untitled.pk}"
    assert str(ConversationFactory(title="Chores")) == "Chores"
    assert str(message) == "agent: " + "x" * 60
