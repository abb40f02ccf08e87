"""Rate limits with a burst allowance, shared by every process
(docs/design.md#rate-limits).

A limit is a scope of ``settings.RATE_LIMITS``: a sustained rate
(``"60/minute"``) and a burst (how many may come at once after a quiet
spell), counted per key (a user's id, a client's address). Each key's bucket
is one number, the time at which it would be full again (GCRA, the generic
cell rate algorithm, which is a token bucket kept as a timestamp): a request
moves it one interval (period / count) later, and is refused when that would
put it more than ``burst`` intervals ahead of now. A refused request takes
nothing.

With Redis (``REDIS_URL``) the buckets are kept there, by one Lua script per
request that reads and moves the bucket atomically on Redis's clock, so
every process shares them. With the local-memory cache (no ``REDIS_URL``),
and while Redis cannot be reached (logged at each request), each process
keeps buckets of its own: the limit then holds per process instead of
failing open, and requests are not refused for Redis being down.

Every door refuses the same way: ``hit()`` raises DRF's ``Throttled`` with
the wait, which the REST API answers as a 429 with ``Retry-After``, the
WebSocket as an ``error`` event with ``retry_after`` (config.ws), and the
MCP server as a tool error (chatbot.mcp). Every refusal goes through
``rejected()``.
"""

import functools
import hashlib
import logging
import threading
import time
from dataclasses import dataclass

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured
from redis.exceptions import RedisError
from rest_framework import exceptions
from rest_framework.throttling import BaseThrottle

from config import metrics
from config.cache import RedisCache

logger = logging.getLogger(__name__)

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Limit:
    """A rate in microseconds: ``interval`` between two requests at the
    sustained rate, ``burst`` requests at once from a full bucket."""

    interval: int
    burst: int

    @property
    def tolerance(self) -> int:
        """How far ahead of now a bucket may be and still take a request."""
        return self.interval * self.burst


