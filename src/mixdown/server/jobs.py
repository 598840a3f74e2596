"""Renders started from the studio: run in a worker thread, watched over server-sent events.

A render never runs on the event loop, so pages, audio and other requests keep being answered
while it works; one render at a time (the renderer itself uses every core).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

from mixdown.core.errors import MixdownError

State = Literal["queued", "running", "done", "failed"]
Progress = Callable[[float, str], None]
"""``progress(fraction 0..1, stage)``."""


@dataclass
class Job:
    """One render job and what a watcher needs to know about it.

    Attributes
    ----------
    fraction : float
        Work done, 0 to 1.
    result : dict, optional
        What the job returned (for a render: the new version's number and page).
    """

    id: int
    song: str
    state: State = "queued"
    fraction: float = 0.0
    message: str = ""
    result: dict[str, Any] | None = None
    started: float = field(default_factory=time.monotonic)

    def event(self) -> dict[str, Any]:
        """The job as one server-sent event payload."""
        return {"id": self.id, "song": self.song, "state": self.state,
                "percent": round(100.0 * self.fraction, 1), "message": self.message,
                "result": self.result}


class RenderJobs:
    """A one-thread queue of renders with their progress."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mixdown-render")
        self._jobs: dict[int, Job] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def start(self, song: str, work: Callable[[Progress], dict[str, Any]]) -> Job:
        """Queue ``work(progress)``; its return value becomes the job's result."""
        with self._lock:
            job = Job(id=next(self._ids), song=song)
            self._jobs[job.id] = job

        def progress(fraction: float, stage: str) -> None:
            job.fraction = min(1.0, max(0.0, float(fraction)))
            job.message = stage

        def run() -> None:
            job.state = "running"
            try:
                job.result = work(progress)
            except MixdownError as exc:
                job.message = str(exc).splitlines()[0]
                job.state = "failed"
                return
            except Exception as exc:  # a bug: still reported to the page, in one line
                job.message = f"internal error: {type(exc).__name__}: {exc}"
                job.state = "failed"
                return
            job.fraction = 1.0
            job.state = "done"

        self._pool.submit(run)
        return job

    def get(self, job_id: int) -> Job | None:
        """The job ``job_id``, or None."""
        return self._jobs.get(job_id)

    async def events(self, job: Job, poll_s: float = 0.1) -> AsyncIterator[str]:
        """Server-sent events (``progress`` while it runs, then ``done`` or ``failed``)."""
        last = None
        while True:
            payload = job.event()
            if payload != last:
                kind = job.state if job.state in ("done", "failed") else "progress"
                yield f"event: {kind}\ndata: {json.dumps(payload)}\n\n"
                last = payload
                if kind != "progress":
                    return
            await asyncio.sleep(poll_s)

    def shutdown(self) -> None:
        """Stop taking jobs (a running render finishes in its thread)."""
        self._pool.shutdown(wait=False, cancel_futures=True)
