"""What the safety services push to sockets, once their transaction commits
(docs/realtime.md gives every event's shape). Rows travel in the shapes the
REST API answers with, so a client parses one format.

Groups: ``room.<id>``, the sockets subscribed to a room, and ``user.<id>``,
every socket of one user."""

from config.ws import publish
from safety.api.serializers import (
    PrivateMessageSerializer,
    RoomMemberSerializer,
    RoomMessageSerializer,
)


def room_group(room_id) -> str:
    return f"room.{room_id}"


def user_group(user_id) -> str:
    return f"user.{user_id}"


def room_message(message) -> None:
    data = dict(RoomMessageSerializer(message).data)
    publish(
        room_group(message.room_id),
        {"type": "room.message", "room_id": message.room_id, "message": data},
    )


def private_message(message) -> None:
    """To every socket of both users (the sender's other tabs too)."""
    event = {
        "type": "private.message",
        "message": dict(PrivateMessageSerializer(message).data),
    }
    publish(user_group(message.sender_id), event)
    publish(user_group(message.recipient_id), event)


def member(kind: str, member_row) -> None:
    """``member.joined``, ``member.banned``, ``member.unbanned`` or
    ``member.role`` in the room, and to the member's own sockets (subscribed
    or not; a ban takes them out of the room's group at once)."""
    event = {
        "type": f"member.{kind}",
        "room_id": member_row.room_id,
        "user_id": str(member_row.user_id),
        "member": dict(RoomMemberSerializer(member_row).data),
    }
    _about(event, member_row.user_id, leave=kind == "banned")


def member_left(room_id, user_id) -> None:
    event = {"type": "member.left", "room_id": room_id, "user_id": str(user_id)}
    _about(event, user_id, leave=True)


def _about(event, user_id, *, leave: bool) -> None:
    """A member event to the room and, as ``member.own`` (which the consumer
    unwraps; the room's copy does not reach them), to the member, whose
    sockets first leave the room's group when ``leave``."""
    publish(room_group(event["room_id"]), event)
    publish(user_group(user_id), {"type": "member.own", "event": event, "leave": leave})


def presence(room_id, presence_row) -> None:
    """What the room's members see of one user's presence."""
    publish(
        room_group(room_id),
        {
            "type": "presence.changed",
            "room_id": room_id,
            "user_id": str(presence_row.user_id),
            "status": presence_row.shown_status,
            "activity": presence_row.activity,
        },
    )


def blocks_changed(*user_ids) -> None:
    """Each user's sockets read again whom they must not hear from (not
    forwarded to the client)."""
    for user_id in user_ids:
        publish(user_group(user_id), {"type": "blocks.changed"})
