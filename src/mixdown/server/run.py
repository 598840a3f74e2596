"""Run the studio with uvicorn and say where it listens."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from mixdown.server.config import ServeConfig


def serve(config: ServeConfig, *, announce: Callable[[str], None] | None = None) -> None:
    """Serve ``config`` until interrupted; ``announce(url)`` once the socket listens.

    Port 0 asks the system for a free port; the announced URL carries the real one. If the
    studio's database cannot be opened, the server stops and that error is raised.
    """
    import asyncio

    import uvicorn

    from mixdown.server.app import create_app

    app = create_app(config)
    say = announce or (lambda url: (sys.stdout.write(url + "\n"), sys.stdout.flush()))
    ssl: dict[str, Any] = {}
    if config.certfile is not None:
        ssl = {"ssl_certfile": str(config.certfile), "ssl_keyfile": str(config.keyfile)}
    uv_config = uvicorn.Config(app, host=config.host, port=config.port, log_level="warning",
                               access_log=False, lifespan="on", **ssl)

    failed: list[BaseException] = []

    class _Server(uvicorn.Server):
        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets=sockets)
            if self.started and self.servers:
                port = self.servers[0].sockets[0].getsockname()[1]
                say(config.url(port))
                self._watch = asyncio.create_task(self._watch_studio())

        async def _watch_studio(self) -> None:
            error = await asyncio.to_thread(app.state.studio.wait)
            if error is not None:
                failed.append(error)
                self.should_exit = True

    _Server(uv_config).run()
    if failed:
        raise failed[0]
