"""A whole batch: inputs expanded and checked, done work skipped by the journal, the rest
run on a local pool or a Dask cluster, every result journaled, a summary written.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

from mixdown.batch.inputs import PATH_OPTIONS, Entry, expand_inputs
from mixdown.batch.jobs import KINDS, SERVICE_MODULES, Task, TaskResult
from mixdown.batch.journal import Journal, clean_stale_temps, task_key
from mixdown.batch.report import ReportFiles, prepare_charts, report_paths, write_report
from mixdown.batch.runner import connect, default_workers, run_cluster, run_local
from mixdown.core.errors import FormatError, ParameterError

DEFAULT_RETRIES = 2

Progress = Callable[[int, int], None]
"""Called as ``progress(finished, total)`` (skipped inputs count as finished)."""


@dataclass(frozen=True, slots=True)
class BatchSpec:
    """What to run.

    Attributes
    ----------
    kind : str
        ``analyze``, ``master``, ``deliver``, ``render`` or ``convert``.
    inputs : sequence of Path
        Files, folders and manifests.
    outdir : Path
        The output folder (journal and summary included).
    options : dict
        The service's keyword arguments for every input (a manifest may change them).
    patterns : tuple of str
        Glob filters for files found in folders.
    workers : int or None
        Local worker processes (default: the cores); ignored with ``cluster``.
    cluster : str or None
        A Dask scheduler address (``tcp://host:8786``).
    retries : int
        Extra attempts for a task that failed for a passing reason (a crashed worker, an
        I/O error); a bad input is not retried.
    """

    kind: str
    inputs: Sequence[Path]
    outdir: Path
    options: dict[str, Any] = field(default_factory=dict)
    patterns: tuple[str, ...] = ()
    workers: int | None = None
    cluster: str | None = None
    retries: int = DEFAULT_RETRIES


@dataclass(frozen=True, slots=True)
class BatchSummary:
    """What a batch did.

    Attributes
    ----------
    total, done, skipped : int
        Inputs; done this run; skipped because the journal had them done.
    failed : tuple of (str, str)
        (input, error) of every input that failed.
    report : ReportFiles
        The summary files.
    seconds : float
        Wall time, s.
    workers : str
        ``N local processes`` or the cluster's address.
    cleaned : int
        Stale temp files of an interrupted run removed.
    """

    total: int
    done: int
    skipped: int
    failed: tuple[tuple[str, str], ...]
    report: ReportFiles
    seconds: float
    workers: str
    cleaned: int = 0
    peak_rss_mb: float = 0.0

    @property
    def exit_code(self) -> int:
        """0 all done, 3 some inputs failed."""
        return 3 if self.failed else 0

    def as_dict(self) -> dict[str, Any]:
        """Plain data (``mixdown batch --json``)."""
        return {"total": self.total, "done": self.done, "skipped": self.skipped,
                "failed": [{"input": i, "error": e} for i, e in self.failed],
                "report": {"csv": str(self.report.csv), "json": str(self.report.json),
                           "html": str(self.report.html)},
                "seconds": self.seconds, "workers": self.workers, "cleaned": self.cleaned,
                "peak_rss_mb": self.peak_rss_mb}


def _check_outdir(outdir: Path) -> None:
    if outdir.exists() and not outdir.is_dir():
        raise FormatError(f"{outdir}: exists and is not a folder; give an output folder",
                          outdir)


def plan_tasks(kind: str, entries: Sequence[Entry], outdir: Path
               ) -> tuple[list[Task], list[tuple[str, str]]]:
    """A task per entry, keyed by content; inputs that cannot be read become failures.

    The inputs are hashed on a few threads (SHA-256 releases the GIL): on a catalogue,
    reading and hashing every file is most of the time before the first task starts.
    """
    ver = version("mixdown")

    def key_of(e: Entry) -> str | OSError:
        try:
            return task_key(kind, e.input, e.options, ver, PATH_OPTIONS,
                            output=e.output.relative_to(outdir).as_posix())
        except OSError as exc:
            return exc

    with ThreadPoolExecutor(max_workers=min(8, default_workers())) as pool:
        keys = list(pool.map(key_of, entries))
    tasks, unreadable = [], []
    for e, key in zip(entries, keys, strict=True):
        if isinstance(key, OSError):
            unreadable.append((str(e.input), f"{e.input}: cannot read it "
                                              f"({key.strerror or key})"))
            continue
        tasks.append(Task(kind, str(e.input), str(e.output), e.options, key))
    return tasks, unreadable


def run_batch(spec: BatchSpec, *, progress: Progress | None = None,
              log: Callable[[str], None] | None = None) -> BatchSummary:
    """Run a batch (see :class:`BatchSpec`); one bad input never stops it.

    Returns
    -------
    BatchSummary
        ``exit_code`` 3 when some inputs failed (each in ``failed``).

    Raises
    ------
    MixdownError
        When the batch itself cannot run: bad options, no inputs, an output name collision,
        the output folder inside an input folder, a cluster that does not answer, another
        batch writing to the same folder.
    """
    if spec.kind not in KINDS:
        raise ParameterError(f"unknown batch job {spec.kind!r}; known: {', '.join(KINDS)}")
    if spec.retries < 0:
        raise ParameterError(f"--retries must be >= 0, got {spec.retries}")
    start = time.perf_counter()
    outdir = Path(spec.outdir).resolve()
    _check_outdir(outdir)
    entries = expand_inputs(spec.kind, spec.inputs, outdir, spec.options,
                            patterns=spec.patterns)
    tasks, unreadable = plan_tasks(spec.kind, entries, outdir)
    # The report's charts need matplotlib (~1 s to import): import it while the tasks run.
    threading.Thread(target=prepare_charts, name="mixdown-report-import", daemon=True).start()
    workers = spec.workers if spec.workers is not None else default_workers()
    if workers < 1:
        raise ParameterError(f"--workers must be >= 1, got {workers}")
    client = connect(spec.cluster) if spec.cluster else None  # fails in seconds, not later
    try:
        return _run(spec, outdir, tasks, unreadable, workers, client, progress,
                    log or (lambda line: None), start)
    finally:
        if client is not None:
            client.close()


def _run(spec: BatchSpec, outdir: Path, tasks: list[Task], unreadable: list[tuple[str, str]],
         workers: int, client: Any, progress: Progress | None, say: Callable[[str], None],
         start: float) -> BatchSummary:
    outdir.mkdir(parents=True, exist_ok=True)
    with Journal(outdir) as journal:
        cleaned = clean_stale_temps([*(Path(t.output) for t in tasks),
                                     *report_paths(outdir)])
        if cleaned:
            say(f"removed {len(cleaned)} temp files an interrupted run left")
        skipped = {t.key: journal.done(t.key, Path(t.output)) for t in tasks}
        skipped = {k: e for k, e in skipped.items() if e is not None}
        todo = [t for t in tasks if t.key not in skipped]
        total = len(tasks) + len(unreadable)
        finished = [len(skipped) + len(unreadable)]
        if skipped:
            say(f"skipping {len(skipped)} of {total} inputs already done (journal "
                f"{journal.path.name})")
        if progress:
            progress(finished[0], total)
        failed: dict[str, tuple[str, str]] = {}
        done = [0]
        peak = [0.0]

        def on_result(task: Task, result: TaskResult, attempt: int) -> bool:
            peak[0] = max(peak[0], result.peak_rss_mb)
            if not result.ok and result.transient and attempt <= spec.retries:
                say(f"retrying ({attempt}/{spec.retries}): {result.error}")
                return True
            entry = {"key": task.key, "kind": task.kind, "input": task.input,
                     "output": task.output, "options": task.options, "attempts": attempt,
                     "seconds": round(result.seconds, 3), "worker": result.worker,
                     "peak_rss_mb": round(result.peak_rss_mb, 1),
                     "version": version("mixdown")}
            if result.ok:
                journal.append({**entry, "status": "done", "row": result.row})
                done[0] += 1
            else:
                journal.append({**entry, "status": "failed", "error": result.error,
                                "failures": journal.failures(task.key) + 1})
                failed[task.key] = (task.input, result.error or "failed")
            finished[0] += 1
            if progress:
                progress(finished[0], total)
            return False

        if client is not None:
            where = str(spec.cluster)
            run_cluster(todo, on_result, client=client)
        else:
            n = min(workers, max(1, len(todo)))
            where = f"{n} local process" + ("es" if n > 1 else "")
            run_local(todo, on_result, workers=workers,
                      preload=["mixdown.batch.jobs", SERVICE_MODULES[spec.kind]])
        elapsed = time.perf_counter() - start
        report_entries = [{**journal.entries[t.key], "skipped": t.key in skipped}
                          for t in tasks if t.key in journal.entries]
        report_entries += [{"input": i, "status": "failed", "error": e, "skipped": False}
                           for i, e in unreadable]
        fails = tuple([*failed.values(), *unreadable])
        totals = {"total": total, "done": done[0], "skipped": len(skipped),
                  "failed": len(fails), "seconds": round(elapsed, 2), "workers": where}
        report = write_report(outdir, spec.kind, report_entries, totals)
    return BatchSummary(total=total, done=done[0], skipped=len(skipped), failed=fails,
                        report=report, seconds=elapsed, workers=where, cleaned=len(cleaned),
                        peak_rss_mb=peak[0])


__all__ = ["DEFAULT_RETRIES", "BatchSpec", "BatchSummary", "plan_tasks", "run_batch"]
