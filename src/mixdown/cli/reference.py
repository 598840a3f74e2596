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
    commands = [(name, cmd) for name, cmd in group.commands.items()  # type: ignore[attr-defined]
                if not hasattr(cmd, "commands")]
    commands += [(f"{name} {sub}", c)  # a group's commands: ``mixdown batch analyze``
                 for name, cmd in group.commands.items()  # type: ignore[attr-defined]
                 for sub, c in getattr(cmd, "commands", {}).items()]
    for name, cmd in sorted(commands):
        params = [p for p in cmd.params if p.name != "help"]
        first = (cmd.help or "").strip().splitlines()[0] if cmd.help else ""
        out += [f"### `mixdown {name}`", "", first, "", "| parameter | meaning |", "|---|---|"]
        out += [_param_row(p) for p in params]
        out.append("")
    out.append(END)
    return "\n".join(out)


def update_cli_reference(doc: str | Path) -> bool:
    """Rewrite the generated part of ``doc``; True if it changed."""
    path = Path(doc)
    text = path.read_text()
    start, stop = text.index(BEGIN), text.index(END) + len(END)
    new = text[:start] + cli_reference_markdown() + text[stop:]
    if new != text:
        path.write_text(new)
    return new != text
