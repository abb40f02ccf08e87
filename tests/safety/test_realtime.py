"""Rooms, private messages and presence over the WebSocket (safety.consumers)
as clients see them: Channels' WebsocketCommunicator talks to the whole ASGI
application (config.asgi), over the real Redis channel layer where Redis
answers (CI: always) and the in-memory one where it does not.

Who may connect (a token, or the admin's session from this site only), who
may subscribe, who hears what (every member, nobody else; nothing from a
blocked user; nothing once banned), sending through the socket with the
API's rules and error bodies, typing relayed and never stored, presence
driven by connections and the TTL, and REST writes pushed after commit.

The tests are synchronous and run their socket conversations with
``async_to_sync``: the consumers' database work then runs in the test's
thread, on rows the tests commit (``transactional_db``), since events are
published only once a transaction commits."""

import asyncio
import contextlib
import os
import uuid
from datetime import timedelta

import pytest
import redis
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from channels_redis.utils import create_pool
from django.db import transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from config.asgi import application
from config.ws import publish
from safety import services
from safety.models import ChatRoomMessage, Presence, PrivateMessage, Status
from tests.conftest import REDIS_URL, closed_port, token_client
from tests.profiles.factories import UserFactory
from tests.safety.factories import RoomFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("layer")]

API = "/api/safety/"
QUIET = 0.3  # seconds a socket must stay silent to show it heard nothing


def test_ci_runs_these_tests_on_redis(layer):
    if "REDIS_URL" in os.environ:
        assert layer == "redis"
        assert type(get_channel_layer()).__name__ == "RedisChannelLayer"


def test_an_idle_sockets_wait_for_events_outlasts_its_redis_read_timeout(layer):
    """The consumer blocks in BZPOPMIN for ``brpop_timeout``; a read timeout
    no longer than that closed idle sockets (seen under load: 1011)."""
    if layer != "redis":
        pytest.skip("the in-memory layer has no read timeout")
    channel_layer = get_channel_layer()
    pool = create_pool(channel_layer.hosts[0])
    assert pool.connection_kwargs["socket_timeout"] > channel_layer.brpop_timeout


def test_pushes_from_sync_code_share_one_redis_connection(layer):
    """A WSGI worker (no event loop of its own) pushing one event per write:
    before, each push connected to Redis afresh (``async_to_sync`` gave each
    its own loop, and the layer keeps connections per loop)."""
    if layer != "redis":
        pytest.skip("the in-memory layer has no connections")
    channel_layer = get_channel_layer()
    channel = async_to_sync(channel_layer.new_channel)()
    async_to_sync(channel_layer.group_add)("pushes", channel)
    stats = redis.Redis.from_url(REDIS_URL)
    before = stats.info("stats")["total_connections_received"]
    for n in range(20):
        publish("pushes", {"type": "test", "n": n})  # no transaction: at once
    connected = stats.info("stats")["total_connections_received"] - before
    assert connected <= 2, connected  # the push loop's (another client's at most)
    heard = [async_to_sync(channel_layer.receive)(channel) for _ in range(20)]
    assert [message["event"]["n"] for message in heard] == list(range(20))


# --- helpers ------------------------------------------------------------------------


def token_of(user) -> str:
    return Token.objects.get_or_create(user=user)[0].key


class Sockets:
    """Communicators opened in one conversation, all closed at its end."""

    def __init__(self):
        self.open: list[WebsocketCommunicator] = []

    async def raw(self, query: str = "", headers=()) -> WebsocketCommunicator:
        socket = WebsocketCommunicator(application, f"/ws/{query}", headers=headers)
        self.open.append(socket)
        return socket

    async def of(self, user) -> WebsocketCommunicator:
        """A signed-in socket of ``user``, past its ``hello``."""
        token = await sync_to_async(token_of)(user)
        socket = await self.raw(f"?token={token}")
        connected, _ = await socket.connect()
        assert connected
        assert await socket.receive_json_from() == {
            "type": "hello",
            "user_id": str(user.pk),
        }
        return socket

    async def close(self):
        for socket in self.open:
            with contextlib.suppress(Exception):
                await socket.disconnect()


