"""A stateless app tier: two server processes (config.server: daphne, serving
config.asgi) on two ports, sharing PostgreSQL and Redis, as two machines
behind a load balancer would. A token made through one works on the other, a
session signed in on one is signed in on the other, the rate limits count the
requests to both (the password endpoints'; a user's messages, over REST on
one and a socket on the other), a room message posted to one reaches a
WebSocket held by the other (docs/scaling.md), and a token revoked while both
are busy with it is refused by both from the moment the revocation commits
(docs/design.md#the-read-path)."""

import asyncio
import json
import os
import threading
import time
import uuid
from collections import Counter

import httpx2
import psycopg
import pytest
import redis
import websockets
from django.contrib.auth.models import Permission
from django.db import transaction

from config.settings import cache_config
from safety import services
from safety.models import ChatRoomMessage
from tests.conftest import REDIS_URL
from tests.profiles.factories import UserFactory
from tests.safety.factories import RoomFactory
from tests.servers import (
    database_url,
    postgresql_only,
    server,
    server_env,
    sign_in_with,
    until_offline,
)

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "two processes 2026"
# The servers' cache keys (Redis is shared): the tests' own writes to the cache
# (a revocation's) go where the servers read.
CACHE_KEY_PREFIX = f"two-{uuid.uuid4().hex[:8]}"


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
        CACHE_KEY_PREFIX=CACHE_KEY_PREFIX,
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


# --- revocation wins every race -----------------------------------------------------

MEMBERS = "/api/community/community-members/"  # needs community.view_communitymember


def deactivate(user, permission) -> None:
    user.is_active = False
    user.save()


# Each way a token stops working, and what a request gets from then on.
REVOCATIONS = {
    "the token is deleted": (lambda user, permission: user.auth_token.delete(), 401),
    "the user is deactivated": (deactivate, 401),
    "the permission is removed": (
        lambda user, permission: user.user_permissions.remove(permission),
        403,
    ),
}


class Hammer:
    """Threads GETting ``path`` with ``token`` without pause, half of them
    from each server; every request is recorded as ``(started, ended,
    status)`` on this process's monotonic clock."""

    def __init__(self, servers, path: str, token: str, threads: int = 4):
        self.records: list[tuple[float, float, int]] = []
        self.done = threading.Event()
        self.threads = [
            threading.Thread(
                target=self.run, args=(servers[n % len(servers)], path, token)
            )
            for n in range(threads)
        ]
        for thread in self.threads:
            thread.start()

    def run(self, server: str, path: str, token: str) -> None:
        headers = {"Authorization": f"Token {token}"}
        with httpx2.Client(base_url=f"http://{server}", headers=headers) as client:
            while not self.done.is_set():
                started = time.monotonic()
                status = client.get(path, timeout=30).status_code
                self.records.append((started, time.monotonic(), status))

    def stop(self) -> list[tuple[float, float, int]]:
        self.done.set()
        for thread in self.threads:
            thread.join(timeout=30)
        return self.records


def waiting_on_locks(cursor) -> int:
    cursor.execute("SELECT pg_stat_clear_snapshot()")
    cursor.execute(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE wait_event_type = 'Lock' AND datname = current_database()"
    )
    return cursor.fetchone()[0]


@pytest.mark.parametrize("how", REVOCATIONS)
def test_a_revocation_wins_the_race_with_requests_in_flight(servers, settings, how):
    """Both servers are hammered with a token while it is revoked. Requests
    that read the token, its user and their permissions before the
    revocation committed are held (a lock on the group permissions table,
    which the last of those reads needs) until after it committed, the
    slowest a request can be: they answer as the old rows said, and the
    cache must not keep what they read. Every request that starts after the
    commit is refused, on both servers."""
    revoke, refused = REVOCATIONS[how]
    settings.CACHES = {
        "default": {
            **cache_config(REDIS_URL)["default"],
            "KEY_PREFIX": CACHE_KEY_PREFIX,
        }
    }
    user = UserFactory()
    permission = Permission.objects.get(
        content_type__app_label="community", codename="view_communitymember"
    )
    user.user_permissions.add(permission)
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=user).key
    hammer = Hammer(servers, MEMBERS, token)
    with psycopg.connect(database_url()) as locker:
        try:
            deadline = time.monotonic() + 10
            while sum(status == 200 for *_, status in hammer.records) < 8:
                assert time.monotonic() < deadline, Counter(hammer.records)
                time.sleep(0.01)
            locker.execute("LOCK TABLE auth_group_permissions IN ACCESS EXCLUSIVE MODE")
            with transaction.atomic():
                revoke(user, permission)
                # The requests that miss the cache now read the old rows (not
                # committed yet) and wait on the lock before they can finish.
                deadline = time.monotonic() + 10
                while waiting_on_locks(locker.cursor()) < 2:
                    assert time.monotonic() < deadline, "no request got held"
                    time.sleep(0.01)
            committed = time.monotonic()
        finally:
            locker.rollback()  # the held requests finish, after the commit
        time.sleep(1.5)
    records = hammer.stop()
    held = [status for started, ended, status in records if started < committed < ended]
    assert held, "no request was in flight across the commit"
    after = Counter(status for started, _, status in records if started > committed)
    assert set(after) == {refused}, after
    assert sum(after.values()) >= 10
