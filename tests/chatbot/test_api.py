"""The chatbot's API (seed 002): every operation private to its user (a walk
of the schema: another user gets 404 on each of your rows and never sees
them in a list; anonymous callers 401), tasks (create, list, filter, update,
complete, delete, bad input), conversations, messages (a turn with the
agent's tool calls, oldest first with cursors, never edited), another agent
by setting, bcrypt passwords for new users, and constant list costs."""

from datetime import timedelta

import pytest
from rest_framework.test import APIClient

from chatbot import agents, services
from chatbot.agents import HELP, Reply
from chatbot.models import Conversation, Message, Role, Task
from chatbot.tools import task_json, tool_call
from config import settings as project_settings
from profiles.models import User
from tests.chatbot.factories import ConversationFactory, TaskFactory
from tests.conftest import token_client
from tests.helpers import (
    assert_error,
    assert_list_queries_constant,
    error_fields,
    ok,
    results,
    schema_operations,
    schema_paths,
)
from tests.profiles.factories import UserFactory

pytestmark = pytest.mark.django_db

CHATBOT = "/api/chatbot/"
TASKS = f"{CHATBOT}tasks/"
CONVERSATIONS = f"{CHATBOT}conversations/"
MISSING = "00000000-0000-0000-0000-000000000000"

# --- helpers and fixtures -----------------------------------------------------------


def task_url(task, suffix: str = "") -> str:
    return f"{TASKS}{task.pk}/{suffix}"


def conversation_url(conversation, suffix: str = "") -> str:
    return f"{CONVERSATIONS}{conversation.pk}/{suffix}"


def messages_url(conversation) -> str:
    return conversation_url(conversation, "messages/")


def ids(response) -> list[str]:
    return [row["id"] for row in results(response)]


def aged(task_or_conversation, minutes: int, field: str = "created_at"):
    """Move a row's ``field`` ``minutes`` into the past (ties in the order
    would otherwise fall to the random UUIDs)."""
    model = type(task_or_conversation)
    value = getattr(task_or_conversation, field) - timedelta(minutes=minutes)
    model.objects.filter(pk=task_or_conversation.pk).update(**{field: value})
    return model.objects.get(pk=task_or_conversation.pk)


def rows_of(user) -> list[list[dict]]:
    """Every chatbot row of ``user``: equal before and after means untouched."""
    return [
        list(model.objects.filter(user=user).order_by("pk").values())
        for model in (Task, Conversation, Message)
    ]


def owner_rows(owner) -> dict[str, str]:
    """A task and a conversation of ``owner`` with one turn; their ids by path
    parameter."""
    task = TaskFactory(user=owner, title="owner's task")
    conversation = ConversationFactory(user=owner, title="owner's chat")
    services.message_post(conversation=conversation, content="add secret plan")
    return {"task_id": str(task.pk), "conversation_id": str(conversation.pk)}


def body_for(path: str) -> dict:
    """A valid body for a write on ``path``: a refusal is then about whose row
    it is, not about the body."""
    if path.endswith("/complete/"):
        return {"completed": True}
    if path.endswith("/messages/"):
        return {"content": "delete 1"}
    if path.startswith(TASKS):
        return {"title": "taken over", "completed": True}
    return {"title": "taken over"}


def send(client, method: str, path: str, url: str):
    if method in ("get", "delete"):
        return getattr(client, method)(url)
    return getattr(client, method)(url, body_for(path), format="json")


# --- access: a walk of the schema ---------------------------------------------------


def test_the_schema_lists_every_chatbot_operation():
    found = {(m, path) for path, methods in schema_paths(CHATBOT) for m in methods}
    task, conversation = f"{TASKS}{{task_id}}/", f"{CONVERSATIONS}{{conversation_id}}/"
    assert found == {
        ("get", TASKS),
        ("post", TASKS),
        ("get", task),
        ("put", task),
        ("patch", task),
        ("delete", task),
        ("post", f"{task}complete/"),
        ("get", CONVERSATIONS),
        ("post", CONVERSATIONS),
        ("get", conversation),
        ("put", conversation),
        ("patch", conversation),
        ("delete", conversation),
        ("get", f"{conversation}messages/"),
        ("post", f"{conversation}messages/"),
    }