def talk(conversation):
    """Run ``conversation(sockets)`` (async) to its end, every socket closed."""

    async def run():
        sockets = Sockets()
        try:
            await conversation(sockets)
        finally:
            await sockets.close()

    async_to_sync(run)()


async def send(socket, event: dict) -> dict:
    """Send ``event``; the reply (or the next event)."""
    await socket.send_json_to(event)
    return await socket.receive_json_from()


async def subscribe(socket, room) -> None:
    reply = await send(socket, {"type": "subscribe", "room_id": room.pk})
    assert reply == {"type": "subscribed", "room_id": room.pk}


async def silent(*sockets) -> None:
    for socket in sockets:
        assert await socket.receive_nothing(timeout=QUIET)


def error(reply: dict, status: int, code: str) -> dict:
    assert reply["type"] == "error", reply
    assert (reply["status"], reply["code"]) == (status, code), reply
    assert reply["detail"]
    return reply


def in_thread(function, *args, **kwargs):
    """A database call from the conversation, in the consumers' thread."""
    return sync_to_async(function)(*args, **kwargs)


def rest(user, method: str, url: str, body=None):
    """``user``'s call of the REST API, from a conversation."""
    return in_thread(lambda: getattr(token_client(user), method)(url, body))


def room_with(*members, **fields):
    room = RoomFactory(**fields)
    for member in members:
        services.room_invite(room=room, by=room.owner, user=member)
    return room


# --- who may connect ----------------------------------------------------------------


def test_a_socket_without_a_valid_token_is_refused():
    user = UserFactory()
    key = token_of(user)
    inactive = token_of(UserFactory(is_active=False))

    async def conversation(sockets):
        for query in ("", "?token=", "?token=nope", f"?token={inactive}"):
            connected, _ = await (await sockets.raw(query)).connect()
            assert not connected, query
        await sync_to_async(Token.objects.filter(key=key).delete)()  # revoked
        connected, _ = await (await sockets.raw(f"?token={key}")).connect()
        assert not connected

    talk(conversation)


def session_cookie(client, user) -> bytes:
    """The admin's session cookie of ``user``, signed in as the admin does."""
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


def test_the_admin_session_signs_in_from_this_site_only(client):
    staff = UserFactory(is_staff=True)
    cookie = session_cookie(client, staff)

    async def conversation(sockets):
        for origin, allowed in (
            (None, True),  # a program: no Origin
            (b"http://127.0.0.1:8000", True),
            (b"http://localhost", True),
            (b"https://evil.example", False),
            (b"null", False),
        ):
            headers = [(b"cookie", cookie)]
            if origin is not None:
                headers.append((b"origin", origin))
            socket = await sockets.raw(headers=headers)
            connected, _ = await socket.connect()
            assert connected is allowed, origin
            if allowed:
                hello = await socket.receive_json_from()
                assert hello["user_id"] == str(staff.pk)
        # A wrong token is refused even with a good session beside it.
        socket = await sockets.raw("?token=nope", headers=[(b"cookie", cookie)])
        assert not (await socket.connect())[0]

    talk(conversation)


# --- who hears what -----------------------------------------------------------------


def test_subscribing_needs_a_current_unbanned_membership():
    user, banned = UserFactory(), UserFactory()
    public = RoomFactory()
    private = RoomFactory(is_public=False)
    mine = room_with(user, banned)
    services.member_ban(
        room=mine, by=mine.owner, member=services.membership(mine, banned)
    )

    async def conversation(sockets):
        socket, banned_socket = await sockets.of(user), await sockets.of(banned)
        reply = await send(socket, {"type": "subscribe", "room_id": public.pk})
        assert "Join the room" in error(reply, 403, "permission_denied")["detail"]
        reply = await send(socket, {"type": "subscribe", "room_id": private.pk})
        error(reply, 404, "not_found")
        reply = await send(socket, {"type": "subscribe", "room_id": 2**40})
        error(reply, 404, "not_found")
        reply = await send(banned_socket, {"type": "subscribe", "room_id": mine.pk})
        assert "banned" in error(reply, 403, "permission_denied")["detail"]
        await subscribe(socket, mine)

    talk(conversation)


