"""A stateless app tier: two server processes (config.server: daphne, serving
config.asgi) on two ports, sharing PostgreSQL and Redis, as two machines
behind a load balancer would. A token made through one works on the other, a
session signed in on one is signed in on the other, the rate limits count the
requests to both (the password endpoints'; a user's messages, over REST on
one and a socket on the other), and a room message posted to one reaches a
WebSocket held by the other (docs/scaling.md)."""

import asyncio
import json
import os
import uuid

import httpx2
import pytest
import redis
import websockets

from safety import services
from safety.models import ChatRoomMessage
from tests.conftest import REDIS_URL
from tests.profiles.factories import UserFactory
from tests.safety.factories import RoomFactory
from tests.servers import (
    postgresql_only,
    server,
    server_env,
    sign_in_with,
    until_offline,
)

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "two processes 2026"


@pytest.fixture(scope="module")
def servers(django_db_setup, django_db_blocker):
    """Two server processes on the test database and one Redis prefix."""
    postgresql_only(django_db_blocker)
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping()
    except redis.exceptions.ConnectionError:
        assert "REDIS_URL" not in os.environ, f"no Redis at {REDIS_URL}"
        pytest.skip("no Redis: the processes would share nothing")
    env = server_env(
        REDIS_URL=REDIS_URL,
        CACHE_KEY_PREFIX=f"two-{uuid.uuid4().hex[:8]}",
        # DEBUG on: the admin's pages then need no collectstatic.
        DEBUG="true",
        AUTH_THROTTLE_RATE="3/minute",
        MESSAGE_RATE="1/hour",
        MESSAGE_BURST="3",
    )
    with server("daphne", env) as one, server("daphne", env) as two:
        yield [one, two]


def test_tokens_sessions_and_throttles_hold_across_processes(servers):
    one, two = servers
    user = UserFactory(username="ada")
    sign_in_with(user, PASSWORD)
    login = {"username": "ada", "password": PASSWORD}
    made = httpx2.post(f"http://{one}/api/auth/token/", json=login)
    assert made.status_code == 200, made.text
    token = made.json()["token"]
    me = httpx2.get(
        f"http://{two}/api/profiles/users/{user.pk}/",
        headers={"Authorization": f"Token {token}"},
    )
    assert me.status_code == 200, me.text
    # The throttle (3 a minute per address) counts both processes' requests.
    statuses = [
        httpx2.post(f"http://{server}/api/auth/token/", json=login).status_code
        for server in (two, one, two)
    ]
    assert statuses == [200, 200, 429]


def test_a_session_signed_in_on_one_process_is_signed_in_on_the_other(servers):
    one, two = servers
    user = UserFactory(username="staff", is_staff=True, is_superuser=True)
    sign_in_with(user, PASSWORD)
    with httpx2.Client(base_url=f"http://{one}") as browser:
        page = browser.get("/admin/login/")
        assert page.status_code == 200, page.status_code
        csrf = browser.cookies["csrftoken"]
        response = browser.post(
            "/admin/login/?next=/admin/",
            data={
                "username": "staff",
                "password": PASSWORD,
                "csrfmiddlewaretoken": csrf,
            },
            headers={"Referer": f"http://{one}/admin/login/"},
        )
        assert page.status_code == 200 and response.status_code == 302
        cookies = dict(browser.cookies)
    admin = httpx2.get(f"http://{two}/admin/", cookies=cookies)
    assert admin.status_code == 200
    assert "Log out" in admin.text or "log out" in admin.text.lower()


def test_a_message_posted_to_one_process_reaches_a_socket_on_the_other(servers):
    one, two = servers
    author, reader = UserFactory(), UserFactory()
    room = RoomFactory(owner=author)
    services.room_join(room=room, user=reader)
    from rest_framework.authtoken.models import Token

    tokens = {u: Token.objects.create(user=u).key for u in (author, reader)}

    async def conversation():
        url = f"ws://{two}/ws/?token={tokens[reader]}"
        async with websockets.connect(url) as socket:
            assert json.loads(await socket.recv())["type"] == "hello"
            await socket.send(json.dumps({"type": "subscribe", "room_id": room.pk}))
            while json.loads(await socket.recv())["type"] != "subscribed":
                pass
            async with httpx2.AsyncClient() as http:
                response = await http.post(
                    f"http://{one}/api/safety/chat-rooms/{room.pk}/messages/",
                    json={"message": "through the other process"},
                    headers={"Authorization": f"Token {tokens[author]}"},
                )
            assert response.status_code == 201, response.text
            while True:
                event = json.loads(await asyncio.wait_for(socket.recv(), 10))
                if event["type"] == "room.message":
                    break
            assert event["message"]["message"] == "through the other process"

    asyncio.run(conversation())
    until_offline(reader)


def test_a_users_messages_count_in_one_bucket_across_processes(servers):
    """Three messages an hour (MESSAGE_RATE, MESSAGE_BURST): two over REST to
    one process and one over a socket held by the other; then both refuse."""
    one, two = servers
    author = UserFactory()
    room = RoomFactory(owner=author)
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=author).key
    send = {"type": "room.message.send", "room_id": room.pk, "message": "ws"}

    async def conversation():
        async with (
            websockets.connect(f"ws://{two}/ws/?token={token}") as socket,
            httpx2.AsyncClient(headers={"Authorization": f"Token {token}"}) as http,
        ):
            assert json.loads(await socket.recv())["type"] == "hello"
            url = f"http://{one}/api/safety/chat-rooms/{room.pk}/messages/"
            for n in range(2):
                posted = await http.post(url, json={"message": f"rest {n}"})
                assert posted.status_code == 201, posted.text
            await socket.send(json.dumps(send))
            assert json.loads(await socket.recv())["type"] == "room.message.sent"
            await socket.send(json.dumps({**send, "ref": "flood"}))
            refused = json.loads(await socket.recv())
            assert (refused["ref"], refused["status"]) == ("flood", 429)
            assert refused["code"] == "throttled" and refused["retry_after"] > 1000
            posted = await http.post(url, json={"message": "rest again"})
            assert posted.status_code == 429 and int(posted.headers["Retry-After"])

    asyncio.run(conversation())
    until_offline(author)
    assert ChatRoomMessage.objects.filter(room=room).count() == 3
