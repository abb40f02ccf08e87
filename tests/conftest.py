"""Fixtures every app's tests share: API clients, users, one row in every
table, the cache in each state it can be in, and speed settings."""

import os
import socket
import threading

import pytest
import redis
from django.contrib.auth.models import Group
from django.core.signals import request_finished, request_started
from django.db import connection, connections, models, transaction
from django.db.models import query
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from config.settings import cache_config
from tests.badges.factories import every_badges_table
from tests.chatbot.factories import every_chatbot_table
from tests.community.factories import every_community_table
from tests.profiles.factories import UserFactory, every_profiles_table
from tests.safety.factories import every_safety_table
from tests.wellness.factories import every_wellness_table


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True, scope="session")
def _no_lazy_loads_in_the_api():
    """While the suite's requests under /api/ run, an instance's unloaded field
    or relation raises instead of costing a query (Django's FETCH_RAISE): an
    N+1 on an API path fails its test."""

    def start(sender, environ=None, scope=None, **kwargs):  # WSGI, or ASGI
        path = environ.get("PATH_INFO", "") if environ else scope.get("path", "")
        if path.startswith("/api/"):
            query.DEFAULT_FETCH_MODE = models.FETCH_RAISE

    def finish(sender, **kwargs):
        query.DEFAULT_FETCH_MODE = models.FETCH_ONE

    request_started.connect(start)
    request_finished.connect(finish)
    yield
    request_started.disconnect(start)
    request_finished.disconnect(finish)


@pytest.fixture(autouse=True)
def _no_rate_limits(settings):
    """The suite logs in and posts far more often than a person: rate limits
    are tested on their own (tests/config/test_ratelimit.py, test_auth.py and
    each door's tests), with rates they set (``rate_limits``)."""
    settings.RATE_LIMITS = dict.fromkeys(settings.RATE_LIMITS)  # None: no limit


@pytest.fixture
def rate_limits(settings):
    """``rate_limits(scope=(rate, burst), ...)`` turns those limits on."""

    def set_limits(**limits):
        settings.RATE_LIMITS = {**settings.RATE_LIMITS, **limits}

    return set_limits


def token_client(user) -> APIClient:
    """An API client that authenticates as ``user`` with a real API token."""
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def anon_client():
    return APIClient()


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def other_user(db):
    return UserFactory()


@pytest.fixture
def staff_user(db):
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def api_client(user):
    """Authenticated as the ``user`` fixture."""
    return token_client(user)


@pytest.fixture
def staff_client(staff_user):
    """Authenticated as a superuser."""
    return token_client(staff_user)


@pytest.fixture
def admin_client(client, staff_user):
    """The Django test client, signed in to the admin as a superuser."""
    client.force_login(staff_user)
    return client


def every_platform_table(owner) -> None:
    """Rows of the tables Django and DRF bring."""
    Group.objects.create(name=f"group of {owner.username}")
    Token.objects.get_or_create(user=owner)


# One function per app, each adding one row to every table of its app, owned
# by (or pointing at) the user it is given. A new app adds its own here.
EVERY_TABLE = [
    every_platform_table,
    every_profiles_table,
    every_badges_table,
    every_community_table,
    every_chatbot_table,
    every_wellness_table,
    every_safety_table,
]


def rows_in_every_table(owner) -> None:
    for add_rows in EVERY_TABLE:
        add_rows(owner)


@pytest.fixture
def every_table(staff_user):
    """One row in every table, owned by the superuser the tests act as:
    detail and change pages have something to show."""
    rows_in_every_table(staff_user)
    return staff_user


# --- the cache: local memory, real Redis, or Redis unreachable ----------------------

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


def closed_port() -> int:
    """A local port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def locmem(settings):
    settings.CACHES = cache_config(None)


@pytest.fixture
def redis_up(settings):
    """Django's Redis cache on the real Redis (skipped where none runs)."""
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip(f"no Redis at {REDIS_URL}")
    settings.CACHES = cache_config(REDIS_URL)


@pytest.fixture
def redis_down(settings):
    """Django's Redis cache pointed at a closed port, as settings would make it."""
    settings.CACHES = cache_config(f"redis://127.0.0.1:{closed_port()}/0")


@pytest.fixture
def postgresql():
    """For a test of what PostgreSQL itself does (its cascades, locks, plans,
    catalog): skipped on SQLite."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")


# --- two writers at once (PostgreSQL: SQLite serialises all writers) ----------------


@pytest.fixture
def in_parallel(transactional_db):
    """Run two callables in threads, each in its own transaction on its own
    connection; the first commits only once the second is waiting for its
    lock. Returns ``(results, errors)`` keyed ``"first"`` and ``"second"``."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks are PostgreSQL's; SQLite runs one writer at a time")

    def run(first, second):
        results, errors = {}, {}
        first_locked, second_done = threading.Event(), threading.Event()

        def waiting_on_lock() -> bool:
            with connections["default"].cursor() as cursor:
                cursor.execute("SELECT pg_stat_clear_snapshot()")  # fresh view
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE wait_event_type = 'Lock' AND datname = current_database()"
                )
                return cursor.fetchone()[0] > 0

        def run_first():
            try:
                with transaction.atomic():
                    results["first"] = first()
                    first_locked.set()
                    # Commit once the second is blocked on our locks (or has
                    # finished without blocking, which the test then reports).
                    while not waiting_on_lock() and not second_done.wait(0.01):
                        pass
            except Exception as exc:
                errors["first"] = exc
            finally:
                first_locked.set()
                connections.close_all()

        def run_second():
            first_locked.wait()
            try:
                with transaction.atomic():
                    results["second"] = second()
            except Exception as exc:
                errors["second"] = exc
            finally:
                second_done.set()
                connections.close_all()

        threads = [
            threading.Thread(target=run_first),
            threading.Thread(target=run_second),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        return results, errors

    return run