def test_a_message_posted_over_rest_reaches_every_member_and_nobody_else():
    members = UserFactory.create_batch(3)
    outsider, lurker = UserFactory(), UserFactory()
    room = room_with(*members, lurker)  # the lurker never subscribes
    poster = token_client(members[0])

    async def conversation(sockets):
        listening = [await sockets.of(user) for user in members]
        others = [await sockets.of(outsider), await sockets.of(lurker)]
        for socket in listening:
            await subscribe(socket, room)
        response = await in_thread(
            poster.post, f"{API}chat-rooms/{room.pk}/messages/", {"message": "hi all"}
        )
        assert response.status_code == 201
        for socket in listening:
            event = await socket.receive_json_from()
            assert event == {
                "type": "room.message",
                "room_id": room.pk,
                "message": response.json(),
            }
        await silent(*others)

    talk(conversation)


def test_nothing_is_pushed_for_a_write_that_rolls_back():
    user = UserFactory()
    room = room_with(user)

    async def conversation(sockets):
        socket = await sockets.of(user)
        await subscribe(socket, room)

        def post_then_fail():
            with contextlib.suppress(RuntimeError), transaction.atomic():
                services.room_message_post(room=room, user=user, message="undone")
                raise RuntimeError

        await in_thread(post_then_fail)
        await silent(socket)
        assert not await in_thread(ChatRoomMessage.objects.exists)

    talk(conversation)


def test_a_message_sent_over_the_socket_is_stored_acknowledged_and_pushed():
    user, friend = UserFactory(), UserFactory()
    room = room_with(user, friend)

    async def conversation(sockets):
        mine, theirs = await sockets.of(user), await sockets.of(friend)
        await subscribe(mine, room)
        await subscribe(theirs, room)
        reply = await send(
            mine,
            {
                "type": "room.message.send",
                "ref": "m1",
                "room_id": room.pk,
                "message": "from a socket",
                "media_url": "https://cdn.example/a/voice.ogg",
            },
        )
        assert reply["type"] == "room.message.sent"
        assert reply["ref"] == "m1"
        stored = await in_thread(ChatRoomMessage.objects.get)
        assert (stored.user_id, stored.message) == (user.pk, "from a socket")
        assert reply["message"]["id"] == stored.pk
        for socket in (mine, theirs):
            event = await socket.receive_json_from()
            assert event == {
                "type": "room.message",
                "room_id": room.pk,
                "message": reply["message"],
            }

    talk(conversation)


VIDEO, FTP = "https://x.test/clip.mp4", "ftp://x.test/a.png"
LONG_URL = "https://x.test/" + "a" * 1_982 + ".png"  # 2 001 characters
OMIT = object()


@pytest.mark.parametrize(
    ("event", "status", "code", "field", "entry"),
    [
        ({"room_id": "1", "message": "x"}, 400, "invalid", "room_id", "invalid_type"),
        ({"room_id": OMIT, "message": "x"}, 400, "invalid", "room_id", "required"),
        ({"room_id": 0, "message": "x"}, 400, "invalid", "room_id", "min_value"),
        ({"room_id": None, "message": "x"}, 400, "invalid", "room_id", "null"),
        ({"message": "x", "colour": 1}, 400, "invalid", "colour", "unknown_field"),
        ({"message": ""}, 400, "invalid", "message", "blank"),
        ({"message": "a\x00b"}, 400, "invalid", "message", "null_characters_not_allowed"),  # noqa: E501
        ({"message": "x" * 4001}, 400, "invalid", "message", "max_length"),
        ({"message": "x", "media_url": LONG_URL}, 400, "invalid", "media_url", "max_length"),  # noqa: E501
        ({"message": 5}, 400, "invalid", "message", "invalid_type"),
        ({"message": "x", "media_url": VIDEO}, 400, "invalid", "media_url", "invalid"),
        ({"message": "x", "media_url": FTP}, 400, "invalid", "media_url", "invalid"),
    ],
)  # fmt: skip
def test_a_bad_socket_message_is_the_apis_400(event, status, code, field, entry):
    user = UserFactory()
    room = room_with(user)

    async def conversation(sockets):
        socket = await sockets.of(user)
        body = {"type": "room.message.send", "room_id": room.pk, **event}
        if event.get("room_id") is OMIT:
            del body["room_id"]
        reply = error(await send(socket, body), status, code)
        assert (field, entry) in [(e["field"], e["code"]) for e in reply["errors"]]
        assert not await in_thread(ChatRoomMessage.objects.exists)

    talk(conversation)


