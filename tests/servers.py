"""Real server processes (daphne, gunicorn) on the test database, for the
tests of what only a real server shows: several processes sharing Redis,
connection counts under a burst, a database that cannot be reached."""

import contextlib
import os
import subprocess
import sys
import time
from urllib.parse import parse_qs, urlsplit

import httpx2
import psycopg
import pytest
from django.conf import settings
from django.contrib.auth.hashers import BCryptSHA256PasswordHasher
from django.db import connection

from tests.conftest import closed_port

# The production server of each kind (README.md, "In production"): daphne
# through config.server, which sets the WebSocket message limit.
COMMANDS = {
    "daphne": [
        "-m",
        "config.server",
        "-b",
        "127.0.0.1",
        "-p",
        "{port}",
        "config.asgi:application",
    ],
    "gunicorn": [
        "-m",
        "gunicorn",
        "config.wsgi",
        "--bind",
        "127.0.0.1:{port}",
        "--workers",
        "{workers}",
        "--log-level",
        "warning",
    ],
}


def database_url(**query) -> str:
    """The test database's URL, with ``query`` as connection options
    (``application_name`` names a server's connections in pg_stat_activity)."""
    db = settings.DATABASES["default"]
    params = "&".join(f"{key}={value}" for key, value in query.items())
    url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    return f"{url}?{params}" if params else url


def server_env(**overrides: str) -> dict:
    """The environment of a server process: production-like (DEBUG off) on
    the test database, with ``overrides``."""
    return {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DEBUG": "false",
        # The tests' own: a session the test signs in is valid there too.
        "SECRET_KEY": settings.SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "LOG_LEVEL": "ERROR",
        **overrides,
    }


def wait_until_up(address: str, process: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            httpx2.get(f"http://{address}/healthz", timeout=1)
            return
        except httpx2.TransportError:
            assert process.poll() is None, "the server exited"
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)


@contextlib.contextmanager
def server(kind: str, env: dict, workers: int = 1):
    """A ``kind`` server process with ``env`` on a free port; yields its
    ``host:port`` once it answers, and stops it afterwards."""
    port = closed_port()
    arguments = [part.format(port=port, workers=workers) for part in COMMANDS[kind]]
    # Its sessions' name in pg_stat_activity (unless DATABASE_URL gives one).
    query = parse_qs(urlsplit(env["DATABASE_URL"]).query)
    name = query.get("application_name", [f"test-server-{port}"])[0]
    process = subprocess.Popen(
        [sys.executable, *arguments],
        env={"PGAPPNAME": name, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        address = f"127.0.0.1:{port}"
        wait_until_up(address, process)
        yield address
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            # daphne waits for a request thread cut off at shutdown.
            process.kill()
            process.wait()
        _until_sessions_end(name)


def _until_sessions_end(name: str, timeout: float = 10) -> None:
    """PostgreSQL ends a session shortly after its client exits: wait until
    the sessions named ``name`` are gone, or the test database could not be
    flushed or dropped."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(database_url(), autocommit=True) as conn:
        while time.monotonic() < deadline:
            sessions = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = "
                "current_database() AND application_name = %s",
                [name],
            ).fetchone()[0]
            if not sessions:
                return
            time.sleep(0.05)


def until_offline(*users, timeout: float = 30) -> None:
    """Wait until a server has marked ``users`` offline, which it does once
    their sockets close: a test that ends sooner would empty the tables
    while that write is under way (a deadlock in PostgreSQL)."""
    from safety.models import Presence, Status

    if connection.vendor == "sqlite":
        # Only a server in this process shares SQLite's in-memory database,
        # whose shared cache refuses a read while the server writes (and the
        # write while this reads) instead of waiting: its stop() waits instead.
        return
    online = Presence.objects.filter(user__in=users).exclude(status=Status.OFFLINE)
    deadline = time.monotonic() + timeout
    while online.exists():
        assert time.monotonic() < deadline, "the server did not close the socket"
        time.sleep(0.05)


def postgresql_only(django_db_blocker) -> None:
    """Skip unless the test database is PostgreSQL (SQLite's lives in the test
    process alone)."""
    with django_db_blocker.unblock():
        vendor = connection.vendor
    if vendor != "postgresql":
        pytest.skip("SQLite's test database lives in this process alone")


def sign_in_with(user, password: str) -> None:
    """``password`` hashed as production hashes it (the tests' settings use
    a faster hasher, which the servers' settings do not know)."""
    hasher = BCryptSHA256PasswordHasher()
    user.password = hasher.encode(password, hasher.salt())
    user.save(update_fields=["password"])