def test_another_user_gets_404_on_every_row_and_never_sees_them(user, other_user):
    values = owner_rows(user)
    before = rows_of(user)
    intruder = token_client(other_user)
    checked = 0
    for method, path, url in schema_operations(CHATBOT, values):
        response = send(intruder, method, path, url)
        if "{" in path:
            assert_error(response, 404, "not_found")
            checked += 1
        elif method == "get":
            assert response.status_code == 200, (url, response.content)
            assert not set(ids(response)) & set(values.values()), url
            assert "owner's" not in response.content.decode()
        else:  # creating in a list makes the intruder's own row
            assert response.status_code == 201, (url, response.content)
    assert checked == 11
    assert rows_of(user) == before
    # The intruder's own rows are theirs alone.
    assert Task.objects.filter(user=other_user).count() == 1
    assert Conversation.objects.filter(user=other_user).count() == 1


def test_a_row_that_does_not_exist_is_a_404_like_anothers(api_client):
    values = {"task_id": MISSING, "conversation_id": MISSING}
    for method, path, url in schema_operations(CHATBOT, values):
        if "{" in path:
            assert_error(send(api_client, method, path, url), 404, "not_found")


def test_anonymous_callers_get_401_on_every_operation(anon_client, user):
    values = owner_rows(user)
    before = rows_of(user)
    for method, path, url in schema_operations(CHATBOT, values):
        response = send(anon_client, method, path, url)
        assert_error(response, 401, "not_authenticated")
    assert rows_of(user) == before


def test_a_bad_token_is_a_401(anon_client):
    anon_client.credentials(HTTP_AUTHORIZATION="Token nope")
    assert_error(anon_client.get(TASKS), 401, "authentication_failed")


# --- tasks --------------------------------------------------------------------------


def test_create_a_task(api_client, user):
    body = ok(api_client.post(TASKS, {"title": "buy milk"}, format="json"), status=201)
    task = Task.objects.get(user=user)
    assert body == {
        "id": str(task.pk),
        "title": "buy milk",
        "description": None,
        "completed": False,
        "created_at": body["created_at"],
        "updated_at": body["created_at"],
    }
    body = ok(
        api_client.post(
            TASKS,
            {"title": "done", "description": "already", "completed": True},
            format="json",
        ),
        status=201,
    )
    assert (body["description"], body["completed"]) == ("already", True)
    assert ok(api_client.get(task_url(task)))["title"] == "buy milk"


def test_tasks_are_listed_newest_first_and_filtered(api_client, user):
    old = aged(TaskFactory(user=user, title="old", completed=True), 2)
    middle = aged(TaskFactory(user=user, title="middle"), 1)
    new = TaskFactory(user=user, title="new")
    assert ids(api_client.get(TASKS)) == [str(new.pk), str(middle.pk), str(old.pk)]
    assert ids(api_client.get(f"{TASKS}?completed=true")) == [str(old.pk)]
    assert ids(api_client.get(f"{TASKS}?completed=false")) == [
        str(new.pk),
        str(middle.pk),
    ]
    assert ids(api_client.get(f"{TASKS}?ordering=created_at")) == [
        str(old.pk),
        str(middle.pk),
        str(new.pk),
    ]
    assert_error(api_client.get(f"{TASKS}?ordering=title"), 400, "invalid")


def test_tasks_are_read_in_pages_with_cursors(api_client, user):
    tasks = [aged(TaskFactory(user=user), minutes) for minutes in range(5)]
    seen, url = [], f"{TASKS}?page_size=2"
    while url:
        body = ok(api_client.get(url))
        seen += [row["id"] for row in body["results"]]
        url = body["next"]
    assert seen == [str(task.pk) for task in tasks]