@pytest.mark.parametrize(
    ("frame", "status", "code", "field"),
    [
        ("not json", 400, "parse_error", None),
        ("[1, 2]", 400, "invalid", None),
        ('{"type": "dance"}', 400, "invalid", "type"),
        ('{"room_id": 1}', 400, "invalid", "type"),
        ('{"type": 7}', 400, "invalid", "type"),
        ('{"type": "subscribe", "room_id": 1, "ref": [1]}', 400, "invalid", "ref"),
        ("[" * 40 + "]" * 40, 400, "parse_error", None),
        ("[" * 100000 + "]" * 100000, 413, "payload_too_large", None),
        (b"\x00binary", 400, "parse_error", None),
    ],
)
def test_a_frame_that_is_no_event_is_an_error_event(frame, status, code, field):
    user = UserFactory()

    async def conversation(sockets):
        socket = await sockets.of(user)
        if isinstance(frame, bytes):
            await socket.send_to(bytes_data=frame)
        else:
            await socket.send_to(text_data=frame)
        reply = error(await socket.receive_json_from(), status, code)
        if field:
            assert [e["field"] for e in reply["errors"]] == [field]
        # The socket stays open and answers the next event.
        reply = await send(socket, {"type": "heartbeat", "ref": 9})
        assert (reply["type"], reply["ref"]) == ("heartbeat.ok", 9)

    talk(conversation)


def test_a_ban_stops_the_members_events_at_once():
    member, other = UserFactory(), UserFactory()
    room = room_with(member, other)
    owner = token_client(room.owner)

    async def conversation(sockets):
        banned, staying = await sockets.of(member), await sockets.of(other)
        await subscribe(banned, room)
        await subscribe(staying, room)
        response = await in_thread(
            owner.post, f"{API}chat-rooms/{room.pk}/members/{member.pk}/ban/"
        )
        assert response.status_code == 200
        for socket in (banned, staying):
            event = await socket.receive_json_from()
            assert (event["type"], event["user_id"]) == (
                "member.banned",
                str(member.pk),
            )
            assert event["member"]["is_banned"] is True
        await in_thread(
            owner.post, f"{API}chat-rooms/{room.pk}/messages/", {"message": "after"}
        )
        assert (await staying.receive_json_from())["type"] == "room.message"
        await silent(banned)
        reply = await send(
            banned, {"type": "room.message.send", "room_id": room.pk, "message": "x"}
        )
        assert "banned" in error(reply, 403, "permission_denied")["detail"]
        reply = await send(banned, {"type": "subscribe", "room_id": room.pk})
        error(reply, 403, "permission_denied")

    talk(conversation)


def test_members_hear_of_their_own_membership_once_subscribed_or_not():
    member, other = UserFactory(), UserFactory()
    room = room_with(member, other)
    owner = token_client(room.owner)
    members = f"{API}chat-rooms/{room.pk}/members/{member.pk}/"

    async def conversation(sockets):
        subscribed, elsewhere = await sockets.of(member), await sockets.of(member)
        await subscribe(subscribed, room)
        for action in ("ban/", "unban/"):
            assert (await in_thread(owner.post, members + action)).status_code == 200
        await in_thread(owner.patch, members, {"role": "MOD"})
        for socket in (subscribed, elsewhere):
            kinds = [(await socket.receive_json_from())["type"] for _ in range(3)]
            assert kinds == ["member.banned", "member.unbanned", "member.role"]
        await silent(subscribed, elsewhere)

    talk(conversation)


def room_change_form(room) -> dict:
    """The admin's change form of ``room`` as it stands, its members inline."""
    members = list(room.members.order_by("pk"))
    data = {
        "room_name": room.room_name,
        "owner": str(room.owner_id),
        "is_public": "on" if room.is_public else "",
        "background_color": room.background_color,
        "max_participants": room.max_participants,
        "members-TOTAL_FORMS": len(members),
        "members-INITIAL_FORMS": len(members),
        "members-MIN_NUM_FORMS": 0,
        "members-MAX_NUM_FORMS": 1000,
    }
    for n, member in enumerate(members):
        data |= {
            f"members-{n}-id": member.pk,
            f"members-{n}-room": room.pk,
            f"members-{n}-user": str(member.user_id),
            f"members-{n}-role": member.role,
        }
        if member.is_banned:
            data[f"members-{n}-is_banned"] = "on"
    return data


