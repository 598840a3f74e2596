"""SoundFont render benchmark: a 3-minute, 8-channel General MIDI file with TimGM6mb.sf2.

* mixdown: ``mixdown render song.mid --soundfont TimGM6mb.sf2 -o mixdown.wav`` (import into a
  temporary project, then the normal render: eight TinySoundFont tracks, each rendered ahead
  in a forked child process where there are two or more CPUs, Reverb and Chorus buses fed
  from CC91/CC93, a 24-bit WAV and its QC sidecar: loudness, true peak, spectrum);
* fluidsynth: ``fluidsynth -ni -F fluidsynth.wav -r 48000 TimGM6mb.sf2 song.mid`` (its own
  reverb and chorus on, as by default, fed from the same CC91/CC93; 4-point interpolation;
  one synthesis thread; a 16-bit WAV, no metering). :data:`SIDES` says so in the figures.

One warm-up run each, then :data:`RUNS` alternating runs; medians with the spread, of the
wall-clock time and of the CPU time (user + system, all threads: on a shared machine the
wall clock mostly measures the neighbours). Memory of one more run of each: the peak RSS
of its largest process, and the peak of the whole process tree's proportional set size
(PSS: shared pages split between the processes sharing them, so mixdown's render-ahead
children are counted without counting the parent's pages twice). mixdown runs with
bytecode caches writable, as an installed package has them (a ``PYTHONDONTWRITEBYTECODE``
in the environment would otherwise compile every module on every run). Both outputs are
measured by an independent meter (ffmpeg ``ebur128=peak=true``): integrated loudness, true
peak, and how closely their
short-term loudness curves follow each other.

Run alone: ``python -m benchmarks.bench_soundfont`` (writes results/soundfont.json).
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import mido
import numpy as np

from benchmarks.bench_render import _peak_rss_mb, _spread, curve_correlation, ffmpeg_meter

SONG_S = 180.0
BPM = 120.0
TPB = 480
RUNS = 5
SR = 48_000
PROGRAMS = (0, 33, 48, 25, 61, 16, 73)  # piano, bass, strings, guitar, brass, organ, flute
"""The melodic channels' General MIDI programs (channels 1-7); channel 10 plays drums."""
SIDES = {
    "mixdown": "TinySoundFont (linear interpolation), one track per channel, each rendered "
               "ahead in a forked child where there are 2+ CPUs; mixdown's Reverb and Chorus "
               "buses fed from CC91/CC93; 24-bit WAV; QC sidecar (loudness, true peak, "
               "spectrum)",
    "fluidsynth": "fluidsynth 2 defaults: its reverb and chorus on, fed from CC91/CC93; "
                  "4-point interpolation; one synthesis thread; 16-bit WAV; no metering",
}
"""What each side does in the timed runs."""


def soundfont_path() -> Path:
    """TimGM6mb.sf2 from the pretty-midi wheel (GPL: used in place, never copied here)."""
    import pretty_midi

    return Path(pretty_midi.__file__).with_name("TimGM6mb.sf2")


def _events(channel: int, program: int | None, notes: list[tuple[int, int, int, int]],
            ccs: list[tuple[int, int, int]]) -> mido.MidiTrack:
    """A track from absolute-tick notes (start, length, pitch, velocity) and CCs."""
    msgs: list[tuple[int, int, mido.Message]] = []
    if program is not None:
        msgs.append((0, 0, mido.Message("program_change", channel=channel, program=program)))
    for tick, cc, value in ccs:
        msgs.append((tick, 1, mido.Message("control_change", channel=channel, control=cc,
                                           value=value)))
    for start, length, pitch, vel in notes:
        msgs.append((start, 3, mido.Message("note_on", channel=channel, note=pitch,
                                            velocity=vel)))
        msgs.append((start + length, 2, mido.Message("note_off", channel=channel, note=pitch)))
    msgs.sort(key=lambda m: (m[0], m[1], m[2].bytes()))
    track = mido.MidiTrack()
    last = 0
    for tick, _, msg in msgs:
        track.append(msg.copy(time=tick - last))
        last = tick
    return track


