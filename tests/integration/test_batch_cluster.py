"""``mixdown batch --cluster``: a real Dask scheduler and two workers on loopback (started
here as ``dask scheduler`` / ``dask worker`` subprocesses) give the local pool's results."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

BIN = Path(sys.executable).parent
MIXDOWN = str(BIN / "mixdown")
SR = 48_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A scheduler and two single-threaded workers on loopback; yields the address."""
    from distributed import Client

    logs = tmp_path_factory.mktemp("dask")
    address = f"tcp://127.0.0.1:{free_port()}"
    port = address.rsplit(":", 1)[1]
    procs = [subprocess.Popen([str(BIN / "dask"), "scheduler", "--host", "127.0.0.1",
                               "--port", port, "--no-dashboard"],
                              stdout=subprocess.DEVNULL, stderr=(logs / "scheduler.log").open("w"))]
    try:
        for k in range(2):
            procs.append(subprocess.Popen(
                [str(BIN / "dask"), "worker", address, "--nthreads", "1", "--nworkers", "1",
                 "--no-dashboard", "--name", f"w{k}", "--local-directory", str(logs / f"w{k}")],
                stdout=subprocess.DEVNULL, stderr=(logs / f"worker{k}.log").open("w")))
        with Client(address, timeout="60s") as client:
            client.wait_for_workers(2, timeout=120)
        yield address
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in reversed(procs):
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def music(path: Path, seconds: float, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    t = np.arange(round(seconds * SR)) / SR
    x = 0.1 * np.sin(2 * np.pi * (110 + 20 * seed) * t) + \
        0.25 * np.exp(-(t % 0.4) / 0.05) * rng.standard_normal(t.size)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), np.stack([x, 0.8 * x]).T, SR, subtype="PCM_24")
    return path


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([MIXDOWN, *map(str, args)], capture_output=True, text=True,
                          timeout=300, check=False)


def figures(outdir: Path) -> dict[str, dict[str, object]]:
    """Per input: the report's figures (what the task measured), without timings."""
    rows = json.loads((outdir / "batch-report.json").read_text())["files"]
    return {Path(r["input"]).name: {k: r[k] for k in ("status", "integrated_lufs",
                                                      "true_peak_dbtp", "loudness_range_lu",
                                                      "in_spec")} for r in rows}


def test_a_cluster_batch_gives_the_local_pools_results(cluster: str, tmp_path: Path) -> None:
    src = tmp_path / "in"
    for k in range(4):
        music(src / f"mix{k}.wav", 2.0, seed=k)
    (src / "corrupt.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt ")
    local, remote = tmp_path / "local", tmp_path / "remote"
    a = run("batch", "master", src, "-o", local, "--target", "-14", "--workers", "2")
    b = run("batch", "master", src, "-o", remote, "--target", "-14", "--cluster", cluster)
    assert (a.returncode, b.returncode) == (3, 3), (a.stderr, b.stderr)
    assert f"on {cluster}" in b.stdout
    assert [x for x in b.stderr.splitlines() if x.startswith("mixdown: error:")] == \
        [x for x in a.stderr.splitlines() if x.startswith("mixdown: error:")]
    for k in range(4):
        assert (remote / f"mix{k}.wav").read_bytes() == (local / f"mix{k}.wav").read_bytes()
    assert figures(remote) == figures(local)
    workers = {json.loads(line)["worker"] for line in
               (remote / "batch-journal.jsonl").read_text().splitlines()}
    assert len(workers) == 2  # both workers took tasks


def test_short_files_go_to_the_cluster_in_chunks_and_each_is_reported_once(
        cluster: str, tmp_path: Path) -> None:
    from distributed import Client

    from mixdown.batch.jobs import Task, TaskResult, run_task
    from mixdown.batch.runner import run_cluster

    tasks = []
    for k in range(24):
        src = music(tmp_path / "in" / f"mix{k}.wav", 0.5, seed=k)
        tasks.append(Task("analyze", str(src), str(tmp_path / "out" / f"mix{k}.json"), {},
                          f"{k:064x}"))
    results: dict[str, TaskResult] = {}
    sizes: list[int] = []
    with Client(cluster, timeout="60s", set_as_default=False) as client:
        submit = client.submit

        def counting_submit(fn: object, chunk: list[Task], **kw: object) -> object:
            sizes.append(len(chunk))  # what the real scheduler receives
            return submit(fn, chunk, **kw)

        client.submit = counting_submit  # type: ignore[method-assign]

        def on_result(task: Task, result: TaskResult, attempt: int) -> bool:
            assert task.key not in results  # once each
            results[task.key] = result
            return False

        run_cluster(tasks, on_result, client=client)
    assert sorted(results) == sorted(t.key for t in tasks)
    assert all(r.ok for r in results.values())
    assert sum(sizes) == len(tasks)
    assert sizes[:4] == [1, 1, 1, 1]  # no timing yet: one file per task
    assert max(sizes) > 1  # then short files travel together
    for task in tasks[:3]:  # the same figures as the file run here
        assert results[task.key].row == run_task(task).row
