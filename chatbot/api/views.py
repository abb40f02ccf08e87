"""Tasks, conversations and messages of the signed-in user only: every
queryset is filtered by ``request.user``, so another user's row is a 404 on
every verb, and never in a list."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from chatbot import services
from chatbot.api.filters import TaskFilter
from chatbot.api.serializers import (
    ConversationSerializer,
    MessageCreateSerializer,
    MessageSerializer,
    TaskCompleteSerializer,
    TaskSerializer,
    TurnSerializer,
)
from chatbot.models import Conversation, Message, Task
from config.api.lean import Shape
from config.api.views import LeanRetrieveMixin, OwnRowsMixin

TASK = Shape.of(TaskSerializer)
CONVERSATION = Shape.of(ConversationSerializer)
MESSAGE = Shape.of(MessageSerializer)


class TaskViewSet(OwnRowsMixin, LeanRetrieveMixin, viewsets.ModelViewSet):
    """Your tasks, newest first (``?completed=``). ``complete`` marks one
    done (or, with ``{"completed": false}``, open again)."""

    serializer_class = TaskSerializer
    shape = TASK
    lookup_url_kwarg = "task_id"
    filterset_class = TaskFilter
    ordering_fields = ["created_at"]
    ordering = ["-created_at"]
    queryset = Task.objects.all()

    def perform_create(self, serializer):
        serializer.instance = services.task_create(
            user=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        services.task_update(task=serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance):
        services.task_delete(task=instance)

    @extend_schema(request=TaskCompleteSerializer, responses=TaskSerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request, task_id):
        data = TaskCompleteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        task = services.task_complete(task=self.get_object(), **data.validated_data)
        return self.lean_response(task)


class ConversationViewSet(
    OwnRowsMixin,
    LeanRetrieveMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Your conversations with the agent, most recently active first.
    Deleting one deletes its messages."""

    serializer_class = ConversationSerializer
    shape = CONVERSATION
    lookup_url_kwarg = "conversation_id"
    ordering_fields = ["updated_at"]
    ordering = ["-updated_at"]
    queryset = Conversation.objects.all()

    def perform_create(self, serializer):
        serializer.instance = services.conversation_create(
            user=self.request.user, **serializer.validated_data
        )


class MessageViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """A conversation's messages, oldest first. Posting one (as the user)
    returns it with the agent's reply. Messages are never edited or deleted."""

    serializer_class = MessageSerializer
    ordering_fields = ["created_at"]
    ordering = ["created_at"]
    queryset = Message.objects.all()

    def conversation(self) -> Conversation:
        found = (
            Conversation.objects.select_related("user")  # the agent acts for them
            .filter(user=self.request.user, pk=self.kwargs["conversation_id"])
            .first()
        )
        if found is None:
            raise NotFound("You have no such conversation.")
        return found

    def get_queryset(self):
        return Message.objects.filter(
            conversation_id=self.kwargs["conversation_id"], user=self.request.user
        )

    def list(self, request, conversation_id):
        rows = self.filter_queryset(self.get_queryset()).values(*MESSAGE.columns)
        page = self.paginate_queryset(rows)
        if not page:
            self.conversation()  # 404 for another user's, or none
        return self.get_paginated_response([MESSAGE.build(row) for row in page])

    @extend_schema(request=MessageCreateSerializer, responses={201: TurnSerializer})
    def create(self, request, conversation_id):
        data = MessageCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        question, answer = services.message_post(
            conversation=self.conversation(), content=data.validated_data["content"]
        )
        return Response(
            {
                "message": MessageSerializer(question).data,
                "reply": MessageSerializer(answer).data,
            },
            status=status.HTTP_201_CREATED,
        )
