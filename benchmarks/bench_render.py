"""Render benchmark: a 16-stem, 3-minute, 48 kHz mix, mixdown vs a plain pedalboard script.

Both jobs do the same work: 16 stereo tracks, each through a 12 dB/oct high-pass, a bell
EQ and a compressor, post-fader sends to a reverb bus and a feedback-delay bus, a master
compressor and a true-peak limiter, loudness normalised to -14 LUFS / -1 dBTP, written as
a 24-bit WAV. The pedalboard script is written the straightforward way: each track
processed whole, two tracks at a time in threads, loudness trimmed with pyloudnorm.

Peak memory of mixdown is measured for 3, 10 and 30 minutes of the same project, each in a
fresh process, to show that it is flat in song length.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

SR = 48_000
TRACKS = 16
LOOP_S = 12.0
TEMPO = 120.0
TARGET_LUFS = -14.0
CEILING_DBTP = -1.0


def make_loops(folder: Path) -> list[Path]:
    """Sixteen different 12-second stereo loops (drum-, bass-, chord- and noise-like)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(16)
    n = int(LOOP_S * SR)
    t = np.arange(n) / SR
    beat = 60.0 / TEMPO
    paths = []
    for k in range(TRACKS):
        kind = k % 4
        if kind == 0:  # percussive: decaying noise bursts on beats
            env = np.exp(-((t % beat) / (0.05 + 0.02 * k)))
            x = rng.standard_normal((2, n)) * env * 0.4
        elif kind == 1:  # bass-like: low sine with movement
            f = 40 + 10 * k
            x = np.stack([np.sin(2 * np.pi * f * t + 0.3 * np.sin(2 * np.pi * 0.5 * t))] * 2)
            x *= 0.5 * (0.6 + 0.4 * np.sin(2 * np.pi * t / beat) ** 2)
        elif kind == 2:  # chords: a few detuned saws
            x = np.zeros((2, n))
            for j, f in enumerate((220.0, 277.2, 329.6)):
                ph = (f * (1 + 0.002 * (k - 8)) * t + 0.1 * j) % 1.0
                x[j % 2] += (2 * ph - 1) * 0.15
            x *= 0.8
        else:  # pads / noise textures
            x = rng.standard_normal((2, n)) * 0.05
            x += 0.2 * np.sin(2 * np.pi * (300 + 40 * k) * t)[None, :]
        fade = min(256, n // 2)
        x[:, :fade] *= np.linspace(0, 1, fade)
        x[:, -fade:] *= np.linspace(1, 0, fade)
        p = folder / f"loop{k:02d}.wav"
        sf.write(str(p), x.T.astype(np.float32), SR, subtype="FLOAT")
        paths.append(p)
    return paths


def track_params(k: int) -> dict[str, Any]:
    """The chain settings of track k (shared by both implementations)."""
    return {
        "hp_hz": 30.0 + 10.0 * (k % 5),
        "bell_hz": 400.0 + 150.0 * k,
        "bell_db": -3.0 + 0.5 * (k % 7),
        "bell_q": 1.0,
        "thr_db": -20.0 + (k % 4),
        "ratio": 3.0,
        "attack_ms": 5.0,
        "release_ms": 100.0,
        "volume_db": -9.0,
        "reverb_send_db": -12.0,
        "delay_send_db": -18.0,
    }


def write_project(folder: Path, minutes: float, loops: list[Path]) -> Path:
    """A song.toml over the loops, ``minutes`` long."""
    audio = folder / "audio"
    audio.mkdir(parents=True, exist_ok=True)
    for p in loops:
        dst = audio / p.name
        if not dst.exists():
            shutil.copyfile(p, dst)
    seconds = minutes * 60.0
    lines = [
        "[song]", 'title = "bench"', f"tempo = {TEMPO}", f"sample_rate = {SR}",
        f'length = "{seconds}s"', "tail_s = 0.0", "",
    ]
    for k, p in enumerate(loops):
        c = track_params(k)
        lines += [
            "[[track]]", f'name = "T{k:02d}"', f"volume_db = {c['volume_db']}",
            f'clips = [{{ start = 0, file = "audio/{p.name}", loop = true, '
            f'length = {seconds * TEMPO / 60.0} }}]',
            "devices = [",
            f'  {{ type = "eq", highpass_hz = {c["hp_hz"]}, highpass_slope_db = 12, '
            f'bell1_hz = {c["bell_hz"]}, bell1_gain_db = {c["bell_db"]}, '
            f'bell1_q = {c["bell_q"]} }},',
            f'  {{ type = "compressor", threshold_db = {c["thr_db"]}, ratio = {c["ratio"]}, '
            f'attack_ms = {c["attack_ms"]}, release_ms = {c["release_ms"]} }},',
            "]",
            f"sends = {{ Reverb = {c['reverb_send_db']}, Delay = {c['delay_send_db']} }}",
            "",
        ]
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
    folder.mkdir(parents=True, exist_ok=True)
    song = folder / "song.toml"
    song.write_text("\n".join(lines))
    return folder


PEDALBOARD_SCRIPT = r'''
import sys, time
from concurrent.futures import ThreadPoolExecutor
import numpy as np, soundfile as sf, pyloudnorm
from pedalboard import (Pedalboard, HighpassFilter, PeakFilter, Compressor, Reverb, Delay,
                        Gain, BrickwallLimiter)
sys.path.insert(0, sys.argv[1])
from bench_render import track_params, SR, TEMPO, TARGET_LUFS, CEILING_DBTP
loops, seconds, out = sys.argv[2].split(","), float(sys.argv[3]), sys.argv[4]
t0 = time.perf_counter()
n = int(seconds * SR)
def db(x): return 10 ** (x / 20)
def track(k):
    x, _ = sf.read(loops[k], dtype="float32", always_2d=True)
    x = np.tile(x.T, (1, n // x.shape[0] + 1))[:, :n].copy()
    c = track_params(k)
    board = Pedalboard([HighpassFilter(c["hp_hz"]), HighpassFilter(c["hp_hz"]),
                        PeakFilter(c["bell_hz"], c["bell_db"], c["bell_q"]),
                        Compressor(c["thr_db"], c["ratio"], c["attack_ms"], c["release_ms"]),
                        Gain(c["volume_db"])])
    y = board(x, SR)
    return y, y * db(c["reverb_send_db"]), y * db(c["delay_send_db"])
mix = np.zeros((2, n), np.float32); rev = np.zeros_like(mix); dly = np.zeros_like(mix)
with ThreadPoolExecutor(2) as pool:
    for y, r, d in pool.map(track, range(len(loops))):
        mix += y; rev += r; dly += d
mix += Pedalboard([Reverb(room_size=0.7, damping=0.5, wet_level=1.0, dry_level=0.0)])(rev, SR)
mix += Pedalboard([Delay(delay_seconds=0.375, feedback=0.4, mix=1.0)])(dly, SR)
mix = Pedalboard([Compressor(-12, 2, 10, 200)])(mix, SR)
meter = pyloudnorm.Meter(SR)
gain_db = TARGET_LUFS - meter.integrated_loudness(mix.T)
limiter = BrickwallLimiter(ceiling_db=CEILING_DBTP, true_peak=True)
mix = Pedalboard([Gain(gain_db), limiter])(mix, SR)
sf.write(out, mix.T, SR, subtype="PCM_24")
print(time.perf_counter() - t0)
'''


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


def run(workdir: Path) -> dict[str, Any]:
    """Run the render benchmark in ``workdir``; return the figures."""
    workdir.mkdir(parents=True, exist_ok=True)
    loops = make_loops(workdir / "loops")
    here = str(Path(__file__).resolve().parent)
    mixdown_bin = str(Path(sys.executable).with_name("mixdown"))
    results: dict[str, Any] = {"tracks": TRACKS, "sample_rate": SR}

    proj3 = write_project(workdir / "song3", 3.0, loops)
    script = workdir / "pedalboard_mix.py"
    script.write_text(PEDALBOARD_SCRIPT)
    pb_cmd = [sys.executable, str(script), here, ",".join(map(str, loops)), "180",
              str(workdir / "pedalboard.wav")]
    md_cmd = [mixdown_bin, "render", str(proj3), "-o", str(workdir / "mixdown.wav")]
    # Warm up once each (numba caches, file cache), then take the best of 2 runs.
    subprocess.run(md_cmd, check=True, capture_output=True)
    pb_times, md_times = [], []
    for _ in range(2):
        t = time.perf_counter()
        subprocess.run(pb_cmd, check=True, capture_output=True)
        pb_times.append(time.perf_counter() - t)
        t = time.perf_counter()
        subprocess.run(md_cmd, check=True, capture_output=True)
        md_times.append(time.perf_counter() - t)
    results["pedalboard_script_s"] = min(pb_times)
    results["mixdown_s"] = min(md_times)
    results["speedup"] = min(pb_times) / min(md_times)
    from mixdown.io.measure import analyze_file

    for name in ("mixdown", "pedalboard"):
        r = analyze_file(workdir / f"{name}.wav").as_dict()
        results[f"{name}_lufs"] = r["integrated_lufs"]
        results[f"{name}_true_peak_dbtp"] = r["true_peak_dbtp"]

    memory = {}
    for minutes in (3, 10, 30):
        proj = write_project(workdir / f"song{minutes}", float(minutes), loops)
        wall, rss = _peak_rss_mb([mixdown_bin, "render", str(proj), "-o",
                                  str(workdir / f"mem{minutes}.wav")])
        memory[f"{minutes}min"] = {"wall_s": wall, "peak_rss_mb": rss}
        (workdir / f"mem{minutes}.wav").unlink(missing_ok=True)
    results["memory"] = memory
    base = memory["3min"]["peak_rss_mb"]
    results["memory_growth_30_vs_3"] = memory["30min"]["peak_rss_mb"] / base
    return results


if __name__ == "__main__":
    work = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("benchmarks/work/render")
    print(json.dumps(run(work), indent=2))