@pytest.mark.parametrize(
    "method, body, expected",
    [
        ("patch", {"title": "renamed"}, {"title": "renamed", "completed": False}),
        ("patch", {"description": None}, {"title": "milk", "description": None}),
        ("patch", {}, {"title": "milk"}),
        (
            "put",
            {"title": "replaced", "completed": True},
            {"title": "replaced", "completed": True},
        ),
        (
            "put",
            {"title": "put", "description": "more"},
            {"title": "put", "description": "more"},
        ),
    ],
)
def test_update_a_task_moves_updated_at(api_client, user, method, body, expected):
    task = aged(TaskFactory(user=user, title="milk", description="d"), 1, "updated_at")
    before = task.updated_at
    answer = ok(getattr(api_client, method)(task_url(task), body, format="json"))
    task.refresh_from_db()
    for name, value in expected.items():
        assert answer[name] == value
        assert getattr(task, name) == value
    assert task.updated_at > before
    assert task.updated_at >= task.created_at
    assert answer == ok(api_client.get(task_url(task)))


def test_an_update_moves_updated_at_strictly(api_client, user):
    task = aged(aged(TaskFactory(user=user), 5), 5, "updated_at")
    before = task.updated_at
    ok(api_client.patch(task_url(task), {"title": "x"}, format="json"))
    task.refresh_from_db()
    assert task.updated_at > before
    before = task.updated_at
    ok(api_client.put(task_url(task), {"title": "y"}, format="json"))
    task.refresh_from_db()
    assert task.updated_at > before


def test_complete_and_reopen_a_task(api_client, user):
    task = aged(TaskFactory(user=user), 1, "updated_at")
    before = task.updated_at
    body = ok(api_client.post(task_url(task, "complete/"), format="json"))
    assert body["completed"] is True and body["id"] == str(task.pk)
    task.refresh_from_db()
    assert task.completed and task.updated_at > before
    body = ok(
        api_client.post(task_url(task, "complete/"), {"completed": False}, "json")
    )
    assert body["completed"] is False
    assert Task.objects.get(pk=task.pk).completed is False
    assert error_fields(
        api_client.post(task_url(task, "complete/"), {"completed": "no"}, "json")
    ) == [("completed", "invalid_type")]


def test_delete_a_task(api_client, user):
    task, kept = TaskFactory(user=user), TaskFactory(user=user)
    assert ok(api_client.delete(task_url(task)), status=204) is None
    assert list(Task.objects.values_list("pk", flat=True)) == [kept.pk]
    assert_error(api_client.delete(task_url(task)), 404, "not_found")


@pytest.mark.parametrize(
    "body, field, code",
    [
        ({}, "title", "required"),
        ({"title": ""}, "title", "blank"),
        ({"title": "x" * 256}, "title", "max_length"),
        ({"title": None}, "title", "null"),
        ({"title": 5}, "title", "invalid_type"),
        ({"title": "x", "completed": "yes"}, "completed", "invalid_type"),
        ({"title": "x", "completed": 1}, "completed", "invalid_type"),
        ({"title": "x", "description": ["d"]}, "description", "invalid_type"),
        ({"title": "x", "due": "today"}, "due", "unknown_field"),
        ({"title": "x", "user_id": MISSING}, "user_id", "unknown_field"),
        ({"title": "x", "id": MISSING}, "id", "read_only"),
        (
            {"title": "x", "created_at": "2024-01-01T00:00:00Z"},
            "created_at",
            "read_only",
        ),
    ],
)
def test_bad_task_input_is_a_400(api_client, user, body, field, code):
    assert error_fields(api_client.post(TASKS, body, format="json")) == [(field, code)]
    task = TaskFactory(user=user, title="kept")
    if field != "title" or code != "required":
        patched = api_client.patch(task_url(task), body, format="json")
        assert error_fields(patched) == [(field, code)]
    assert list(Task.objects.values_list("title", flat=True)) == ["kept"]


def test_the_task_bodies_are_the_serializers(api_client, user):
    task = TaskFactory(user=user, description="d")
    listed = results(api_client.get(TASKS))[0]
    assert listed == ok(api_client.get(task_url(task)))
    assert set(listed) == {
        "id",
        "title",
        "description",
        "completed",
        "created_at",
        "updated_at",
    }


