import factory

from chatbot import services
from chatbot.models import Conversation, Task
from tests.profiles.factories import UserFactory


class TaskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Task

    user = factory.SubFactory(UserFactory)
    title = factory.Sequence(lambda n: f"task {n}")


class ConversationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Conversation

    user = factory.SubFactory(UserFactory)
    title = factory.Sequence(lambda n: f"conversation {n}")


def every_chatbot_table(owner) -> None:
    """A task of ``owner``, and a conversation of theirs with one turn (their
    message and the agent's reply, which adds a task through a tool)."""
    TaskFactory(user=owner)
    conversation = ConversationFactory(user=owner)
    services.message_post(conversation=conversation, content="add water the plants")