def make_file(path: Path) -> Path:
    """The benchmark's MIDI file, the same bytes on every machine (seeded)."""
    rng = np.random.default_rng(8)
    beats = int(SONG_S * BPM / 60)
    bars = beats // 4
    mid = mido.MidiFile(ticks_per_beat=TPB)
    conductor = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=round(60e6 / BPM)),
                                mido.MetaMessage("time_signature", numerator=4, denominator=4)])
    mid.tracks.append(conductor)
    roots = [57, 53, 48, 55]  # Am F C G
    chords = [[0, 3, 7], [0, 4, 7], [0, 4, 7], [0, 4, 7]]
    for ch, program in enumerate(PROGRAMS):
        notes: list[tuple[int, int, int, int]] = []
        for bar in range(bars):
            root = roots[bar % 4]
            chord = [root + i for i in chords[bar % 4]]
            t0 = bar * 4 * TPB
            if program == 33:  # bass: eighths
                for k in range(8):
                    notes.append((t0 + k * TPB // 2, TPB // 2 - 20, root - 24 + (7 if k % 4 == 3
                                                                                 else 0),
                                  int(rng.integers(80, 110))))
            elif program in (48, 16):  # pads: whole-bar chords
                notes += [(t0, 4 * TPB - 10, p + (12 if program == 16 else 0), 70)
                          for p in chord]
            elif program in (0, 25):  # piano, guitar: chords on the beats
                for k in range(4):
                    notes += [(t0 + k * TPB, TPB - 30, p + 12 * (program == 25),
                               int(rng.integers(60, 100))) for p in chord]
            else:  # brass, flute: a melody in sixteenths and eighths
                k = 0
                while k < 16:
                    step = int(rng.choice([1, 2, 2, 4]))
                    scale = [0, 2, 3, 5, 7, 8, 10, 12]
                    pitch = 69 + scale[int(rng.integers(0, 8))] - 12 * (program == 61)
                    notes.append((t0 + k * TPB // 4, step * TPB // 4 - 10, pitch,
                                  int(rng.integers(70, 115))))
                    k += step
        ccs = [(0, 7, 100), (0, 10, 20 + 14 * ch), (0, 91, 30 + 10 * ch), (0, 93, 10 * ch)]
        ccs += [(bar * 4 * TPB, 7, 80 + 20 * (bar % 2)) for bar in range(0, bars, 8)]
        mid.tracks.append(_events(ch, program, notes, ccs))
    drums: list[tuple[int, int, int, int]] = []
    for step in range(bars * 16):
        t = step * TPB // 4
        if step % 4 == 0:
            drums.append((t, 60, 36, 115))
        if step % 8 == 4:
            drums.append((t, 60, 38, 110))
        drums.append((t, 40, 42 if step % 8 != 6 else 46, int(rng.integers(60, 100))))
    mid.tracks.append(_events(9, None, drums, [(0, 91, 40)]))
    path.parent.mkdir(parents=True, exist_ok=True)
    mid.save(str(path))
    return path


