"""The task tools (chatbot.tools) over the Model Context Protocol, so an outside
AI client can list and manage one user's tasks.

``application`` is an ASGI app that ``config.asgi`` mounts at ``/mcp/`` beside
Django: the official SDK's low-level ``Server`` behind its streamable HTTP
transport (stateful sessions, answers as SSE or JSON as the client asks).

Every request carries the user's API token, ``Authorization: Token <key>`` (or
``Bearer <key>``), checked as the REST API checks it
(``config.api.authentication``); without a valid one the answer is the API's
401 body. Each tool call runs for that user, in one transaction, in Django's
sync thread. A session is bound to the user who opened it: another user's
token cannot use its id (the SDK answers 404).

Tool calls are rate-limited per user (``MCP_TOOL_RATE``, config.ratelimit).
One over the limit runs nothing and is a tool error (``isError``), which the
client's model reads and can wait out: its text says when to retry, and its
``structuredContent`` is the API's 429 body with ``retry_after`` (seconds).

The SDK's session manager needs a running task group. Under a server that
speaks the ASGI lifespan protocol (uvicorn) it starts at startup and stops at
shutdown; ``manage.py runserver`` (daphne) sends no lifespan events, so the
first MCP request starts it, on the server's event loop.
"""

import asyncio
import inspect
import json
import logging
import typing
from dataclasses import dataclass, field
from types import NoneType, UnionType

import jsonschema
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections, transaction
from django.http.request import split_domain_port, validate_host
from jsonschema.exceptions import best_match
from mcp import types
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken
from mcp.server.lowlevel import Server
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.shared.exceptions import MCPError
from rest_framework import exceptions

from chatbot.models import Task
from chatbot.tools import TOOLS, tool_call
from config import ratelimit
from config.api.authentication import TokenAuthentication
from config.api.errors import error_body

logger = logging.getLogger(__name__)

# Where the authenticated Django user travels in the ASGI scope, from the
# authentication below to the tool handlers (``ctx.request.scope``).
USER_SCOPE_KEY = "chatbot.mcp.user"
AUTH_SCHEMES = {"token", "bearer"}

# --- the tools' JSON schemas ------------------------------------------------------

JSON_TYPES = {str: "string", bool: "boolean", int: "integer", float: "number"}
JSON_TYPES |= {dict: "object", list: "array", NoneType: "null"}

# What each argument means, for the client's model (with the models' limits,
# which the services check).
_LENGTH = {
    name: Task._meta.get_field(name).max_length for name in ("title", "description")
}
ARGUMENT_DESCRIPTIONS = {
    "title": f"The task's title: 1 to {_LENGTH['title']} characters.",
    "description": f"More about the task (optional): at most "
    f"{_LENGTH['description']} characters.",
    "completed": "true: only done tasks; false: only open ones; omitted: all.",
    "task_id": "The task's id, as list_tasks or add_task gave it.",
}

ANNOTATIONS = {
    "add_task": types.ToolAnnotations(read_only_hint=False, destructive_hint=False),
    "list_tasks": types.ToolAnnotations(read_only_hint=True),
    "complete_task": types.ToolAnnotations(
        read_only_hint=False, destructive_hint=False, idempotent_hint=True
    ),
    "rename_task": types.ToolAnnotations(
        read_only_hint=False, destructive_hint=True, idempotent_hint=True
    ),
    "delete_task": types.ToolAnnotations(
        read_only_hint=False, destructive_hint=True, idempotent_hint=False
    ),
}


def _json_type(annotation) -> str | list[str] | None:
    """The JSON Schema ``type`` of a Python annotation (``str | None``:
    ``["string", "null"]``); None when it has no JSON equivalent."""
    if typing.get_origin(annotation) in (typing.Union, UnionType):
        members = [_json_type(arg) for arg in typing.get_args(annotation)]
        if any(member is None or isinstance(member, list) for member in members):
            return None
        return members
    return JSON_TYPES.get(typing.get_origin(annotation) or annotation)


