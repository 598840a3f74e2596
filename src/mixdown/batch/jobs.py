"""The five batch jobs: for each, what an input is, what its output is called, and the one
service call that does the work (the single-file command's own service).

A task runs in a worker process (local pool or Dask worker); it takes and returns plain,
picklable data: a :class:`Task` in, a :class:`TaskResult` out. A task never raises: every
failure comes back as ``TaskResult(ok=False, error=...)`` naming the input.
"""

from __future__ import annotations

import errno
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mixdown.core.errors import MixdownError

KINDS = ("analyze", "master", "deliver", "render", "convert")

AUDIO_SUFFIXES = (".wav", ".flac", ".aiff", ".aif", ".mp3", ".ogg")


@dataclass(frozen=True, slots=True)
class Task:
    """One input's job.

    Attributes
    ----------
    kind : str
        One of :data:`KINDS`.
    input : str
        The audio file (analyze, master, convert) or project (render, deliver), absolute.
    output : str
        The file (a folder for deliver) the task writes, absolute.
    options : dict
        Keyword arguments of the service (``target``, ``ceiling_dbtp``...), JSON-ready.
    key : str
        The journal key (content hash of input, kind, options and mixdown version).
    """

    kind: str
    input: str
    output: str
    options: dict[str, Any]
    key: str


@dataclass(frozen=True, slots=True)
class TaskResult:
    """What a task did: ``ok`` with a summary row, or an error naming the input.

    Attributes
    ----------
    row : dict
        Figures for the report: ``integrated_lufs`` (LUFS), ``true_peak_dbtp`` (dBTP),
        ``loudness_range_lu`` (LU), ``duration_s`` (s), ``in_spec`` (bool or None) and
        ``spec`` (what was checked).
    transient : bool
        A failure that may pass on a retry (a crashed worker, an I/O error), as opposed to a
        bad input (a :class:`~mixdown.core.errors.MixdownError`, which would fail again).
    seconds : float
        Wall time of the task, s.
    peak_rss_mb : float
        The worker's peak resident memory after the task, MiB.
    """

    key: str
    ok: bool
    row: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    transient: bool = False
    seconds: float = 0.0
    peak_rss_mb: float = 0.0
    worker: str = ""


def output_for(kind: str, rel: Path, outdir: Path, options: dict[str, Any]) -> Path:
    """The output path of an input at ``rel`` (relative to its root) in ``outdir``.

    analyze: ``rel.json``; master/convert: ``rel`` with the ``format`` option's suffix
    (default ``.wav``); render: ``rel`` with that suffix (``rel`` is the project folder);
    deliver: the folder ``rel``.
    """
    if kind == "analyze":
        return outdir / rel.with_name(rel.name + ".json")
    if kind == "deliver":
        return outdir / rel
    fmt = str(options.get("format") or "wav").lower().lstrip(".")
    if kind == "render":
        return outdir / rel.with_name(f"{rel.name}.{fmt}")
    return outdir / rel.with_suffix(f".{fmt}")


def _qc_row(qc: Any) -> dict[str, Any]:
    """The report's figures from a :class:`~mixdown.analysis.qc.QCResult`."""
    return {"integrated_lufs": _finite(qc.integrated_lufs),
            "true_peak_dbtp": _finite(qc.true_peak_dbtp),
            "loudness_range_lu": _finite(qc.loudness_range_lu),
            "duration_s": qc.frames / qc.sample_rate if qc.sample_rate else None}


def _qc_dict_row(qc: dict[str, Any]) -> dict[str, Any]:
    """The report's figures from a QC dict (``mixdown analyze --json`` keys)."""
    return {"integrated_lufs": _finite(qc.get("integrated_lufs")),
            "true_peak_dbtp": _finite(qc.get("true_peak_dbtp")),
            "loudness_range_lu": _finite(qc.get("loudness_range_lu")),
            "duration_s": qc.get("duration_s")}


def _finite(x: Any) -> float | None:
    """JSON has no -inf: digital silence and friends become None."""
    return float(x) if isinstance(x, int | float) and math.isfinite(x) else None


def _without(opts: dict[str, Any], name: str) -> dict[str, Any]:
    """The service's keywords: ``opts`` less one the batch handles itself."""
    return {k: v for k, v in opts.items() if k != name}


def _analyze(src: Path, dst: Path, opts: dict[str, Any]) -> dict[str, Any]:
    from mixdown.core.files import atomic_path
    from mixdown.core.jsonable import write_json
    from mixdown.services.analyze import analyze
    from mixdown.services.outputs import output_folder

    result = analyze(src, target=opts.get("target"), series=bool(opts.get("series")))
    with output_folder(dst.parent), atomic_path(dst) as tmp, \
            open(tmp, "w", encoding="utf-8") as f:
        write_json(result.as_dict(), f)
    row = _qc_row(result.qc)
    if result.target is not None:
        row["in_spec"] = result.passed
        row["spec"] = (f"{result.target.name}: {result.target.lufs:g} LUFS, "
                       f"{result.target.ceiling_dbtp:g} dBTP")
        row["failed_checks"] = [c.name for c in result.checks if not c.passed]
    return row


def _master(src: Path, dst: Path, opts: dict[str, Any]) -> dict[str, Any]:
    from mixdown.services.master import master_file

    report = master_file(src, dst, **_without(opts, "format"))
    row = _qc_row(report.measured)
    row["input_lufs"] = _finite(report.input.integrated_lufs)
    row["gain_db"] = report.gain_db
    tp = report.measured.true_peak_dbtp
    row["in_spec"] = bool(report.reached and (not math.isfinite(tp)
                                              or tp <= report.target.ceiling_dbtp + 0.05))
    row["spec"] = (f"{report.target.name}: {report.target.lufs:g} LUFS, "
                   f"{report.target.ceiling_dbtp:g} dBTP")
    row["warnings"] = list(report.warnings)
    return row


