"""The WebSocket through a real server, as a client program meets it: uvicorn
serves config.asgi.application (HTTP and WebSocket on one port, as
``runserver`` and daphne do) and the ``websockets`` client connects over
TCP, as clients/python/realtime.py does. Frames of every size go to uvicorn
and to the production server (``python -m config.server``, daphne) alike."""

import asyncio
import json

import httpx2
import pytest
import websockets
from rest_framework.authtoken.models import Token

from tests.live_server import LiveServer
from tests.profiles.factories import UserFactory
from tests.safety.factories import RoomFactory
from tests.servers import postgresql_only, server_env, until_offline
from tests.servers import server as server_process

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("layer")]


@pytest.fixture
def server():
    server = LiveServer()
    server.start()
    yield server
    server.stop()


def test_http_and_websocket_share_the_port_and_a_rest_post_reaches_the_socket(
    server,
):
    member = UserFactory()
    room = RoomFactory(owner=member)
    token = Token.objects.create(user=member).key

    async def conversation():
        url = f"ws://{server.address}/ws/?token={token}"
        async with websockets.connect(url) as socket:
            assert json.loads(await socket.recv())["type"] == "hello"
            await socket.send(json.dumps({"type": "subscribe", "room_id": room.pk}))
            assert json.loads(await socket.recv())["type"] == "subscribed"
            async with httpx2.AsyncClient() as http:
                response = await http.post(
                    f"http://{server.address}/api/safety/chat-rooms/{room.pk}/messages/",
                    json={"message": "over HTTP"},
                    headers={"Authorization": f"Token {token}"},
                )
            assert response.status_code == 201, response.text
            event = json.loads(await asyncio.wait_for(socket.recv(), 5))
            assert event["type"] == "room.message"
            assert event["message"]["message"] == "over HTTP"
            assert event["message"]["id"] == response.json()["id"]

    asyncio.run(conversation())


@pytest.mark.parametrize("query", ["", "?token=" + "0" * 40])
def test_a_socket_without_a_valid_token_gets_a_403_handshake(server, query):
    async def connect():
        with pytest.raises(websockets.InvalidStatus) as refused:
            async with websockets.connect(f"ws://{server.address}/ws/{query}"):
                pass
        return refused.value.response.status_code

    assert asyncio.run(connect()) == 403


# --- frames of every size ----------------------------------------------------------


@pytest.fixture(scope="module")
def production_server(django_db_setup, django_db_blocker):
    """The README's production command, on the test database (PostgreSQL)."""
    postgresql_only(django_db_blocker)
    with django_db_blocker.unblock(), server_process("daphne", server_env()) as address:
        yield address


@pytest.fixture(params=["uvicorn", "config.server"])
def any_server(request):
    if request.param == "config.server":
        yield request.getfixturevalue("production_server")
        return
    server = LiveServer()
    server.start()
    yield server.address
    server.stop()


EVENT = '{"type": "unsubscribe", "room_id": 1}'


def frame(size: int) -> str:
    """A valid event, spaces after it making ``size`` characters (and bytes)."""
    return EVENT + " " * (size - len(EVENT))


def test_frames_of_every_size_get_the_documented_answer(any_server):
    user = UserFactory()
    token = Token.objects.create(user=user).key

    async def conversation():
        async with websockets.connect(f"ws://{any_server}/ws/?token={token}") as ws:
            assert json.loads(await ws.recv())["type"] == "hello"
            # Up to 65 536 characters: an event like any other.
            await ws.send(frame(65_536))
            assert json.loads(await ws.recv())["type"] == "unsubscribed"
            # 1 MB, within the server's limit (1 MiB): a 413, the socket open.
            await ws.send(frame(1_000_000))
            refused = json.loads(await ws.recv())
            assert (refused["status"], refused["code"]) == (413, "payload_too_large")
            await ws.send(EVENT)
            assert json.loads(await ws.recv())["type"] == "unsubscribed"
            # 5 MB, over the server's limit: closed with 1009 and a reason
            # (not a connection dropped without a word).
            await ws.send(frame(5_000_000))
            with pytest.raises(websockets.ConnectionClosedError) as closed:
                await asyncio.wait_for(ws.recv(), 30)
            assert closed.value.rcvd is not None, "dropped without a close frame"
            assert closed.value.rcvd.code == 1009
            assert "1048576" in closed.value.rcvd.reason

    asyncio.run(conversation())
    until_offline(user)
