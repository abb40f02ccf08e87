"""The chatbot's services, its task tools and the default agent
(``CommandAgent``): tasks looked up with their user, messages appended in
order and moving their conversation, every command the agent understands
(through ``services.message_post`` and directly), the tool calls it records,
the shape ``validate_tool_calls`` accepts, tools given wrong arguments, and
another agent chosen by ``CHATBOT_AGENT``."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from chatbot import agents, services, tools
from chatbot.agents import HELP, CommandAgent, Reply, validate_tool_calls
from chatbot.models import Conversation, Message, Role, Task
from tests.chatbot.factories import ConversationFactory, TaskFactory

pytestmark = pytest.mark.django_db

MISSING = "00000000-0000-0000-0000-000000000000"


# --- helpers and fixtures -----------------------------------------------------------


@pytest.fixture
def conversation(user) -> Conversation:
    return ConversationFactory(user=user)


def tasks_in_order(user, *titles: str, completed=()) -> list[Task]:
    """``titles`` as ``user``'s tasks, the first the newest (number 1 in the
    agent's list); those in ``completed`` done."""
    made = []
    for age, title in enumerate(titles):
        task = TaskFactory(user=user, title=title, completed=title in completed)
        Task.objects.filter(pk=task.pk).update(
            created_at=task.created_at - timedelta(minutes=age)
        )
        made.append(task)
    return made


def say(conversation, text: str) -> Message:
    """Post ``text`` to ``conversation``; the agent's reply."""
    question, answer = services.message_post(conversation=conversation, content=text)
    assert (question.role, question.content) == (Role.USER, text)
    assert answer.role == Role.AGENT
    return answer


def titles(user) -> dict[str, bool]:
    return dict(Task.objects.filter(user=user).values_list("title", "completed"))


def names(reply) -> list[str]:
    return [call["name"] for call in reply.tool_calls or []]


# --- tasks --------------------------------------------------------------------------


def test_task_get_finds_only_the_users_own_task(user, other_user):
    task = TaskFactory(user=user)
    assert services.task_get(user=user, task_id=task.pk) == task
    assert services.task_get(user=user, task_id=str(task.pk)) == task
    with pytest.raises(services.TaskNotFound):
        services.task_get(user=other_user, task_id=task.pk)
    with pytest.raises(services.TaskNotFound):
        services.task_get(user=user, task_id=MISSING)


@pytest.mark.parametrize("task_id", ["nope", "1234", ["a"]])
def test_task_get_says_not_found_for_a_malformed_id(user, task_id):
    with pytest.raises(services.TaskNotFound):
        services.task_get(user=user, task_id=task_id)


def test_task_update_and_complete_move_updated_at(user):
    task = TaskFactory(user=user)
    past = task.created_at - timedelta(seconds=1)
    Task.objects.filter(pk=task.pk).update(updated_at=past)
    services.task_complete(task=task)
    task.refresh_from_db()
    assert task.completed is True and task.updated_at > past
    services.task_complete(task=task, completed=False)
    services.task_update(task=task, title="new", description="more")
    task.refresh_from_db()
    assert (task.title, task.description, task.completed) == ("new", "more", False)


@pytest.mark.parametrize(
    "fields, field, message",
    [
        ({"title": "x" * 256}, "title", "at most 255 characters (it has 256)"),
        (
            {"description": "d" * 5001},
            "description",
            "at most 5000 characters (it has 5001)",
        ),
        ({"description": "a\x00b"}, "description", "Null characters"),
    ],
)
def test_the_task_services_refuse_text_over_its_limit(user, fields, field, message):
    """The tools (and so the MCP server and the agent) write through these
    without a serializer: the models' limits hold there too."""
    with pytest.raises(ValidationError) as refused:
        services.task_create(user=user, **{"title": "t", **fields})
    assert message in refused.value.message_dict[field][0]
    assert not Task.objects.exists()
    task = TaskFactory(user=user, title="kept", description=None)
    with pytest.raises(ValidationError) as refused:
        services.task_update(task=task, **fields)
    assert message in refused.value.message_dict[field][0]
    task.refresh_from_db()
    assert (task.title, task.description) == ("kept", None)


# --- messages -----------------------------------------------------------------------


