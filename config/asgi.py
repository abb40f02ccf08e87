"""ASGI entry point: ``manage.py runserver`` (daphne) serves it, as would
``uvicorn config.asgi:application``.

Django answers every request but those to ``/mcp/`` (and ``/mcp``), which go to
the MCP server of the task tools (chatbot.mcp). Lifespan events, from servers
that send them, start and stop the MCP server's session manager.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# Django's app first: it sets Django up, which the MCP app's imports need.
django_application = get_asgi_application()

from chatbot.mcp import application as mcp_application  # noqa: E402

MCP_PATHS = {"/mcp", "/mcp/"}


def _for_mcp(scope) -> bool:
    # Django answers no lifespan events: the MCP app takes them all.
    if scope["type"] == "lifespan":
        return True
    return scope["type"] == "http" and scope["path"] in MCP_PATHS


async def application(scope, receive, send):
    if _for_mcp(scope):
        await mcp_application(scope, receive, send)
    else:
        await django_application(scope, receive, send)