def test_a_ban_by_staff_in_the_admin_reaches_the_sockets_as_the_apis(admin_client):
    member, other = UserFactory(), UserFactory()
    room = room_with(member, other)
    url = f"/admin/safety/chatroom/{room.pk}/change/"
    row = room_change_form(room)
    index = next(k for k, v in row.items() if v == str(member.pk)).split("-")[1]
    row[f"members-{index}-is_banned"] = "on"

    async def conversation(sockets):
        banned, staying = await sockets.of(member), await sockets.of(other)
        await subscribe(banned, room)
        await subscribe(staying, room)
        response = await in_thread(admin_client.post, url, row)
        assert response.status_code == 302, response.content
        for socket in (banned, staying):
            event = await socket.receive_json_from()
            assert (event["type"], event["user_id"]) == (
                "member.banned",
                str(member.pk),
            )
        await in_thread(services.room_message_post, room=room, user=other, message="x")
        assert (await staying.receive_json_from())["type"] == "room.message"
        await silent(banned)
        # Deleting the membership on its own admin page: the member has left.
        gone = await in_thread(room.members.get, user=other)
        response = await in_thread(
            admin_client.post,
            f"/admin/safety/chatroommember/{gone.pk}/delete/",
            {"post": "yes"},
        )
        assert response.status_code == 302
        assert (await staying.receive_json_from())["type"] == "member.left"
        await silent(staying)

    talk(conversation)


def test_leaving_over_rest_takes_the_socket_out_of_the_room():
    member, other = UserFactory(), UserFactory()
    room = room_with(member, other)

    async def conversation(sockets):
        leaving, staying = await sockets.of(member), await sockets.of(other)
        await subscribe(leaving, room)
        await subscribe(staying, room)
        response = await rest(member, "post", f"{API}chat-rooms/{room.pk}/leave/")
        assert response.status_code == 204
        for socket in (leaving, staying):
            event = await socket.receive_json_from()
            assert event == {
                "type": "member.left",
                "room_id": room.pk,
                "user_id": str(member.pk),
            }
        await in_thread(
            services.room_message_post, room=room, user=other, message="bye"
        )
        assert (await staying.receive_json_from())["type"] == "room.message"
        await silent(leaving)

    talk(conversation)


def test_blocked_users_hear_nothing_of_each_other_and_cannot_message():
    user, blocked, bystander = UserFactory(), UserFactory(), UserFactory()
    room = room_with(user, blocked, bystander)

    async def conversation(sockets):
        mine = await sockets.of(user)
        theirs = await sockets.of(blocked)
        watching = await sockets.of(bystander)
        for socket in (mine, theirs, watching):
            await subscribe(socket, room)
        block = {"blocked_id": str(blocked.pk)}
        response = await rest(user, "post", f"{API}blocks/", block)
        assert response.status_code == 201
        # Each way: the bystander hears both, the pair not each other.
        for author, deaf in ((blocked, mine), (user, theirs)):
            await in_thread(
                services.room_message_post, room=room, user=author, message="hey"
            )
            event = await watching.receive_json_from()
            assert event["message"]["user_id"] == str(author.pk)
            author_socket = theirs if author == blocked else mine
            assert (await author_socket.receive_json_from())["type"] == "room.message"
            await silent(deaf)
        await theirs.send_json_to({"type": "typing.start", "room_id": room.pk})
        assert (await watching.receive_json_from())["type"] == "typing.started"
        await silent(mine)
        # Either way the refusal is a user who does not exist: it says nothing
        # of the block.
        psst = {"type": "private.message.send", "message": "psst"}
        nobody = {**psst, "recipient_id": str(uuid.uuid4())}
        missing = error(await send(mine, nobody), 404, "not_found")
        for sender, recipient in ((theirs, user), (mine, blocked)):
            reply = await send(sender, {**psst, "recipient_id": str(recipient.pk)})
            assert error(reply, 404, "not_found") == missing
        assert not await in_thread(PrivateMessage.objects.exists)
        # Unblocked, they hear each other again.
        await rest(user, "delete", f"{API}blocks/{blocked.pk}/")
        await in_thread(
            services.room_message_post, room=room, user=blocked, message="back"
        )
        assert (await mine.receive_json_from())["message"]["message"] == "back"

    talk(conversation)


