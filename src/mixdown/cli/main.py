"""The ``mixdown`` command: one typer app, errors printed once as one line.

Exit codes: 0 ok, 1 error, 2 usage, 3 some items of a multi-item command failed.
"""

from __future__ import annotations

import importlib
import os
import sys

import typer

from mixdown.core.errors import MixdownError

app = typer.Typer(
    name="mixdown",
    help="mixdown: render, master, analyse and deliver songs from song.toml projects.",
    pretty_exceptions_enable=False,
    add_completion=False,
    no_args_is_help=True,
)



@app.callback()
def _root() -> None:
    """mixdown: render, master, analyse and deliver songs from song.toml projects."""


# Each module defines ``register(app)`` and adds its commands.
COMMAND_MODULES = [
    "mixdown.cli.project",  # new, check, info, render
    "mixdown.cli.analyze",  # analyze
    "mixdown.cli.master",  # master, convert, deliver
    "mixdown.cli.interchange",  # import, export (MIDI)
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


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``mixdown`` console script."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args or os.environ.get("MIXDOWN_DEBUG") == "1"
    if "--debug" in args:
        args.remove("--debug")
    try:
        # standalone mode: typer prints usage errors itself and exits 2; ours land below.
        app(args=args, prog_name="mixdown", standalone_mode=True)
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
    sys.exit(0)


if __name__ == "__main__":
    main()