@functools.cache
def parse(rate: str, burst: int | None = None) -> Limit:
    """``"60/minute"`` (DRF's notation: a count per ``second``, ``minute``,
    ``hour`` or ``day``, read by its first letter) and a burst (None: the
    count, so that "10/minute" alone still means ten at once)."""
    count, _, period = str(rate).partition("/")
    if not count.isdigit() or int(count) < 1 or period[:1] not in PERIODS:
        raise ImproperlyConfigured(
            f"A rate is a count per second, minute, hour or day ('60/minute'), "
            f"not {rate!r}."
        )
    burst = int(count) if burst is None else burst
    if not isinstance(burst, int) or burst < 1:
        raise ImproperlyConfigured(f"A burst is a positive integer, not {burst!r}.")
    return Limit(PERIODS[period[:1]] * 1_000_000 // int(count), burst)


def limit(scope: str) -> Limit | None:
    """``scope``'s limit from ``RATE_LIMITS`` (``(rate, burst)``, or None:
    no limit)."""
    configured = settings.RATE_LIMITS[scope]
    return None if configured is None else parse(*configured)


def check_settings() -> None:
    """Every configured limit parses (called at start-up: a typo in an
    environment variable stops the process instead of failing requests)."""
    for scope in settings.RATE_LIMITS:
        limit(scope)


# --- the buckets --------------------------------------------------------------------

# KEYS[1]: the bucket; ARGV: interval, tolerance (microseconds) and cost (1 to
# take a request, -1 to give one back). Returns 0 when taken, else how many
# microseconds until it could be. The time at which the bucket is full again
# is stored (with %.0f: Lua's tostring would round it to 14 digits), expiring
# then.
SCRIPT = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local interval, tolerance = tonumber(ARGV[1]), tonumber(ARGV[2])
local full_at = math.max(tonumber(redis.call('GET', KEYS[1])) or now, now)
local after = full_at + tonumber(ARGV[3]) * interval
if after - now > tolerance then
    return after - now - tolerance
end
if after > now then
    local ms = math.ceil((after - now) / 1000)
    redis.call('SET', KEYS[1], string.format('%.0f', after), 'PX', ms)
else
    redis.call('DEL', KEYS[1])
end
return 0
"""


class LocalBuckets:
    """The same buckets in this process's memory, on its monotonic clock."""

    def __init__(self):
        self._lock = threading.Lock()
        self._full_at: dict[str, int] = {}
        self._sweep_at = 10_000

    def take(self, key: str, limit: Limit, cost: int) -> int:
        now = time.monotonic_ns() // 1000
        with self._lock:
            after = max(self._full_at.get(key, now), now) + cost * limit.interval
            if after - now > limit.tolerance:
                return after - now - limit.tolerance
            if after > now:
                self._full_at[key] = after
            else:
                self._full_at.pop(key, None)
            if len(self._full_at) >= self._sweep_at:  # forget full buckets
                self._full_at = {k: t for k, t in self._full_at.items() if t > now}
                self._sweep_at = max(10_000, 2 * len(self._full_at))
        return 0


local_buckets = LocalBuckets()


def take(scope: str, key: str, cost: int = 1) -> float:
    """Take ``cost`` requests from ``key``'s bucket in ``scope`` (a negative
    cost gives them back): 0 when taken, else the seconds until they could
    be, and nothing is taken."""
    rate = limit(scope)
    if rate is None:
        return 0.0
    bucket = f"ratelimit:{scope}:{key}"
    cache = caches["default"]
    if isinstance(cache, RedisCache):
        try:
            args = [rate.interval, rate.tolerance, cost]
            return cache.run_script(SCRIPT, [bucket], args) / 1_000_000
        except RedisError:
            logger.warning(
                "Redis unreachable: the %s rate limit is counted in this process",
                scope,
            )
    return local_buckets.take(bucket, rate, cost) / 1_000_000


def rejected(scope: str, wait: float) -> exceptions.Throttled:
    """The refusal of a request over ``scope``'s rate, to raise: the one
    place every refusal passes, counted in ``throttle_rejections_total``."""
    metrics.THROTTLE_REJECTIONS.labels(scope).inc()
    return exceptions.Throttled(wait=wait)


def hit(scope: str, key) -> None:
    """One more request in ``scope`` by ``key``, or ``Throttled`` (nothing
    taken) when its bucket is empty."""
    hit_all([scope], key)


def hit_all(scopes: list[str], key) -> None:
    """One more request by ``key`` in each of ``scopes``, or ``Throttled``
    (by the first that refuses) with nothing taken from any of them."""
    key = str(key)
    taken = []
    for scope in scopes:
        wait = take(scope, key)
        if wait:
            for earlier in taken:
                take(earlier, key, cost=-1)
            raise rejected(scope, wait)
        taken.append(scope)


# ``hit_all`` for async code (sockets, MCP): in a worker thread, so that Redis
# never holds up the event loop.
ahit_all = sync_to_async(hit_all, thread_sensitive=False)


def client_address(request) -> str:
    """The client's address, as the API's throttles read it: ``REMOTE_ADDR``,
    or the ``NUM_PROXIES``-th address from the end of ``X-Forwarded-For``."""
    return BaseThrottle().get_ident(request)


# --- password checks ----------------------------------------------------------------


class LoginAttempt:
    """One password check, counted against the client's address
    (``login_address``) and the account (``login_account``).

    Refused with ``Throttled``, before the password is checked (so the right
    password is refused too), while either has had too many failures. Only
    failures count: ``succeeded()`` gives the attempt back. Keep the
    account's burst and rate above the address's: then one address cannot
    lock an account, and while an address is refused (and so takes nothing
    from the account), the right password from another address works.
    """

    def __init__(self, request):
        self._taken: list[tuple[str, str]] = []
        if request is not None:
            self._take("login_address", client_address(request))

    def account(self, name: str) -> None:
        """Count the attempt against the account ``name`` (a user's id, or
        the name given when no account has it: hashed, it is never stored)."""
        self._take("login_account", hashlib.sha256(name.encode()).hexdigest()[:32])

    def succeeded(self) -> None:
        """The password was right: the attempt is given back."""
        self._give_back()

    def _take(self, scope: str, key: str) -> None:
        wait = take(scope, key)
        if wait:
            self._give_back()  # a refused attempt costs nothing
            raise rejected(scope, wait)
        self._taken.append((scope, key))

    def _give_back(self) -> None:
        for scope, key in self._taken:
            take(scope, key, cost=-1)
        self._taken = []
