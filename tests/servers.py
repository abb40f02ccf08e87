"""Real server processes (daphne, gunicorn) on the test database, for the
tests of what only a real server shows: several processes sharing Redis,
connection counts under a burst, a database that cannot be reached."""

import contextlib
import os
import subprocess
import sys
import time

import httpx2
import pytest
from django.conf import settings
from django.contrib.auth.hashers import BCryptSHA256PasswordHasher
from django.db import connection

from tests.conftest import closed_port

# The production server of each kind (README.md, "In production").
COMMANDS = {
    "daphne": [
        "-m",
        "daphne",
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
    process = subprocess.Popen(
        [sys.executable, *arguments],
        env=env,
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