def test_message_add_refuses_a_message_over_its_limit(conversation):
    with pytest.raises(ValidationError) as refused:
        services.message_add(
            conversation=conversation, role=Role.USER, content="x" * 10_001
        )
    assert refused.value.message_dict["content"] == [
        "Ensure this value has at most 10000 characters (it has 10001)."
    ]
    assert not Message.objects.exists()


def test_an_agent_reply_longer_than_a_message_is_cut_to_fit(user, conversation):
    """A list of 100 tasks of 255 characters is some 26 000 characters: the
    reply is stored cut at the message limit, ending in an ellipsis."""
    Task.objects.bulk_create(Task(user=user, title="x" * 255) for _ in range(100))
    answer = say(conversation, "list")
    stored = Message.objects.get(pk=answer.pk).content
    assert len(stored) == 10_000
    assert stored.startswith("1. [ ] " + "x" * 255 + "\n2. [ ] ")
    assert stored.endswith("…")


def test_message_add_stores_the_message_as_the_conversations_user(conversation):
    past = conversation.created_at - timedelta(seconds=1)
    Conversation.objects.filter(pk=conversation.pk).update(updated_at=past)
    message = services.message_add(
        conversation=conversation, role=Role.USER, content="hello"
    )
    message.refresh_from_db()
    conversation.refresh_from_db()
    assert message.user_id == conversation.user_id
    assert message.tool_calls is None
    assert conversation.updated_at > past


def test_message_post_stores_the_question_then_the_reply(user, conversation):
    past = conversation.created_at - timedelta(seconds=1)
    Conversation.objects.filter(pk=conversation.pk).update(updated_at=past)

    question, answer = services.message_post(
        conversation=conversation, content="add buy milk"
    )

    task = Task.objects.get(user=user)
    assert task.title == "buy milk"
    assert set(conversation.messages.values_list("pk", flat=True)) == {
        question.pk,
        answer.pk,
    }
    assert question.tool_calls is None
    assert answer.content == "Added “buy milk”."
    assert Message.objects.get(pk=answer.pk).tool_calls == [
        {
            "name": "add_task",
            "arguments": {"title": "buy milk"},
            "result": tools.task_json(task),
        }
    ]
    conversation.refresh_from_db()
    assert conversation.updated_at > past
    assert conversation.updated_at >= answer.created_at


@pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="SQLite's clock has milliseconds: a question and its reply may share "
    "one instant there (docs/schema-decisions.md, SQLite)",
)
def test_a_reply_is_stamped_after_its_question(conversation):
    turns = [
        services.message_post(conversation=conversation, content="hello")
        for _ in range(5)
    ]
    stamps = []
    for question, answer in turns:
        question.refresh_from_db()
        answer.refresh_from_db()
        assert answer.created_at > question.created_at
        stamps += [question.created_at, answer.created_at]
    # Stamped to the microsecond: 1 in 1000 would end in 000 by chance.
    assert any(stamp.microsecond % 1000 for stamp in stamps)
    roles = list(conversation.messages.values_list("role", flat=True))
    assert roles == [Role.USER, Role.AGENT] * 5


def test_a_reply_without_tool_calls_stores_null(conversation):
    answer = say(conversation, "hello there")
    assert answer.content == HELP
    assert Message.objects.get(pk=answer.pk).tool_calls is None


# --- the CommandAgent through message_post ------------------------------------------


@pytest.mark.parametrize(
    "text, title",
    [
        ("add buy milk", "buy milk"),
        ("Add task: call mum", "call mum"),
        ("new   water   the plants ", "water the plants"),
        ("create task pay rent", "pay rent"),
    ],
)
def test_add(user, conversation, text, title):
    answer = say(conversation, text)
    assert answer.content == f"Added “{title}”."
    assert titles(user) == {title: False}
    [call] = answer.tool_calls
    assert call["arguments"] == {"title": title}
    assert call["result"]["title"] == title


def test_add_a_title_too_long_records_the_tools_error(user, conversation):
    answer = say(conversation, "add " + "x" * 256)
    [call] = answer.tool_calls
    assert call == {
        "name": "add_task",
        "arguments": {"title": "x" * 256},
        "error": "title: Ensure this value has at most 255 characters (it has 256).",
    }
    assert answer.content == call["error"]
    assert not Task.objects.exists()


def test_list(user, conversation):
    tasks_in_order(user, "milk", "bread", "eggs", completed={"bread"})
    answer = say(conversation, "list")
    assert answer.content == "1. [ ] milk\n2. [x] bread\n3. [ ] eggs"
    assert answer.tool_calls == [
        {
            "name": "list_tasks",
            "arguments": {"completed": None},
            "result": {
                "tasks": [
                    tools.task_json(task) for task in Task.objects.filter(user=user)
                ]
            },
        }
    ]


