"""The task tools over MCP (chatbot.mcp), as an outside AI client sees them: a
real ASGI server (uvicorn, in a thread of the test process) serves
config.asgi.application, and the SDK's own streamable HTTP client talks to
/mcp/ with a user's API token."""

import asyncio
import contextlib
import json

import anyio.from_thread
import httpx2
import pytest
from django.conf import settings
from django.core.management import get_commands
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from rest_framework.authtoken.models import Token

from chatbot.models import Task
from tests.chatbot.factories import TaskFactory
from tests.live_server import LiveServer
from tests.profiles.factories import UserFactory

TOOL_NAMES = {"add_task", "list_tasks", "complete_task", "rename_task", "delete_task"}


def _asgi_server(lifespan: str):
    server = LiveServer(lifespan, path="/mcp/")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def asgi_server(transactional_db):
    """A server that sends lifespan events (the session manager starts then)."""
    yield from _asgi_server("on")


@pytest.fixture
def asgi_server_without_lifespan(transactional_db):
    """A server that sends none, as manage.py runserver (daphne): the first
    MCP request starts the session manager."""
    yield from _asgi_server("off")


def token_for(user) -> str:
    return Token.objects.get_or_create(user=user)[0].key


class Client:
    """An initialized MCP ClientSession, called from the (sync) test through an
    anyio portal, so the test can read the database between calls."""

    def __init__(self, portal, session):
        self.portal = portal
        self.session = session

    def list_tools(self):
        return self.portal.call(self.session.list_tools).tools

    def call(self, name: str, arguments: dict | None = None):
        return self.portal.call(self.session.call_tool, name, arguments or {})

    def result(self, name: str, arguments: dict | None = None) -> dict:
        """The structured result of a call that must succeed."""
        result = self.call(name, arguments)
        assert not result.is_error, result.content
        assert json.loads(result.content[0].text) == result.structured_content
        return result.structured_content

    def error(self, name: str, arguments: dict | None = None) -> str:
        """The message of a call that must fail as a tool error."""
        result = self.call(name, arguments)
        assert result.is_error, result.structured_content
        return result.content[0].text


@contextlib.asynccontextmanager
async def _session(url: str, authorization: str, *, modern: bool = False):
    http = httpx2.AsyncClient(headers={"Authorization": authorization})
    async with (
        http,
        streamable_http_client(url, http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        if modern:  # the 2026 protocol: no handshake, no session
            await session.discover()
        else:
            await session.initialize()
        yield session


@contextlib.contextmanager
def mcp_client(url: str, authorization: str, *, modern: bool = False):
    with (
        anyio.from_thread.start_blocking_portal() as portal,
        portal.wrap_async_context_manager(
            _session(url, authorization, modern=modern)
        ) as session,
    ):
        yield Client(portal, session)


def raw_post(url: str, body: dict, headers: dict | None = None) -> httpx2.Response:
    """POST ``body`` as JSON-RPC, as a client without the SDK would."""
    return httpx2.post(
        url,
        json=body,
        headers={"Accept": "application/json, text/event-stream", **(headers or {})},
        timeout=10,
    )


INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "test", "version": "1"},
    },
}


# --- tools ---------------------------------------------------------------------------


def test_lists_the_five_tools_with_their_schemas(asgi_server):
    user = UserFactory()
    with mcp_client(asgi_server.url, f"Token {token_for(user)}") as client:
        tools = {tool.name: tool for tool in client.list_tools()}

    assert set(tools) == TOOL_NAMES
    for tool in tools.values():
        assert tool.description
        assert tool.input_schema["type"] == "object"
        assert tool.input_schema["additionalProperties"] is False
    add = tools["add_task"].input_schema
    assert add["required"] == ["title"]
    assert add["properties"]["title"]["type"] == "string"
    assert add["properties"]["description"]["type"] == ["string", "null"]
    assert "at most 5000 characters" in add["properties"]["description"]["description"]
    assert "1 to 255 characters" in add["properties"]["title"]["description"]
    assert tools["list_tasks"].input_schema["required"] == []
    assert tools["list_tasks"].input_schema["properties"]["completed"]["type"] == [
        "boolean",
        "null",
    ]
    assert tools["rename_task"].input_schema["required"] == ["task_id", "title"]
    for name in ("complete_task", "delete_task"):
        assert tools[name].input_schema["required"] == ["task_id"]
    assert tools["list_tasks"].annotations.read_only_hint is True
    assert tools["delete_task"].annotations.destructive_hint is True


