"""Health probes for a load balancer (README.md, "In production").

- ``GET /healthz``: the process is up and answering; no I/O.
- ``GET /readyz``: PostgreSQL, the cache (Redis) and the channel layer each
  answer within ``READY_TIMEOUT`` seconds, checked in parallel: 200
  ``{"status": "ready", "checks": {...}}``, or 503 with ``Retry-After`` and
  ``"status": "unavailable"``, each check saying ``"ok"`` or what failed.

Both are answered by ``HealthMiddleware``, second in ``MIDDLEWARE`` (after
the metrics'): before host validation, the HTTPS redirect, sessions,
authentication and throttles, so a load balancer probing a process by its
address over plain HTTP gets the answer. They need no authentication and
reveal nothing but which dependency failed.
"""

import logging
from concurrent.futures import ThreadPoolExecutor, wait

from django.core.cache import cache
from django.db import connections
from django.http import JsonResponse

from config.api.errors import RETRY_AFTER
from config.ws import group_send

logger = logging.getLogger(__name__)

HEALTHZ, READYZ = "/healthz", "/readyz"
# Seconds each readiness check may take.
READY_TIMEOUT = 2.0
# One thread per check: a check stuck past its timeout holds its thread, and
# the next probe's checks queue behind it (and time out) instead of piling up.
_checks = ThreadPoolExecutor(max_workers=3, thread_name_prefix="readyz")


def check_database() -> None:
    """``SELECT 1`` on the primary: through its pool, waiting at most
    ``READY_TIMEOUT`` for a connection, or on a connection of its own."""
    connection = connections["default"]
    pool = getattr(connection, "pool", None)
    if pool is not None:
        pool.open()
        with pool.connection(timeout=READY_TIMEOUT) as conn:
            conn.execute("SELECT 1")
        return
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    finally:
        connection.close()


def check_cache() -> None:
    cache.get("readyz")


def check_channel_layer() -> None:
    """A send to an empty group: a round trip to the layer's Redis on the
    connection pushes use."""
    group_send("readyz", {"type": "readyz"}, timeout=READY_TIMEOUT)


CHECKS = {
    "database": check_database,
    "cache": check_cache,
    "channel_layer": check_channel_layer,
}


def _outcome(name: str, future) -> str:
    """``ok``, or what failed: the error's class alone (the probe is public;
    the log has the message)."""
    if not future.done():
        logger.warning("readyz: %s gave no answer in %g s", name, READY_TIMEOUT)
        return f"no answer within {READY_TIMEOUT:g} s"
    exc = future.exception()
    if exc is not None:
        logger.warning("readyz: %s failed: %s", name, exc)
        return f"failed: {type(exc).__name__}"
    return "ok"


def readiness() -> tuple[bool, dict[str, str]]:
    """Whether every dependency answered, and what each check found."""
    futures = {name: _checks.submit(check) for name, check in CHECKS.items()}
    wait(futures.values(), timeout=READY_TIMEOUT)
    checks = {name: _outcome(name, future) for name, future in futures.items()}
    return all(outcome == "ok" for outcome in checks.values()), checks


class HealthMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == HEALTHZ:
            request.route = HEALTHZ
            return JsonResponse({"status": "ok"})
        if request.path == READYZ:
            request.route = READYZ
            ready, checks = readiness()
            if ready:
                return JsonResponse({"status": "ready", "checks": checks})
            response = JsonResponse(
                {"status": "unavailable", "checks": checks}, status=503
            )
            response["Retry-After"] = str(RETRY_AFTER)
            return response
        return self.get_response(request)
