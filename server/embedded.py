"""Run the server in-process on a background thread (demo and tests)."""

from __future__ import annotations

import logging
import threading
import time

import uvicorn

from server.api import create_app
from server.settings import Settings

logger = logging.getLogger(__name__)

STARTUP_TIMEOUT_S = 15.0


class EmbeddedServerError(RuntimeError):
    """The embedded server did not start."""


class EmbeddedServer:
    """A uvicorn server on a daemon thread; ``url`` is its base URL, without ``/v1``."""

    def __init__(self, server: uvicorn.Server, thread: threading.Thread, url: str) -> None:
        self._server = server
        self._thread = thread
        self.url = url

    def stop(self, timeout_s: float = 10.0) -> None:
        """Ask uvicorn to shut down and wait for its thread."""
        self._server.should_exit = True
        self._thread.join(timeout_s)
        logger.info("embedded server at %s stopped", self.url)

    def __enter__(self) -> EmbeddedServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start_embedded_server(
    db_url: str,
    host: str = "127.0.0.1",
    port: int = 0,
    demo: bool = True,
    settings: Settings | None = None,
) -> EmbeddedServer:
    """Start the API on ``host``:``port`` (0 picks a free port) and wait until it listens."""
    if settings is None:
        settings = Settings(database_url=db_url, demo=demo)
    app = create_app(settings)
    config = uvicorn.Config(app, host=host, port=port, log_config=None, lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="chiiki-settle", daemon=True)
    thread.start()

    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise EmbeddedServerError(f"server on {host}:{port} did not start; is the port free?")
        time.sleep(0.02)

    bound_port = server.servers[0].sockets[0].getsockname()[1]
    url_host = f"[{host}]" if ":" in host else host
    url = f"http://{url_host}:{bound_port}"
    logger.info("embedded server listening at %s", url)
    return EmbeddedServer(server, thread, url)
