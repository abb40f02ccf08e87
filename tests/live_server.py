"""Real ASGI servers for the tests of what outside clients reach over the
network (the MCP server, WebSockets): uvicorn in a thread of the test
process, and the production server (``python -m config.server``, daphne) in
processes of their own."""

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import threading
import time

import httpx2
import pytest
import uvicorn
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection, connections

from tests.conftest import closed_port


class LiveServer:
    """config.asgi.application served by uvicorn (HTTP, and WebSocket by the
    ``websockets`` package) on a free local port; ``url`` is ``path`` there,
    ``address`` the host and port."""

    def __init__(self, lifespan: str = "on", path: str = "/"):
        from config.asgi import application

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.address = f"127.0.0.1:{self.sock.getsockname()[1]}"
        self.url = f"http://{self.address}{path}"
        config = uvicorn.Config(
            application,
            lifespan=lifespan,
            log_level="warning",
            timeout_graceful_shutdown=5,
            ws_max_size=settings.WEBSOCKET_MAX_MESSAGE_SIZE,  # as config.server
        )
        self.server = uvicorn.Server(config)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self.server.serve(sockets=[self.sock]))
        # What outlives the server (sse-starlette's shutdown watcher) ends too.
        leftover = asyncio.all_tasks(self.loop)
        for task in leftover:
            task.cancel()
        self.loop.run_until_complete(asyncio.gather(*leftover, return_exceptions=True))

    def start(self):
        self.thread.start()
        for _ in range(500):
            if self.server.started:
                return
            if not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            threading.Event().wait(0.01)
        raise RuntimeError("uvicorn did not start in 5 seconds")

    def stop(self):
        # The tools' database connection lives in asgiref's sync thread: close
        # it there, or the test database could not be flushed or dropped.
        asyncio.run_coroutine_threadsafe(
            sync_to_async(connections.close_all)(), self.loop
        ).result(timeout=10)
        self.server.should_exit = True
        self.thread.join(timeout=15)
        assert not self.thread.is_alive(), "uvicorn did not stop"
        self.loop.close()
        self.sock.close()


SERVER_APP_NAME = "test-server-process"


def database_env(**extra) -> dict:
    """The environment of a server process on the test database (skipped on
    SQLite, whose test database lives in this process alone)."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite's test database lives in this process alone")
    db = settings.DATABASES["default"]
    return {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        # DEBUG on: the admin's pages then need no collectstatic.
        "DEBUG": "true",
        "ALLOWED_HOSTS": "127.0.0.1",
        "PGAPPNAME": SERVER_APP_NAME,  # their sessions, in pg_stat_activity
        **extra,
    }


@contextlib.contextmanager
def server_processes(count: int, env: dict):
    """``count`` production servers (README: ``python -m config.server``) on
    free local ports with ``env``; their addresses (host:port) once each
    answers HTTP."""
    ports = [closed_port() for _ in range(count)]
    processes = [
        subprocess.Popen(
            [
                *[sys.executable, "-m", "config.server", "-b", "127.0.0.1"],
                *["-p", str(port), "config.asgi:application"],
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port in ports
    ]
    try:
        for port in ports:
            deadline = time.monotonic() + 30
            while True:
                try:
                    httpx2.get(f"http://127.0.0.1:{port}/api/", timeout=1)
                    break
                except httpx2.TransportError:
                    assert time.monotonic() < deadline, "the server did not start"
                    time.sleep(0.1)
        yield [f"127.0.0.1:{port}" for port in ports]
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)
        _until_sessions_end()


def _until_sessions_end(timeout: float = 10) -> None:
    """PostgreSQL ends a session shortly after its client exits: wait, or
    the test database could not be dropped at the end of the run."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
                [SERVER_APP_NAME],
            )
            if not cursor.fetchone()[0]:
                return
            time.sleep(0.05)


def until_offline(*users, timeout: float = 30) -> None:
    """Wait until a server has marked ``users`` offline, which it does once
    their sockets close: a test that ends sooner would empty the tables
    while that write is under way (a deadlock in PostgreSQL)."""
    from safety.models import Presence, Status

    deadline = time.monotonic() + timeout
    while Presence.objects.filter(user__in=users).exclude(status=Status.OFFLINE):
        assert time.monotonic() < deadline, "the server did not close the socket"
        time.sleep(0.05)
