"""Setting up a process that runs batch tasks: a local pool worker or a Dask worker.

A batch runs one file per core, so each worker process is made single-threaded
(:func:`mixdown.core.pipeline.run_inline`) and its memory allocator is set for audio
blocks (:func:`tune_malloc`). Dask workers get the same set-up from the first task they
run (:func:`run_cluster_tasks`); started with ``dask worker ADDRESS --preload
mixdown.batch.worker`` they also import the services before the first task
(:func:`dask_setup`).
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib
import os
from typing import Any

from mixdown.batch.jobs import SERVICE_MODULES, Task, TaskResult, run_task
from mixdown.core.pipeline import run_inline

MMAP_THRESHOLD_BYTES = 32 * 1024**2
"""Allocations up to this size come from the heap and are reused (glibc's own ceiling for
its dynamic threshold, 32 MiB on 64-bit)."""
TRIM_THRESHOLD_BYTES = 2 * MMAP_THRESHOLD_BYTES
"""Free memory at the top of the heap past this is given back to the OS (glibc's rule:
twice the mmap threshold)."""

_M_TRIM_THRESHOLD = -1  # mallopt parameters (malloc.h)
_M_MMAP_THRESHOLD = -3

_ready = False


def tune_malloc() -> bool:
    """Let glibc reuse audio-sized blocks instead of mapping each one afresh.

    A Dask nanny starts its workers with ``MALLOC_TRIM_THRESHOLD_=65536``. Setting any
    such parameter turns off glibc's dynamic mmap threshold, so every allocation of 128 KiB
    or more (every audio block) became a fresh ``mmap`` with a page fault per 4 KiB,
    returned with ``munmap`` when freed: a master task ran 40% slower than in a local
    pool worker. This puts back the thresholds glibc's dynamic rule settles on. Returns
    False where there is no glibc (nothing changed).
    """
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None)
        ok = libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES) == 1
        return libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES) == 1 and ok
    return False


def prepare_worker() -> None:
    """Make this process a batch worker: one thread per job, malloc tuned (once)."""
    global _ready
    if _ready:
        return
    run_inline()
    if os.environ.get("MALLOC_TRIM_THRESHOLD_") is not None or os.environ.get(
            "MALLOC_MMAP_THRESHOLD_") is not None:
        tune_malloc()  # only where the dynamic threshold was turned off (a Dask nanny)
    _ready = True


def run_cluster_tasks(tasks: list[Task]) -> list[TaskResult]:
    """What a Dask worker runs: :func:`~mixdown.batch.jobs.run_task` for each of a chunk
    of tasks, in a prepared worker."""
    prepare_worker()
    return [run_task(task) for task in tasks]


def dask_setup(worker: Any = None) -> None:
    """Dask's preload hook (``dask worker ADDRESS --preload mixdown.batch.worker``): prepare
    the worker and import every batch service before the first task arrives."""
    prepare_worker()
    for module in sorted(set(SERVICE_MODULES.values())):
        importlib.import_module(module)


__all__ = ["dask_setup", "prepare_worker", "run_cluster_tasks", "tune_malloc"]