# --- conversations ------------------------------------------------------------------


def test_create_a_conversation_with_or_without_a_title(api_client, user):
    body = ok(api_client.post(CONVERSATIONS, {"title": "Chores"}, "json"), 201)
    assert set(body) == {"id", "title", "created_at", "updated_at"}
    assert body["title"] == "Chores"
    untitled = ok(api_client.post(CONVERSATIONS, {}, format="json"), status=201)
    assert untitled["title"] is None
    assert set(
        Conversation.objects.filter(user=user).values_list("title", flat=True)
    ) == {
        "Chores",
        None,
    }
    assert error_fields(
        api_client.post(CONVERSATIONS, {"title": "x", "role": "agent"}, "json")
    ) == [("role", "unknown_field")]
    assert error_fields(
        api_client.post(CONVERSATIONS, {"title": "x" * 256}, "json")
    ) == [("title", "max_length")]


def test_conversations_are_listed_most_recently_active_first(api_client, user):
    quiet = aged(ConversationFactory(user=user), 10, "updated_at")
    busy = aged(ConversationFactory(user=user), 20, "updated_at")
    services.message_add(conversation=busy, role=Role.USER, content="hi")
    assert ids(api_client.get(CONVERSATIONS)) == [str(busy.pk), str(quiet.pk)]
    body = ok(api_client.get(conversation_url(quiet)))
    assert body == results(api_client.get(CONVERSATIONS))[1]


def test_rename_a_conversation(api_client, user):
    conversation = aged(ConversationFactory(user=user), 1, "updated_at")
    body = ok(
        api_client.patch(conversation_url(conversation), {"title": "New"}, "json")
    )
    assert body["title"] == "New"
    conversation.refresh_from_db()
    assert conversation.title == "New"
    ok(api_client.put(conversation_url(conversation), {"title": None}, "json"))
    assert Conversation.objects.get(pk=conversation.pk).title is None


def test_deleting_a_conversation_deletes_its_messages(api_client, user):
    conversation, kept = ConversationFactory(user=user), ConversationFactory(user=user)
    for chat in (conversation, kept):
        services.message_post(conversation=chat, content="add tea")
    assert ok(api_client.delete(conversation_url(conversation)), status=204) is None
    assert not Message.objects.filter(conversation_id=conversation.pk).exists()
    assert Message.objects.filter(conversation=kept).count() == 2
    assert Task.objects.filter(user=user).count() == 2  # tasks stay
    assert_error(api_client.get(messages_url(conversation)), 404, "not_found")


# --- messages -----------------------------------------------------------------------


def test_post_a_message_returns_it_with_the_agents_reply(api_client, user):
    conversation = aged(ConversationFactory(user=user), 1, "updated_at")
    before = conversation.updated_at
    response = api_client.post(
        messages_url(conversation), {"content": "add buy milk"}, format="json"
    )
    body = ok(response, status=201)
    task = Task.objects.get(user=user)
    assert task.title == "buy milk"
    question = Message.objects.get(conversation=conversation, role=Role.USER)
    answer = Message.objects.get(conversation=conversation, role=Role.AGENT)
    assert body == {
        "message": {
            "id": str(question.pk),
            "conversation_id": str(conversation.pk),
            "role": "user",
            "content": "add buy milk",
            "tool_calls": None,
            "created_at": body["message"]["created_at"],
        },
        "reply": {
            "id": str(answer.pk),
            "conversation_id": str(conversation.pk),
            "role": "agent",
            "content": "Added “buy milk”.",
            "tool_calls": [
                {
                    "name": "add_task",
                    "arguments": {"title": "buy milk"},
                    "result": task_json(task),
                }
            ],
            "created_at": body["reply"]["created_at"],
        },
    }
    assert answer.tool_calls == body["reply"]["tool_calls"]
    assert (question.user_id, answer.user_id) == (user.pk, user.pk)
    conversation.refresh_from_db()
    assert conversation.updated_at > before
    # The list gives the same two messages (their order: see
    # test_services.test_a_reply_is_stamped_after_its_question).
    listed = results(api_client.get(messages_url(conversation)))
    assert sorted(listed, key=lambda m: m["role"] == "agent") == [
        body["message"],
        body["reply"],
    ]


