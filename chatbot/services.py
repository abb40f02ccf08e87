"""Writes of tasks, conversations and messages, each scoped to its user. The
API, the admin, the agent's tools and the MCP server all call these.

A task or conversation is looked up *with* its user (``task_get``): another
user's row is "does not exist", never "not yours". The tools and the agent
write without a serializer or a form, so the text they write is validated
here (``validate_fields``: the models' limits), a ``ValidationError`` naming
the field and the limit.
"""

from uuid import UUID

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import transaction

from chatbot.agents import agent_get, validate_tool_calls
from chatbot.models import MESSAGE_MAX_LENGTH, Conversation, Message, Role, Task
from config.fields import Now, validate_fields


class TaskNotFound(ObjectDoesNotExist):
    """No task with this id among the user's."""


def task_get(*, user, task_id: UUID | str) -> Task:
    try:
        return Task.objects.get(user=user, pk=task_id)
    except (Task.DoesNotExist, ValidationError):  # a malformed id too
        raise TaskNotFound(f"You have no task {task_id}.") from None


def task_create(
    *, user, title: str, description: str | None = None, completed: bool = False
) -> Task:
    task = Task(user=user, title=title, description=description, completed=completed)
    validate_fields(task, ["title", "description"])
    task.save(force_insert=True)
    return task


def task_update(*, task: Task, **fields) -> Task:
    """Set ``title``, ``description`` and/or ``completed``; ``updated_at``
    moves with every change."""
    for name, value in fields.items():
        setattr(task, name, value)
    validate_fields(task, fields)
    task.save(update_fields=[*fields, "updated_at"])
    return task


def task_complete(*, task: Task, completed: bool = True) -> Task:
    return task_update(task=task, completed=completed)


def task_delete(*, task: Task) -> None:
    task.delete()


def conversation_create(*, user, title: str | None = None) -> Conversation:
    return Conversation.objects.create(user=user, title=title)


@transaction.atomic
def message_add(
    *,
    conversation: Conversation,
    role: Role,
    content: str,
    tool_calls: list[dict] | None = None,
) -> Message:
    """Append a message to ``conversation`` (as its user's) and move the
    conversation's ``updated_at``."""
    message = Message(
        conversation=conversation,
        user_id=conversation.user_id,
        role=role,
        content=content,
        tool_calls=tool_calls,
    )
    validate_fields(message, ["content"])
    message.save(force_insert=True)
    conversation.updated_at = Now()
    conversation.save(update_fields=["updated_at"])
    return message


@transaction.atomic
def message_post(
    *, conversation: Conversation, content: str
) -> tuple[Message, Message]:
    """The user's message and the agent's reply to it (``CHATBOT_AGENT``),
    stored in order; the agent's tool calls run in the same transaction. A
    reply longer than a message holds is cut to fit, ending in "…" (the
    user asked nothing wrong: a listing of many long titles can be longer)."""
    question = message_add(conversation=conversation, role=Role.USER, content=content)
    reply = agent_get().reply(
        user=conversation.user, conversation=conversation, text=content
    )
    validate_tool_calls(reply.tool_calls or None)
    text = reply.content
    if len(text) > MESSAGE_MAX_LENGTH:
        text = text[: MESSAGE_MAX_LENGTH - 1] + "…"
    answer = message_add(
        conversation=conversation,
        role=Role.AGENT,
        content=text,
        tool_calls=reply.tool_calls or None,
    )
    return question, answer
