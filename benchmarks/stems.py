"""Sixteen distinct, song-like stems and the arrangement the render benchmark plays them in.

Every stem is generated from a fixed seed (same bytes on every run), full length, stereo,
48 kHz: drums, percussion, bass lines, chords, an arpeggio, a lead, formant "vocals",
strings, a strummed guitar, a riser, toms. The notes follow a four-chord progression
with variations per section, so no stem is a loop. The stems are written once as 24-bit
WAV files into a session folder, as a real session would hold them.

The arrangement (:func:`regions`) says when each track plays: sections where tracks
enter and leave, so every track is a few clips with gaps. Both the mixdown project and
the pedalboard script read it from here.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

SR = 48_000
TEMPO = 120.0
TRACKS = 16
NAMES = ["Kick", "Snare", "Hats", "Shaker", "Bass", "Sub", "Pad", "Keys", "Arp", "Lead",
         "Vox", "Backing", "Strings", "Guitar", "Riser", "Toms"]

# Sections as fractions of the song (a 180 s song: intro 0-16 s, verse 16-48 ...).
SECTIONS = [("intro", 0.0), ("verse", 16 / 180), ("pre", 48 / 180), ("chorus", 56 / 180),
            ("verse2", 88 / 180), ("chorus2", 120 / 180), ("bridge", 152 / 180),
            ("outro", 168 / 180)]
PLAYS: dict[str, set[str]] = {
    "Kick": {"verse", "pre", "chorus", "verse2", "chorus2", "outro"},
    "Snare": {"verse", "chorus", "verse2", "chorus2"},
    "Hats": {"verse", "pre", "chorus", "verse2", "chorus2", "bridge"},
    "Shaker": {"chorus", "chorus2", "bridge"},
    "Bass": {"verse", "pre", "chorus", "verse2", "chorus2", "outro"},
    "Sub": {"chorus", "chorus2"},
    "Pad": {"intro", "verse", "pre", "chorus", "verse2", "chorus2", "bridge", "outro"},
    "Keys": {"intro", "verse", "verse2", "bridge"},
    "Arp": {"pre", "chorus", "chorus2", "outro"},
    "Lead": {"chorus", "chorus2", "bridge"},
    "Vox": {"verse", "chorus", "verse2", "chorus2"},
    "Backing": {"chorus", "chorus2"},
    "Strings": {"intro", "pre", "chorus2", "bridge", "outro"},
    "Guitar": {"verse", "verse2", "chorus", "chorus2"},
    "Riser": {"pre", "bridge"},
    "Toms": {"pre", "bridge"},
}
CHORDS = [(57, 60, 64), (53, 57, 60), (48, 52, 55), (55, 59, 62)]  # Am F C G (MIDI)


def section_bounds(seconds: float) -> list[tuple[str, float, float]]:
    """(name, start s, end s) of each section, on whole beats."""
    beat = 60.0 / TEMPO
    starts = [round(f * seconds / beat) * beat for _, f in SECTIONS]
    ends = [*starts[1:], seconds]
    return [(name, s, e) for (name, _), s, e in zip(SECTIONS, starts, ends, strict=True)
            if e > s]


def regions(track: int, seconds: float) -> list[tuple[float, float]]:
    """(start s, end s) of the clips of ``track``: consecutive playing sections merged."""
    out: list[tuple[float, float]] = []
    for name, s, e in section_bounds(seconds):
        if name not in PLAYS[NAMES[track]]:
            continue
        if out and abs(out[-1][1] - s) < 1e-9:
            out[-1] = (out[-1][0], e)
        else:
            out.append((s, e))
    return out


def _hz(midi: np.ndarray | float) -> np.ndarray:
    return 440.0 * 2.0 ** ((np.asarray(midi, dtype=np.float64) - 69.0) / 12.0)


def _line(n: int, starts: np.ndarray, pitches: np.ndarray, vels: np.ndarray,
          wave: str, decay_s: float, attack_s: float = 0.003) -> np.ndarray:
    """A monophonic line: note k sounds from ``starts[k]`` (frames) to the next start."""
    i = np.arange(n)
    k = np.clip(np.searchsorted(starts, i, side="right") - 1, 0, len(starts) - 1)
    phase = np.cumsum(_hz(pitches)[k] / SR)
    local = (i - starts[k]) / SR
    env = np.minimum(1.0, local / attack_s) * np.exp(-local / decay_s) * vels[k]
    frac = phase % 1.0
    if wave == "sine":
        y = np.sin(2 * np.pi * phase)
    elif wave == "saw":
        y = 2.0 * frac - 1.0
    elif wave == "square":
        y = np.where(frac < 0.5, 1.0, -1.0)
    else:  # triangle
        y = 4.0 * np.abs(frac - 0.5) - 1.0
    return y * env


def _hits(n: int, times_s: np.ndarray, vels: np.ndarray, decay_s: float,
          body: np.ndarray) -> np.ndarray:
    """Percussive hits: ``body`` (noise or tone, n frames) under decaying envelopes."""
    starts = np.round(times_s * SR).astype(np.int64)
    i = np.arange(n)
    k = np.clip(np.searchsorted(starts, i, side="right") - 1, 0, len(starts) - 1)
    local = (i - starts[k]) / SR
    env = np.where(i >= starts[0], np.exp(-local / decay_s) * vels[k], 0.0)
    return body * env


def _steps(seconds: float, per_beat: int, pattern: str, rng: np.random.Generator,
           fill: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Times and velocities of a step pattern over the song, with random fills and accents."""
    step = 60.0 / TEMPO / per_beat
    count = int(seconds / step)
    on = np.array([pattern[j % len(pattern)] != "." for j in range(count)])
    on |= rng.random(count) < fill
    vel = np.where(np.array([pattern[j % len(pattern)] == "X" for j in range(count)]), 1.0,
                   0.6 + 0.3 * rng.random(count))
    idx = np.flatnonzero(on)
    return idx * step, vel[idx]