def test_a_conversation_of_commands_through_the_api(api_client, user):
    conversation = ConversationFactory(user=user)
    replies = []
    for text in ["add tea", "add milk", "complete tea", "list", "hello"]:
        response = api_client.post(
            messages_url(conversation), {"content": text}, "json"
        )
        replies.append(ok(response, status=201)["reply"]["content"])
    assert replies == [
        "Added “tea”.",
        "Added “milk”.",
        "Done: “tea”.",
        "1. [ ] milk\n2. [x] tea",
        HELP,
    ]
    assert ok(api_client.get(f"{TASKS}?completed=true"))["results"][0]["title"] == "tea"


def test_messages_are_listed_oldest_first_with_cursors(api_client, user):
    conversation = ConversationFactory(user=user)
    messages = [
        *services.message_post(conversation=conversation, content="add tea"),
        *services.message_post(conversation=conversation, content="list"),
    ]
    # One second apart, so the order does not rest on the clock's resolution.
    for age, message in enumerate(reversed(messages)):
        Message.objects.filter(pk=message.pk).update(
            created_at=message.created_at - timedelta(seconds=age)
        )
    seen, url = [], f"{messages_url(conversation)}?page_size=1"
    while url:
        body = ok(api_client.get(url))
        assert len(body["results"]) == 1
        seen += body["results"]
        url = body["next"]
    assert [(m["role"], m["content"]) for m in seen] == [
        ("user", "add tea"),
        ("agent", "Added “tea”."),
        ("user", "list"),
        ("agent", "1. [ ] tea"),
    ]
    assert [m["id"] for m in seen] == [str(m.pk) for m in messages]
    assert seen[1]["tool_calls"][0]["name"] == "add_task"
    assert seen[0]["tool_calls"] is None
    # And back again from the last page.
    back = ok(api_client.get(body["previous"]))
    assert back["results"] == [seen[2]]


def test_an_empty_conversation_lists_no_messages(api_client, user):
    conversation = ConversationFactory(user=user)
    assert ok(api_client.get(messages_url(conversation)))["results"] == []


def test_messages_cannot_be_changed(api_client, user):
    conversation = ConversationFactory(user=user)
    services.message_post(conversation=conversation, content="add tea")
    before = rows_of(user)
    message = Message.objects.filter(conversation=conversation).first()
    collection = messages_url(conversation)
    for method in ("put", "patch", "delete"):
        response = getattr(api_client, method)(
            collection, {"content": "edited"}, format="json"
        )
        assert_error(response, 405, "method_not_allowed")
        for url in (f"{collection}{message.pk}/", f"{collection}{message.pk}"):
            response = getattr(api_client, method)(url, {"content": "x"}, "json")
            assert response.status_code == 404, (method, url)
    assert api_client.get(f"{collection}{message.pk}/").status_code == 404
    assert rows_of(user) == before


@pytest.mark.parametrize(
    "body, errors",
    [
        ({}, [("content", "required")]),
        ({"content": ""}, [("content", "blank")]),
        ({"content": None}, [("content", "null")]),
        ({"content": 5}, [("content", "invalid_type")]),
        ({"content": "x" * 10_001}, [("content", "max_length")]),
        (
            {"content": "hi", "role": "agent"},
            [("role", "unknown_field")],
        ),
        (
            {"content": "hi", "tool_calls": [{"name": "delete_task"}]},
            [("tool_calls", "unknown_field")],
        ),
    ],
)
def test_bad_message_input_is_a_400_and_writes_nothing(api_client, user, body, errors):
    conversation = ConversationFactory(user=user)
    before = rows_of(user)
    assert error_fields(api_client.post(messages_url(conversation), body, "json")) == (
        errors
    )
    assert rows_of(user) == before


