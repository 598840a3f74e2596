"""A second thread for the output side of a streaming job (metering, encoding, writing)."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any


class Consumer:
    """Hand blocks to ``consume`` on a second thread, in order (a bounded queue).

    The limiter's loop stays on the calling thread; metering and writing overlap with it.
    An exception in ``consume`` is raised again in the calling thread.
    """

    _DONE = object()

    def __init__(self, consume: Callable[[Any], None], depth: int = 4) -> None:
        self._consume = consume
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
        self._queue.put(block)

    def __enter__(self) -> Consumer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._queue.put(self._DONE)
        self._thread.join()
        if self._error is not None and exc[0] is None:
            raise self._error