def _bars(seconds: float) -> int:
    return int(np.ceil(seconds / (4 * 60.0 / TEMPO)))


def _melody(seconds: float, rng: np.random.Generator, per_beat: int, octave: int,
            chord_tones: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(start frames, MIDI pitches, velocities) following the chord progression."""
    beat = 60.0 / TEMPO
    count = int(seconds / beat * per_beat)
    t = np.arange(count) * beat / per_beat
    chord = (t // (2 * 4 * beat)).astype(int) % len(CHORDS)
    scale = np.array([0, 2, 3, 5, 7, 8, 10])
    pitches = np.empty(count)
    for j in range(count):
        root = CHORDS[chord[j]]
        if chord_tones:
            pitches[j] = root[rng.integers(3)] + 12 * octave
        else:
            pitches[j] = 57 + scale[rng.integers(len(scale))] + 12 * octave
    vels = 0.5 + 0.5 * rng.random(count)
    return np.round(t * SR).astype(np.int64), pitches, vels


def make_stem(k: int, seconds: float) -> np.ndarray:
    """Stem ``k`` (0..15): float32 (2, frames), peak about -6 dBFS."""
    rng = np.random.default_rng(1000 + k)
    n = round(seconds * SR)
    t = np.arange(n) / SR
    name = NAMES[k]
    if name == "Kick":
        times, vel = _steps(seconds, 4, "X...x.....x.x...", rng, 0.01)
        body = np.sin(2 * np.pi * 55 * t + 6 * np.exp(-(t % 0.5) / 0.03))
        mono = _hits(n, times, vel, 0.12, body)
    elif name == "Snare":
        times, vel = _steps(seconds, 4, "....X.......X..x", rng, 0.02)
        mono = _hits(n, times, vel, 0.09, rng.standard_normal(n) * 0.6
                     + 0.4 * np.sin(2 * np.pi * 190 * t))
    elif name == "Hats":
        times, vel = _steps(seconds, 4, "x.x.x.x.x.x.x.xX", rng, 0.1)
        mono = _hits(n, times, vel, 0.025, np.diff(rng.standard_normal(n + 1)))
    elif name == "Shaker":
        times, vel = _steps(seconds, 4, "xxxxxxxxxxxxxxxx", rng, 0.0)
        mono = _hits(n, times + 0.01 * rng.random(len(times)), vel, 0.04,
                     np.diff(rng.standard_normal(n + 1)) * 0.5)
    elif name in ("Bass", "Sub"):
        s, p, v = _melody(seconds, rng, 2, -2 if name == "Bass" else -3, True)
        mono = np.tanh(2.5 * _line(n, s, p, v, "saw" if name == "Bass" else "sine", 0.6))
    elif name in ("Pad", "Strings"):
        mono = np.zeros(n)
        for voice in range(3):
            s, p, v = _melody(seconds, rng, 1 if name == "Pad" else 2, 0, True)
            p = np.array([CHORDS[int(x // (8 * 60 / TEMPO)) % 4][voice]
                          for x in s / SR]) + (12 if name == "Strings" else 0)
            mono += _line(n, s, p + 0.05 * voice, 0.4 + 0.1 * v, "saw", 4.0, 0.25)
        mono *= 0.5 + 0.5 * np.sin(2 * np.pi * t / (7.0 + k)) ** 2
    elif name == "Keys":
        mono = sum(_line(n, *_melody(seconds, rng, 1, 0, True), "triangle", 0.5)
                   for _ in range(3))
    elif name == "Arp":
        mono = _line(n, *_melody(seconds, rng, 4, 1, True), "square", 0.12)
    elif name == "Lead":
        mono = _line(n, *_melody(seconds, rng, 2, 1, False), "saw", 0.4, 0.02)
    elif name in ("Vox", "Backing"):
        s, p, v = _melody(seconds, rng, 1, 0 if name == "Vox" else 1, False)
        src = _line(n, s, p, v, "saw", 1.5, 0.05)
        from scipy.signal import butter, sosfilt

        mono = sum(sosfilt(butter(2, [f * 0.9, f * 1.1], "band", fs=SR, output="sos"), src)
                   for f in (700.0, 1220.0, 2600.0))
        mono *= 0.6 + 0.4 * np.sin(2 * np.pi * 4.5 * t)  # syllables
    elif name == "Guitar":
        mono = np.zeros(n)
        for voice in range(3):
            s, p, v = _melody(seconds, rng, 2, -1, True)
            p = np.array([CHORDS[int(x // (8 * 60 / TEMPO)) % 4][voice] - 12 for x in s / SR])
            mono += np.tanh(3 * _line(n, s + 40 * voice, p, v, "saw", 0.35))
    elif name == "Riser":
        period = 8 * 60.0 / TEMPO
        ramp = (t % period) / period
        mono = np.diff(rng.standard_normal(n + 1)) * ramp ** 2 + 0.3 * np.sin(
            2 * np.pi * np.cumsum(200 + 1800 * ramp) / SR) * ramp
    else:  # Toms
        times, vel = _steps(seconds, 4, "....x..x...x..xx", rng, 0.05)
        pitch = 90 + 60 * (np.arange(n) // (SR // 4) % 3)
        mono = _hits(n, times, vel, 0.2, np.sin(2 * np.pi * np.cumsum(pitch) / SR))
    mono = np.asarray(mono, dtype=np.float64)
    shift = 7 + 5 * k  # a little width: the right channel a few samples late, other noise
    right = np.roll(mono, shift) * (0.9 + 0.1 * (k % 3)) + 0.003 * rng.standard_normal(n)
    x = np.stack([mono, right])
    x *= 0.5 / max(float(np.abs(x).max()), 1e-9)
    fade = min(480, n // 4)
    x[:, :fade] *= np.linspace(0.0, 1.0, fade)
    x[:, -fade:] *= np.linspace(1.0, 0.0, fade)
    return x.astype(np.float32)


def write_stems(folder: Path, seconds: float) -> list[Path]:
    """Write the sixteen stems as 24-bit WAVs into ``folder`` (kept when already there)."""
    import soundfile as sf

    folder.mkdir(parents=True, exist_ok=True)
    stamp = folder / "stems.json"
    want = {"seconds": seconds, "sample_rate": SR, "version": 1}
    paths = [folder / f"{k:02d}_{name.lower()}.wav" for k, name in enumerate(NAMES)]
    if stamp.exists() and json.loads(stamp.read_text()) == want and all(
            p.exists() for p in paths):
        return paths
    for k, p in enumerate(paths):
        sf.write(str(p), make_stem(k, seconds).T, SR, subtype="PCM_24")
    stamp.write_text(json.dumps(want))
    return paths
