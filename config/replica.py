"""Reads from a PostgreSQL streaming replica, writes to the primary, and each
client reads its own writes (docs/scaling.md).

With ``DATABASE_REPLICA_URL`` set, settings add the ``replica`` alias and
``ReplicaRouter``; ``ReplicaMiddleware`` decides, per request, whether its
reads may go to the replica:

- never for a write (``POST``, ``PUT``, ``PATCH``, ``DELETE``: the whole
  request reads the primary, inside its transaction), nor for the admin;
- never for ``READ_YOUR_WRITES_SECONDS`` after the same client wrote: the
  client (its ``Authorization`` header, else its session cookie, else its
  address) is marked in the cache, which every process shares with Redis;
  while Redis is unreachable no mark can be read or written, and every read
  goes to the primary: Redis down degrades as it does without a replica;
- never while the replica is down: a read that fails on the replica marks it
  down for ``REPLICA_RETRY_SECONDS`` and the request is answered again from
  the primary, so a replica that stops costs no 5xx.

Sessions and API tokens are always read from the primary (a token just made
must work at once), and migrations run on the primary alone.
"""

import contextlib
import contextvars
import hashlib
import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connections
from redis.exceptions import RedisError

from config.middleware import SAFE_METHODS

logger = logging.getLogger(__name__)

REPLICA = "replica"
PRIMARY_APPS = {"sessions", "authtoken"}

_on_primary = contextvars.ContextVar("on_primary", default=False)
_down_until = 0.0  # per process: when to try the replica again


def configured() -> bool:
    return REPLICA in settings.DATABASES


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        if (
            _on_primary.get()
            or model._meta.app_label in PRIMARY_APPS
            or connections["default"].in_atomic_block
        ):
            return "default"
        return REPLICA

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True  # one database, two servers

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == "default"


def _client(request) -> str:
    who = (
        request.META.get("HTTP_AUTHORIZATION")
        or request.COOKIES.get(settings.SESSION_COOKIE_NAME)
        or request.META.get("REMOTE_ADDR", "")
    )
    return "wrote:" + hashlib.sha256(who.encode()).hexdigest()[:32]


def _wrote_lately(client: str) -> bool:
    """Whether ``client`` wrote within ``READ_YOUR_WRITES_SECONDS``; True
    when the cache cannot say (Redis unreachable): the primary is right."""
    try:
        return cache.get(client) is not None
    except RedisError:
        logger.warning("Redis unreachable: reads go to the primary")
        return True


def _mark_wrote(client: str) -> None:
    try:
        cache.set(client, 1, settings.READ_YOUR_WRITES_SECONDS)
    except RedisError:
        logger.warning("Redis unreachable: this write's client is not marked")


class ReplicaMiddleware:
    """Where a request's reads go (the module's docstring); a no-op without
    a replica."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not configured():
            return self.get_response(request)
        client = _client(request)
        writes = request.method not in SAFE_METHODS
        primary = (
            writes
            or request.path.startswith("/admin/")
            or time.monotonic() < _down_until
            or _wrote_lately(client)
        )
        try:
            response = self._answer(request, primary)
        finally:
            if writes:
                _mark_wrote(client)
        return response

    def _answer(self, request, primary: bool):
        global _down_until
        token = _on_primary.set(primary)
        try:
            if primary:
                return self.get_response(request)
            replica = connections[REPLICA]
            replica.errors_occurred = False  # set by any error, connecting too
            response = self.get_response(request)
            if not replica.errors_occurred:
                return response
            logger.warning("the replica failed: reads go to the primary for a while")
            _down_until = time.monotonic() + settings.REPLICA_RETRY_SECONDS
            with contextlib.suppress(DatabaseError):
                replica.close()
            _on_primary.set(True)
            return self.get_response(request)
        finally:
            _on_primary.reset(token)
