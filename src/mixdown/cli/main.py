"""The ``mixdown`` command: one typer app, errors printed once as one line.

Exit codes: 0 ok, 1 error, 2 usage, 3 some items of a multi-item command failed.
"""

from __future__ import annotations

import gc
import importlib
import os
import sys
from typing import Any

import typer
import typer.main

from mixdown.core.errors import MixdownError

app = typer.Typer(
    name="mixdown",
    help="mixdown: render, master, analyse and deliver songs from song.toml projects.",
    pretty_exceptions_enable=False,
    add_completion=False,
    no_args_is_help=True,
)



def _show_version(value: bool) -> None:
    if value:
        from mixdown import __version__

        typer.echo(f"mixdown {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", is_eager=True, callback=_show_version,
                                 help="Print the version and exit."),
    debug: bool = typer.Option(False, "--debug", help="Show the traceback of an error "
                               "(also after the command, or MIXDOWN_DEBUG=1)."),
) -> None:
    """mixdown: render, master, analyse and deliver songs from song.toml projects."""


# Each module defines ``register(app)`` and adds its commands.
COMMAND_MODULES = [
    "mixdown.cli.project",  # new, check, info, render
    "mixdown.cli.analyze",  # analyze
    "mixdown.cli.master",  # master, convert, deliver
    "mixdown.cli.interchange",  # import, export (MIDI)
    "mixdown.cli.serve",  # serve (the web studio)
    "mixdown.cli.transcribe",  # transcribe (audio to MIDI)
    "mixdown.cli.batch",  # batch analyze|master|deliver|render|convert
    "mixdown.cli.ledger",  # ledger <thing> <verb>
    "mixdown.cli.history",  # history, undo, redo
]


def _register() -> None:
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        module.register(app)


_register()


def _label(param: Any) -> str | None:
    """A plain help label: none for a flag or an argument, PATH/INT/NUMBER/TEXT for a value
    (typer's own would be ``<bool>``, ``<list[Path]>``...)."""
    if getattr(param, "is_flag", False) or param.param_type_name == "argument":
        return None
    kind = str(param.display_type(None)).lower()  # typer's own label, such as "<path>"
    for word, label in (("path", "PATH"), ("int", "INT"), ("float", "NUMBER")):
        if word in kind:
            return label
    return "TEXT"


def command() -> Any:
    """The click command of ``app``, with plain help labels (no ``<bool>`` type tags)."""
    group = typer.main.get_command(app)
    cmds = [group]
    for cmd in cmds:  # grows as groups (``batch``) add their commands
        cmds += getattr(cmd, "commands", {}).values()
        help_option = cmd.get_help_option(cmd.context_class(cmd))
        for param in [*cmd.params, *([help_option] if help_option is not None else [])]:
            label = param.metavar if param.metavar is not None else _label(param)
            param.display_type_rich = lambda ctx, label=label: label
    return group


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``mixdown`` console script."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args or os.environ.get("MIXDOWN_DEBUG") == "1"
    if "--debug" in args:
        args.remove("--debug")
    try:
        # standalone mode: typer prints usage errors itself and exits 2; ours land below.
        command().main(args=args, prog_name="mixdown", standalone_mode=True)
    except MixdownError as exc:
        if debug:
            raise
        sys.stderr.write(f"mixdown: error: {exc}\n")
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.stderr.write("mixdown: interrupted\n")
        sys.exit(130)
    except Exception as exc:  # anything unforeseen: still one line unless --debug
        if debug:
            raise
        sys.stderr.write(f"mixdown: internal error: {type(exc).__name__}: {exc} "
                         "(run with --debug for the traceback)\n")
        sys.exit(1)
    finally:
        if argv is None:  # the console script: the process ends now
            # The interpreter's last garbage collection would walk every object left
            # (numba's and numpy's among them), about 0.3 s of CPU after a render; frozen
            # objects are skipped, and the OS frees the memory.
            gc.freeze()
    sys.exit(0)


if __name__ == "__main__":
    main()
