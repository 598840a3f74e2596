"""A second thread for the output side of a streaming job (metering, encoding, writing).

A batch worker runs one file per core, so threads inside one job only compete with the
other workers: :func:`run_inline` turns them off for the whole process (the
:class:`Consumer` then consumes on the calling thread, the QC analyzer meters true peak
there, the renderer uses one thread). The figures are the same either way.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any

_INLINE = False


def run_inline(on: bool = True) -> None:
    """Run every job of this process on its calling thread (batch workers: one per core)."""
    global _INLINE
    _INLINE = bool(on)


def inline() -> bool:
    """Whether jobs run on their calling thread only (:func:`run_inline`)."""
    return _INLINE


class Consumer:
    """Hand blocks to ``consume`` on a second thread, in order (a bounded queue).

    The limiter's loop stays on the calling thread; metering and writing overlap with it.
    An exception in ``consume`` is raised again in the calling thread.
    """

    _DONE = object()

    def __init__(self, consume: Callable[[Any], None], depth: int = 4) -> None:
        self._consume = consume
        self._inline = _INLINE  # consume on the calling thread (see run_inline)
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="mixdown-master-io",
                                        daemon=True)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is self._DONE:
                return
            if self._error is None:
                try:
                    self._consume(item)
                except BaseException as exc:  # handed back to the caller
                    self._error = exc

    def put(self, block: Any) -> None:
        """Queue a block (waits while the queue is full)."""
        if self._error is not None:
            raise self._error
        if self._inline:
            self._consume(block)
            return
        self._queue.put(block)

    def __enter__(self) -> Consumer:
        if not self._inline:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._inline:
            return
        self._queue.put(self._DONE)
        self._thread.join()
        if self._error is not None and exc[0] is None:
            raise self._error
