"""The ASGI server of production and of ``manage.py runserver``: daphne, with
the WebSocket message limit of the settings (``WEBSOCKET_MAX_MESSAGE_SIZE``)
and a message over it refused with a close frame (1009 and a reason) instead
of a dropped connection (docs/realtime.md#frames). It takes daphne's options:

    python -m config.server -b 0.0.0.0 -p 8001 config.asgi:application
"""

import os
import sys

from daphne import cli, server


class Server(server.Server):
    """daphne's server. Over ``websocket_max_message_size`` (a whole message,
    in bytes) or ``websocket_max_frame_size`` (one frame), autobahn refuses a
    client's message, and its ``failByDrop``, on by default, then drops the
    TCP connection with no close frame: the client cannot tell why. Off, it
    closes the socket with 1009 (message too big) and a reason, as RFC 6455
    describes."""

    def __init__(self, *args, ready_callable=None, **kwargs):
        self._then_ready = ready_callable
        super().__init__(*args, ready_callable=self._ready, **kwargs)

    def _ready(self):
        # run() has made the WebSocket factory and set daphne's options on it;
        # the reactor, which accepts connections, starts after this.
        self.ws_factory.setProtocolOptions(failByDrop=False)
        if self._then_ready is not None:
            self._then_ready()


class CommandLineInterface(cli.CommandLineInterface):
    """daphne's command line, with this server, and the settings' limit as
    the default of ``--websocket-max-message-size`` and ``-frame-size``."""

    server_class = Server

    def __init__(self):
        from django.conf import settings

        super().__init__()
        size = settings.WEBSOCKET_MAX_MESSAGE_SIZE
        self.parser.set_defaults(
            websocket_max_message_size=size, websocket_max_frame_size=size
        )


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    CommandLineInterface().run(sys.argv[1:])