@pytest.mark.parametrize(
    "text, completed, content",
    [
        ("list done", True, "1. [x] bread"),
        ("show my tasks open", False, "1. [ ] milk\n2. [ ] eggs"),
        ("LIST TASKS", None, "1. [ ] milk\n2. [x] bread\n3. [ ] eggs"),
    ],
)
def test_list_done_and_open(user, conversation, text, completed, content):
    tasks_in_order(user, "milk", "bread", "eggs", completed={"bread"})
    answer = say(conversation, text)
    assert answer.content == content
    assert answer.tool_calls[0]["arguments"] == {"completed": completed}


@pytest.mark.parametrize(
    "text, content", [("list", "You have no tasks."), ("list done", "None.")]
)
def test_list_with_nothing_to_list(user, conversation, text, content):
    tasks_in_order(user, "open one")
    if text == "list":
        Task.objects.all().delete()
    assert say(conversation, text).content == content


@pytest.mark.parametrize(
    "text", ["complete 2", "done brea", "finish BREAD", "check  2"]
)
def test_complete_by_number_or_title_part(user, conversation, text):
    _, bread = tasks_in_order(user, "milk", "bread")
    answer = say(conversation, text)
    assert answer.content == "Done: “bread”."
    assert titles(user) == {"milk": False, "bread": True}
    assert names(answer) == ["list_tasks", "complete_task"]
    assert answer.tool_calls[1]["arguments"] == {"task_id": str(bread.pk)}
    assert answer.tool_calls[1]["result"]["completed"] is True


def test_delete(user, conversation):
    milk, _ = tasks_in_order(user, "milk", "bread")
    answer = say(conversation, "delete milk")
    assert answer.content == "Deleted “milk”."
    assert titles(user) == {"bread": False}
    assert answer.tool_calls[1] == {
        "name": "delete_task",
        "arguments": {"task_id": str(milk.pk)},
        "result": {"deleted": tools.task_json(milk)},
    }


@pytest.mark.parametrize("text", ["rename 1 to call mum", "rename milk to call mum"])
def test_rename(user, conversation, text):
    milk, _ = tasks_in_order(user, "milk", "bread")
    answer = say(conversation, text)
    assert answer.content == "Renamed to “call mum”."
    assert titles(user) == {"call mum": False, "bread": False}
    assert answer.tool_calls[1]["arguments"] == {
        "task_id": str(milk.pk),
        "title": "call mum",
    }


@pytest.mark.parametrize(
    "text, content, calls",
    [
        ("complete 3", "There is no task 3; you have 2.", 1),
        ("delete 0", "There is no task 0; you have 2.", 1),
        ("complete tea", "No task matches “tea”.", 1),
        ("delete buy", "“buy” matches 2 tasks; use its number.", 1),
        ("rename 1 to " + "x" * 256, "title: Ensure this value has at most 255", 2),
    ],
)
def test_what_the_agent_cannot_do_it_says(user, conversation, text, content, calls):
    tasks_in_order(user, "buy milk", "buy bread")
    before = list(Task.objects.order_by("pk").values())
    answer = say(conversation, text)
    assert answer.content.startswith(content)
    assert len(answer.tool_calls) == calls
    assert answer.tool_calls[0]["name"] == "list_tasks"
    if calls == 2:
        assert answer.tool_calls[1]["error"].startswith(content)
    assert list(Task.objects.order_by("pk").values()) == before


@pytest.mark.parametrize("text", ["hello", "help", "done", "rename x", "   "])
def test_unknown_text_gets_help_and_calls_no_tool(user, conversation, text):
    TaskFactory(user=user)
    answer = say(conversation, text)
    assert answer.content == HELP
    assert answer.tool_calls is None


def test_the_agent_never_touches_another_users_tasks(user, other_user, conversation):
    theirs = TaskFactory(user=other_user, title="buy milk")
    before = list(Task.objects.filter(pk=theirs.pk).values())
    for text in ["complete milk", "delete 1", "rename milk to hacked", "list"]:
        answer = say(conversation, text)
        assert str(theirs.pk) not in str(answer.tool_calls)
    assert say(conversation, "list").content == "You have no tasks."
    assert list(Task.objects.filter(pk=theirs.pk).values()) == before
    # Even a tool call naming their task's id directly finds nothing.
    call = tools.tool_call(user, "delete_task", {"task_id": str(theirs.pk)})
    assert call["error"] == f"You have no task {theirs.pk}."
    assert Task.objects.filter(pk=theirs.pk).exists()


