"""Batch worker set-up: one thread per job, and glibc's malloc reusing audio blocks."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import numpy as np
import pytest

from mixdown.analysis.qc import Analyzer
from mixdown.core import pipeline
from mixdown.core.pipeline import Consumer

# Minor page faults while allocating, touching and freeing 200 audio blocks of 512 KiB
# (65,536 stereo float32 frames), in a fresh interpreter with the environment given.
FAULTS = """
import resource, sys
import numpy as np
if sys.argv[1] == "prepared":
    from mixdown.batch.worker import prepare_worker
    prepare_worker()
for _ in range(20):  # let the allocator settle
    np.ones((2, 65536), np.float32)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(200):
    np.ones((2, 65536), np.float32)
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _faults(mode: str, **env: str) -> int:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    out = subprocess.run([sys.executable, "-c", FAULTS, mode], env={**clean, **env},
                         capture_output=True, text=True, check=True)
    return int(out.stdout.strip())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc")
def test_a_dask_nanny_environment_is_undone_for_audio_blocks() -> None:
    # What a Dask nanny sets: every 512 KiB block is a fresh mapping (128 faults each).
    nanny = _faults("plain", MALLOC_TRIM_THRESHOLD_="65536")
    assert nanny > 200 * 100
    # The worker set-up puts back reuse: the blocks come from the heap again.
    prepared = _faults("prepared", MALLOC_TRIM_THRESHOLD_="65536")
    assert prepared < nanny / 20
    # Without the nanny's setting glibc adapts by itself, and nothing is changed.
    assert _faults("prepared") < nanny / 20


def test_inline_consumer_runs_on_the_calling_thread_and_keeps_order() -> None:
    seen: list[tuple[int, str]] = []
    pipeline.run_inline()
    try:
        with Consumer(lambda k: seen.append((k, threading.current_thread().name))) as c:
            for k in range(5):
                c.put(k)
    finally:
        pipeline.run_inline(False)
    assert [k for k, _ in seen] == list(range(5))
    assert {name for _, name in seen} == {threading.current_thread().name}


def test_inline_consumer_raises_the_consumers_error_at_once() -> None:
    def boom(_: object) -> None:
        raise ValueError("bad block")

    pipeline.run_inline()
    try:
        with pytest.raises(ValueError, match="bad block"), Consumer(boom) as c:
            c.put(1)
    finally:
        pipeline.run_inline(False)


def test_qc_figures_are_the_same_on_one_thread() -> None:
    rng = np.random.default_rng(7)
    t = np.arange(48_000 * 3) / 48_000
    x = (0.3 * np.sin(2 * np.pi * 997 * t) + 0.05 * rng.standard_normal(t.size))
    block = np.stack([x, np.roll(x, 17)]).astype(np.float32)

    def figures() -> dict[str, object]:
        qc = Analyzer(48_000, 2)
        for i in range(0, block.shape[1], 10_000):
            qc.push(block[:, i:i + 10_000])
        return qc.result().as_dict()

    threaded = figures()
    pipeline.run_inline()
    try:
        inline = figures()
    finally:
        pipeline.run_inline(False)
    assert inline == threaded
    assert -30 < float(threaded["integrated_lufs"]) < -5  # a real measurement, not empty
