"""Run an ASGI app with uvicorn in a background thread (tests, `kamidesk demo`).

    handle = run_in_thread(app, "127.0.0.1", 0)   # port 0: any free port
    handle.base_url  # "http://127.0.0.1:54321"
    handle.stop()

Errors::

    RuntimeError
     └── ServerStartError   -- the server did not come up (port taken, crash at start-up)
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass

import uvicorn


class ServerStartError(RuntimeError):
    """The server thread did not start serving in time."""


@dataclass
class ServerHandle:
    """A running server; `stop()` shuts it down and waits for the thread."""

    host: str
    port: int
    server: uvicorn.Server
    thread: threading.Thread

    @property
    def base_url(self) -> str:
        """`http://host:port` without a trailing slash."""
        return f"http://{self.host}:{self.port}"

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the server to exit and wait for its thread."""
        self.server.should_exit = True
        self.thread.join(timeout)


def run_in_thread(
    app: object, host: str = "127.0.0.1", port: int = 0, *, start_timeout: float = 10.0
) -> ServerHandle:
    """Start `app` on host:port (0 = a free port) in a daemon thread; returns once it serves."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ServerStartError(f"cannot bind {host}:{port}: {exc}") from exc
    bound_port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,  # type: ignore[arg-type]
        log_level="warning",
        access_log=False,  # request lines could carry identifiers we do not want in logs
        ws="none",
        lifespan="on",
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"uvicorn-{bound_port}", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + start_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise ServerStartError(f"server on {host}:{bound_port} did not start")
        time.sleep(0.01)
    return ServerHandle(host=host, port=bound_port, server=server, thread=thread)