def _timed(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Run ``cmd``; return (wall seconds, CPU seconds: user + system of the child and the
    processes it waited for)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, env=env)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _tree_pids(root: int) -> list[int]:
    """``root`` and its descendants (Linux /proc)."""
    pids, todo = [], [root]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        for task in Path(f"/proc/{pid}/task").glob("*"):
            try:
                todo += [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                continue
    return pids


def _pss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def tree_peak_pss_mb(cmd: list[str], env: dict[str, str] | None = None) -> float:
    """Run ``cmd``; return the peak over time of its process tree's summed PSS, in MB
    (sampled every 20 ms)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=env)
    peak = 0.0
    while proc.poll() is None:
        peak = max(peak, sum(_pss_mb(p) for p in _tree_pids(proc.pid)))
        time.sleep(0.02)
    if proc.returncode:
        raise subprocess.CalledProcessError(proc.returncode, cmd)
    return peak


def run(workdir: Path) -> dict[str, Any]:
    """Run the SoundFont benchmark in ``workdir``; return the figures."""
    workdir.mkdir(parents=True, exist_ok=True)
    fluidsynth = shutil.which("fluidsynth")
    if fluidsynth is None:
        raise SystemExit("fluidsynth is not installed (make system installs it)")
    sf2 = soundfont_path()
    mid = make_file(workdir / "gm_3min_8ch.mid")
    mixdown_bin = str(Path(sys.executable).with_name("mixdown"))
    md_out, fs_out = workdir / "mixdown.wav", workdir / "fluidsynth.wav"
    md_cmd = [mixdown_bin, "render", str(mid), "--soundfont", str(sf2), "-o", str(md_out)]
    fs_cmd = [fluidsynth, "-ni", "-q", "-F", str(fs_out), "-r", str(SR), str(sf2), str(mid)]
    md_env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    _timed(fs_cmd)  # warm-up, both sides alike (mixdown's writes its bytecode caches)
    _timed(md_cmd, md_env)
    fs_runs, md_runs = [], []
    for _ in range(RUNS):
        fs_runs.append(_timed(fs_cmd))
        md_runs.append(_timed(md_cmd, md_env))
    warm = {"mixdown": _spread([w for w, _ in md_runs]),
            "fluidsynth": _spread([w for w, _ in fs_runs])}
    warm["speedup_median"] = warm["fluidsynth"]["median_s"] / warm["mixdown"]["median_s"]
    cpu = {"mixdown": _spread([c for _, c in md_runs]),
           "fluidsynth": _spread([c for _, c in fs_runs])}
    cpu["speedup_median"] = cpu["fluidsynth"]["median_s"] / cpu["mixdown"]["median_s"]
    md_wall, md_rss = _peak_rss_mb(md_cmd)
    fs_wall, fs_rss = _peak_rss_mb(fs_cmd)
    md_pss, fs_pss = tree_peak_pss_mb(md_cmd, md_env), tree_peak_pss_mb(fs_cmd)
    md_meter, fs_meter = ffmpeg_meter(md_out), ffmpeg_meter(fs_out)
    pm_notes = sum(len(t) for t in mido.MidiFile(str(mid)).tracks) // 2
    return {
        "workload": (f"{SONG_S:g} s General MIDI file, {len(PROGRAMS)} melodic channels + "
                     "drums on channel 10, CC7/CC10/CC91/CC93, TimGM6mb.sf2, 48 kHz"),
        "midi_events_about": pm_notes, "runs": RUNS, "sides": SIDES,
        "warm": warm,
        "cpu": cpu,
        "memory": {"mixdown": {"wall_s": md_wall, "peak_rss_mb": md_rss,
                               "tree_peak_pss_mb": md_pss},
                   "fluidsynth": {"wall_s": fs_wall, "peak_rss_mb": fs_rss,
                                  "tree_peak_pss_mb": fs_pss}},
        "meter": {
            "tool": "ffmpeg ebur128=peak=true",
            "mixdown": {k: md_meter[k] for k in ("integrated_lufs", "true_peak_dbtp")},
            "fluidsynth": {k: fs_meter[k] for k in ("integrated_lufs", "true_peak_dbtp")},
            "short_term_correlation": curve_correlation(md_meter["short_term"],
                                                        fs_meter["short_term"]),
            "mixdown_duration_s": float(md_meter["short_term"][-1][0]),
            "fluidsynth_duration_s": float(fs_meter["short_term"][-1][0]),
        },
    }


if __name__ == "__main__":
    here = Path(__file__).resolve().parent
    figures = run(here / "work" / "bench_soundfont")
    out = here / "results" / "soundfont.json"
    out.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))
