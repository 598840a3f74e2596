"""Batch benchmark: ``mixdown batch analyze`` and ``master`` over a generated catalogue.

200 stereo 48 kHz 24-bit files of 30 s (``BATCH_FILES``, ``BATCH_SECONDS`` and
``BATCH_JOBS=analyze,master`` change that) are analysed, then mastered to -14 LUFS,
through :func:`mixdown.batch.run.run_batch` (what the command runs) three ways:

* a local process pool of 1 worker, then of 2 (``scaling_2_over_1``: throughput ratio; the
  goal is >= 1.8 on 2 free cores);
* a Dask cluster of 2 single-threaded worker processes on loopback
  (``distributed.LocalCluster``; its start is not timed; ``cluster_over_local``: its
  throughput over the 2-worker pool's, goal >= 0.85), then the same with the workers
  started with ``--preload mixdown.batch.worker`` (``cluster_over_local_preloaded``: the
  services are imported when a worker starts, not in its first task).

Throughput is files per wall second, a worker's start and imports included; memory is the
largest peak resident set (MiB) a worker reported after a task. Figures only, never
pass/fail. Run alone: ``python -m benchmarks.bench_batch`` (writes results/batch.json).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

SR = 48_000


def make_catalogue(folder: Path, files: int, seconds: float) -> list[Path]:
    """``files`` distinct songs: chords, a pulse and noise bursts at -24..-10 LUFS."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    t = np.arange(round(seconds * SR)) / SR
    for k in range(files):
        path = folder / f"song{k:04d}.wav"
        paths.append(path)
        if path.exists():
            continue
        rng = np.random.default_rng(1000 + k)
        root = 55.0 * 2 ** (rng.integers(0, 24) / 12)
        x = sum(np.sin(2 * np.pi * root * m * t) / m for m in (1, 1.5, 2, 3))
        beat = 60.0 / rng.uniform(80, 160)
        x = x * (0.6 + 0.4 * np.exp(-(t % beat) / 0.1))
        x = x + 0.5 * np.exp(-(t % (beat / 2)) / 0.02) * rng.standard_normal(t.size)
        x *= 10 ** (rng.uniform(-24, -10) / 20) / 0.3
        stereo = np.stack([x, np.roll(x, 31)]).astype(np.float32)
        sf.write(str(path), np.clip(stereo, -1, 1).T, SR, subtype="PCM_24")
    return paths


def _one(kind: str, src: Path, out: Path, options: dict[str, Any], *, workers: int = 1,
         cluster: str | None = None) -> dict[str, Any]:
    from mixdown.batch.run import BatchSpec, run_batch

    shutil.rmtree(out, ignore_errors=True)
    t = time.perf_counter()
    summary = run_batch(BatchSpec(kind, [src], out, options, workers=workers,
                                  cluster=cluster, retries=0))
    wall = time.perf_counter() - t
    assert not summary.failed, summary.failed[:3]
    return {"files": summary.total, "wall_s": wall, "files_per_s": summary.total / wall,
            "peak_rss_mb_per_worker": summary.peak_rss_mb}


def run(work: Path) -> dict[str, Any]:
    """The benchmark; figures in a dict (see the module docstring)."""
    from distributed import LocalCluster

    files = int(os.environ.get("BATCH_FILES", "200"))
    seconds = float(os.environ.get("BATCH_SECONDS", "30"))
    src = work / f"catalogue-{files}x{seconds:g}s"
    make_catalogue(src, files, seconds)
    jobs = {"analyze": {}, "master": {"target": "-14"}}
    wanted = os.environ.get("BATCH_JOBS", "analyze,master").split(",")
    jobs = {k: v for k, v in jobs.items() if k in wanted}
    result: dict[str, Any] = {"files": files, "seconds_each": seconds,
                              "cpus": len(os.sched_getaffinity(0))}
    for kind, options in jobs.items():
        one = _one(kind, src, work / "out-1", options, workers=1)
        two = _one(kind, src, work / "out-2", options, workers=2)
        result[kind] = {"local_1": one, "local_2": two,
                        "scaling_2_over_1": two["files_per_s"] / one["files_per_s"]}
    # Workers as `dask worker ADDRESS` starts them, then with the documented
    # `--preload mixdown.batch.worker` (the services imported before the first task).
    for row, preload in (("dask_2", []), ("dask_2_preloaded", ["mixdown.batch.worker"])):
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                          host="127.0.0.1", dashboard_address=":0",
                          preload=preload) as cluster:
            for kind, options in jobs.items():
                dask = _one(kind, src, work / "out-dask", options,
                            cluster=cluster.scheduler_address)
                result[kind][row] = dask
                ratio = dask["files_per_s"] / result[kind]["local_2"]["files_per_s"]
                result[kind]["cluster_over_local" + row.removeprefix("dask_2")] = ratio
    return result


if __name__ == "__main__":
    here = Path(__file__).resolve().parent
    figures = run(here / "work" / "bench_batch")
    figures["date"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    figures["load_average"] = os.getloadavg()
    out = here / "results" / "batch.json"
    out.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))
