"""``mixdown history`` / ``undo`` / ``redo``: the studio's edit history from the terminal."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from mixdown.cli.output import print_json

_Project = Annotated[Path, typer.Argument(help="The project folder (or its song.toml).")]
_Json = Annotated[bool, typer.Option("--json", help="Print strict JSON on stdout.")]


def register(app: typer.Typer) -> None:
    """Add history, undo and redo to ``app``."""

    @app.command("history")
    def history_cmd(project: _Project = Path("."), json_out: _Json = False) -> None:
        """List the edits made to PROJECT's song.toml (the studio's and outside ones)."""
        from mixdown.services.history import history

        h = history(project)
        if json_out:
            print_json({"revision": h.revision, "position": h.position,
                        "steps": [{"label": s.label, "kind": s.kind, "author": s.author,
                                   "time": s.time, "before": s.before, "after": s.after}
                                  for s in h.steps]})
            return
        if not h.steps:
            typer.echo("no edits yet")
        for k, s in enumerate(h.steps, 1):
            mark = "*" if k == h.position else " "
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(s.time))
            who = f" ({s.author})" if s.author else ""
            undone = "  [undone]" if k > h.position else ""
            typer.echo(f"{mark}{k:4d}  {when}  {s.label}{who}{undone}")

    @app.command("undo")
    def undo_cmd(project: _Project = Path(".")) -> None:
        """Put PROJECT's song.toml back as it was before the last edit."""
        from mixdown.services.history import undo

        r = undo(project, base=None)
        typer.echo(f"{r.label} (step {r.position})")

    @app.command("redo")
    def redo_cmd(project: _Project = Path(".")) -> None:
        """Apply again the edit last undone."""
        from mixdown.services.history import redo

        r = redo(project, base=None)
        typer.echo(f"{r.label} (step {r.position})")
