"""A real ASGI server in a thread of the test process, for the tests of what
outside clients reach over the network (the MCP server, WebSockets); the
production server in processes of its own is tests/servers.py's."""

import asyncio
import socket
import threading

import uvicorn
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connections


class LiveServer:
    """config.asgi.application served by uvicorn (HTTP, and WebSocket by the
    ``websockets`` package) on a free local port; ``url`` is ``path`` there,
    ``address`` the host and port."""

    def __init__(self, lifespan: str = "on", path: str = "/"):
        from config.asgi import application

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.address = f"127.0.0.1:{self.sock.getsockname()[1]}"
        self.url = f"http://{self.address}{path}"
        config = uvicorn.Config(
            application,
            lifespan=lifespan,
            log_level="warning",
            timeout_graceful_shutdown=5,
            ws_max_size=settings.WEBSOCKET_MAX_MESSAGE_SIZE,  # as config.server
        )
        self.server = uvicorn.Server(config)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self.server.serve(sockets=[self.sock]))
        # What outlives the server (sse-starlette's shutdown watcher) ends too.
        leftover = asyncio.all_tasks(self.loop)
        for task in leftover:
            task.cancel()
        self.loop.run_until_complete(asyncio.gather(*leftover, return_exceptions=True))

    def start(self):
        self.thread.start()
        for _ in range(500):
            if self.server.started:
                return
            if not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            threading.Event().wait(0.01)
        raise RuntimeError("uvicorn did not start in 5 seconds")

    def stop(self):
        # The tools' database connection lives in asgiref's sync thread: close
        # it there, or the test database could not be flushed or dropped.
        asyncio.run_coroutine_threadsafe(
            sync_to_async(connections.close_all)(), self.loop
        ).result(timeout=10)
        self.server.should_exit = True
        self.thread.join(timeout=15)
        assert not self.thread.is_alive(), "uvicorn did not stop"
        self.loop.close()
        self.sock.close()