def test_the_tools_change_the_users_tasks(asgi_server):
    user = UserFactory()
    with mcp_client(asgi_server.url, f"Token {token_for(user)}") as client:
        added = client.result("add_task", {"title": "  water the plants "})
        task = Task.objects.get(user=user)
        assert added == {
            "id": str(task.pk),
            "title": "water the plants",
            "description": None,
            "completed": False,
        }
        client.result("add_task", {"title": "call mum", "description": "Sunday"})
        assert Task.objects.filter(user=user).count() == 2

        listed = client.result("list_tasks")["tasks"]
        assert [row["title"] for row in listed] == ["call mum", "water the plants"]

        done = client.result("complete_task", {"task_id": added["id"]})
        assert done["completed"] is True
        task.refresh_from_db()
        assert task.completed is True
        open_ = client.result("list_tasks", {"completed": False})["tasks"]
        assert [row["title"] for row in open_] == ["call mum"]

        renamed = client.result(
            "rename_task", {"task_id": added["id"], "title": "water the cactus"}
        )
        assert renamed["title"] == "water the cactus"
        task.refresh_from_db()
        assert task.title == "water the cactus"

        deleted = client.result("delete_task", {"task_id": added["id"]})
        assert deleted["deleted"]["id"] == added["id"]
        assert not Task.objects.filter(pk=task.pk).exists()
        assert Task.objects.filter(user=user).count() == 1


def test_a_problem_is_a_tool_error(asgi_server):
    user = UserFactory()
    task = TaskFactory(user=user, title="keep me")
    with mcp_client(asgi_server.url, f"Token {token_for(user)}") as client:
        assert "title" in client.error("add_task", {"title": "   "})
        assert client.error("add_task", {})  # missing title
        assert client.error("add_task", {"title": "x", "colour": "red"})
        assert client.error("list_tasks", {"completed": "false"})  # not a boolean
        assert client.error("complete_task", {"task_id": "not-a-uuid"})
        assert (
            client.error("rename_task", {"task_id": str(task.pk), "title": "x" * 256})
            == "title: Ensure this value has at most 255 characters (it has 256)."
        )
        assert client.error("add_task", {"title": "x", "description": "d" * 5001}) == (
            "description: Ensure this value has at most 5000 characters (it has 5001)."
        )
        missing = "00000000-0000-0000-0000-000000000000"
        assert client.error("delete_task", {"task_id": missing})
        with pytest.raises(MCPError, match="no_such_tool"):
            client.call("no_such_tool")

    task.refresh_from_db()
    assert task.title == "keep me"
    assert Task.objects.filter(user=user).count() == 1


def test_tool_calls_over_the_rate_are_tool_errors_and_run_nothing(
    asgi_server, rate_limits
):
    rate_limits(mcp_tools=("1/hour", 2))
    user, other = UserFactory(), UserFactory()
    with mcp_client(asgi_server.url, f"Token {token_for(user)}") as client:
        client.result("add_task", {"title": "one"})
        client.result("list_tasks")
        refused = client.call("add_task", {"title": "two"})
        assert refused.is_error
        body = refused.structured_content
        assert (body["status"], body["code"], body["errors"]) == (429, "throttled", [])
        assert 3500 < body["retry_after"] <= 3600
        assert refused.content[0].text == f"{body['detail']} Nothing was done."
        assert "Expected available in" in body["detail"]
        assert client.error("list_tasks")  # reads count too
        assert {tool.name for tool in client.list_tools()} == TOOL_NAMES
    with mcp_client(asgi_server.url, f"Token {token_for(other)}") as client:
        client.result("add_task", {"title": "theirs"})  # a bucket of their own
    assert [task.title for task in Task.objects.filter(user=user)] == ["one"]


def test_another_users_token_sees_and_changes_none_of_the_tasks(asgi_server):
    owner, stranger = UserFactory(), UserFactory()
    task = TaskFactory(user=owner, title="mine")
    with mcp_client(asgi_server.url, f"Bearer {token_for(stranger)}") as client:
        assert client.result("list_tasks") == {"tasks": []}
        assert client.error("complete_task", {"task_id": str(task.pk)})
        assert client.error("rename_task", {"task_id": str(task.pk), "title": "x"})
        assert client.error("delete_task", {"task_id": str(task.pk)})
        client.result("add_task", {"title": "theirs"})

    task.refresh_from_db()
    assert (task.title, task.completed) == ("mine", False)
    assert list(Task.objects.filter(user=owner)) == [task]
    assert Task.objects.get(user=stranger).title == "theirs"


def test_the_2026_protocol_without_a_session(asgi_server):
    user = UserFactory()
    with mcp_client(asgi_server.url, f"Token {token_for(user)}", modern=True) as client:
        assert {tool.name for tool in client.list_tools()} == TOOL_NAMES
        client.result("add_task", {"title": "stateless"})
    assert Task.objects.get(user=user).title == "stateless"


