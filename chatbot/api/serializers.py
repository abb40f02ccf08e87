from rest_framework import serializers

from chatbot.models import MESSAGE_MAX_LENGTH, Conversation, Message, Task
from config.api.serializers import ModelSerializer, Serializer


class TaskSerializer(ModelSerializer):
    class Meta:
        model = Task
        fields = ["id", "title", "description", "completed", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]


class TaskCompleteSerializer(Serializer):
    completed = serializers.BooleanField(
        default=True, help_text="false marks the task open again."
    )


class ConversationSerializer(ModelSerializer):
    class Meta:
        model = Conversation
        fields = ["id", "title", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]


class ToolCallSerializer(Serializer):
    """One tool call of the agent: its result, or the error it met."""

    name = serializers.CharField(help_text="The tool (chatbot.tools.TOOLS).")
    arguments = serializers.DictField()
    result = serializers.DictField(required=False)
    error = serializers.CharField(required=False)


class MessageSerializer(ModelSerializer):
    conversation_id = serializers.UUIDField(read_only=True)
    tool_calls = ToolCallSerializer(many=True, read_only=True, allow_null=True)

    class Meta:
        model = Message
        fields = [
            "id",
            "conversation_id",
            "role",
            "content",
            "tool_calls",
            "created_at",
        ]
        read_only_fields = fields


class MessageCreateSerializer(Serializer):
    content = serializers.CharField(max_length=MESSAGE_MAX_LENGTH)


class TurnSerializer(Serializer):
    """A turn: the user's message as stored, and the agent's reply."""

    message = MessageSerializer(read_only=True)
    reply = MessageSerializer(read_only=True)
