"""Render benchmark: a 16-track, full-length session, mixdown vs a plain pedalboard script.

The workload (both sides do the same job)
-----------------------------------------
* 16 distinct stems (:mod:`benchmarks.stems`), each full length (180 s; ``BENCH_QUICK=1``:
  30 s), 48 kHz stereo 24-bit WAV files in a session folder; not loops;
* an arrangement: eight sections, tracks enter and leave, so each track is a few clips
  with gaps; a pan per track;
* automation: a volume ride on two tracks, a low-pass filter sweep on the pad, a reverb
  send ride on the vocal;
* per track: a 12 dB/oct high-pass, a bell EQ and a compressor; post-fader sends to a
  reverb bus and a feedback-delay bus;
* master: a compressor, then loudness to -14 LUFS with true peaks at or below -1 dBTP;
  a 24-bit WAV.

mixdown renders the project with ``mixdown render`` (its default: mastered by measurement
and a true-peak limiter, QC sidecar written). The peer is the straightforward pedalboard
script: each track whole, two tracks at a time in threads, automation applied per sample
(fader, send) or per 1024-frame block (filter sweep), loudness trimmed with pyloudnorm,
then ``BrickwallLimiter(true_peak=True)``.

Protocol: each side runs once untimed (warm-up: numba's cache, the OS file cache), then
five alternating timed runs each (``BENCH_QUICK=1``: two), each a fresh process; the
figures are the median and the spread (min-max) per side and the ratio of the medians.
The cold rows time mixdown's first render in a fresh process with an empty numba cache
(``NUMBA_CACHE_DIR`` pointing to an empty folder), before and after the install-time
warm-up (``python -m mixdown.warmup``). Both outputs are measured by ffmpeg's ``ebur128``
filter (integrated loudness, true peak), and their short-term loudness curves (3 s
windows, every 0.1 s) are correlated to check that the two mixes are the same music.

Peak memory of mixdown is measured for three song lengths of the same session (clips
looped), each in a fresh process, to show that it is flat in song length.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

try:  # as part of the benchmarks package (make bench) or run as a script
    from benchmarks.stems import NAMES, SR, TEMPO, TRACKS, regions, section_bounds, write_stems
except ImportError:  # pragma: no cover
    from stems import (  # type: ignore[no-redef]
        NAMES,
        SR,
        TEMPO,
        TRACKS,
        regions,
        section_bounds,
        write_stems,
    )

QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
SONG_S = 30.0 if QUICK else 180.0
RUNS = 2 if QUICK else 5
MEMORY_MINUTES = (1.0, 3.0) if QUICK else (3.0, 10.0, 30.0)
TARGET_LUFS = -14.0
CEILING_DBTP = -1.0
SWEEP_BLOCK = 1024


def track_params(k: int) -> dict[str, Any]:
    """The chain and mixer settings of track k (shared by both implementations)."""
    return {
        "hp_hz": 30.0 + 10.0 * (k % 5) + (60.0 if NAMES[k] in ("Hats", "Shaker") else 0.0),
        "bell_hz": 400.0 + 150.0 * k,
        "bell_db": -3.0 + 0.5 * (k % 7),
        "bell_q": 1.0,
        "thr_db": -20.0 + (k % 4),
        "ratio": 3.0,
        "attack_ms": 5.0,
        "release_ms": 100.0,
        "volume_db": -9.0 + (k % 3),
        "pan": round(((k * 7) % 9 - 4) / 5.0, 2),
        "reverb_send_db": -12.0 - (k % 4),
        "delay_send_db": -18.0 - (k % 3),
    }


def automation(seconds: float) -> dict[int, dict[str, list[tuple[float, float]]]]:
    """Automation lanes: track -> address -> [(seconds, value)], linear, held at the ends."""
    b = {name: (s, e) for name, s, e in section_bounds(seconds)}
    chorus, pre, bridge = b["chorus"], b["pre"], b["bridge"]
    return {
        NAMES.index("Pad"): {"sweep.cutoff_hz": [(0.0, 300.0), (b["verse"][0], 12000.0),
                                                 (bridge[0], 12000.0), (bridge[1], 900.0)]},
        NAMES.index("Lead"): {"volume_db": [(chorus[0], -20.0), (chorus[0] + 4.0, -8.0),
                                            (b["chorus2"][1], -8.0), (bridge[1], -16.0)]},
        NAMES.index("Riser"): {"volume_db": [(pre[0], -30.0), (pre[1], -4.0),
                                             (bridge[0], -30.0), (bridge[1], -4.0)]},
        NAMES.index("Vox"): {"send.Reverb": [(0.0, -30.0), (seconds, -8.0)]},
    }


def _beats(seconds: float) -> float:
    return round(seconds * TEMPO / 60.0, 6)


def write_project(folder: Path, seconds: float, stems: list[Path], *,
                  looped: bool = False) -> Path:
    """A session folder: ``audio/`` (links to the stems) and a song.toml, ``seconds`` long.

    ``looped``: each track one looped clip of its stem over the whole song (the memory
    rows), instead of the arrangement.
    """
    audio = folder / "audio"
    audio.mkdir(parents=True, exist_ok=True)
    for p in stems:  # the session's files: links to the generated stems (or copies)
        dst = audio / p.name
        dst.unlink(missing_ok=True)
        try:
            os.link(p, dst)
        except OSError:
            shutil.copyfile(p, dst)
    lanes = automation(seconds) if not looped else {}
    lines = [
        "[song]", 'title = "bench"', f"tempo = {TEMPO}", f"sample_rate = {SR}",
        f'length = "{seconds}s"', "tail_s = 0.0", "",
    ]
    for k, p in enumerate(stems):
        c = track_params(k)
        if looped:
            clips = [f'{{ start = 0, file = "audio/{p.name}", loop = true, '
                     f"length = {_beats(seconds)} }}"]
        else:
            clips = [f'{{ start = {_beats(s)}, file = "audio/{p.name}", offset_s = {s}, '
                     f"length = {_beats(e - s)} }}" for s, e in regions(k, seconds)]
        devices = [
            f'{{ type = "eq", highpass_hz = {c["hp_hz"]}, highpass_slope_db = 12, '
            f'bell1_hz = {c["bell_hz"]}, bell1_gain_db = {c["bell_db"]}, '
            f'bell1_q = {c["bell_q"]} }}',
            f'{{ type = "compressor", threshold_db = {c["thr_db"]}, ratio = {c["ratio"]}, '
            f'attack_ms = {c["attack_ms"]}, release_ms = {c["release_ms"]} }}',
        ]
        track_lanes = lanes.get(k, {})
        if "sweep.cutoff_hz" in track_lanes:
            devices.append('{ type = "lowpass", name = "sweep", cutoff_hz = 12000, '
                           "slope_db = 12 }")
        lines += [
            "[[track]]", f'name = "{NAMES[k]}"', f"volume_db = {c['volume_db']}",
            f"pan = {c['pan']}",
            "clips = [", *(f"  {clip}," for clip in clips), "]",
            "devices = [", *(f"  {d}," for d in devices), "]",
            f"sends = {{ Reverb = {c['reverb_send_db']}, Delay = {c['delay_send_db']} }}",
        ]
        if track_lanes:
            lines.append("automation = [")
            for addr, pts in track_lanes.items():
                pts_s = ", ".join(f"[{_beats(t)}, {v}]" for t, v in pts)
                lines.append(f'  {{ param = "{addr}", points = [{pts_s}] }},')
            lines.append("]")
        lines.append("")
    lines += [
        "[[bus]]", 'name = "Reverb"',
        'devices = [{ type = "reverb", room_size = 0.7, damping = 0.5, wet = 1.0, dry = 0.0 }]', "",
        "[[bus]]", 'name = "Delay"',
        'devices = [{ type = "delay", sync = false, time_ms = 375.0, feedback = 0.4, mix = 1.0 }]',
        "",
        "[master]",
        'devices = [{ type = "compressor", threshold_db = -12, ratio = 2, attack_ms = 10, '
        "release_ms = 200 }]",
        f"target_lufs = {TARGET_LUFS}", f"ceiling_dbtp = {CEILING_DBTP}", "",
    ]
    (folder / "song.toml").write_text("\n".join(lines))
    return folder


PEDALBOARD_SCRIPT = r'''
import sys, time
from concurrent.futures import ThreadPoolExecutor
import numpy as np, soundfile as sf, pyloudnorm
from pedalboard import (Pedalboard, HighpassFilter, LowpassFilter, PeakFilter, Compressor,
                        Reverb, Delay, Gain, BrickwallLimiter)
sys.path.insert(0, sys.argv[1])
from bench_render import (track_params, automation, SR, TARGET_LUFS, CEILING_DBTP,
                          SWEEP_BLOCK, SONG_S)
from stems import regions
stems, seconds, out = sys.argv[2].split(","), float(sys.argv[3]), sys.argv[4]
n = int(round(seconds * SR))
t = np.arange(n) / SR
lanes = automation(seconds)
def db(x): return 10 ** (np.asarray(x) / 20)
def lane(points): return np.interp(t, [p[0] for p in points], [p[1] for p in points])
def track(k):
    c = track_params(k)
    stem, _ = sf.read(stems[k], dtype="float32", always_2d=True)
    x = np.zeros((2, n), np.float32)
    for s, e in regions(k, seconds):  # the clips: the stem where the track plays
        a, b = int(round(s * SR)), int(round(e * SR))
        x[:, a:b] = stem[a:b].T
    board = Pedalboard([HighpassFilter(c["hp_hz"]), HighpassFilter(c["hp_hz"]),
                        PeakFilter(c["bell_hz"], c["bell_db"], c["bell_q"]),
                        Compressor(c["thr_db"], c["ratio"], c["attack_ms"], c["release_ms"])])
    y = board(x, SR)
    my = lanes.get(k, {})
    if "sweep.cutoff_hz" in my:  # the filter sweep, one cutoff per block
        cut = lane(my["sweep.cutoff_hz"])
        lp = [LowpassFilter(12000.0), LowpassFilter(12000.0)]
        sweep = Pedalboard(lp)
        for a in range(0, n, SWEEP_BLOCK):
            for f in lp:
                f.cutoff_frequency_hz = float(cut[a])
            y[:, a:a + SWEEP_BLOCK] = sweep(y[:, a:a + SWEEP_BLOCK], SR, reset=False)
    fader = db(lane(my["volume_db"])) if "volume_db" in my else db(c["volume_db"])
    p = c["pan"]  # balance law: the far side tapers by cos(|p| pi / 2)
    pan = np.array([np.cos(p * np.pi / 2) if p > 0 else 1.0,
                    np.cos(-p * np.pi / 2) if p < 0 else 1.0])[:, None]
    y = (y * fader * pan).astype(np.float32)
    rev = db(lane(my["send.Reverb"])) if "send.Reverb" in my else db(c["reverb_send_db"])
    return y, y * rev, y * db(c["delay_send_db"])
mix = np.zeros((2, n), np.float32); rev = np.zeros_like(mix); dly = np.zeros_like(mix)
with ThreadPoolExecutor(2) as pool:
    for y, r, d in pool.map(track, range(len(stems))):
        mix += y; rev += r; dly += d
mix += Pedalboard([Reverb(room_size=0.7, damping=0.5, wet_level=1.0, dry_level=0.0)])(rev, SR)
mix += Pedalboard([Delay(delay_seconds=0.375, feedback=0.4, mix=1.0)])(dly, SR)
mix = Pedalboard([Compressor(-12, 2, 10, 200)])(mix, SR)
gain_db = TARGET_LUFS - pyloudnorm.Meter(SR).integrated_loudness(mix.T)
limiter = BrickwallLimiter(ceiling_db=CEILING_DBTP, true_peak=True)
mix = Pedalboard([Gain(gain_db), limiter])(mix, SR)
sf.write(out, mix.T, SR, subtype="PCM_24")
'''


def ffmpeg_meter(path: Path) -> dict[str, Any]:
    """ffmpeg ``ebur128=peak=true``: integrated LUFS, true peak dBTP, short-term curve.

    The curve is ffmpeg's short-term loudness (3 s window) every 0.1 s.
    """
    proc = subprocess.run(["ffmpeg", "-nostats", "-hide_banner", "-i", str(path), "-af",
                           "ebur128=peak=true", "-f", "null", "-"],
                          capture_output=True, text=True, check=True)
    log = proc.stderr
    summary = log[log.rfind("Summary:"):]
    lufs = float(re.search(r"I:\s+(-?[\d.]+) LUFS", summary).group(1))  # type: ignore[union-attr]
    peak = float(re.search(r"Peak:\s+(-?[\d.inf]+) dBFS", summary).group(1))  # type: ignore[union-attr]
    curve = [(float(m.group(1)), float(m.group(2))) for m in re.finditer(
        r"t:\s*([\d.]+)\s+TARGET.*?S:\s*(-?[\d.]+)", log[:log.rfind("Summary:")])]
    return {"integrated_lufs": lufs, "true_peak_dbtp": peak, "short_term": curve}


def curve_correlation(a: list[tuple[float, float]], b: list[tuple[float, float]]) -> float:
    """Pearson r of two short-term loudness curves where both are full (t >= 3 s) and > -70."""
    m = min(len(a), len(b))
    x = np.array([v for _, v in a[:m]])
    y = np.array([v for _, v in b[:m]])
    t = np.array([s for s, _ in a[:m]])
    ok = (t >= 3.0) & (x > -70.0) & (y > -70.0)
    if ok.sum() < 3:
        return math.nan
    return float(np.corrcoef(x[ok], y[ok])[0, 1])


def _timed(cmd: list[str], env: dict[str, str] | None = None) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, env=env)
    return time.perf_counter() - t


def _timed_cpu(cmd: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds: user + sys) of ``cmd`` in a child process."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = _timed(cmd)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _spread(times: list[float]) -> dict[str, Any]:
    return {"runs_s": [round(v, 3) for v in times], "median_s": float(np.median(times)),
            "min_s": min(times), "max_s": max(times)}


def _wall_and_cpu(runs: list[tuple[float, float]]) -> dict[str, Any]:
    """The spread of (wall, CPU) second pairs: wall figures, with the CPU's under "cpu"."""
    result = _spread([w for w, _ in runs])
    result["cpu"] = _spread([c for _, c in runs])
    return result


