"""The platform's rate limiter (config.ratelimit) in each state of the cache:
Redis (one bucket for every process), the local-memory cache, and Redis
unreachable (each process counts on its own). The doors that use it are
tested with their apps (messages and typing: tests/safety/test_throttle.py;
MCP: tests/chatbot/test_mcp.py; logins: tests/config/test_auth.py; across
two server processes: tests/config/test_two_processes.py)."""

import threading
import time
import uuid

import pytest
from django.core.exceptions import ImproperlyConfigured
from rest_framework.exceptions import Throttled

from config import ratelimit


@pytest.fixture(params=["locmem", "redis_up", "redis_down"])
def cache_state(request):
    request.getfixturevalue(request.param)
    return request.param


def key() -> str:
    """A key no other test (or earlier run, in Redis) has used."""
    return uuid.uuid4().hex


def refusal(scope: str, key: str) -> Throttled:
    with pytest.raises(Throttled) as refused:
        ratelimit.hit(scope, key)
    return refused.value


def test_a_burst_at_once_then_nothing_until_the_rate_allows(
    cache_state, rate_limits, caplog
):
    rate_limits(messages=("1/hour", 3))
    mine = key()
    for _ in range(3):
        ratelimit.hit("messages", mine)
    refused = refusal("messages", mine)
    assert 3590 <= refused.wait <= 3600  # the next in an hour
    assert refused.status_code == 429
    assert refused.get_codes() == "throttled"
    ratelimit.hit("messages", key())  # another key has its own bucket
    ratelimit.hit("typing", mine)  # and so has another scope
    counted_here = "the messages rate limit is counted in this process"
    assert (counted_here in caplog.text) == (cache_state == "redis_down")


def test_a_refused_request_takes_nothing(cache_state, rate_limits):
    rate_limits(messages=("10/second", 1))  # one every tenth of a second
    mine = key()
    assert ratelimit.take("messages", mine) == 0
    waits = [ratelimit.take("messages", mine) for _ in range(5)]
    assert all(0 < wait <= 0.1 for wait in waits), waits
    # Had the refusals counted, the bucket would be half a second ahead.
    time.sleep(waits[-1] + 0.05)
    assert ratelimit.take("messages", mine) == 0


@pytest.mark.parametrize("state", ["locmem", "redis_up"])
def test_requests_at_once_get_the_burst_and_no_more(request, state, rate_limits):
    """In Redis the check and the update are one script: of 20 requests at
    once, exactly the burst passes."""
    request.getfixturevalue(state)
    rate_limits(messages=("1/hour", 5))
    mine, passed, start = key(), [], threading.Barrier(20)

    def one():
        start.wait()
        try:
            ratelimit.hit("messages", mine)
            passed.append(1)
        except Throttled:
            pass

    threads = [threading.Thread(target=one) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(passed) == 5


def test_given_back_requests_can_be_taken_again(cache_state, rate_limits):
    rate_limits(messages=("1/hour", 2))
    mine = key()
    ratelimit.hit("messages", mine)
    ratelimit.hit("messages", mine)
    assert ratelimit.take("messages", mine, cost=-1) == 0
    ratelimit.hit("messages", mine)
    refusal("messages", mine)


def test_no_limit_refuses_nothing(cache_state):
    mine = key()
    for _ in range(100):
        ratelimit.hit("messages", mine)


@pytest.mark.parametrize(
    "limit", [("60/fortnight", 5), ("ten/minute", 5), ("0/minute", 5), ("1/s", 0)]
)
def test_a_limit_that_does_not_parse_stops_start_up(settings, limit):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "messages": limit}
    with pytest.raises(ImproperlyConfigured):
        ratelimit.check_settings()


def test_every_default_limit_parses():
    from config import settings as defaults

    for scope, configured in defaults.RATE_LIMITS.items():
        assert ratelimit.parse(*configured).burst >= 1, scope


def test_a_request_refused_by_one_of_its_scopes_takes_from_none(
    cache_state, rate_limits
):
    rate_limits(writes=("1/hour", 5), messages=("1/hour", 1))
    mine = key()
    ratelimit.hit_all(["writes", "messages"], mine)
    with pytest.raises(Throttled):
        ratelimit.hit_all(["writes", "messages"], mine)
    # The refused request gave its write back: four more writes fit.
    for _ in range(4):
        ratelimit.hit("writes", mine)
    refusal("writes", mine)
