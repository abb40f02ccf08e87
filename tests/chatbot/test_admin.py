"""The chatbot admin: tasks and conversations searched by their user and
filtered; a conversation's page shows its messages, oldest first and read
only; messages are never added, changed or deleted here."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils.html import escape

from chatbot import services
from chatbot.models import Conversation, Message, Task
from tests.chatbot.factories import ConversationFactory, TaskFactory
from tests.profiles.factories import UserFactory

pytestmark = pytest.mark.django_db


def url(model, view: str, *args) -> str:
    return reverse(f"admin:chatbot_{model._meta.model_name}_{view}", args=args)


def listed(client, model, **params) -> set:
    response = client.get(url(model, "changelist"), params)
    assert response.status_code == 200
    return {obj.pk for obj in response.context["cl"].result_list}


@pytest.fixture
def people():
    return (
        UserFactory(username="ada", email="ada@lovelace.org"),
        UserFactory(username="grace", email="grace@navy.mil"),
    )


@pytest.fixture
def chat(people):
    """A conversation of Ada's with two turns, a second apart."""
    conversation = ConversationFactory(user=people[0], title="Ada's chat")
    messages = [
        *services.message_post(conversation=conversation, content="add buy milk"),
        *services.message_post(conversation=conversation, content="list"),
    ]
    for age, message in enumerate(reversed(messages)):
        Message.objects.filter(pk=message.pk).update(
            created_at=message.created_at - timedelta(seconds=age)
        )
    return conversation


# --- tasks --------------------------------------------------------------------------


def test_tasks_are_searched_by_user_and_filtered_by_completed(admin_client, people):
    ada, grace = people
    ada_open = TaskFactory(user=ada, title="open")
    ada_done = TaskFactory(user=ada, title="done", completed=True)
    grace_task = TaskFactory(user=grace, title="hers")
    everyone = {ada_open.pk, ada_done.pk, grace_task.pk}
    assert listed(admin_client, Task) == everyone
    assert listed(admin_client, Task, q="ada") == {ada_open.pk, ada_done.pk}
    assert listed(admin_client, Task, q="navy.mil") == {grace_task.pk}
    assert listed(admin_client, Task, q="hers") == {grace_task.pk}
    assert listed(admin_client, Task, completed__exact=1) == {ada_done.pk}
    assert listed(admin_client, Task, completed__exact=0) == {
        ada_open.pk,
        grace_task.pk,
    }


def test_task_pages_open(admin_client, people):
    task = TaskFactory(user=people[0], title="tea")
    response = admin_client.get(url(Task, "change", task.pk))
    assert response.status_code == 200
    assert b"tea" in response.content
    assert admin_client.get(url(Task, "add")).status_code == 200


# --- conversations ------------------------------------------------------------------


def test_conversations_are_searched_by_user(admin_client, people, chat):
    hers = ConversationFactory(user=people[1], title=None)
    assert listed(admin_client, Conversation) == {chat.pk, hers.pk}
    assert listed(admin_client, Conversation, q="lovelace") == {chat.pk}
    assert listed(admin_client, Conversation, q="grace") == {hers.pk}


def test_a_conversation_page_shows_its_messages_in_order_read_only(admin_client, chat):
    response = admin_client.get(url(Conversation, "change", chat.pk))
    assert response.status_code == 200
    html = response.content.decode()
    contents = ["add buy milk", "Added “buy milk”.", "list", "1. [ ] buy milk"]
    position = 0
    for content in contents:  # each after the one before
        position = html.index(f"<p>{content}</p>", position)
    assert "add_task" in html  # the agent's tool calls are shown
    [inline] = response.context["inline_admin_formsets"]
    shown = [form.original for form in inline if form.original is not None]
    assert [message.content for message in shown] == contents
    assert set(inline.readonly_fields) >= {"role", "content", "tool_calls"}
    # Nothing to edit, add or delete: no inputs for the messages' fields.
    assert 'name="messages-0-content"' not in html
    assert 'name="messages-0-DELETE"' not in html
    assert inline.formset.max_num == 0