# --- the CommandAgent directly ------------------------------------------------------


def test_the_agent_answers_without_storing_messages(user):
    agent = CommandAgent()
    reply = agent.reply(user=user, conversation=None, text="add tea")
    assert isinstance(reply, Reply)
    assert reply.content == "Added “tea”."
    assert names(reply) == ["add_task"]
    assert not Message.objects.exists()
    # One agent, one reply at a time: the next reply's calls are its own.
    reply = agent.reply(user=user, conversation=None, text="help")
    assert (reply.content, reply.tool_calls) == (HELP, [])


# --- validate_tool_calls ------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        None,
        [],
        [{"name": "add_task", "arguments": {"title": "x"}, "result": {"id": "1"}}],
        [{"name": "list_tasks", "arguments": {}, "result": {"tasks": []}}],
        [{"name": "complete_task", "arguments": {}, "error": "No."}],
    ],
)
def test_validate_tool_calls_accepts_the_documented_shape(value):
    validate_tool_calls(value)


@pytest.mark.parametrize(
    "value, message",
    [
        ({}, "tool_calls is a list."),
        ("[]", "tool_calls is a list."),
        ([1], "tool_calls.0 is not a tool call."),
        ([{"name": "add_task", "arguments": {}}], "tool_calls.0"),
        ([{"name": "nope", "arguments": {}, "result": {}}], "tool_calls.0"),
        ([{"name": "add_task", "arguments": [], "result": {}}], "tool_calls.0"),
        ([{"name": "add_task", "arguments": {}, "result": []}], "tool_calls.0"),
        ([{"name": "add_task", "arguments": {}, "error": 1}], "tool_calls.0"),
        (
            [{"name": "add_task", "arguments": {}, "result": {}, "error": "x"}],
            "tool_calls.0",
        ),
        (
            [
                {"name": "add_task", "arguments": {}, "result": {}},
                {"name": "add_task", "arguments": {}, "result": {}, "extra": 1},
            ],
            "tool_calls.1 is not a tool call.",
        ),
    ],
)
def test_validate_tool_calls_refuses_other_shapes(value, message):
    with pytest.raises(ValidationError, match=message):
        validate_tool_calls(value)


@pytest.mark.parametrize("name", [["add_task"], {"a": 1}])
def test_validate_tool_calls_refuses_a_name_that_is_not_a_string(name):
    with pytest.raises(ValidationError):
        validate_tool_calls([{"name": name, "arguments": {}, "result": {}}])


# --- tools with wrong arguments -----------------------------------------------------


@pytest.mark.parametrize(
    "name, arguments, error",
    [
        ("fly", {}, "There is no tool 'fly'."),
        (
            "add_task",
            {},
            "Wrong arguments: missing a required keyword-only argument: 'title'.",
        ),
        ("add_task", {"title": "x", "due": "today"}, "Wrong arguments:"),
        ("add_task", {"title": 5}, "A title is a non-empty string."),
        ("add_task", {"title": "  "}, "A title is a non-empty string."),
        ("add_task", {"title": "a\x00b"}, "A title cannot contain the NUL"),
        ("add_task", {"title": "x" * 256}, "title: Ensure this value has at most 255"),
        (
            "add_task",
            {"title": "x", "description": "d" * 5001},
            "description: Ensure this value has at most 5000 characters (it has 5001).",
        ),
        ("add_task", {"title": "x", "description": "a\x00b"}, "description: Null"),
        ("add_task", {"title": "x", "description": 5}, "A description is a string."),
        ("complete_task", {}, "Wrong arguments:"),
        ("complete_task", {"task_id": MISSING}, f"You have no task {MISSING}."),
        ("rename_task", {"task_id": MISSING}, "Wrong arguments:"),
        ("delete_task", {"task_id": MISSING}, f"You have no task {MISSING}."),
        ("list_tasks", {"mine": True}, "Wrong arguments:"),
    ],
)
def test_a_tool_with_wrong_arguments_is_an_error_entry(user, name, arguments, error):
    TaskFactory(user=user)
    call = tools.tool_call(user, name, arguments)
    assert set(call) == {"name", "arguments", "error"}
    assert (call["name"], call["arguments"]) == (name, arguments)
    assert call["error"].startswith(error)
    if name in tools.TOOLS:
        validate_tool_calls([call])  # storable as a message's tool call
    assert Task.objects.count() == 1


