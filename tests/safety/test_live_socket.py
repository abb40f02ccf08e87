"""The WebSocket through a real server, as a client program meets it: uvicorn
serves config.asgi.application (HTTP and WebSocket on one port, as
``runserver`` and daphne do) and the ``websockets`` client connects over
TCP, as clients/python/realtime.py does."""

import asyncio
import json

import httpx2
import pytest
import websockets
from rest_framework.authtoken.models import Token

from tests.live_server import LiveServer
from tests.profiles.factories import UserFactory
from tests.safety.factories import RoomFactory

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
