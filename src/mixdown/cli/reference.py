"""The command-line reference (docs/cli.md), generated from the commands themselves."""

from __future__ import annotations

from pathlib import Path
from typing import Any

BEGIN = "<!-- BEGIN GENERATED CLI REFERENCE: do not edit by hand -->"
END = "<!-- END GENERATED CLI REFERENCE -->"


def _param_row(p: Any) -> str:
    names = ", ".join(f"`{o}`" for o in [*p.opts, *p.secondary_opts]) if p.opts else p.name
    if getattr(p, "param_type_name", "") == "argument":
        names = f"`{p.name.upper()}`" + ("..." if getattr(p, "nargs", 1) == -1 else "")
    text = (getattr(p, "help", None) or "").replace("\n", " ").replace("|", "\\|")
    default = getattr(p, "default", None)
    show = default not in (None, False, ()) and not getattr(p, "is_flag", False)
    required = " (required)" if getattr(p, "required", False) else ""
    return f"| {names} | {text}{required}{f' Default: `{default}`.' if show else ''} |"


def cli_reference_markdown() -> str:
    """Markdown for every command: usage line, help and a table of its parameters."""
    import typer.main

    from mixdown.cli.main import app

    group = typer.main.get_command(app)
    out = [BEGIN, ""]
    _commands(group, "mixdown", out)
    out.append(END)
    return "\n".join(out)


def _commands(group: Any, prefix: str, out: list[str]) -> None:
    """Each command of ``group``, and each command of its sub-groups, in name order."""
    for name in sorted(group.commands):
        cmd = group.commands[name]
        params = [p for p in cmd.params if p.name != "help"]
        first = (cmd.help or "").strip().splitlines()[0] if cmd.help else ""
        out += [f"### `{prefix} {name}`", "", first, ""]
        if params or not hasattr(cmd, "commands"):
            out += ["| parameter | meaning |", "|---|---|", *(_param_row(p) for p in params), ""]
        if hasattr(cmd, "commands"):
            _commands(cmd, f"{prefix} {name}", out)


def update_cli_reference(doc: str | Path) -> bool:
    """Rewrite the generated part of ``doc``; True if it changed."""
    path = Path(doc)
    text = path.read_text()
    start, stop = text.index(BEGIN), text.index(END) + len(END)
    new = text[:start] + cli_reference_markdown() + text[stop:]
    if new != text:
        path.write_text(new)
    return new != text
