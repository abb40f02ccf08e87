"""Flood control: a user's room and private messages, over REST and over the
socket, count against one bucket (``MESSAGE_RATE``); typing indicators
against their own (``TYPING_RATE``). Over the rate, REST answers 429 with
``Retry-After``, the socket an error event with ``retry_after``, and nothing
is stored or relayed. (The limiter itself: tests/config/test_ratelimit.py;
two server processes sharing the bucket: tests/config/test_two_processes.py.)"""

import pytest
from asgiref.sync import sync_to_async

from chatbot.models import Task
from safety import services
from safety.models import ChatRoomMessage, PrivateMessage
from tests.conftest import token_client
from tests.helpers import assert_error
from tests.profiles.factories import UserFactory
from tests.safety.factories import RoomFactory
from tests.safety.test_realtime import QUIET, send, subscribe, talk

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("layer")]

MESSAGES = "/api/safety/chat-rooms/{}/messages/"
PRIVATE = "/api/safety/private-messages/"


@pytest.fixture
def three_messages(rate_limits):
    rate_limits(messages=("1/hour", 3))


def assert_throttled(response) -> None:
    assert_error(response, 429, "throttled")
    assert 3500 < int(response["Retry-After"]) <= 3600


def test_rest_messages_over_the_rate_are_a_429_and_not_stored(three_messages):
    author, friend = UserFactory(), UserFactory()
    room = RoomFactory(owner=author)
    client = token_client(author)
    for n in range(2):
        response = client.post(MESSAGES.format(room.pk), {"message": f"m{n}"})
        assert response.status_code == 201, response.content
    sent = client.post(PRIVATE, {"recipient_id": str(friend.pk), "message": "pm"})
    assert sent.status_code == 201, sent.content
    assert_throttled(client.post(MESSAGES.format(room.pk), {"message": "flood"}))
    assert_throttled(
        client.post(PRIVATE, {"recipient_id": str(friend.pk), "message": "flood"})
    )
    assert ChatRoomMessage.objects.filter(room=room).count() == 2
    assert PrivateMessage.objects.count() == 1
    # Reading is not sending; other users have buckets of their own.
    assert client.get(MESSAGES.format(room.pk)).status_code == 200
    assert client.get(PRIVATE).status_code == 200
    services.room_join(room=room, user=friend)
    answer = token_client(friend).post(MESSAGES.format(room.pk), {"message": "hi"})
    assert answer.status_code == 201


def test_socket_and_rest_sends_share_one_bucket(three_messages):
    author, friend = UserFactory(), UserFactory()
    room = RoomFactory(owner=author)
    client = token_client(author)
    assert client.post(MESSAGES.format(room.pk), {"message": "rest"}).status_code == 201

    async def conversation(sockets):
        socket = await sockets.of(author)
        await subscribe(socket, room)
        sent = {"type": "room.message.send", "room_id": room.pk, "message": "ws"}
        replies = [await send(socket, sent)]  # the room's copy, or the reply
        replies.append(await socket.receive_json_from())
        assert {reply["type"] for reply in replies} == {
            "room.message",
            "room.message.sent",
        }
        private = {"type": "private.message.send", "recipient_id": str(friend.pk)}
        reply = await send(socket, {**private, "message": "pm", "ref": 1})
        assert reply["type"] in ("private.message.sent", "private.message")
        await socket.receive_json_from()  # its copy (or reply)

        for event in (sent, {**private, "message": "flood"}):
            refused = await send(socket, {**event, "ref": "over"})
            retry_after = refused.pop("retry_after")
            assert refused == {
                "type": "error",
                "ref": "over",
                "status": 429,
                "code": "throttled",
                "detail": f"Request was throttled. Expected available in "
                f"{retry_after} seconds.",
                "errors": [],
            }
            assert 3500 < retry_after <= 3600
        assert await socket.receive_nothing(QUIET)  # nothing sent to the room
        beat = await send(socket, {"type": "heartbeat"})  # the socket is open
        assert beat["type"] == "heartbeat.ok"
        rest = await sync_to_async(client.post)(
            MESSAGES.format(room.pk), {"message": "rest again"}
        )
        assert_throttled(rest)

    talk(conversation)
    stored = ChatRoomMessage.objects.filter(room=room)
    assert set(stored.values_list("message", flat=True)) == {"rest", "ws"}
    assert list(PrivateMessage.objects.values_list("message", flat=True)) == ["pm"]


def test_typing_over_the_rate_is_an_error_event_and_not_relayed(rate_limits):
    rate_limits(typing=("1/hour", 2))
    typist, reader = UserFactory(), UserFactory()
    room = RoomFactory(owner=typist)
    services.room_join(room=room, user=reader)

    async def conversation(sockets):
        mine, theirs = await sockets.of(typist), await sockets.of(reader)
        await subscribe(mine, room)
        await subscribe(theirs, room)
        for kind in ("typing.start", "typing.stop"):
            await mine.send_json_to({"type": kind, "room_id": room.pk})
            heard = await theirs.receive_json_from()
            assert heard["type"] == kind.replace("start", "started").replace(
                "stop", "stopped"
            )
        refused = await send(mine, {"type": "typing.start", "room_id": room.pk})
        assert (refused["type"], refused["status"]) == ("error", 429)
        assert refused["code"] == "throttled" and refused["retry_after"] > 0
        assert await theirs.receive_nothing(QUIET)
        # Messages have a bucket of their own.
        sent = {"type": "room.message.send", "room_id": room.pk, "message": "hi"}
        assert (await send(mine, sent))["type"] != "error"

    talk(conversation)


def test_a_flood_over_the_socket_stores_the_burst_and_nothing_more(rate_limits):
    """The issue's flood: many messages sent at once over one socket."""
    rate_limits(messages=("1/hour", 5))
    author = UserFactory()
    room = RoomFactory(owner=author)

    async def conversation(sockets):
        socket = await sockets.of(author)
        for n in range(50):
            await socket.send_json_to(
                {"type": "room.message.send", "room_id": room.pk, "message": f"{n}"}
            )
        replies = [await socket.receive_json_from(timeout=10) for _ in range(50)]
        kinds = [reply.get("code", reply["type"]) for reply in replies]
        assert kinds.count("room.message.sent") == 5
        assert kinds.count("throttled") == 45

    talk(conversation)
    assert ChatRoomMessage.objects.filter(room=room).count() == 5


def test_every_write_and_socket_event_counts_against_the_users_writes(rate_limits):
    """What has no limit of its own (a task, a reorder, a heartbeat) is
    capped by the ``writes`` scope, REST and sockets together; reads are
    not counted."""
    rate_limits(writes=("1/hour", 3))
    user = UserFactory()
    client = token_client(user)
    tasks = "/api/chatbot/tasks/"
    for n in range(2):
        assert client.post(tasks, {"title": f"t{n}"}).status_code == 201
    assert client.get(tasks).status_code == 200

    async def conversation(sockets):
        socket = await sockets.of(user)
        assert (await send(socket, {"type": "heartbeat"}))["type"] == "heartbeat.ok"
        refused = await send(socket, {"type": "heartbeat", "ref": 2})
        assert (refused["type"], refused["code"], refused["ref"]) == (
            "error",
            "throttled",
            2,
        )

    talk(conversation)
    assert_throttled(client.post(tasks, {"title": "flood"}))
    titles = Task.objects.filter(user=user).values_list("title", flat=True)
    assert sorted(titles) == ["t0", "t1"]
