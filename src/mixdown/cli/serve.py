"""``mixdown serve``: the web studio over a folder of songs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add the ``serve`` command to ``app``."""

    @app.command("serve")
    def serve_cmd(
        folder: Annotated[Path, typer.Argument(help="The folder of songs (default: here).",
                                               show_default=False)] = Path("."),
        host: Annotated[str, typer.Option(help="Address to listen on; any but loopback "
                                          "needs MIXDOWN_SECRET.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="Port to listen on (0: any free one).")] = 8765,
        database: Annotated[str | None, typer.Option(
            "--database", help="Database URL (default MIXDOWN_DATABASE_URL, else "
            "mixdown.db in FOLDER).")] = None,
        certfile: Annotated[Path | None, typer.Option(help="TLS certificate (PEM) for "
                                                      "HTTPS.")] = None,
        keyfile: Annotated[Path | None, typer.Option(help="TLS private key (PEM).")] = None,
    ) -> None:
        """Serve the web studio: listen, compare versions, comment and approve.

        Prints the address once it listens; Ctrl-C stops it.
        """
        from mixdown.server.config import ServeConfig
        from mixdown.server.run import serve

        config = ServeConfig.from_options(folder, host=host, port=port, database_url=database,
                                          certfile=certfile, keyfile=keyfile)
        serve(config)