def test_editing_a_conversation_leaves_its_messages(admin_client, chat):
    before = list(Message.objects.order_by("pk").values())
    response = admin_client.post(
        url(Conversation, "change", chat.pk),
        {
            "user": chat.user_id,
            "title": "Renamed",
            "messages-TOTAL_FORMS": 4,
            "messages-INITIAL_FORMS": 4,
            "messages-MIN_NUM_FORMS": 0,
            "messages-MAX_NUM_FORMS": 0,
            **{
                f"messages-{n}-id": message.pk
                for n, message in enumerate(chat.messages.all())
            },
            **{f"messages-{n}-conversation": chat.pk for n in range(4)},
        },
    )
    assert response.status_code == 302, response.context and response.context.get(
        "errors"
    )
    assert Conversation.objects.get(pk=chat.pk).title == "Renamed"
    assert list(Message.objects.order_by("pk").values()) == before


# --- messages -----------------------------------------------------------------------


def test_messages_are_listed_and_shown(admin_client, chat):
    assert listed(admin_client, Message) == set(
        chat.messages.values_list("pk", flat=True)
    )
    assert len(listed(admin_client, Message, role__exact="agent")) == 2
    message = chat.messages.first()
    response = admin_client.get(url(Message, "change", message.pk))
    assert response.status_code == 200
    assert b"add buy milk" in response.content


def test_messages_cannot_be_added_changed_or_deleted(admin_client, chat):
    message = chat.messages.first()
    before = list(Message.objects.order_by("pk").values())
    assert admin_client.get(url(Message, "add")).status_code == 403
    assert (
        admin_client.post(
            url(Message, "add"),
            {"conversation": chat.pk, "role": "agent", "content": "forged"},
        ).status_code
        == 403
    )
    assert (
        admin_client.post(
            url(Message, "change", message.pk),
            {"conversation": chat.pk, "role": "agent", "content": "edited"},
        ).status_code
        == 403
    )
    assert admin_client.get(url(Message, "delete", message.pk)).status_code == 403
    assert admin_client.post(url(Message, "delete", message.pk)).status_code == 403
    response = admin_client.post(
        url(Message, "changelist"),
        {"action": "delete_selected", "_selected_action": [message.pk], "post": "yes"},
    )
    assert response.status_code in (200, 302, 403)
    assert list(Message.objects.order_by("pk").values()) == before


def test_a_conversation_with_messages_can_be_deleted_in_the_admin(admin_client, chat):
    page = admin_client.get(url(Conversation, "delete", chat.pk))
    assert not page.context["perms_lacking"]
    response = admin_client.post(url(Conversation, "delete", chat.pk), {"post": "yes"})
    assert response.status_code == 302
    assert not Conversation.objects.exists()
    assert not Message.objects.exists()


def test_a_user_with_messages_can_be_deleted_in_the_admin(admin_client, chat):
    delete = reverse("admin:profiles_user_delete", args=[chat.user_id])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 302
    assert not Conversation.objects.exists()
    assert not Message.objects.exists()


def test_a_users_name_in_the_lists_filters_to_their_rows(admin_client):
    ada, bob = UserFactory(), UserFactory()
    TaskFactory(user=ada, title="ada's task")
    TaskFactory(user=bob, title="bob's task")
    ConversationFactory(user=ada, title="ada's chat")
    ConversationFactory(user=bob, title="bob's chat")
    for model, mine, theirs in [
        ("task", "ada's task", "bob's task"),
        ("conversation", "ada's chat", "bob's chat"),
    ]:
        page = admin_client.get(f"/admin/chatbot/{model}/")
        link = f"?user__pk__exact={ada.pk}"
        assert link in page.content.decode()
        only = admin_client.get(f"/admin/chatbot/{model}/{link}")
        assert only.status_code == 200
        html = only.content.decode()
        assert escape(mine) in html and escape(theirs) not in html