def input_schema(function) -> dict:
    """The JSON Schema of a tool's arguments, from its keyword-only parameters
    (the first parameter is the user)."""
    hints = typing.get_type_hints(function)
    properties, required = {}, []
    for name, parameter in inspect.signature(function).parameters.items():
        if parameter.kind is not parameter.KEYWORD_ONLY:
            continue
        schema = {}
        if (json_type := _json_type(hints.get(name))) is not None:
            schema["type"] = json_type
        if name in ARGUMENT_DESCRIPTIONS:
            schema["description"] = ARGUMENT_DESCRIPTIONS[name]
        properties[name] = schema
        if parameter.default is parameter.empty:
            required.append(name)
    return {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


MCP_TOOLS = {
    name: types.Tool(
        name=name,
        description=" ".join(tool.description.split()).replace("``", "`"),
        input_schema=input_schema(tool.function),
        annotations=ANNOTATIONS.get(name),
    )
    for name, tool in TOOLS.items()
}
VALIDATORS = {
    name: jsonschema.Draft202012Validator(tool.input_schema)
    for name, tool in MCP_TOOLS.items()
}


# --- the MCP server ---------------------------------------------------------------


def _error(message: str, details: dict | None = None) -> types.CallToolResult:
    return types.CallToolResult(
        content=[types.TextContent(text=message)],
        structured_content=details,
        is_error=True,
    )


def _throttled(refusal: exceptions.Throttled) -> types.CallToolResult:
    return _error(
        f"{refusal.detail} Nothing was done.",
        {**error_body(refusal), "retry_after": refusal.wait},
    )


def _run_tool(user, name: str, arguments: dict) -> dict:
    """``tool_call`` in one transaction (rolled back when the tool fails), with
    Django's per-request connection upkeep around it."""
    close_old_connections()
    try:
        with transaction.atomic():
            outcome = tool_call(user, name, arguments)
            if "error" in outcome:
                transaction.set_rollback(True)
        return outcome
    finally:
        close_old_connections()


async def list_tools(ctx, params) -> types.ListToolsResult:
    return types.ListToolsResult(tools=list(MCP_TOOLS.values()))


async def call_tool(ctx, params: types.CallToolRequestParams) -> types.CallToolResult:
    if params.name not in MCP_TOOLS:
        raise MCPError(types.INVALID_PARAMS, f"Unknown tool: {params.name}")
    user = ctx.request.scope.get(USER_SCOPE_KEY) if ctx.request is not None else None
    if user is None:  # the authentication below always sets it
        raise MCPError(types.INVALID_REQUEST, "Not authenticated.")
    try:
        await ratelimit.ahit_all(["mcp_tools"], user.pk)
    except exceptions.Throttled as refusal:
        return _throttled(refusal)
    arguments = params.arguments or {}
    problem = best_match(VALIDATORS[params.name].iter_errors(arguments))
    if problem is not None:
        where = ".".join(str(part) for part in problem.absolute_path)
        return _error(
            f"Wrong arguments: {where + ': ' if where else ''}{problem.message}"
        )
    try:
        outcome = await sync_to_async(_run_tool)(user, params.name, arguments)
    except Exception:
        logger.exception("MCP tool %s failed", params.name)
        return _error("The tool failed on the server's side; nothing was changed.")
    if "error" in outcome:
        return _error(outcome["error"])
    result = outcome["result"]
    return types.CallToolResult(
        content=[types.TextContent(text=json.dumps(result))],
        structured_content=result,
    )


server = Server(
    "tasks",
    title="Tasks",
    description="The signed-in user's todo list.",
    instructions=(
        "Manage the user's todo list: list_tasks to see it, add_task, "
        "complete_task, rename_task and delete_task to change it. Task ids "
        "come from list_tasks."
    ),
    on_list_tools=list_tools,
    on_call_tool=call_tool,
)


# --- the ASGI app: authentication and the session manager's lifetime ---------------


@dataclass
class _Running:
    """A session manager running on one event loop."""

    loop: asyncio.AbstractEventLoop
    manager: StreamableHTTPSessionManager
    started: asyncio.Event = field(default_factory=asyncio.Event)
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task | None = None


class MCPApplication:
    """ASGI app: ``http`` requests to the MCP server, ``lifespan`` to start and
    stop its session manager."""

    def __init__(self, server: Server):
        self.server = server
        self._running: _Running | None = None

    # The session manager runs in a task of its own, so it starts the same way
    # at lifespan startup and on a first request. A manager runs only once and
    # belongs to its event loop: a new loop (another server in the same
    # process, as in the tests) gets a new one.
    async def _manager(self) -> StreamableHTTPSessionManager:
        loop = asyncio.get_running_loop()
        running = self._running
        if running is None or running.loop is not loop or running.task.done():
            running = _Running(loop, StreamableHTTPSessionManager(app=self.server))
            running.task = loop.create_task(self._run(running))
            self._running = running
        waiter = loop.create_task(running.started.wait())
        await asyncio.wait({waiter, running.task}, return_when=asyncio.FIRST_COMPLETED)
        if not running.started.is_set():
            waiter.cancel()
            running.task.result()  # raises what stopped it
            raise RuntimeError("The MCP session manager stopped.")
        return running.manager

    async def _run(self, running: _Running) -> None:
        async with running.manager.run():
            running.started.set()
            await running.stop.wait()

    async def shutdown(self) -> None:
        running, self._running = self._running, None
        if running is not None and running.loop is asyncio.get_running_loop():
            running.stop.set()
            await running.task

    async def lifespan(self, receive, send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self._manager()
                except Exception as error:
                    logger.exception("The MCP session manager did not start")
                    await send(
                        {"type": "lifespan.startup.failed", "message": str(error)}
                    )
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            await self.lifespan(receive, send)
            return
        if scope["type"] != "http":
            raise ValueError(f"The MCP endpoint serves HTTP, not {scope['type']}.")
        if not _host_allowed(scope):
            await _send_json(send, 400, _BAD_REQUEST)
            return
        try:
            user, key = await _authenticate(scope)
        except (exceptions.NotAuthenticated, exceptions.AuthenticationFailed) as error:
            await _send_json(
                send, 401, error_body(error), [(b"www-authenticate", b"Token")]
            )
            return
        # The SDK binds a session to the principal of scope["user"].
        principal = AccessToken(token=key, client_id=str(user.pk), scopes=[])
        scope = {**scope, "user": AuthenticatedUser(principal), USER_SCOPE_KEY: user}
        manager = await self._manager()
        await manager.handle_request(scope, receive, send)


_BAD_REQUEST = {
    "status": 400,
    "code": "bad_request",
    "detail": "The request could not be understood.",
    "errors": [],
}


def _header(scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _host_allowed(scope) -> bool:
    """Django's ``ALLOWED_HOSTS`` check (``HttpRequest.get_host``), which the
    requests to ``/mcp/`` would otherwise skip."""
    host = _header(scope, b"host")
    if host is None and scope.get("server"):
        host = "{}:{}".format(*scope["server"])
    domain, _port = split_domain_port(host or "")
    allowed = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed:
        allowed = [".localhost", "127.0.0.1", "[::1]"]
    return bool(domain) and validate_host(domain, allowed)


async def _authenticate(scope):
    """The user and key of the request's ``Authorization: Token <key>`` (or
    ``Bearer <key>``); ``AuthenticationFailed`` or ``NotAuthenticated``."""
    parts = (_header(scope, b"authorization") or "").split()
    if not parts or parts[0].lower() not in AUTH_SCHEMES:
        raise exceptions.NotAuthenticated()
    if len(parts) != 2:
        raise exceptions.AuthenticationFailed("Invalid token header.")
    user, _token = await sync_to_async(_check_key)(parts[1])
    return user, parts[1]


def _check_key(key: str):
    close_old_connections()
    try:
        return TokenAuthentication().authenticate_credentials(key)
    finally:
        close_old_connections()


async def _send_json(send, status: int, body: dict, headers=()) -> None:
    content = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(content)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": content})


application = MCPApplication(server)
