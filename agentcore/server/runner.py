"""Running the app: :func:`serve` in the foreground (the CLI), :class:`ServerThread` in the background (tests, benchmarks)."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any

from agentcore.backends.base import Backend
from agentcore.errors import AgentcoreError
from agentcore.server.settings import ServerSettings


def serve(
    backends: Mapping[str, Backend],
    agents: Mapping[str, Any] | None = None,
    settings: ServerSettings | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    log_level: str = "info",
) -> None:
    """Serve until interrupted (uvicorn, one process: the models live in this process's memory)."""
    import uvicorn

    from agentcore.server.app import create_app

    settings = settings or ServerSettings()
    if host not in ("127.0.0.1", "localhost", "::1") and not settings.api_keys:
        import logging

        logging.getLogger("agentcore.server").warning(
            "serving on %s without API keys: anyone who can reach this address can use the models "
            "(pass --api-key)", host)
    uvicorn.run(create_app(backends, agents, settings), host=host, port=port, log_level=log_level,
                timeout_graceful_shutdown=5)


class ServerThread:
    """``agentcore serve`` in a background thread on 127.0.0.1 and a free port; a context manager.

    >>> with ServerThread({"m": backend}) as server:
    ...     client = openai.OpenAI(base_url=server.base_url, api_key="-")
    """

    def __init__(
        self,
        backends: Mapping[str, Backend],
        agents: Mapping[str, Any] | None = None,
        settings: ServerSettings | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        log_level: str = "warning",
    ):
        import uvicorn

        from agentcore.server.app import create_app

        config = uvicorn.Config(create_app(backends, agents, settings), host=host, port=port, log_level=log_level,
                                timeout_graceful_shutdown=2, lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="agentcore-serve", daemon=True)
        self.host = host
        self.port = port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """The OpenAI base URL (ends in ``/v1``)."""
        return self.url + "/v1"

    def start(self, timeout_s: float = 20.0) -> ServerThread:
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise AgentcoreError(f"the server did not start on {self.host}:{self.port}")
            time.sleep(0.01)
        self.port = self._server.servers[0].sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
