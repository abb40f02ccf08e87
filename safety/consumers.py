"""One WebSocket per client at ``/ws/`` (docs/realtime.md gives every event).

The socket is a signed-in user's (``config.ws``). It always receives the
user's private messages; it receives a room's events once subscribed, which
only a current, unbanned member may do. Messages sent over the socket go
through the same services and serializers as the REST API's, so the same
rules hold (membership, bans, blocks both ways, mutes, the media rule) and a
refusal is the same error body. A ban or a departure takes the socket out of
the room's group at once; nothing from a user blocked either way is
delivered. Connecting and heartbeats mark the user online, disconnecting
offline (other sockets of the same user then say they are still here);
typing indicators are relayed, never stored.
"""

from django.core.exceptions import PermissionDenied

from config import privacy
from config.ws import EventConsumer, apublish, validated
from safety import events, services
from safety.api.serializers import (
    HeartbeatSerializer,
    PresenceSerializer,
    PrivateMessageSerializer,
    RoomMessageSendSerializer,
    RoomMessageSerializer,
    RoomRefSerializer,
)
from safety.models import Presence, Status

# Events that concern a user (the one named by ``user_id`` or the message's
# author): not delivered to those they blocked or who blocked them.
ROOM_EVENTS = {
    "room.message",
    "member.joined",
    "member.left",
    "member.banned",
    "member.unbanned",
    "member.role",
    "typing.started",
    "typing.stopped",
    "presence.changed",
}


class SafetyConsumer(EventConsumer):
    client_events = {
        "subscribe": "subscribe",
        "unsubscribe": "unsubscribe",
        "room.message.send": "room_message_send",
        "private.message.send": "private_message_send",
        "typing.start": "typing_start",
        "typing.stop": "typing_stop",
        "heartbeat": "heartbeat",
    }
    # Messages count with the REST API's (one bucket for room and private
    # messages); typing indicators have their own.
    rate_limits = {
        "room.message.send": "messages",
        "private.message.send": "messages",
        "typing.start": "typing",
        "typing.stop": "typing",
    }

    async def opened(self):
        self.rooms: set[int] = set()
        self.status = Status.ONLINE
        # The group first: a block made meanwhile is then announced to it.
        await self.channel_layer.group_add(
            events.user_group(self.user.pk), self.channel_name
        )
        self.blocked = await self.run(self._blocked)
        await self.send_json({"type": "hello", "user_id": str(self.user.pk)})
        await self.run(self._presence, {"status": self.status})

    async def disconnect(self, code):
        if not hasattr(self, "rooms"):  # refused, or closed before opened()
            return
        for room_id in list(self.rooms):
            await self._leave(room_id)
        mine = events.user_group(self.user.pk)
        await self.channel_layer.group_discard(mine, self.channel_name)
        await self.run(self._presence, {"status": Status.OFFLINE})
        await self.channel_layer.group_send(mine, {"type": "presence.reassert"})

    # --- what the client sends ------------------------------------------------------

    async def subscribe(self, content):
        room_id = validated(RoomRefSerializer, content)["room_id"]
        await self.run(self._check_reader, room_id)
        self.rooms.add(room_id)
        await self.channel_layer.group_add(
            events.room_group(room_id), self.channel_name
        )
        return {"type": "subscribed", "room_id": room_id}

    async def unsubscribe(self, content):
        room_id = validated(RoomRefSerializer, content)["room_id"]
        await self._leave(room_id)
        return {"type": "unsubscribed", "room_id": room_id}

    async def room_message_send(self, content):
        message = await self.run(self._post, content)
        return {"type": "room.message.sent", "message": message}

    async def private_message_send(self, content):
        message = await self.run(self._send, content)
        return {"type": "private.message.sent", "message": message}

    async def typing_start(self, content):
        await self._typing(content, "typing.started")

    async def typing_stop(self, content):
        await self._typing(content, "typing.stopped")

    async def heartbeat(self, content):
        presence = await self.run(self._presence, content)
        # The layer forgets a group member after its group_expiry (a day), so
        # that the sockets of a server that died leave at last: a heartbeat
        # renews this socket's groups, which it holds as long as it beats.
        for group in [
            events.user_group(self.user.pk),
            *map(events.room_group, self.rooms),
        ]:
            await self.channel_layer.group_add(group, self.channel_name)
        return {"type": "heartbeat.ok", "presence": presence}

    # --- what the groups send -------------------------------------------------------

    async def push(self, message):
        event = message["event"]
        kind = event["type"]
        if kind == "blocks.changed":
            self.blocked = await self.run(self._blocked)
        elif kind == "member.own":
            if event["leave"]:
                await self._leave(event["event"]["room_id"])
            await self.send_json(event["event"])
        elif self._delivers(event):
            await self.send_json(event)

    async def presence_reassert(self, message):
        """Another socket of this user closed and said they are offline:
        this one is still open."""
        await self.run(self._presence, {"status": self.status})

    def _delivers(self, event) -> bool:
        kind = event["type"]
        if kind not in ROOM_EVENTS:  # private messages: the user's own
            return True
        me = str(self.user.pk)
        about = event.get("user_id") or event["message"]["user_id"]
        if kind.startswith("member.") and about == me:
            return False  # their own membership reaches them as member.own
        if event["room_id"] not in self.rooms:
            return False  # queued before this socket left the room
        if kind.startswith("typing.") and about == me:
            return False
        return about == me or about not in self.blocked

    # --- helpers ---------------------------------------------------------------------

    async def _leave(self, room_id):
        self.rooms.discard(room_id)
        await self.channel_layer.group_discard(
            events.room_group(room_id), self.channel_name
        )

    async def _typing(self, content, kind):
        room_id = validated(RoomRefSerializer, content)["room_id"]
        if room_id not in self.rooms:
            raise PermissionDenied(f"Subscribe to room {room_id} first.")
        await apublish(
            events.room_group(room_id),
            {"type": kind, "room_id": room_id, "user_id": str(self.user.pk)},
        )

    # Run in the database's thread, in a transaction (EventConsumer.run).

    def _blocked(self) -> set[str]:
        """Users hidden from this one (blocked by them or who blocked them),
        as event ids: the REST API's rule (config.privacy)."""
        return {str(other) for other in privacy.hidden_users(self.user)}

    def _check_reader(self, room_id) -> None:
        services.reader(services.visible_room(self.user, room_id), self.user)

    def _post(self, content) -> dict:
        data = validated(RoomMessageSendSerializer, content)
        room = services.visible_room(self.user, data.pop("room_id"))
        message = services.room_message_post(room=room, user=self.user, **data)
        return dict(RoomMessageSerializer(message).data)

    def _send(self, content) -> dict:
        data = validated(PrivateMessageSerializer, content)
        recipient = services.active_user(data.pop("recipient_id"), self.user)
        message = services.private_message_send(
            sender=self.user, recipient=recipient, **data
        )
        return dict(PrivateMessageSerializer(message).data)

    def _presence(self, content) -> dict:
        data = validated(HeartbeatSerializer, content)
        services.presence_heartbeat(user=self.user, **data)
        self.status = data["status"]
        presence = Presence.objects.seen_by(self.user).get(user=self.user)
        return dict(PresenceSerializer(presence).data)
