"""The CLI's defaults are the library's (the CLI spells some out so as not to import the
engine at start-up)."""

from __future__ import annotations

import typer.main

from mixdown.cli.main import app
from mixdown.engine.graph import DEFAULT_BLOCK_FRAMES


def _param(command: str, name: str) -> object:
    group = typer.main.get_command(app)
    cmd = group
    for part in command.split():
        cmd = cmd.commands[part]  # type: ignore[attr-defined]
    return next(p for p in cmd.params if p.name == name)  # type: ignore[attr-defined]


def test_render_block_size_defaults_to_the_engines() -> None:
    for command in ("render", "batch render"):
        assert _param(command, "block_frames").default == DEFAULT_BLOCK_FRAMES, command
