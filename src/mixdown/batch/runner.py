"""Where tasks run: a local process pool (the default) or an existing Dask cluster.

Both run the same function, :func:`mixdown.batch.jobs.run_task`, on the same
:class:`~mixdown.batch.jobs.Task` values, and hand each :class:`TaskResult` to the caller as
it arrives. A failure marked ``transient`` (a crashed worker, an I/O error) is run again, at
most ``retries`` more times; a bad input (a ``MixdownError``) is not, as it would fail again.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from mixdown.batch.jobs import Task, TaskResult, run_task
from mixdown.batch.worker import prepare_worker, run_cluster_tasks
from mixdown.core.errors import MixdownError

OnResult = Callable[[Task, TaskResult, int], bool]
"""Called with (task, result, attempt); returns True to run the task again."""

# one thread per worker process: the batch's parallelism is its processes
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
               "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS", "NUMBA_NUM_THREADS")

CONNECT_TIMEOUT_S = 5.0


def default_workers() -> int:
    """The cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover (not Linux)
        return max(1, os.cpu_count() or 1)


def _init_worker() -> None:
    for name in THREAD_VARS:
        os.environ[name] = "1"
    prepare_worker()
    _die_with_parent()


def _die_with_parent() -> None:
    """Linux: end this worker when its parent dies (a batch killed with SIGKILL leaves no
    orphan still writing into OUTDIR)."""
    import ctypes
    import signal

    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL)


@contextlib.contextmanager
def _single_threaded_env() -> Iterator[None]:
    """The thread variables set to 1 while worker processes start (they inherit them)."""
    old = {name: os.environ.get(name) for name in THREAD_VARS}
    os.environ.update(dict.fromkeys(THREAD_VARS, "1"))
    try:
        yield
    finally:
        for name, value in old.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _context(preload: Sequence[str]) -> multiprocessing.context.BaseContext:
    """forkserver (spawn where there is none); the server imports ``preload`` once, so each
    worker starts with the job's modules already in memory."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(list(preload))
    return ctx


def _crash(task: Task, exc: BaseException) -> TaskResult:
    detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return TaskResult(task.key, False, transient=True,
                      error=f"{task.input}: the worker running it failed ({detail})")


def run_local(tasks: Sequence[Task], on_result: OnResult, *, workers: int,
              preload: Sequence[str] = ()) -> None:
    """Run ``tasks`` on a pool of ``workers`` processes (forkserver, one thread each);
    ``preload`` names modules the workers need (imported once, before they fork)."""
    pending: deque[tuple[Task, int]] = deque((t, 1) for t in tasks)
    if not pending:
        return
    workers = max(1, min(workers, len(pending)))
    with _single_threaded_env():
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=_context(preload),
                                   initializer=_init_worker)
    inflight: dict[Future[TaskResult], tuple[Task, int]] = {}
    try:
        while pending or inflight:
            while pending and len(inflight) < 2 * workers:
                task, attempt = pending.popleft()
                inflight[pool.submit(run_task, task)] = (task, attempt)
            done, _ = wait(inflight, return_when=FIRST_COMPLETED)
            broken = False
            for fut in done:
                task, attempt = inflight.pop(fut)
                try:
                    result = fut.result()
                except BrokenProcessPool as exc:
                    broken = True
                    result = _crash(task, exc)
                except Exception as exc:  # e.g. a result that would not unpickle
                    result = _crash(task, exc)
                if on_result(task, result, attempt):
                    pending.append((task, attempt + 1))
            if broken:  # a worker died (killed, out of memory): the pool is gone
                for fut, (task, attempt) in list(inflight.items()):
                    inflight.pop(fut)
                    try:
                        result = fut.result()
                    except Exception as exc:
                        result = _crash(task, exc)
                    if on_result(task, result, attempt):
                        pending.append((task, attempt + 1))
                pool.shutdown(wait=False, cancel_futures=True)
                with _single_threaded_env():
                    pool = ProcessPoolExecutor(max_workers=workers, mp_context=_context(preload),
                                               initializer=_init_worker)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _worker_version() -> str:
    from importlib.metadata import version

    return version("mixdown")


def connect(address: str, *, timeout_s: float = CONNECT_TIMEOUT_S) -> Any:
    """A ``distributed.Client`` on ``address`` with at least one worker running this
    mixdown version.

    Raises
    ------
    MixdownError
        If the scheduler does not answer within ``timeout_s``, has no workers, or its
        workers cannot import mixdown or run another version.
    """
    import logging

    try:
        from distributed import Client
    except ImportError:  # pragma: no cover (a dependency; here for a broken install)
        raise MixdownError("--cluster needs dask[distributed]: pip install "
                           "'dask[distributed]'") from None
    for name in ("distributed", "distributed.client", "distributed.core",
                 "distributed.comm"):
        logging.getLogger(name).setLevel(logging.CRITICAL)  # our error says it in one line
    if not address.startswith(("tcp://", "tls://", "inproc://", "ucx://", "ws://", "wss://")):
        raise MixdownError(f"--cluster {address!r}: give the scheduler's address, such as "
                           "tcp://10.0.0.5:8786")
    try:
        client = Client(address, timeout=f"{timeout_s}s", set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise MixdownError(f"--cluster {address}: the scheduler does not answer within "
                           f"{timeout_s:g} s ({type(exc).__name__}); is `dask scheduler` "
                           "running there and reachable?") from None
    try:
        try:
            client.wait_for_workers(1, timeout=timeout_s)
        except (TimeoutError, OSError):
            raise MixdownError(f"--cluster {address}: the scheduler has no workers; start "
                               f"some with `dask worker {address}`") from None
        ours = _worker_version()
        try:
            versions = client.run(_worker_version)
        except Exception as exc:
            raise MixdownError(f"--cluster {address}: its workers cannot import mixdown "
                               f"({type(exc).__name__}: {exc}); install mixdown {ours} "
                               "on every worker") from None
        other = {w: v for w, v in versions.items() if v != ours}
        if other:
            w, v = next(iter(other.items()))
            raise MixdownError(f"--cluster {address}: worker {w} runs mixdown {v}, this is "
                               f"{ours}; install the same version everywhere")
    except BaseException:
        client.close()
        raise
    return client


CHUNK_TARGET_S = 0.5
"""A Dask task should take about this long (seconds): files that take less are sent in
chunks, so the scheduler's and the client's work per task (a few ms each, on cores the
workers need) stays small beside the audio work."""
MAX_CHUNK = 16
"""At most this many files in one Dask task."""


def chunk_size(seconds: Sequence[float], pending: int, slots: int) -> int:
    """Files in the next Dask task: enough to last about :data:`CHUNK_TARGET_S` at the median
    time per file seen so far (``seconds``; 1 before any), at most :data:`MAX_CHUNK`, and no
    more than an even share of the ``pending`` files over the cluster's ``slots``.

    >>> chunk_size([0.07, 0.08, 0.07], pending=200, slots=2)
    7
    >>> chunk_size([0.3], pending=200, slots=2), chunk_size([0.07], pending=6, slots=2)
    (2, 3)
    """
    if not seconds:
        return 1
    ordered = sorted(seconds)
    median = max(ordered[len(ordered) // 2], 1e-3)
    size = min(MAX_CHUNK, max(1, round(CHUNK_TARGET_S / median)))
    return max(1, min(size, -(-pending // max(1, slots))))


def _slots(client: Any) -> int:
    """Threads across the cluster's workers (at least 1)."""
    try:
        workers = client.scheduler_info().get("workers", {})
        return max(1, sum(int(w.get("nthreads", 1)) for w in workers.values()))
    except Exception:  # an older scheduler: one slot per worker is a fair guess
        return 1