def _restore(project: Path) -> None:
    """Empty the project's caches and put the edited track's EQ back as written."""
    shutil.rmtree(project / ".mixdown", ignore_errors=True)
    edit_one_track(project, track_params(EDITED_TRACK)["bell_db"])


def _peak_rss_mb(cmd: list[str]) -> tuple[float, float]:
    """Run ``cmd`` in a child; return (wall seconds, peak RSS in MB)."""
    code = (
        "import resource, subprocess, sys, time\n"
        "t = time.perf_counter()\n"
        f"subprocess.run({cmd!r}, check=True, stdout=subprocess.DEVNULL)\n"
        "w = time.perf_counter() - t\n"
        "print(w, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True).stdout.split()
    return float(out[0]), float(out[1])


def cold_rows(mixdown_bin: str, md_cmd: list[str]) -> dict[str, Any]:
    """First renders in fresh processes with an empty numba cache, without and with warm-up."""
    rows: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-numba-") as tmp:
        env = {**os.environ, "NUMBA_CACHE_DIR": str(Path(tmp) / "empty")}
        rows["cold_empty_cache_s"] = _timed(md_cmd, env)
        env = {**os.environ, "NUMBA_CACHE_DIR": str(Path(tmp) / "warmed")}
        py = str(Path(mixdown_bin).with_name("python"))
        rows["warmup_s"] = _timed([py, "-m", "mixdown.warmup"], env)
        rows["cold_after_warmup_s"] = _timed(md_cmd, env)
    return rows


EDITED_TRACK = 3
"""The track whose bell EQ the incremental rows change between renders."""


def edit_one_track(project: Path, gain_db: float) -> None:
    """Set the bell gain of track ``EDITED_TRACK`` in the session's song.toml."""
    path = project / "song.toml"
    text = path.read_text()
    head, sep, tail = text.partition(f'name = "{NAMES[EDITED_TRACK]}"')
    tail = re.sub(r"bell1_gain_db = [-0-9.e]+", f"bell1_gain_db = {gain_db}", tail, count=1)
    path.write_text(head + sep + tail)


def incremental_rows(md_cmd: list[str], project: Path, out: Path) -> dict[str, Any]:
    """The track cache: a render that fills an empty cache, then a re-render after one
    track's EQ changed (that track, the buses it feeds and the master are rendered again;
    every other track is read back), then one with nothing changed (the render cache copies
    the last output). The edited re-render is checked byte for byte against a clean render
    of the same edit. Wall and CPU (user + sys) seconds."""
    nodes = project / ".mixdown"
    rows: dict[str, list[tuple[float, float]]] = {"filling": [], "edited": [], "unchanged": []}
    cached_cmd = [c for c in md_cmd if c != "--no-cache"]
    for run_k in range(RUNS):
        shutil.rmtree(nodes, ignore_errors=True)
        edit_one_track(project, -1.0)
        rows["filling"].append(_timed_cpu(cached_cmd))
        cache_size = _track_cache_mb(nodes / "nodes")
        edit_one_track(project, -1.5 - 0.5 * run_k)
        rows["edited"].append(_timed_cpu(cached_cmd))
        edited = out.read_bytes()
        rows["unchanged"].append(_timed_cpu(cached_cmd))
        unchanged_identical = out.read_bytes() == edited
    clean = out.with_name("clean-" + out.name)
    _timed([*cached_cmd[:-1], str(clean), "--no-cache"])
    identical = edited == clean.read_bytes()
    clean.unlink()
    clean.with_name(clean.name + ".qc.json").unlink(missing_ok=True)
    _restore(project)
    result: dict[str, Any] = {}
    for name, label in (("filling", "filling_empty_cache"), ("edited", "after_one_track_edit"),
                        ("unchanged", "unchanged_rerender")):
        result[label] = _wall_and_cpu(rows[name])
    result["identical_to_clean_render"] = identical and unchanged_identical
    result["track_cache_after_filling_mb"] = cache_size
    return result


def _track_cache_mb(folder: Path) -> dict[str, float]:
    """The track cache's size: on disk (silent pages are holes) and as the files' lengths."""
    files = [p.stat() for p in folder.glob("*.f32")]
    return {"entries": len(files),
            "on_disk_mb": sum(st.st_blocks * 512 for st in files) / 1e6,
            "apparent_mb": sum(st.st_size for st in files) / 1e6}


RESIDENT_SCRIPT = r"""
import json, shutil, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
import mixdown
from benchmarks.bench_render import edit_one_track
project, out, runs = Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4])


def timed(**kw):
    t, c = time.perf_counter(), time.process_time()
    mixdown.render(project, out, **kw)
    return time.perf_counter() - t, time.process_time() - c


shutil.rmtree(project / ".mixdown", ignore_errors=True)
edit_one_track(project, -1.0)
timed(cache=False)  # warm-up: imports, numba's kernels, the files in the page cache
timed()  # fills the track cache
rows = {"warm": [], "edited": []}
for k in range(runs):
    rows["warm"].append(timed(cache=False))
    edit_one_track(project, -1.75 - 0.5 * k)
    rows["edited"].append(timed())
edited = out.read_bytes()
timed(cache=False)
print(json.dumps({**rows, "identical": edited == out.read_bytes()}))
"""


def resident_rows(project: Path, out: Path) -> dict[str, Any]:
    """The same warm and edited renders in one resident Python process (the studio and the
    Python API), where start-up and numba's set-up are paid once: alternating full renders
    without the cache and re-renders after a one-track edit, each edit a new value. The last
    edited render is checked byte for byte against a render of the same edit without the
    cache. Wall and CPU (all threads) seconds."""
    root = str(Path(__file__).resolve().parents[1])
    text = subprocess.run([sys.executable, "-c", RESIDENT_SCRIPT, root, str(project),
                           str(out), str(RUNS)], check=True, capture_output=True,
                          text=True).stdout
    data = json.loads(text.strip().splitlines()[-1])
    _restore(project)
    result: dict[str, Any] = {}
    for name, label in (("warm", "warm_no_cache"), ("edited", "after_one_track_edit")):
        result[label] = _wall_and_cpu(data[name])
    result["speedup_median"] = (result["warm_no_cache"]["median_s"]
                                / result["after_one_track_edit"]["median_s"])
    result["identical_to_clean_render"] = data["identical"]
    return result


def run(workdir: Path) -> dict[str, Any]:
    """Run the render benchmark in ``workdir``; return the figures."""
    workdir.mkdir(parents=True, exist_ok=True)
    stems = write_stems(workdir / f"stems_{int(SONG_S)}s", SONG_S)
    here = str(Path(__file__).resolve().parent)
    mixdown_bin = str(Path(sys.executable).with_name("mixdown"))
    results: dict[str, Any] = {
        "workload": (f"{TRACKS} distinct {SONG_S:g} s stems, 48 kHz 24-bit, sections with "
                     "gaps, pan, 4 automation lanes (2 volume, filter sweep, send), per track "
                     "HP 12 dB/oct + bell + compressor, reverb and delay buses, master "
                     f"compressor, {TARGET_LUFS:g} LUFS / {CEILING_DBTP:g} dBTP, 24-bit WAV"),
        "quick": QUICK, "tracks": TRACKS, "song_s": SONG_S, "sample_rate": SR, "runs": RUNS,
    }
    project = write_project(workdir / "session", SONG_S, stems)
    script = workdir / "pedalboard_mix.py"
    script.write_text(PEDALBOARD_SCRIPT)
    md_out, pb_out = workdir / "mixdown.wav", workdir / "pedalboard.wav"
    pb_cmd = [sys.executable, str(script), here, ",".join(map(str, stems)), str(SONG_S),
              str(pb_out)]
    # --no-cache: every timed render does the whole job (the incremental rows use the cache)
    md_cmd = [mixdown_bin, "render", str(project), "--no-cache", "-o", str(md_out)]
    _timed(pb_cmd)  # warm-up, both sides alike
    _timed(md_cmd)
    pb_times, md_times, md_cpu = [], [], []
    for _ in range(RUNS):
        pb_times.append(_timed(pb_cmd))
        wall, cpu = _timed_cpu(md_cmd)
        md_times.append(wall)
        md_cpu.append(cpu)
    warm = {"mixdown": _spread(md_times), "pedalboard_2_threads": _spread(pb_times)}
    warm["mixdown"]["cpu"] = _spread(md_cpu)
    warm["speedup_median"] = warm["pedalboard_2_threads"]["median_s"] / warm["mixdown"][
        "median_s"]
    results["warm"] = warm
    cold = cold_rows(mixdown_bin, md_cmd)
    cold["warm_median_s"] = warm["mixdown"]["median_s"]
    cold["cold_minus_warm_empty_cache_s"] = cold["cold_empty_cache_s"] - cold["warm_median_s"]
    cold["cold_minus_warm_after_warmup_s"] = (cold["cold_after_warmup_s"]
                                              - cold["warm_median_s"])
    results["cold"] = cold
    inc = incremental_rows(md_cmd, project, md_out)
    edited_s = inc["after_one_track_edit"]["median_s"]
    inc["speedup_vs_warm_median"] = warm["mixdown"]["median_s"] / edited_s
    inc["speedup_vs_filling_median"] = inc["filling_empty_cache"]["median_s"] / edited_s
    inc["unchanged_speedup_vs_warm_median"] = (warm["mixdown"]["median_s"]
                                               / inc["unchanged_rerender"]["median_s"])
    results["incremental"] = inc
    results["resident"] = resident_rows(project, md_out)
    if shutil.which("ffmpeg") is None:
        results["meter"] = {"skipped": "ffmpeg not installed (scripts/apt-packages.txt)"}
    else:
        md, pb = ffmpeg_meter(md_out), ffmpeg_meter(pb_out)
        results["meter"] = {
            "tool": "ffmpeg ebur128=peak=true",
            "mixdown": {"integrated_lufs": md["integrated_lufs"],
                        "true_peak_dbtp": md["true_peak_dbtp"]},
            "pedalboard": {"integrated_lufs": pb["integrated_lufs"],
                           "true_peak_dbtp": pb["true_peak_dbtp"]},
            "short_term_pearson_r": curve_correlation(md["short_term"], pb["short_term"]),
        }
    memory = {}
    for minutes in MEMORY_MINUTES:
        proj = write_project(workdir / f"mem{minutes:g}", minutes * 60.0, stems, looped=True)
        out = workdir / f"mem{minutes:g}.wav"
        wall, rss = _peak_rss_mb([mixdown_bin, "render", str(proj), "--no-cache", "-o",
                                  str(out)])
        memory[f"{minutes:g}min"] = {"wall_s": wall, "peak_rss_mb": rss}
        out.unlink(missing_ok=True)
    results["memory"] = memory
    first, last = (memory[f"{m:g}min"]["peak_rss_mb"] for m in (MEMORY_MINUTES[0],
                                                                MEMORY_MINUTES[-1]))
    results["memory_growth_longest_vs_shortest"] = last / first
    if LONG_HOURS:
        results["long_file"] = long_file_rows(workdir / "long", LONG_HOURS)
    return results


LONG_HOURS = float(os.environ.get("BENCH_LONG_HOURS", "0") or 0)
"""``BENCH_LONG_HOURS=10``: also measure peak memory of ``analyze`` (with and without
``--series``), ``master``, ``convert`` and ``render``
on a file that long (stereo, 48 kHz, 16-bit; written by streaming; slow: opt-in)."""


def write_long_file(path: Path, hours: float) -> Path:
    """A stereo 48 kHz 16-bit WAV of ``hours``, written block by block (never whole)."""
    import soundfile as sf

    total, block = int(hours * 3600 * SR), 1 << 20
    rng = np.random.default_rng(1)
    with sf.SoundFile(str(path), "w", SR, 2, subtype="PCM_16", format="WAV") as f:
        for pos in range(0, total, block):
            n = min(block, total - pos)
            t = (pos + np.arange(n)) / SR
            env = 0.25 + 0.2 * np.sin(2 * np.pi * t / 37.0)
            tone = 0.3 * np.sin(2 * np.pi * 110 * t) + 0.1 * np.sin(2 * np.pi * 440 * t + 0.3)
            x = (env * tone)[:, None] + 0.05 * rng.standard_normal((n, 2))
            f.write(x.astype(np.float32))
    return path


def long_file_rows(folder: Path, hours: float) -> dict[str, Any]:
    """Peak memory (and wall time) of analyze (plain and ``--series``), master, convert and
    render on an ``hours``-long file;
    outputs are 16-bit to spare the disk, and removed after each command."""
    folder.mkdir(parents=True, exist_ok=True)
    src = folder / f"long_{hours:g}h.wav"
    if not src.exists():
        write_long_file(src, hours)
    project = folder / "project"
    (project / "audio").mkdir(parents=True, exist_ok=True)
    link = project / "audio" / src.name  # inside the project (a symlink would escape it)
    if not link.exists():
        os.link(src, link)
    beats = _beats(hours * 3600.0)
    (project / "song.toml").write_text(
        f'[song]\ntitle = "long"\ntempo = {TEMPO}\nsample_rate = {SR}\n'
        f'length = "{hours * 3600.0}s"\ntail_s = 0.0\n\n[[track]]\nname = "Long"\n'
        f'clips = [{{ start = 0.0, file = "audio/{src.name}", length = {beats} }}]\n'
        'devices = [{ type = "eq", highpass_hz = 30.0, highpass_slope_db = 12 }]\n\n'
        f"[master]\ntarget_lufs = {TARGET_LUFS}\nceiling_dbtp = {CEILING_DBTP}\n")
    mixdown_bin = str(Path(sys.executable).with_name("mixdown"))
    out = folder / "out.wav"
    cmds = {
        "analyze": [mixdown_bin, "analyze", str(src), "--json"],
        "analyze_series": [mixdown_bin, "analyze", str(src), "--json", "--series"],
        "master": [mixdown_bin, "master", str(src), "--target", str(TARGET_LUFS),
                   "--bit-depth", "16", "-o", str(out)],
        "convert": [mixdown_bin, "convert", str(src), "--sample-rate", "44100",
                    "--bit-depth", "16", "-o", str(out)],
        "render": [mixdown_bin, "render", str(project), "--no-cache", "--bit-depth", "16",
                   "-o", str(out)],
    }
    rows: dict[str, Any] = {"hours": hours}
    for name, cmd in cmds.items():
        wall, rss = _peak_rss_mb(cmd)
        rows[name] = {"wall_s": wall, "peak_rss_mb": rss}
        out.unlink(missing_ok=True)
        out.with_name(out.name + ".qc.json").unlink(missing_ok=True)
    return rows


if __name__ == "__main__":
    work = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("benchmarks/work/bench_render")
    print(json.dumps(run(work), indent=2))
