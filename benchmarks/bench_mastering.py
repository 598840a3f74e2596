"""Mastering benchmark: mixdown vs Matchering vs ffmpeg two-pass loudnorm, same files, one run.

Three 60 s stereo 48 kHz mixes (dense, dynamic, bright) are mastered to -14 LUFS with
a -1 dBTP ceiling by

* mixdown: ``master_to_target`` (gain by measurement + true-peak limiter), writing the file;
  where the target needs more than 6 dB of peak gain reduction it stops short and says so
  (``reached``, ``shortfall_lu``), which shows as an integrated error;
* Matchering 2: its reference is a track mastered to the target (mixdown's master of the
  next mix), as issue 4 asks; it writes 24-bit 44.1 kHz;
* mixdown with the same reference (``master_file(..., references=[ref])``: tonal balance,
  loudness, dynamics and width matched); ``balance_distance_db`` is the RMS difference of
  the 1/3-octave balance shapes between output and reference (lower is closer) for both;
* ffmpeg: ``loudnorm`` in two passes (measure, then ``linear=true`` with the measured
  values), ``I=-14:TP=-1``, written at 48 kHz.

Every output is measured by the same independent meters: ffmpeg ``ebur128=peak=true``
(integrated loudness, true peak) and libebur128 (true peak), plus an 8x oversampler;
``overshoot_db`` is how far the worst of them reads above the ceiling. Times are wall
seconds on this machine, file reading and writing included.

A second part times the limiters alone on 3 minutes of stereo 48 kHz: mixdown's
``TruePeakLimiter`` against ``pedalboard.BrickwallLimiter(true_peak=True)``.
"""

from __future__ import annotations

import json
import math
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
SECONDS = 60.0
TARGET_LUFS = -14.0
CEILING_DBTP = -1.0


def make_mix(path: Path, kind: str, seed: int, seconds: float = SECONDS) -> Path:
    """A song-like stereo mix: drums, bass, chords, noise 'vocal', with sections."""
    from scipy.signal import butter, sosfilt

    if path.exists():
        return path
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    t = np.arange(n) / SR
    x = program_mix(rng, n)
    if kind == "dense":
        x = np.tanh(1.5 * x / np.abs(x).max())
    elif kind == "dynamic":
        x *= np.interp(t, [0, 15, 15.01, 40, 40.01, seconds], [0.15, 0.15, 1.0, 1.0, 0.4, 0.4])
    elif kind == "bright":
        x += 2.0 * sosfilt(butter(2, 5000, "high", fs=SR, output="sos"), x)
    x *= 0.9 / np.abs(x).max()
    ramp = np.minimum(1.0, np.minimum(np.arange(n), n - 1 - np.arange(n)) / 480.0)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), (x * ramp).T.astype(np.float32), SR, subtype="PCM_24")
    return path


def measure(path: Path) -> dict[str, float]:
    """ffmpeg integrated loudness and true peak; libebur128 and 8x true peaks."""
    import pyebur128
    from scipy.signal import resample_poly

    proc = subprocess.run(
        ["ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-i", str(path), "-af",
         "ebur128=peak=true:metadata=1,ametadata=print:file=-", "-f", "null", "-"],
        capture_output=True, text=True, check=True)
    lufs = float(re.findall(r"lavfi\.r128\.I=([-\d.]+)", proc.stdout)[-1])
    ff_peak = 20 * math.log10(max(float(v) for v in re.findall(
        r"lavfi\.r128\.true_peaks_ch\d+=([-\d.e]+)", proc.stdout)))
    data, sr = sf.read(str(path), dtype="float64", always_2d=True)
    state = pyebur128.R128State(data.shape[1], sr, pyebur128.MeasurementMode.MODE_TRUE_PEAK)
    state.add_frames(np.ascontiguousarray(data).ravel(), data.shape[0])
    eb_peak = 20 * math.log10(max(pyebur128.get_true_peak(state, c)
                                  for c in range(data.shape[1])))
    os_peak = 20 * math.log10(float(np.max(np.abs(resample_poly(data, 8, 1, axis=0)))))
    worst = max(ff_peak, eb_peak, os_peak)
    return {"integrated_lufs": lufs, "integrated_error_lu": lufs - TARGET_LUFS,
            "true_peak_ffmpeg_dbtp": ff_peak, "true_peak_libebur128_dbtp": eb_peak,
            "true_peak_8x_dbtp": os_peak, "overshoot_db": max(0.0, worst - CEILING_DBTP)}