def run_cluster(tasks: Sequence[Task], on_result: OnResult, *, client: Any) -> None:
    """Run ``tasks`` on a Dask cluster through ``client`` (see :func:`connect`); inputs and
    outputs are on storage every worker reaches at the same paths.

    Two Dask tasks per worker thread are in flight at a time; short files go in chunks
    (:func:`chunk_size`) sized from the times of the files done so far, so a task is never
    much shorter than :data:`CHUNK_TARGET_S`. A result comes back when its chunk ends. A
    retry always goes alone, so a file that kills its worker fails on its own.
    """
    if not tasks:
        return
    from distributed import as_completed

    pending: deque[tuple[Task, int]] = deque((t, 1) for t in tasks)
    chunks: dict[str, list[tuple[Task, int]]] = {}
    seconds: deque[float] = deque(maxlen=32)
    slots = _slots(client)
    sent: list[int] = []  # chunk sizes in order: their count makes each Dask key unique

    def submit_more() -> list[Any]:
        futures = []
        while pending and len(chunks) < 2 * slots:
            if pending[0][1] > 1:  # a retry goes alone: a file that kills its worker
                chunk = [pending.popleft()]  # must not take other files down with it
            else:
                size = chunk_size(list(seconds), len(pending), slots)
                chunk = []
                while pending and len(chunk) < size and pending[0][1] == 1:
                    chunk.append(pending.popleft())
            first, attempt = chunk[0]
            key = f"mixdown-{first.kind}-{first.key[:20]}-{attempt}-{len(sent)}"
            sent.append(len(chunk))
            chunks[key] = chunk
            futures.append(client.submit(run_cluster_tasks, [t for t, _ in chunk], key=key,
                                         pure=False, retries=0))
        return futures

    with client.as_current():
        queue = as_completed(submit_more())
    for fut in queue:
        chunk = chunks.pop(fut.key)
        try:
            results = fut.result()
        except Exception as exc:  # a worker that died under the chunk (KilledWorker...)
            results = [_crash(task, exc) for task, _ in chunk]
        fut.release()
        for (task, attempt), result in zip(chunk, results, strict=True):
            if result.ok:
                seconds.append(result.seconds)
            if on_result(task, result, attempt):
                pending.appendleft((task, attempt + 1))
        for more in submit_more():
            queue.add(more)


__all__ = ["CONNECT_TIMEOUT_S", "THREAD_VARS", "connect", "default_workers", "run_cluster",
           "run_local"]
