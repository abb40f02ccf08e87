"""The WebSocket platform every app's consumers use (docs/realtime.md): who a
socket is, events pushed to channel-layer groups once the writing transaction
commits, and a JSON consumer whose refusals are the API's error body.

A socket is signed in by an API token in its query string
(``/ws/?token=<key>``) or, from a page of this site, by the admin's session
cookie. The session counts only when the handshake's ``Origin`` is one of
``ALLOWED_HOSTS`` (or absent, as from programs): a page of another site
cannot ride a staff member's cookie (cross-site WebSocket hijacking). A socket
that is neither is refused at the handshake (HTTP 403).
"""

import asyncio
import logging
import os
import threading
from urllib.parse import parse_qs, urlsplit

from asgiref.sync import async_to_sync
from channels.auth import AuthMiddlewareStack
from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import InMemoryChannelLayer, get_channel_layer
from channels.middleware import BaseMiddleware
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.http.request import split_domain_port, validate_host
from rest_framework import exceptions

from config import metrics, ratelimit
from config.api.authentication import TokenAuthentication
from config.api.errors import api_exception, error_body
from config.api.exceptions import PayloadTooLarge
from config.api.parsers import parse_json

logger = logging.getLogger(__name__)

# The longest text frame a client may send, in characters (a room message is
# at most 4000 characters, which JSON escapes to at most 48000).
MAX_FRAME = 65536


# --- who the socket is ----------------------------------------------------------


def _token_user(key: str):
    try:
        user, _ = TokenAuthentication().authenticate_credentials(key)
    except exceptions.AuthenticationFailed:
        return AnonymousUser()
    return user


def _trusted_origin(scope) -> bool:
    origin = dict(scope.get("headers", ())).get(b"origin")
    if origin is None:
        return True
    host, _ = split_domain_port(urlsplit(origin.decode("latin-1")).netloc)
    return bool(host) and validate_host(host, settings.ALLOWED_HOSTS)


class SocketUserMiddleware(BaseMiddleware):
    """``scope["user"]``: the token's user when ``?token=`` is given (an
    unknown or revoked token is anonymous, whatever the cookie says), else
    the session's user when the origin is trusted, else anonymous."""

    async def __call__(self, scope, receive, send):
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        if "token" in query:
            user = await database_sync_to_async(_token_user)(query["token"][-1])
        elif _trusted_origin(scope):
            user = scope["user"]  # the session's, resolved by AuthMiddleware
        else:
            user = AnonymousUser()
        return await super().__call__({**scope, "user": user}, receive, send)


def socket_auth(inner):
    """``inner`` behind the session's middleware and ``SocketUserMiddleware``."""
    return AuthMiddlewareStack(SocketUserMiddleware(inner))


# --- events to groups --------------------------------------------------------------


def publish(group: str, event: dict) -> None:
    """Send ``event`` to every socket in ``group`` once the current
    transaction commits (at once outside one), so nobody hears of a write
    that is rolled back. A push that fails (Redis down) is logged: the write
    it reports has happened all the same."""

    def send():
        try:
            group_send(group, {"type": "push", "event": event})
        except Exception:
            metrics.CHANNEL_LAYER_ERRORS.labels("push").inc()
            logger.exception("could not push %s to %s", event["type"], group)

    transaction.on_commit(send)


# A push waits for the layer at most this long (its Redis reads time out in 10 s).
PUSH_TIMEOUT = 30
_push = (0, None)  # the process id and its push loop
_push_lock = threading.Lock()


def group_send(group: str, message: dict, timeout: float = PUSH_TIMEOUT) -> None:
    """``group_send`` from sync code, on this process's push loop, waiting
    at most ``timeout`` seconds.

    Outside an ASGI server (a WSGI worker, a command) ``async_to_sync`` runs
    each call in an event loop of its own, and the Redis layer keeps its
    connections per loop: every push connected to Redis afresh and closed the
    connection again (40 % of a room message's CPU under gunicorn). One loop
    per process, in a daemon thread, keeps one connection. The in-memory
    layer's queues belong to the server's loop, so it is sent to there."""
    layer = get_channel_layer()
    if isinstance(layer, InMemoryChannelLayer):
        async_to_sync(layer.group_send)(group, message)
        return
    future = asyncio.run_coroutine_threadsafe(
        layer.group_send(group, message), _push_loop()
    )
    future.result(timeout)


def _push_loop() -> asyncio.AbstractEventLoop:
    """This process's push loop, started the first time (a forked worker
    starts its own: a thread does not survive a fork)."""
    global _push
    with _push_lock:
        if _push[0] != os.getpid():
            loop = asyncio.new_event_loop()
            thread = threading.Thread(
                target=loop.run_forever, name="channel-layer pushes", daemon=True
            )
            thread.start()
            _push = (os.getpid(), loop)
        return _push[1]


