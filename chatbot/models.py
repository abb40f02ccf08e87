"""A todo list and the chatbot that manages it (seed 002): each user's tasks,
their conversations with the agent, and the messages of those conversations.

Everything here is private to its user. The seed's ON DELETE CASCADE is the
database's (``DB_CASCADE``): deleting a user, even with raw SQL, removes their
tasks, conversations and messages, and deleting a conversation its messages.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from config.fields import BoundedTextField, Now, UpdatedAtField, UUIDPrimaryKey

# The longest message, the user's or the agent's (chatbot.services cuts a
# longer reply of the agent).
MESSAGE_MAX_LENGTH = 10_000


def _user_key(related_name: str) -> models.ForeignKey:
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DB_CASCADE,
        related_name=related_name,
        db_index=False,  # the seed's named index on user_id
    )


class Task(models.Model):
    """A todo item of one user."""

    id = UUIDPrimaryKey()
    user = _user_key("tasks")
    title = models.CharField(max_length=255)
    description = BoundedTextField(max_length=5_000, null=True, blank=True)
    completed = models.BooleanField(default=False, db_default=False)
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    updated_at = UpdatedAtField()

    class Meta:
        db_table = "tasks"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user"], name="idx_tasks_user_id"),
            models.Index(
                fields=["user", "-created_at"], name="idx_tasks_user_id_created_at"
            ),
        ]

    def __str__(self):
        return self.title


class Conversation(models.Model):
    """A chat between one user and the agent; its messages are its thread."""

    id = UUIDPrimaryKey()
    user = _user_key("conversations")
    title = models.CharField(max_length=255, null=True, blank=True)
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    updated_at = UpdatedAtField(help_text="Moves with each new message.")

    class Meta:
        db_table = "conversations"
        ordering = ["-updated_at", "-id"]
        indexes = [
            models.Index(fields=["user"], name="idx_conversations_user_id"),
            # The seed's name is longer than Django's portable 30 characters
            # (models.E034, silenced in settings: PostgreSQL allows 63).
            models.Index(
                fields=["user", "-updated_at"],
                name="idx_conversations_user_id_updated_at",
            ),
        ]

    def __str__(self):
        return self.title or f"Conversation {self.pk}"


class Role(models.TextChoices):
    USER = "user", "User"
    AGENT = "agent", "Agent"


class Message(models.Model):
    """One message of a conversation, by its user or by the agent. Never
    changed once written: the audit trail of the conversation, with the
    agent's tool calls (``tool_calls``, chatbot.agents.ToolCall's shape)."""

    id = UUIDPrimaryKey()
    conversation = models.ForeignKey(
        Conversation,
        on_delete=models.DB_CASCADE,
        related_name="messages",
        db_index=False,  # idx_messages_conversation_id
    )
    user = _user_key("messages")
    role = models.CharField(max_length=10, choices=Role)
    content = BoundedTextField(max_length=MESSAGE_MAX_LENGTH)
    tool_calls = models.JSONField(
        null=True,
        blank=True,
        help_text="The agent's tool calls: [{name, arguments, result}].",
    )
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        db_table = "messages"
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(role__in=Role.values), name="messages_role_check"
            )
        ]
        indexes = [
            models.Index(fields=["conversation"], name="idx_messages_conversation_id"),
            models.Index(fields=["user"], name="idx_messages_user_id"),
            models.Index(
                fields=["conversation", "created_at"],
                name="idx_messages_conversation_id_created_at",
            ),
        ]

    def __str__(self):
        return f"{self.role}: {self.content[:60]}"