def test_a_bad_body_says_nothing_about_whose_conversation_it_is(api_client, other_user):
    """The body is checked first: another user's conversation and one that
    does not exist get the same 400."""
    theirs = messages_url(ConversationFactory(user=other_user))
    missing = f"{CONVERSATIONS}{MISSING}/messages/"
    answers = [
        api_client.post(url, {}, format="json").json() for url in (theirs, missing)
    ]
    assert answers[0] == answers[1]
    assert answers[0]["status"] == 400
    assert not Message.objects.exists()


# --- another agent by setting -------------------------------------------------------


class EchoAgent:
    """Answers with the text it got, after listing the user's tasks."""

    def reply(self, *, user, conversation, text):
        return Reply(f"echo: {text}", [tool_call(user, "list_tasks", {})])


@pytest.fixture
def echo_agent(settings):
    settings.CHATBOT_AGENT = f"{__name__}.EchoAgent"
    agents._agent_class.cache_clear()
    yield
    agents._agent_class.cache_clear()


def test_chatbot_agent_replaces_the_agent_with_no_change_to_the_api(
    api_client, user, echo_agent
):
    conversation = ConversationFactory(user=user)
    TaskFactory(user=user, title="tea")
    body = ok(
        api_client.post(messages_url(conversation), {"content": "add x"}, "json"), 201
    )
    assert set(body) == {"message", "reply"}
    assert body["reply"]["content"] == "echo: add x"
    assert body["reply"]["role"] == "agent"
    [call] = body["reply"]["tool_calls"]
    assert call["name"] == "list_tasks" and call["arguments"] == {}
    assert [task["title"] for task in call["result"]["tasks"]] == ["tea"]
    assert list(Task.objects.values_list("title", flat=True)) == ["tea"]


# --- passwords and a new user -------------------------------------------------------


def test_passwords_are_hashed_with_bcrypt_sha256():
    assert project_settings.PASSWORD_HASHERS[0] == (
        "django.contrib.auth.hashers.BCryptSHA256PasswordHasher"
    )


def test_a_new_user_has_a_bcrypt_password_and_can_use_tasks_at_once(
    anon_client, settings
):
    settings.PASSWORD_HASHERS = project_settings.PASSWORD_HASHERS
    password = "a long pass phrase 42"
    registered = ok(
        anon_client.post(
            "/api/auth/register/",
            {"email": "ada@example.com", "password": password},
            format="json",
        ),
        status=201,
    )
    user = User.objects.get(pk=registered["id"])
    assert user.password.startswith("bcrypt_sha256$")
    assert user.check_password(password)
    login = ok(
        anon_client.post(
            "/api/auth/token/",
            {"username": "ada@example.com", "password": password},
            format="json",
        )
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {login['token']}")
    assert ok(client.get(TASKS))["results"] == []
    created = ok(client.post(TASKS, {"title": "first"}, format="json"), status=201)
    assert ids(client.get(TASKS)) == [created["id"]]
    assert Task.objects.get().user_id == user.pk


# --- what lists cost ----------------------------------------------------------------


def test_the_task_list_costs_the_same_for_1_and_50_rows(api_client, user):
    TaskFactory(user=UserFactory())  # another user's: not listed
    assert_list_queries_constant(
        api_client,
        TASKS,
        lambda n: TaskFactory.create_batch(n, user=user),
        budget=2,
    )


def test_the_conversation_list_costs_the_same_for_1_and_50_rows(api_client, user):
    assert_list_queries_constant(
        api_client,
        CONVERSATIONS,
        lambda n: ConversationFactory.create_batch(n, user=user),
        budget=2,
    )


def test_the_message_list_costs_the_same_for_1_and_50_rows(api_client, user):
    conversation = ConversationFactory(user=user)

    def add_rows(n):
        for _ in range(n):
            services.message_add(conversation=conversation, role=Role.USER, content="x")

    assert_list_queries_constant(
        api_client, messages_url(conversation), add_rows, budget=2
    )
