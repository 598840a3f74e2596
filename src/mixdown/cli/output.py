"""What every command shares: strict JSON on stdout, progress and errors on stderr."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from mixdown.core.jsonable import to_jsonable, write_json  # noqa: F401 (to_jsonable: re-export)

stderr = Console(stderr=True, highlight=False)


def print_json(value: Any) -> None:
    """Write strict JSON (no NaN/Infinity) to stdout."""
    write_json(value, sys.stdout)  # streamed: a 10-hour loudness series stays compact
    sys.stdout.flush()


@contextmanager
def progress_bar(description: str, total: float, *, enabled: bool = True) -> Iterator[Any]:
    """A rich progress bar on stderr; yields ``advance(amount)``.

    The bar appears only after the task has run for a second, so quick commands stay quiet,
    and only when stderr is a terminal.
    """
    if not enabled or not stderr.is_terminal:  # a bar in a log or pipe is noise
        yield lambda amount: None
        return
    progress = Progress(TextColumn("{task.description}"), BarColumn(), TextColumn(
        "{task.percentage:>3.0f}%"), TimeRemainingColumn(), console=stderr, transient=True,
        auto_refresh=False)
    import time

    start = time.monotonic()
    task = progress.add_task(description, total=total)
    started = False

    def advance(amount: float) -> None:
        nonlocal started
        progress.advance(task, amount)
        if not started and time.monotonic() - start > 1.0:
            progress.start()
            started = True
        if started:
            progress.refresh()

    try:
        yield advance
    finally:
        if started:
            progress.stop()


def warn(lines: Iterable[str]) -> None:
    """Print warnings on stderr, one line each (``warning: ...``)."""
    for w in lines:
        stderr.print(f"warning: {' '.join(str(w).split())}", markup=False, soft_wrap=True)