def test_a_muted_user_cannot_send_over_the_socket():
    user, friend, moderator = UserFactory(), UserFactory(), UserFactory(is_staff=True)
    room = room_with(user)
    services.moderation_action_create(
        moderator=moderator,
        target_user=user,
        action_type="mute",
        reason="flooding",
        duration_minutes=30,
    )

    async def conversation(sockets):
        socket = await sockets.of(user)
        to_friend = {"recipient_id": str(friend.pk)}
        for event in (
            {"type": "room.message.send", "room_id": room.pk, "message": "x"},
            {"type": "private.message.send", **to_friend, "message": "x"},
        ):
            assert (
                "muted"
                in error(await send(socket, event), 403, "permission_denied")["detail"]
            )
        assert not await in_thread(ChatRoomMessage.objects.exists)
        assert not await in_thread(PrivateMessage.objects.exists)

    talk(conversation)


def test_private_messages_reach_both_users_sockets_and_nobody_else():
    sender, recipient, stranger = UserFactory(), UserFactory(), UserFactory()

    async def conversation(sockets):
        sending, other_tab = await sockets.of(sender), await sockets.of(sender)
        receiving, strangers = await sockets.of(recipient), await sockets.of(stranger)
        reply = await send(
            sending,
            {
                "type": "private.message.send",
                "ref": 1,
                "recipient_id": str(recipient.pk),
                "message": "just you",
            },
        )
        assert (reply["type"], reply["ref"]) == ("private.message.sent", 1)
        stored = await in_thread(PrivateMessage.objects.get)
        assert reply["message"]["id"] == stored.pk
        for socket in (sending, other_tab, receiving):
            assert await socket.receive_json_from() == {
                "type": "private.message",
                "message": reply["message"],
            }
        await silent(strangers)
        # Over REST too, after commit.
        back = {"recipient_id": str(sender.pk), "message": "back to you"}
        response = await rest(recipient, "post", f"{API}private-messages/", back)
        assert response.status_code == 201
        for socket in (sending, other_tab, receiving):
            event = await socket.receive_json_from()
            assert event["message"] == response.json()
        await silent(strangers)

    talk(conversation)


def test_typing_is_relayed_to_the_others_and_never_stored():
    user, friend = UserFactory(), UserFactory()
    room = room_with(user, friend)

    async def conversation(sockets):
        typing, watching = await sockets.of(user), await sockets.of(friend)
        reply = await send(typing, {"type": "typing.start", "room_id": room.pk})
        assert "Subscribe" in error(reply, 403, "permission_denied")["detail"]
        await subscribe(typing, room)
        await subscribe(watching, room)
        before = await in_thread(Presence.objects.get, user=user)
        for kind, event in (
            ("typing.start", "typing.started"),
            ("typing.stop", "typing.stopped"),
        ):
            await typing.send_json_to({"type": kind, "room_id": room.pk})
            assert await watching.receive_json_from() == {
                "type": event,
                "room_id": room.pk,
                "user_id": str(user.pk),
            }
        await silent(typing)
        after = await in_thread(Presence.objects.get, user=user)
        assert (after.last_seen_at, after.activity) == (before.last_seen_at, None)

    talk(conversation)


# --- presence -----------------------------------------------------------------------


def presence_of(user) -> str:
    response = token_client(UserFactory()).get(f"{API}presence/{user.pk}/")
    assert response.status_code == 200, response.content
    return response.json()["status"]