async def apublish(group: str, event: dict) -> None:
    """``publish`` for an event no transaction writes (typing indicators)."""
    try:
        await get_channel_layer().group_send(group, {"type": "push", "event": event})
    except Exception:
        metrics.CHANNEL_LAYER_ERRORS.labels("push").inc()
        raise


# --- a JSON consumer speaking the API's errors ---------------------------------------


def _in_transaction(work, *args):
    with transaction.atomic():
        return work(*args)


def validated(serializer_class, data) -> dict:
    """``data`` checked by ``serializer_class`` (strict types, known fields
    only, as a request body is), or its ``ValidationError``."""
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class EventConsumer(AsyncJsonWebsocketConsumer):
    """A signed-in user's socket exchanging JSON events, ``{"type": ...}``.

    An anonymous socket is refused at the handshake. Each event the client
    sends names one of ``client_events`` (its ``type`` -> the method that
    handles its other fields) and may carry a ``ref`` (a string or integer),
    which the reply repeats. A method returns its reply event (or None), or
    raises: a refusal comes back as ``{"type": "error", "ref", "status",
    "code", "detail", "errors"}``, the API's error body for the same
    refusal; anything else is a bug and closes the socket. Methods do their
    database work through ``run()``, in a transaction.

    Every event first counts against the user's ``writes`` bucket
    (config.ratelimit) and, when its type is in ``rate_limits``, the bucket
    of that scope too, shared with every door to the same action; over
    either, the method does not run and the reply is a 429 ``throttled``
    error with ``retry_after`` (seconds).
    """

    client_events: dict[str, str] = {}
    rate_limits: dict[str, str] = {}

    async def dispatch(self, message):
        """Channels' dispatch, less its ``aclose_old_connections()`` before
        every handler: a hop to the database's one thread per event, even for
        an event that only goes out to the client (docs/realtime.md measures
        it). The database work here goes through ``run()``, whose
        ``database_sync_to_async`` closes stale connections itself."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close()  # before accept(): the handshake gets a 403
            return
        self.user = user
        await self.accept()
        metrics.WEBSOCKETS.inc()
        self.counted = True
        await self.opened()

    async def __call__(self, scope, receive, send):
        """The socket's whole life; an accepted socket leaves the open
        sockets' gauge however it ends (closed, or crashed)."""
        try:
            await super().__call__(scope, receive, send)
        finally:
            if getattr(self, "counted", False):
                metrics.WEBSOCKETS.dec()

    async def opened(self) -> None:
        """The socket is accepted and ``self.user`` set."""

    async def receive(self, text_data=None, bytes_data=None):
        ref = None
        try:
            content = _event(text_data)
            ref = _ref(content.pop("ref", None))
            kind = content.pop("type", None)
            handler = getattr(self, self._handler_name(kind))
            scopes = ["writes", self.rate_limits.get(kind)]
            await ratelimit.ahit_all([s for s in scopes if s], self.user.pk)
            reply = await handler(content)
        except Exception as exc:
            reply = error_event(exc)
            if reply is None:
                raise
        if reply is not None:
            await self.send_json(reply if ref is None else {**reply, "ref": ref})

    def _handler_name(self, kind) -> str:
        if not isinstance(kind, str) or kind not in self.client_events:
            raise exceptions.ValidationError(
                {"type": "One of: " + ", ".join(sorted(self.client_events)) + "."}
            )
        return self.client_events[kind]

    async def run(self, work, *args):
        """``work(*args)`` in a transaction, in the thread database work runs
        in; events it publishes go out once it commits."""
        return await database_sync_to_async(_in_transaction)(work, *args)


def _event(text: str | None) -> dict:
    if text is None:
        raise exceptions.ParseError("Send events as JSON in text frames.")
    if len(text) > MAX_FRAME:
        raise PayloadTooLarge(f"An event is at most {MAX_FRAME} characters.")
    content = parse_json(text)
    if not isinstance(content, dict):
        raise exceptions.ValidationError(['An event is a JSON object with a "type".'])
    return content


def _ref(ref):
    """The client's ``ref``, checked: a string (at most 100 characters) or an
    integer, repeated in the reply so the client can match the two."""
    if ref is None or (isinstance(ref, int) and not isinstance(ref, bool)):
        return ref
    if isinstance(ref, str) and len(ref) <= 100:
        return ref
    raise exceptions.ValidationError(
        {"ref": "Expected a string of at most 100 characters or an integer."}
    )


def error_event(exc: Exception) -> dict | None:
    """``exc`` as an ``error`` event with the API's body (and, for a 429,
    ``retry_after``: the seconds the REST API's ``Retry-After`` would say),
    or None when it is a bug."""
    translated = api_exception(exc)
    if not isinstance(translated, exceptions.APIException):
        return None
    event = {"type": "error", **error_body(translated)}
    if isinstance(translated, exceptions.Throttled):
        event["retry_after"] = translated.wait
    return event
