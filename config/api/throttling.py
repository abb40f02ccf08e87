"""Rate limits for the endpoints that check passwords (token, registration)."""

import logging

from redis.exceptions import RedisError
from rest_framework import throttling
from rest_framework.settings import api_settings

from config import metrics

logger = logging.getLogger(__name__)


class PasswordThrottle(throttling.SimpleRateThrottle):
    """At most ``DEFAULT_THROTTLE_RATES["password"]`` requests per client
    address (``AUTH_THROTTLE_RATE``), counted in the default cache: Redis when
    ``REDIS_URL`` is set, so every app process shares the count.

    While Redis is unreachable the limit is not enforced (logged): failing
    every login because the cache is down would be worse.
    """

    scope = "password"

    def get_rate(self):
        # Read at each request, not once at import, so settings changes apply.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_cache_key(self, request, view):
        ident = self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def allow_request(self, request, view):
        try:
            allowed = super().allow_request(request, view)
        except RedisError:
            logger.warning("Redis unreachable: %s rate limit not enforced", self.scope)
            return True
        if not allowed:
            metrics.THROTTLE_REJECTIONS.labels(self.scope).inc()
        return allowed