def test_the_session_manager_starts_without_lifespan_events(
    asgi_server_without_lifespan,
):
    user = UserFactory()
    url = asgi_server_without_lifespan.url
    with mcp_client(url, f"Token {token_for(user)}") as client:
        assert {tool.name for tool in client.list_tools()} == TOOL_NAMES
        client.result("add_task", {"title": "lazy"})
    assert Task.objects.get(user=user).title == "lazy"


# --- authentication ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "not_authenticated"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "not_authenticated"),
        ({"Authorization": "Token"}, "authentication_failed"),
        ({"Authorization": "Token a b"}, "authentication_failed"),
        ({"Authorization": "Token " + "0" * 40}, "authentication_failed"),
        ({"Authorization": "Bearer " + "0" * 40}, "authentication_failed"),
    ],
)
def test_without_a_valid_token_401(asgi_server, headers, code):
    response = raw_post(asgi_server.url, INITIALIZE, headers)
    assert response.status_code == 401
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["WWW-Authenticate"] == "Token"
    body = response.json()
    assert (body["status"], body["code"]) == (401, code)
    assert body["detail"]


def test_an_inactive_users_token_401(asgi_server):
    user = UserFactory(is_active=False)
    response = raw_post(
        asgi_server.url, INITIALIZE, {"Authorization": f"Token {token_for(user)}"}
    )
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_the_sdk_client_with_a_bad_token_fails(asgi_server):
    with (
        pytest.RaisesGroup(MCPError, flatten_subgroups=True),
        mcp_client(asgi_server.url, "Token " + "0" * 40),
    ):
        pass


def test_a_session_answers_only_the_user_who_opened_it(asgi_server):
    owner, stranger = UserFactory(), UserFactory()
    response = raw_post(
        asgi_server.url, INITIALIZE, {"Authorization": f"Token {token_for(owner)}"}
    )
    assert response.status_code == 200
    session = {
        "Mcp-Session-Id": response.headers["Mcp-Session-Id"],
        "Mcp-Protocol-Version": "2025-11-25",
    }
    initialized = {"jsonrpc": "2.0", "method": "notifications/initialized"}
    list_tools = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}

    as_stranger = {"Authorization": f"Token {token_for(stranger)}", **session}
    assert raw_post(asgi_server.url, initialized, as_stranger).status_code == 404
    assert raw_post(asgi_server.url, list_tools, as_stranger).status_code == 404

    as_owner = {"Authorization": f"Token {token_for(owner)}", **session}
    assert raw_post(asgi_server.url, initialized, as_owner).status_code == 202
    response = raw_post(asgi_server.url, list_tools, as_owner)
    assert response.status_code == 200
    assert "add_task" in response.text


def test_a_host_outside_allowed_hosts_400(asgi_server):
    user = UserFactory()
    response = raw_post(
        asgi_server.url,
        INITIALIZE,
        {"Authorization": f"Token {token_for(user)}", "Host": "evil.example"},
    )
    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"


@pytest.mark.parametrize(
    ("scope_type", "path", "app"),
    [
        ("http", "/mcp/", "mcp"),
        ("http", "/mcp", "mcp"),
        ("lifespan", None, "mcp"),
        ("http", "/", "django"),
        ("http", "/api/", "django"),
        ("http", "/mcp/elsewhere", "django"),
        ("http", "/api/mcp/", "django"),
        ("websocket", "/mcp/", "websocket"),
        ("websocket", "/ws/", "websocket"),
    ],
)
def test_config_asgi_routes_mcp_beside_django(monkeypatch, scope_type, path, app):
    import config.asgi

    called = []

    async def recorder(name, scope, receive, send):
        called.append(name)

    monkeypatch.setattr(
        config.asgi, "mcp_application", lambda *args: recorder("mcp", *args)
    )
    monkeypatch.setattr(
        config.asgi, "django_application", lambda *args: recorder("django", *args)
    )
    monkeypatch.setattr(
        config.asgi,
        "websocket_application",
        lambda *args: recorder("websocket", *args),
    )
    scope = {"type": scope_type} | ({"path": path} if path else {})
    asyncio.run(config.asgi.application(scope, None, None))
    assert called == [app]


# --- the README's run command serves it ----------------------------------------------


def test_runserver_serves_the_asgi_application_on_the_production_server():
    from daphne.management.commands.runserver import get_default_application
    from django.core.management import load_command_class

    import config.asgi
    import config.server

    assert get_commands()["runserver"] == "config"
    command = load_command_class("config", "runserver")
    assert command.server_cls is config.server.Server
    assert settings.ASGI_APPLICATION == "config.asgi.application"
    assert get_default_application() is config.asgi.application