def test_each_tool_does_its_job(user):
    added = tools.tool_call(user, "add_task", {"title": " tea ", "description": "d"})
    task_id = added["result"]["id"]
    assert added["result"] == {
        "id": task_id,
        "title": "tea",
        "description": "d",
        "completed": False,
    }
    assert tools.tool_call(user, "complete_task", {"task_id": task_id})["result"][
        "completed"
    ]
    renamed = tools.tool_call(user, "rename_task", {"task_id": task_id, "title": "tee"})
    assert renamed["result"]["title"] == "tee"
    listed = tools.tool_call(user, "list_tasks", {"completed": True})["result"]
    assert [task["id"] for task in listed["tasks"]] == [task_id]
    assert tools.tool_call(user, "list_tasks", {"completed": False})["result"] == {
        "tasks": []
    }
    deleted = tools.tool_call(user, "delete_task", {"task_id": task_id})
    assert deleted["result"]["deleted"]["title"] == "tee"
    assert not Task.objects.exists()


def test_list_tasks_lists_at_most_100(user):
    Task.objects.bulk_create(Task(user=user, title=f"t{n}") for n in range(105))
    assert len(tools.list_tasks(user)["tasks"]) == tools.MAX_LISTED == 100


@pytest.mark.parametrize("tool", ["complete_task", "delete_task"])
def test_a_malformed_task_id_is_an_error_entry(user, tool):
    call = tools.tool_call(user, tool, {"task_id": "not-a-uuid"})
    assert call["error"] == "You have no task not-a-uuid."


@pytest.mark.parametrize("completed", ["false", 0, "no"])
def test_list_tasks_refuses_a_completed_that_is_not_a_boolean(user, completed):
    tasks_in_order(user, "open one")
    call = tools.tool_call(user, "list_tasks", {"completed": completed})
    assert "error" in call


# --- another agent (CHATBOT_AGENT) --------------------------------------------------


class EchoAgent:
    """A stand-in for an agent backed by a language model: it echoes the
    text, and lists the tasks through the tools like any agent."""

    def reply(self, *, user, conversation, text):
        call = tools.tool_call(user, "list_tasks", {})
        return Reply(f"echo: {text}", [call])


class BadAgent:
    """An agent whose tool calls are not in the documented shape."""

    def reply(self, *, user, conversation, text):
        return Reply("hmm", [{"name": "add_task", "arguments": "title"}])


@pytest.fixture
def agent_setting(settings):
    """Set ``CHATBOT_AGENT`` to a dotted path, for this test only."""

    def use(path: str):
        settings.CHATBOT_AGENT = path
        agents._agent_class.cache_clear()

    yield use
    agents._agent_class.cache_clear()


def test_chatbot_agent_chooses_the_agent(user, conversation, agent_setting):
    agent_setting(f"{__name__}.EchoAgent")
    TaskFactory(user=user, title="tea")
    answer = say(conversation, "add buy milk")
    assert answer.content == "echo: add buy milk"
    assert answer.tool_calls[0]["name"] == "list_tasks"
    assert answer.tool_calls[0]["result"]["tasks"][0]["title"] == "tea"
    assert titles(user) == {"tea": False}


def test_an_agents_misshapen_tool_calls_store_nothing(conversation, agent_setting):
    agent_setting(f"{__name__}.BadAgent")
    with pytest.raises(ValidationError):
        services.message_post(conversation=conversation, content="hi")
    assert not Message.objects.exists()


def test_the_default_agent_is_the_command_agent(settings):
    assert settings.CHATBOT_AGENT == "chatbot.agents.CommandAgent"
    agents._agent_class.cache_clear()
    assert isinstance(agents.agent_get(), CommandAgent)


def test_another_users_conversation_posts_as_its_owner(other_user):
    conversation = ConversationFactory(user=other_user)
    question, answer = services.message_post(conversation=conversation, content="add x")
    assert question.user_id == answer.user_id == other_user.pk
    assert Task.objects.get().user_id == other_user.pk
    assert not Task.objects.exclude(user=other_user).exists()
