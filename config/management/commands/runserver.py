"""``runserver``: daphne's (Django, the WebSocket and /mcp/ on one port), on
the platform's server (config.server), so development refuses an over-long
WebSocket message as production does."""

from daphne.management.commands import runserver

from config.server import Server


class Command(runserver.Command):
    server_cls = Server
