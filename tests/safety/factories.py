import factory

from safety import services
from safety.models import ChatRoom
from tests.profiles.factories import UserFactory


class RoomFactory(factory.django.DjangoModelFactory):
    """A room made as the API makes one (its owner is its OWNR member)."""

    class Meta:
        model = ChatRoom

    owner = factory.SubFactory(UserFactory)
    room_name = factory.Sequence(lambda n: f"room {n}")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return services.room_create(**kwargs)


def every_safety_table(owner) -> None:
    """A row in each safety table (tests/conftest.py): ``owner``'s public
    room with another member's message, private messages both ways, a
    heartbeat, a report of the message reviewed, a moderation action on
    it, a block of a third user and a location."""
    friend, stranger = UserFactory(), UserFactory()
    room = RoomFactory(owner=owner, room_name=f"room of {owner.username}")
    services.room_join(room=room, user=friend)
    message = services.room_message_post(
        room=room, user=friend, message="hello", media_url="https://x.test/a.png"
    )
    services.private_message_send(sender=owner, recipient=friend, message="hi")
    services.private_message_send(sender=friend, recipient=owner, message="hey")
    services.presence_heartbeat(user=owner, status="online", room_id=room.pk)
    report = services.report_create(
        reporter=owner, reported_message=message, report_type="spam"
    )
    services.report_review(report=report, moderator=owner, status="reviewing")
    services.moderation_action_create(
        moderator=owner,
        target_user=friend,
        action_type="warn",
        reason="spam",
        report=report,
    )
    services.block(blocker=owner, blocked=stranger)
    services.location_set(
        user=owner, city="Lisbon", latitude=38.7223, longitude=-9.1393
    )
    services.location_set(user=friend, city="Lisbon", neighborhood="Alfama")