def test_connections_drive_presence_and_the_room_hears_of_it():
    user, friend = UserFactory(), UserFactory()
    room = room_with(user, friend)

    async def conversation(sockets):
        watching = await sockets.of(friend)
        await subscribe(watching, room)
        socket = await sockets.of(user)
        assert await in_thread(presence_of, user) == Status.ONLINE
        event = await watching.receive_json_from()
        assert event == {
            "type": "presence.changed",
            "room_id": room.pk,
            "user_id": str(user.pk),
            "status": "online",
            "activity": None,
        }
        # A heartbeat that changes nothing others see is not announced.
        reply = await send(socket, {"type": "heartbeat"})
        assert reply["presence"]["status"] == "online"
        await silent(watching)
        away = {"type": "heartbeat", "status": "away", "activity": "idle"}
        reply = await send(socket, away)
        assert (await watching.receive_json_from())["status"] == "away"
        await socket.disconnect()
        assert (await watching.receive_json_from())["status"] == "offline"
        assert await in_thread(presence_of, user) == Status.OFFLINE

    talk(conversation)


def test_heartbeats_keep_a_socket_in_its_groups_past_the_group_expiry(settings):
    settings.CHANNEL_LAYERS["default"].setdefault("CONFIG", {})["group_expiry"] = 1
    user, friend = UserFactory(), UserFactory()
    room = room_with(user, friend)

    async def conversation(sockets):
        beating, idle = await sockets.of(user), await sockets.of(user)
        for socket in (beating, idle):
            await subscribe(socket, room)
        await asyncio.sleep(1.2)
        assert (await send(beating, {"type": "heartbeat"}))["type"] == "heartbeat.ok"
        await in_thread(
            services.room_message_post, room=room, user=friend, message="hi"
        )
        assert (await beating.receive_json_from())["type"] == "room.message"
        await silent(idle)  # forgotten by the layer: it never said it was here

    talk(conversation)


def test_a_user_with_two_sockets_stays_online_when_one_closes():
    user = UserFactory()

    async def conversation(sockets):
        first, _second = await sockets.of(user), await sockets.of(user)
        await first.disconnect()  # writes offline, then asks the others
        for _ in range(100):  # the other socket answers: still here
            if await in_thread(presence_of, user) == Status.ONLINE:
                break
            await asyncio.sleep(0.02)
        else:
            raise AssertionError("the open socket did not say the user is online")

    talk(conversation)


def test_presence_reads_offline_after_the_ttl_and_cleanup_announces_it(settings):
    settings.SAFETY_PRESENCE_TTL = 60
    user, friend = UserFactory(), UserFactory()
    room = room_with(user, friend)

    async def conversation(sockets):
        await sockets.of(user)  # connected, then silent: no heartbeat
        watching = await sockets.of(friend)
        await subscribe(watching, room)
        assert await in_thread(presence_of, user) == Status.ONLINE
        old = timezone.now() - timedelta(seconds=61)
        await in_thread(Presence.objects.filter(user=user).update, last_seen_at=old)
        assert await in_thread(presence_of, user) == Status.OFFLINE
        assert await in_thread(services.presence_cleanup) == 1
        event = await watching.receive_json_from()
        assert (event["user_id"], event["status"]) == (str(user.pk), "offline")
        assert not await in_thread(Presence.objects.filter(user=user).exists)

    talk(conversation)


def test_a_heartbeat_names_only_a_room_one_may_read():
    user = UserFactory()
    public, private = RoomFactory(), RoomFactory(is_public=False)

    async def conversation(sockets):
        socket = await sockets.of(user)
        reply = await send(socket, {"type": "heartbeat", "room_id": public.pk})
        error(reply, 403, "permission_denied")
        reply = await send(socket, {"type": "heartbeat", "room_id": private.pk})
        error(reply, 404, "not_found")
        reply = await send(socket, {"type": "heartbeat", "status": "busy"})
        error(reply, 400, "invalid")

    talk(conversation)


# --- the channel layer down -------------------------------------------------------


def test_rest_writes_succeed_while_the_channel_layer_is_down(settings, caplog):
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [f"redis://127.0.0.1:{closed_port()}/0"]},
        }
    }
    user = UserFactory()
    room = room_with(user)
    response = token_client(user).post(
        f"{API}chat-rooms/{room.pk}/messages/", {"message": "still stored"}
    )
    assert response.status_code == 201
    assert ChatRoomMessage.objects.get().message == "still stored"
    assert "could not push room.message" in caplog.text
