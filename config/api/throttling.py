"""The API's rate limits (config.ratelimit): a refused request is a 429 with
``Retry-After`` and the API's error body (code ``throttled``)."""

from rest_framework import throttling

from config import ratelimit


class PasswordThrottle(throttling.BaseThrottle):
    """Every request, per client address, in the ``password`` scope
    (``AUTH_THROTTLE_RATE``): the endpoints that check or set passwords (token,
    registration). The failures of a password check are limited on top, per
    address and per account (``config.ratelimit.LoginAttempt``)."""

    def allow_request(self, request, view):
        ratelimit.hit("password", ratelimit.client_address(request))
        return True


class AnonymousThrottle(throttling.BaseThrottle):
    """Every request, per client address, in the ``anonymous`` scope
    (``ANONYMOUS_RATE``): the views anyone may read without signing in (the
    API root, the schema and its docs). Every other view refuses an
    anonymous client before its throttles run."""

    methods = {"GET", "HEAD"}

    def allow_request(self, request, view):
        ratelimit.hit("anonymous", ratelimit.client_address(request))
        return True


class UserWriteThrottle(throttling.BaseThrottle):
    """Every API view's (``DEFAULT_THROTTLE_CLASSES``): the signed-in user's
    writes count in the ``writes`` scope and, when the view has a
    ``throttle_scope``, in that one too, the same bucket as the same action
    through another door (a socket, say). Reads are free."""

    methods = {"POST", "PUT", "PATCH", "DELETE"}  # the schema's 429s (schema.py)

    def allow_request(self, request, view):
        if request.method in self.methods and request.user.is_authenticated:
            scopes = ["writes", getattr(view, "throttle_scope", None)]
            ratelimit.hit_all([scope for scope in scopes if scope], request.user.pk)
        return True
