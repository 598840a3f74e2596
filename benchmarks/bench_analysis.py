"""Analysis benchmark: one 3-minute stereo 48 kHz song, three meters, in one run.

* mixdown: ``analyze_file`` — every QC figure (integrated, LRA, momentary/short-term
  maxima, true peak at 4x, sample peak, PLR, DC, clipping, correlation, width, crest
  factor, 1/3-octave spectrum), streaming the file in blocks;
* pyloudnorm: read the file, then integrated loudness only;
* ffmpeg: ``-af ebur128=peak=true`` (integrated, LRA, true peak), decoding included.

Each is timed best-of-3 after one warm-up run (numba's compiled kernels come from its
on-disk cache; the cold first call is reported too). The figures each tool printed are
kept so the run also shows that they agree.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

try:  # as part of the benchmarks package (make bench) or run as a script
    from benchmarks.program import program_mix
except ImportError:  # pragma: no cover
    from program import program_mix  # type: ignore[no-redef]

SR = 48_000
SECONDS = 180.0
REPEATS = 3


def make_song(path: Path) -> Path:
    """A 3-minute stereo song-like file (drums, bass, chords, a vocal band, sections)."""
    if path.exists():
        return path
    rng = np.random.default_rng(2026)
    n = int(SECONDS * SR)
    t = np.arange(n) / SR
    section = np.interp(t, [0, 20, 20.01, 60, 60.01, 100, 100.01, 120, 120.01, SECONDS],
                        [0.25, 0.25, 0.6, 0.6, 1.0, 1.0, 0.3, 0.3, 1.0, 1.0])
    x = program_mix(rng, n) * section
    x *= 0.9 / np.abs(x).max()
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), x.T.astype(np.float32), SR, subtype="PCM_24")
    return path


def _best(fn: Any) -> tuple[float, float, Any]:
    """(cold seconds, best warm seconds, last result)."""
    t = time.perf_counter()
    result = fn()
    cold = time.perf_counter() - t
    best = float("inf")
    for _ in range(REPEATS):
        t = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t)
    return cold, best, result


def _mixdown(path: Path) -> dict[str, float]:
    from mixdown.io.measure import analyze_file

    r = analyze_file(path)
    return {"integrated_lufs": r.integrated_lufs, "loudness_range_lu": r.loudness_range_lu,
            "true_peak_dbtp": r.true_peak_dbtp}


def _pyloudnorm(path: Path) -> dict[str, float]:
    import pyloudnorm

    data, rate = sf.read(str(path), dtype="float64")
    return {"integrated_lufs": float(pyloudnorm.Meter(rate).integrated_loudness(data))}


def _ffmpeg(path: Path, exe: str) -> dict[str, float]:
    out = subprocess.run([exe, "-nostats", "-hide_banner", "-i", str(path), "-af",
                          "ebur128=peak=true", "-f", "null", "-"], capture_output=True,
                         text=True, check=True).stderr
    summary = out[out.rfind("Summary:"):]

    def grab(label: str) -> float:
        m = re.search(rf"{label}:\s+(-?[\d.]+)", summary)
        return float(m.group(1)) if m else float("nan")

    return {"integrated_lufs": grab("I"), "loudness_range_lu": grab("LRA"),
            "true_peak_dbtp": grab("Peak")}


def run(workdir: Path) -> dict[str, Any]:
    """Time the three meters on the same file; return figures and ratios."""
    path = make_song(Path(workdir) / "song_3min_48k.wav")
    results: dict[str, Any] = {"file": str(path), "seconds_of_audio": SECONDS,
                               "sample_rate": SR, "channels": 2}
    cold, warm, figures = _best(lambda: _mixdown(path))
    results["mixdown_all_figures"] = {"cold_s": cold, "best_s": warm, **figures}
    cold, warm, figures = _best(lambda: _pyloudnorm(path))
    results["pyloudnorm_integrated_only"] = {"cold_s": cold, "best_s": warm, **figures}
    exe = shutil.which("ffmpeg")
    if exe is None:
        results["ffmpeg_ebur128_peak_true"] = {"skipped": "ffmpeg not installed "
                                                          "(apt-get install ffmpeg)"}
    else:
        cold, warm, figures = _best(lambda: _ffmpeg(path, exe))
        results["ffmpeg_ebur128_peak_true"] = {"cold_s": cold, "best_s": warm, **figures}
    ours = results["mixdown_all_figures"]["best_s"]
    results["speedup_vs_pyloudnorm"] = results["pyloudnorm_integrated_only"]["best_s"] / ours
    if "best_s" in results["ffmpeg_ebur128_peak_true"]:
        results["speedup_vs_ffmpeg"] = results["ffmpeg_ebur128_peak_true"]["best_s"] / ours
    results["realtime_factor"] = SECONDS / ours
    return results


if __name__ == "__main__":
    import json

    here = Path(__file__).resolve().parent
    print(json.dumps(run(here / "work" / "bench_analysis"), indent=2))