def _mixdown(src: Path, dst: Path) -> tuple[float, dict[str, Any]]:
    from mixdown.mastering.normalize import master_to_target

    t = time.perf_counter()
    r = master_to_target(src, dst, target_lufs=TARGET_LUFS, ceiling_dbtp=CEILING_DBTP)
    # mixdown stops short rather than use more than 6 dB of peak gain reduction (issue 4)
    return time.perf_counter() - t, {"reached": r.reached, "shortfall_lu": r.shortfall_lu,
                                     "max_gain_reduction_db": r.max_gain_reduction_db,
                                     "passes": r.passes}


def _mixdown_reference(src: Path, ref: Path, dst: Path) -> float:
    from mixdown.services.master import master_file

    t = time.perf_counter()
    master_file(src, dst, references=[ref], ceiling_dbtp=CEILING_DBTP)
    return time.perf_counter() - t


def balance_distance_db(out: Path, ref: Path) -> float:
    """RMS difference (dB) of the 1/3-octave balance shapes, 60 Hz..14 kHz."""
    from mixdown.mastering.reference import profile_file

    a, b = profile_file(out), profile_file(ref)
    ma = dict(zip(a.band_hz, a.balance_db, strict=True))
    mb = dict(zip(b.band_hz, b.balance_db, strict=True))
    d = np.array([ma[f] - mb[f] for f in ma if f in mb and 60 <= f <= 14_000])
    return float(np.sqrt(np.mean((d - d.mean()) ** 2)))


def _matchering(src: Path, ref: Path, dst: Path) -> float:
    import matchering as mg

    t = time.perf_counter()
    mg.process(target=str(src), reference=str(ref), results=[mg.pcm24(str(dst))])
    return time.perf_counter() - t


def _loudnorm(src: Path, dst: Path, exe: str) -> float:
    t = time.perf_counter()
    first = subprocess.run(
        [exe, "-nostdin", "-hide_banner", "-nostats", "-i", str(src), "-af",
         f"loudnorm=I={TARGET_LUFS}:TP={CEILING_DBTP}:LRA=11:print_format=json", "-f", "null",
         "-"], capture_output=True, text=True, check=True).stderr
    m = json.loads(first[first.rindex("{"):first.rindex("}") + 1])
    second = (f"loudnorm=I={TARGET_LUFS}:TP={CEILING_DBTP}:LRA=11:measured_I={m['input_i']}:"
              f"measured_TP={m['input_tp']}:measured_LRA={m['input_lra']}:"
              f"measured_thresh={m['input_thresh']}:offset={m['target_offset']}:linear=true")
    subprocess.run([exe, "-nostdin", "-y", "-hide_banner", "-nostats", "-i", str(src), "-af",
                    second, "-ar", str(SR), "-c:a", "pcm_s24le", str(dst)],
                   capture_output=True, text=True, check=True)
    return time.perf_counter() - t


def _limiters(workdir: Path) -> dict[str, Any]:
    """3 minutes of stereo 48 kHz, 6 dB too hot: mixdown's limiter vs pedalboard's."""
    import pedalboard

    from mixdown.mastering.limiter import limit

    parts = [sf.read(str(workdir / f"{k}.wav"), dtype="float32", always_2d=True)[0].T
             for k in ("dense", "dynamic", "bright")]
    audio = np.ascontiguousarray(np.concatenate(parts, axis=1) * np.float32(2.0))
    limit(audio[:, :SR], SR)  # warm the compiled kernels
    out: dict[str, Any] = {"seconds_of_audio": audio.shape[1] / SR}
    best = math.inf
    for _ in range(3):
        t = time.perf_counter()
        y, _ = limit(audio, SR, ceiling_dbtp=CEILING_DBTP)
        best = min(best, time.perf_counter() - t)
    sf.write(str(workdir / "lim_mixdown.wav"), y.T, SR, subtype="FLOAT")
    out["mixdown_true_peak_limiter"] = {"best_s": best,
                                        **measure(workdir / "lim_mixdown.wav")}
    best = math.inf
    for _ in range(3):
        lim = pedalboard.BrickwallLimiter(ceiling_db=CEILING_DBTP, true_peak=True)
        t = time.perf_counter()
        z = lim(audio, SR)
        best = min(best, time.perf_counter() - t)
    sf.write(str(workdir / "lim_pedalboard.wav"), z.T, SR, subtype="FLOAT")
    out["pedalboard_brickwall_true_peak"] = {"best_s": best,
                                             **measure(workdir / "lim_pedalboard.wav")}
    for v in out.values():
        if isinstance(v, dict):
            v.pop("integrated_error_lu", None)
    out["speedup_vs_pedalboard"] = (out["pedalboard_brickwall_true_peak"]["best_s"]
                                    / out["mixdown_true_peak_limiter"]["best_s"])
    return out


