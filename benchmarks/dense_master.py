"""Dense-peak mastering: a bright, hard-clipped loop mastered to -14 LUFS at -1 dBTP.

The case of issue 8: peaks many times a second that overshoot between samples, needing
about 4 dB of peak reduction. Mastered by ``master_to_target`` with its defaults (auto
release, 1 ms lookahead) and, for comparison, with the limiter as it was (fixed 100 ms
release, 5 ms lookahead). Reported per setting: integrated loudness reached (mixdown's
BS.1770 meter), the shortfall the master reports, the largest peak gain reduction, the
true peak by the BS.1770 4x meter and by an independent 16x reconstruction (a 1025-tap
Kaiser windowed sinc, scipy), and the wall time of the master.

A second part times the limiter alone on 3 minutes of stereo 48 kHz (a song-like mix
driven 4 dB over full scale, and the dense loop): seconds and times real time, for the
device defaults and for the mastering settings.

``run(workdir)`` returns a dict (the lead wires it into ``make bench``); ``python
benchmarks/dense_master.py`` prints it as JSON.
"""

from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

SR = 48_000
TARGET_LUFS = -14.0
CEILING_DBTP = -1.0
LOOP_SECONDS = 30.0

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from signals import dense_clipped_loop  # noqa: E402  (the test suite's generator)


def true_peak_16x(audio: np.ndarray, taps_per_phase: int = 64, chunk: int = 1 << 15) -> float:
    """True peak in dBTP by 16x oversampling with a 1025-tap Kaiser (beta 8) sinc."""
    from scipy.signal import firwin, resample_poly

    up = 16
    h = firwin(up * taps_per_phase + 1, 1.0 / up, window=("kaiser", 8.0))
    x = np.atleast_2d(audio).astype(np.float64)
    pad = taps_per_phase // 2 + 8
    xp = np.pad(x, ((0, 0), (pad, pad)))
    peak = 0.0
    for start in range(pad, pad + x.shape[1], chunk):
        y = resample_poly(xp[:, start - pad:start + chunk + pad], up, 1, axis=1, window=h)
        n = min(chunk, x.shape[1] + pad - start)
        peak = max(peak, float(np.abs(y[:, up * pad:up * (pad + n)]).max()))
    return 20 * math.log10(peak)


def _master(audio: np.ndarray, **timing: float) -> dict[str, Any]:
    from mixdown.analysis.truepeak import true_peak_dbtp
    from mixdown.mastering.normalize import MasterPlan, MemoryOutput, run_master_plan

    output = MemoryOutput()

    def blocks() -> Any:
        return (audio[:, i:i + 65_536] for i in range(0, audio.shape[1], 65_536))

    plan = MasterPlan(target_lufs=TARGET_LUFS, ceiling_dbtp=CEILING_DBTP, **timing)
    t = time.perf_counter()
    result = run_master_plan(plan, blocks, output, sample_rate=SR, channels=2)
    seconds = time.perf_counter() - t
    out = output.audio()
    return {
        "lufs": result.output_lufs,
        "reached": result.reached,
        "shortfall_lu": result.shortfall_lu,
        "max_gain_reduction_db": result.max_gain_reduction_db,
        "true_peak_4x_dbtp": true_peak_dbtp(out, SR),
        "true_peak_16x_dbtp": true_peak_16x(out),
        "passes": result.passes,
        "seconds": seconds,
    }


def _throughput(audio: np.ndarray, **settings: float) -> dict[str, float]:
    from mixdown.dsp.true_peak import TruePeakLimiter

    warm = TruePeakLimiter(**settings)
    warm.prepare(SR, 2, 65_536)
    warm.process(audio[:, :SR])
    best = math.inf
    for _ in range(3):
        lim = TruePeakLimiter(**settings)
        lim.prepare(SR, 2, 65_536)
        out = np.empty((2, 65_536), np.float32)
        t = time.perf_counter()
        for i in range(0, audio.shape[1], 65_536):
            n = min(65_536, audio.shape[1] - i)
            lim.process_into(audio[:, i:i + n], out[:, :n])
        best = min(best, time.perf_counter() - t)
    return {"best_s": best, "x_realtime": audio.shape[1] / SR / best}


def run(workdir: Path | None = None) -> dict[str, Any]:
    """The dense-peak case (before/after settings) and the limiter's throughput."""
    from mixdown.core.units import db_to_gain
    from mixdown.mastering.normalize import MASTER_LOOKAHEAD_MS, MASTER_TRANSIENT_RELEASE_MS

    try:  # as part of the benchmarks package (make bench) or run as a script
        from benchmarks.program import program_mix
    except ImportError:  # pragma: no cover
        from program import program_mix  # type: ignore[no-redef]

    loop = dense_clipped_loop(LOOP_SECONDS, SR)
    results: dict[str, Any] = {
        "workload": f"{LOOP_SECONDS:g} s bright drum+synth loop hard-clipped at 0 dBFS, "
                    f"stereo {SR} Hz, to {TARGET_LUFS:g} LUFS / {CEILING_DBTP:g} dBTP, "
                    "6 dB allowance",
        "input_true_peak_16x_dbtp": true_peak_16x(loop),
        "mastering_defaults": _master(loop),
        "fixed_100ms_release_5ms_lookahead": _master(loop, lookahead_ms=5.0,
                                                     transient_release_ms=0.0),
    }
    n = 180 * SR
    mix = program_mix(np.random.default_rng(1), n).astype(np.float32)
    mix *= np.float32(db_to_gain(4.0) / np.abs(mix).max())  # 4 dB over full scale
    reps = math.ceil(n / loop.shape[1])
    dense = np.ascontiguousarray(np.tile(loop, reps)[:, :n] * np.float32(1.2))
    mastering = {"ceiling_dbtp": CEILING_DBTP, "lookahead_ms": MASTER_LOOKAHEAD_MS,
                 "transient_release_ms": MASTER_TRANSIENT_RELEASE_MS}
    results["limiter_3min_stereo"] = {
        "song_4db_over_device_defaults": _throughput(mix, ceiling_dbtp=CEILING_DBTP),
        "song_4db_over_mastering": _throughput(mix, **mastering),
        "dense_loop_device_defaults": _throughput(dense, ceiling_dbtp=CEILING_DBTP),
        "dense_loop_mastering": _throughput(dense, **mastering),
    }
    return results


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