def _convert(src: Path, dst: Path, opts: dict[str, Any]) -> dict[str, Any]:
    from mixdown.services.master import convert

    report = convert(src, dst, **_without(opts, "format"))
    row = _qc_row(report.measured)
    row["input_lufs"] = _finite(report.input.integrated_lufs)
    return row


def _render(src: Path, dst: Path, opts: dict[str, Any]) -> dict[str, Any]:
    from mixdown.services.render import render_project

    # one render thread per task: the batch's parallelism is its workers
    report = render_project(src, dst, fmt=opts.get("format"), workers=1,
                            **_without(opts, "format"))
    row = _qc_dict_row(report.qc)
    row["duration_s"] = report.duration_s
    row["warnings"] = [*report.warnings, *report.qc_warnings]
    return row


def _deliver(src: Path, dst: Path, opts: dict[str, Any]) -> dict[str, Any]:
    from mixdown.services.deliver import deliver_project
    from mixdown.services.outputs import output_folder, replaced_folder

    # the delivery is staged beside its folder and moved in whole: never half a delivery
    with output_folder(dst.parent), replaced_folder(dst) as staged:
        report = deliver_project(src, opts["targets"], staged, force=True,
                                 **_without(opts, "targets"))
    first = report.targets[0].master if report.targets else None
    row: dict[str, Any] = {
        "integrated_lufs": _finite(getattr(first, "output_lufs", None)),
        "true_peak_dbtp": _finite(getattr(first, "output_true_peak_dbtp", None)),
        "loudness_range_lu": None, "duration_s": None,
        "in_spec": report.passed, "spec": ", ".join(t.target.name for t in report.targets),
        "warnings": list(report.warnings)}
    return row


# the service module each job imports (a local pool's workers get it preloaded)
SERVICE_MODULES = {"analyze": "mixdown.services.analyze", "master": "mixdown.services.master",
                   "convert": "mixdown.services.master", "render": "mixdown.services.render",
                   "deliver": "mixdown.services.deliver"}

SERVICES: dict[str, Callable[[Path, Path, dict[str, Any]], dict[str, Any]]] = {
    "analyze": _analyze, "master": _master, "convert": _convert, "render": _render,
    "deliver": _deliver}


def _peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _io_message(exc: OSError, task: Task) -> str:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return (f"{task.input}: no space left writing {task.output} ({os.strerror(exc.errno)}); "
                "nothing partial was kept")
    return f"{task.input}: {exc.strerror or exc} ({getattr(exc, 'filename', None) or task.output})"


def _other_message(exc: Exception, task: Task) -> str:
    if type(exc).__name__ == "LibsndfileError" and "System error" in str(exc):
        # libsndfile hides the errno of a failed write (a full disk, a file-size limit)
        return (f"{task.input}: writing {task.output} failed (libsndfile: {exc}); the disk "
                "may be full or the file too large; nothing partial was kept")
    return f"{task.input}: internal error: {type(exc).__name__}: {exc}"


def sync_output(dst: Path) -> None:
    """Flush a finished task's output to the disk: the file (every file of a folder), its
    sidecars (``<name>.qc.json``, ``<stem>.stems/``) and the folder entries that name them.

    Writers rename finished files into place without an ``fsync`` (a killed process still
    leaves whole files); the journal, though, promises that a ``done`` entry survives a
    power cut with its output, so the output is on the disk before the entry is written.
    """
    from mixdown.services.outputs import qc_path_for, stems_folder

    paths = [p for p in (dst, qc_path_for(dst), stems_folder(dst)) if p.exists()]
    folders = {dst.parent}
    for p in paths:
        files = [p] if p.is_file() else [f for f in p.rglob("*") if f.is_file()]
        if p.is_dir():
            folders.update(f.parent for f in files)
            folders.add(p)
        for f in files:
            _fsync(f)
    for folder in folders:
        _fsync(folder)


def _fsync(path: Path) -> None:
    """Flush one file's (or folder's) data and entries to the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def run_task(task: Task) -> TaskResult:
    """Run one task in this process; never raises (failures come back in the result)."""
    import socket

    start = time.perf_counter()
    worker = f"{socket.gethostname()}:{os.getpid()}"
    src, dst = Path(task.input), Path(task.output)
    try:
        row = SERVICES[task.kind](src, dst, dict(task.options))
        sync_output(dst)
    except MixdownError as exc:
        msg = " ".join(str(exc).split())
        if task.input not in msg:
            msg = f"{task.input}: {msg}"
        return TaskResult(task.key, False, error=msg, seconds=time.perf_counter() - start,
                          peak_rss_mb=_peak_rss_mb(), worker=worker)
    except OSError as exc:
        return TaskResult(task.key, False, error=_io_message(exc, task), transient=True,
                          seconds=time.perf_counter() - start, peak_rss_mb=_peak_rss_mb(),
                          worker=worker)
    except Exception as exc:  # a bug or a hostile file: reported, the batch goes on
        return TaskResult(task.key, False, transient=True, error=_other_message(exc, task),
                          seconds=time.perf_counter() - start, peak_rss_mb=_peak_rss_mb(),
                          worker=worker)
    return TaskResult(task.key, True, row=row, seconds=time.perf_counter() - start,
                      peak_rss_mb=_peak_rss_mb(), worker=worker)


__all__ = ["AUDIO_SUFFIXES", "KINDS", "SERVICES", "SERVICE_MODULES", "Task", "TaskResult",
           "output_for", "run_task", "sync_output"]
