"""Many users joining one room at once, on PostgreSQL with a connection
each: the room never holds more members than its capacity."""

import threading

from django.core.exceptions import ValidationError
from django.db import connections, transaction

from safety import services
from safety.models import ChatRoom, ChatRoomMember
from tests.profiles.factories import UserFactory
from tests.safety.factories import RoomFactory


def test_parallel_joins_never_exceed_the_capacity(
    postgresql, transactional_db, settings
):
    settings.SAFETY_ROOM_CAPACITY = 4
    room = RoomFactory()
    joiners = UserFactory.create_batch(8)
    start = threading.Barrier(len(joiners))
    outcomes = []

    def join(user):
        try:
            start.wait()
            with transaction.atomic():
                services.room_join(room=ChatRoom.objects.get(pk=room.pk), user=user)
            outcomes.append("joined")
        except ValidationError as error:
            outcomes.append(error.message_dict["room_id"][0])
        finally:
            connections.close_all()

    threads = [threading.Thread(target=join, args=(user,)) for user in joiners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert outcomes.count("joined") == 3  # the owner is the fourth
    assert outcomes.count("The room is full (4 members).") == 5
    assert ChatRoomMember.objects.filter(room=room).count() == 4
