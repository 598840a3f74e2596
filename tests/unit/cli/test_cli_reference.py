"""docs/cli.md documents every command and option, as the commands define them."""

from __future__ import annotations

from pathlib import Path

import typer.main

from mixdown.cli.main import app
from mixdown.cli.reference import cli_reference_markdown

DOC = Path(__file__).resolve().parents[3] / "docs" / "cli.md"


def test_reference_is_current() -> None:
    assert cli_reference_markdown() in DOC.read_text(), (
        "docs/cli.md is stale; run: .venv/bin/python -c \"from mixdown.cli.reference import "
        "update_cli_reference as u; u('docs/cli.md')\"")


def test_every_command_and_option_is_documented() -> None:
    text = DOC.read_text()
    group = typer.main.get_command(app)
    commands = [(name, cmd) for name, cmd in group.commands.items()  # type: ignore[attr-defined]
                if not hasattr(cmd, "commands")]
    commands += [(f"{name} {sub}", c)  # a group's commands: ``mixdown batch analyze``
                 for name, cmd in group.commands.items()  # type: ignore[attr-defined]
                 for sub, c in getattr(cmd, "commands", {}).items()]
    assert any(name.startswith("batch ") for name, _ in commands)
    for name, cmd in commands:
        assert f"### `mixdown {name}`" in text
        for p in cmd.params:
            for opt in p.opts:
                if opt.startswith("--") and opt != "--help":
                    assert f"`{opt}`" in text, (name, opt)
