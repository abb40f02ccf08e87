"""Tasks and conversations in the admin: a user's tasks, a conversation's
replay with the agent's tool calls."""

from datetime import timedelta

from chatbot import services
from chatbot.models import Message, Task
from tests.chatbot.factories import ConversationFactory, TaskFactory
from tests.profiles.factories import UserFactory


def test_read_a_conversations_replay_with_its_tool_calls(staff):
    ada = UserFactory(username="ada")
    conversation = ConversationFactory(user=ada, title="Chores")
    said = [
        *services.message_post(
            conversation=conversation, content="add water the plants"
        ),
        *services.message_post(conversation=conversation, content="add buy milk"),
    ]
    # SQLite's clock has milliseconds: a message and its reply can tie and
    # then sort by their random ids (docs/schema-decisions.md, "SQLite").
    start = said[0].created_at
    for n, message in enumerate(said):
        Message.objects.filter(pk=message.pk).update(
            created_at=start + timedelta(milliseconds=n)
        )
    staff.open("/admin/chatbot/conversation/")
    staff.click_link("Chores", within="#result_list")

    group = "#messages-group tr:not(.empty-form) td.field-"
    assert staff.texts(group + "role") == ["User", "Agent", "User", "Agent"]
    said = staff.texts(group + "content")
    assert said[0::2] == ["add water the plants", "add buy milk"]
    assert said[1].startswith("Added “water the plants”")
    tools = staff.texts(group + "tool_calls")
    assert tools[0::2] == ["-", "-"]
    assert '"title": "water the plants"' in tools[1]
    assert '"title": "buy milk"' in tools[3]
    assert set(Task.objects.values_list("title", flat=True)) == {
        "water the plants",
        "buy milk",
    }
    staff.screenshot(of="#messages-group")


def test_find_a_users_tasks_and_complete_one(staff):
    ada = UserFactory(username="ada", email="ada@lovelace.test")
    TaskFactory(user=ada, title="write the notes")
    TaskFactory(user=UserFactory(username="grace"), title="find the bug")
    staff.open("/admin/chatbot/task/")
    staff.search("lovelace")
    assert [row.split(" ada ")[0] for row in staff.rows()] == ["write the notes"]
    staff.click_link("write the notes", within="#result_list")
    staff.tick("completed")
    staff.save()
    assert staff.messages() == ["The task “write the notes” was changed successfully."]
    assert Task.objects.get(title="write the notes").completed
    assert not Task.objects.get(title="find the bug").completed
    staff.filter_by("completed", "Yes")
    assert [row.split(" ada ")[0] for row in staff.rows()] == ["write the notes"]
    staff.screenshot()