def run(workdir: Path) -> dict[str, Any]:
    """Master the same three mixes with each tool; return time, error and overshoot."""
    work = Path(workdir)
    work.mkdir(parents=True, exist_ok=True)
    kinds = ("dense", "dynamic", "bright")
    mixes = [make_mix(work / f"{k}.wav", k, seed) for seed, k in enumerate(kinds)]
    exe = shutil.which("ffmpeg")
    results: dict[str, Any] = {"target_lufs": TARGET_LUFS, "ceiling_dbtp": CEILING_DBTP,
                               "seconds_per_file": SECONDS, "files": list(kinds)}
    tools: dict[str, dict[str, Any]] = {"mixdown": {}, "mixdown_reference": {},
                                        "matchering": {}, "ffmpeg_loudnorm": {}}
    masters = []
    for k, src in zip(kinds, mixes, strict=True):
        dst = work / f"{k}.mixdown.wav"
        seconds, info = _mixdown(src, dst)
        masters.append(dst)
        tools["mixdown"][k] = {"time_s": seconds, **measure(dst), **info}
    for i, (k, src) in enumerate(zip(kinds, mixes, strict=True)):
        ref = masters[(i + 1) % len(masters)]  # a track mastered to the target
        dst = work / f"{k}.mixdown-ref.wav"
        tools["mixdown_reference"][k] = {"time_s": _mixdown_reference(src, ref, dst),
                                         **measure(dst), "reference": ref.name,
                                         "balance_distance_db": balance_distance_db(dst, ref),
                                         "mix_balance_distance_db": balance_distance_db(src,
                                                                                        ref)}
        try:
            dst = work / f"{k}.matchering.wav"
            tools["matchering"][k] = {"time_s": _matchering(src, ref, dst), **measure(dst),
                                      "reference": ref.name,
                                      "balance_distance_db": balance_distance_db(dst, ref)}
        except ImportError:
            tools["matchering"][k] = {"skipped": "pip install matchering (the bench extra)"}
        if exe is None:
            tools["ffmpeg_loudnorm"][k] = {"skipped": "ffmpeg not installed"}
        else:
            dst = work / f"{k}.loudnorm.wav"
            tools["ffmpeg_loudnorm"][k] = {"time_s": _loudnorm(src, dst, exe), **measure(dst)}
    for name, per_file in tools.items():
        done = [v for v in per_file.values() if "time_s" in v]
        summary: dict[str, Any] = dict(per_file)
        if done:
            summary["total_time_s"] = sum(v["time_s"] for v in done)
            summary["max_abs_integrated_error_lu"] = max(abs(v["integrated_error_lu"])
                                                         for v in done)
            summary["files_over_ceiling"] = sum(v["overshoot_db"] > 0 for v in done)
            summary["max_overshoot_db"] = max(v["overshoot_db"] for v in done)
        results[name] = summary
    if "total_time_s" in results["matchering"]:
        results["speedup_vs_matchering"] = (results["matchering"]["total_time_s"]
                                            / results["mixdown"]["total_time_s"])
        results["reference_speedup_vs_matchering"] = (
            results["matchering"]["total_time_s"]
            / results["mixdown_reference"]["total_time_s"])
    if "total_time_s" in results["ffmpeg_loudnorm"]:
        results["speedup_vs_ffmpeg_loudnorm"] = (results["ffmpeg_loudnorm"]["total_time_s"]
                                                 / results["mixdown"]["total_time_s"])
    results["limiter_3min"] = _limiters(work)
    return results


if __name__ == "__main__":
    here = Path(__file__).resolve().parent
    print(json.dumps(run(here / "work" / "bench_mastering"), indent=2))
