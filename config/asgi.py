"""ASGI entry point: ``manage.py runserver`` (daphne) serves it, as would
``uvicorn config.asgi:application``.

Django answers every HTTP request but those to ``/mcp/`` (and ``/mcp``), which
go to the MCP server of the task tools (chatbot.mcp). WebSockets go to the
safety app's consumer at ``/ws/`` (safety.consumers, docs/realtime.md), signed
in by ``config.ws.socket_auth``. Lifespan events, from servers that send them,
start and stop the MCP server's session manager.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# Django's app first: it sets Django up, which the MCP app's imports need.
django_application = get_asgi_application()

from channels.routing import URLRouter  # noqa: E402
from django.urls import path  # noqa: E402

from chatbot.mcp import application as mcp_application  # noqa: E402
from config.ws import socket_auth  # noqa: E402
from safety.consumers import SafetyConsumer  # noqa: E402

MCP_PATHS = {"/mcp", "/mcp/"}
websocket_application = socket_auth(URLRouter([path("ws/", SafetyConsumer.as_asgi())]))


def _for_mcp(scope) -> bool:
    # Django answers no lifespan events: the MCP app takes them all.
    if scope["type"] == "lifespan":
        return True
    return scope["type"] == "http" and scope["path"] in MCP_PATHS


async def application(scope, receive, send):
    if scope["type"] == "websocket":
        await websocket_application(scope, receive, send)
    elif _for_mcp(scope):
        await mcp_application(scope, receive, send)
    else:
        await django_application(scope, receive, send)
