"""Project commands: new, check, info, render."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the project commands to ``app``."""

    @app.command("version")
    def version_cmd() -> None:
        """Print the mixdown version."""
        from importlib.metadata import version

        typer.echo(version("mixdown"))
