"""Live modulators: LFOs and envelope followers as curves the renderer already knows.

A modulated parameter becomes a :class:`ModulatedCurve`: its base (the automation lane, or
the fixed value) plus the offsets of its modulators, combined and clamped to the parameter's
range. The renderer evaluates it like any automation curve: on the 256-frame control grid
for device and instrument parameters, per frame for faders, pans and send levels.

Every value is a pure function of the absolute frame (LFOs) or of the source signal up to
that frame (followers, whose envelope runs in a compiled kernel with its state carried from
block to block), so the result never depends on the block size.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from numba import njit
from numpy.typing import NDArray

from mixdown.core.audio import AudioArray
from mixdown.engine.automation import Curve
from mixdown.engine.graph import CONTROL_FRAMES, ChannelNode, DeviceSlot, SendEdge
from mixdown.resolve.modulators import ModTarget, ResolvedFollower, ResolvedLfo
from mixdown.resolve.song import ResolvedChannel, ResolvedSong

F64 = NDArray[np.float64]


class LfoSignal:
    """An LFO's offset at absolute frames: ``depth * wave(cycles(frame))``.

    With a free rate (or a tempo-synced rate at a constant tempo) the cycle count is linear
    in the frame; under a changing tempo it is exact on the control grid (from the tempo
    map) and linear between grid points.
    """

    def __init__(self, lfo: ResolvedLfo, sample_rate: int,
                 beats_at: Callable[[float], float], constant_bpm: float | None) -> None:
        self.lfo = lfo
        self.beats_at = beats_at
        self.per_frame: float | None = None  # cycles per frame when linear
        if lfo.rate_hz is not None:
            self.per_frame = lfo.rate_hz / sample_rate
        elif constant_bpm is not None:
            assert lfo.cycle_beats is not None
            self.per_frame = constant_bpm / 60.0 / lfo.cycle_beats / sample_rate
        self.sample_rate = sample_rate
        self._grid: dict[int, float] = {}  # grid index -> cycles (tempo maps only)

    def _cycles_on_grid(self, k: NDArray[np.int64]) -> F64:
        out = np.empty(k.shape, np.float64)
        sr, cycle = self.sample_rate, self.lfo.cycle_beats
        assert cycle is not None
        for i, kk in enumerate(k.tolist()):
            c = self._grid.get(kk)
            if c is None:
                if len(self._grid) > 4096:  # a render moves forward: forget the past
                    self._grid.clear()
                c = self.beats_at(max(kk, 0) * CONTROL_FRAMES / sr) / cycle
                self._grid[kk] = c
            out[i] = c
        return out

    def cycles(self, frames: F64) -> F64:
        """Cycles since the song's start (phase included) at each frame."""
        if self.per_frame is not None:
            return self.lfo.phase + frames * self.per_frame
        k = np.floor(frames / CONTROL_FRAMES).astype(np.int64)
        ks, inv = np.unique(k, return_inverse=True)
        c0 = self._cycles_on_grid(ks)[inv]
        c1 = self._cycles_on_grid(ks + 1)[inv]
        t = (frames - k * CONTROL_FRAMES) / CONTROL_FRAMES
        return self.lfo.phase + c0 + (c1 - c0) * t

    def offsets(self, frames: F64) -> F64:
        """The offset (in the target's modulation unit) at each frame."""
        return self.lfo.depth * wave(self.lfo.shape, self.cycles(frames), self.lfo.seed)


def wave(shape: str, cycles: F64, seed: int = 0) -> F64:
    """An LFO wave, -1..1, at ``cycles`` (phase 0 is the start of a cycle).

    ``sine``, ``triangle`` and ``saw`` start at 0 rising; ``square`` is +1 for the first
    half of each cycle; ``sample_hold`` holds one seeded random value per cycle.
    """
    u = cycles - np.floor(cycles)
    if shape == "sine":
        return np.sin(2.0 * math.pi * u)
    if shape == "triangle":
        return 1.0 - 4.0 * np.abs((u + 0.25) % 1.0 - 0.5)
    if shape == "saw":
        return 2.0 * ((u + 0.5) % 1.0) - 1.0
    if shape == "square":
        return np.where(u < 0.5, 1.0, -1.0)
    if shape == "sample_hold":
        return _hashed_uniform(np.floor(cycles).astype(np.int64), seed)
    raise ValueError(f"unknown LFO shape {shape!r}")


def _hashed_uniform(k: NDArray[np.int64], seed: int) -> F64:
    """A uniform value in [-1, 1) for each integer ``k`` (splitmix64 of ``seed`` and ``k``)."""
    z = k.astype(np.uint64) + np.uint64((seed * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF)
    with np.errstate(over="ignore"):
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) / float(1 << 53) * 2.0 - 1.0


@njit(cache=True, nogil=True)
def _follow(x: np.ndarray, env: float, attack: float, release: float,
            out: np.ndarray) -> float:  # pragma: no cover - compiled
    """Peak envelope of (channels, frames) ``x`` into ``out``; returns the last value."""
    for i in range(x.shape[1]):
        level = 0.0
        for c in range(x.shape[0]):
            v = abs(x[c, i])
            if v > level:
                level = v
        coef = attack if level > env else release
        env = level + coef * (env - level)
        out[i] = env
    return env


class FollowerSignal:
    """An envelope follower's offset, ``depth * min(envelope, 1)``.

    :meth:`advance` runs the envelope over each block of the source before the target node
    uses it; the value at the last control-grid frame of the previous block is kept for a
    block that starts inside a grid cell.
    """

    def __init__(self, follower: ResolvedFollower, sample_rate: int) -> None:
        self.follower = follower
        self.source = follower.source
        self.attack = math.exp(-1.0 / (follower.attack_s * sample_rate))
        self.release = math.exp(-1.0 / (follower.release_s * sample_rate))
        self.env = 0.0
        self.pos = 0
        self.block: F64 = np.zeros(0, np.float64)
        self.held: tuple[int, float] | None = None  # (grid frame, envelope) before ``pos``
        self.advanced_to = 0

    def advance(self, signal: AudioArray | None, pos: int, n: int) -> None:
        """Follow frames ``[pos, pos + n)`` of the source (None: silence)."""
        if pos < self.advanced_to:
            return  # already followed (a node processed twice in a block never happens)
        if self.block.shape[0]:
            last = self.pos + self.block.shape[0] - 1
            g = (last // CONTROL_FRAMES) * CONTROL_FRAMES
            if g >= self.pos:
                self.held = (g, float(self.block[g - self.pos]))
        out = np.empty(n, np.float64)
        if signal is None:
            signal = np.zeros((1, n), np.float32)
        self.env = _follow(signal, self.env, self.attack, self.release, out)
        self.pos, self.block, self.advanced_to = pos, out, pos + n

    def envelope(self, frames: F64) -> F64:
        """The envelope at frames of the current block (or the held grid frame before it)."""
        idx = frames.astype(np.int64) - self.pos
        out = np.empty(frames.shape, np.float64)
        inside = (idx >= 0) & (idx < self.block.shape[0])
        out[inside] = self.block[idx[inside]]
        if not inside.all():
            held = self.held[1] if self.held is not None else 0.0
            out[~inside] = held
        return out

    def offsets(self, frames: F64) -> F64:
        """The offset (in the target's modulation unit) at each frame."""
        return self.follower.depth * np.minimum(self.envelope(frames), 1.0)


class ModulatedCurve:
    """A parameter's base curve moved by modulators and clamped to its range."""

    is_constant = False

    def __init__(self, base: Curve, mods: list[Any], target: ModTarget) -> None:
        self.base = base
        self.mods = mods
        self.lo = -math.inf if target.lo is None else target.lo
        self.hi = math.inf if target.hi is None else target.hi
        self.semitones = target.semitones

    @property
    def values(self) -> tuple[float, ...]:
        """The base curve's point values."""
        return self.base.values

    def values_at(self, frames: F64) -> F64:
        """Modulated values at absolute frames (float64)."""
        offset = np.zeros(frames.shape, np.float64)
        for m in self.mods:
            offset += m.offsets(frames)
        base = self.base.values_at(frames)
        value = base * np.exp2(offset / 12.0) if self.semitones else base + offset
        return np.clip(value, self.lo, self.hi)

    def value_at(self, frame: float) -> float:
        """The value at one frame."""
        return float(self.values_at(np.array([frame], dtype=np.float64))[0])

    def changes_within(self, start: int, stop: int) -> bool:
        """Always True: a modulated value moves."""
        return True


def attach_modulators(node: ChannelNode, ch: ResolvedChannel, song: ResolvedSong,
                      slots: dict[int, DeviceSlot], sends: list[SendEdge]) -> None:
    """Wrap the curves of every modulated parameter of ``node`` in :class:`ModulatedCurve`.

    A modulator aimed at a bypassed device moves nothing. A follower makes its source a
    dependency of the node (processed first in each block).
    """
    if not ch.modulators:
        return
    sr = song.sample_rate
    tempo = song.tempo
    constant_bpm = tempo.points[0].bpm if song.tempo_constant else None
    groups: dict[tuple[Any, ...], tuple[ModTarget, list[Any]]] = {}
    for m in ch.modulators:
        live: Any
        if isinstance(m, ResolvedLfo):
            live = LfoSignal(m, sr, tempo.seconds_to_beats, constant_bpm)
        else:
            assert isinstance(m, ResolvedFollower)
            live = FollowerSignal(m, sr)
            node.followers.append(live)
            node.deps.add(m.source)
        key = _key(m.target)
        groups.setdefault(key, (m.target, []))[1].append(live)
    for target, mods in groups.values():
        t = target.target
        if t.kind == "volume":
            node.volume_db = ModulatedCurve(node.volume_db, mods, target)  # type: ignore[assignment]
        elif t.kind == "pan":
            node.pan = ModulatedCurve(node.pan, mods, target)  # type: ignore[assignment]
        elif t.kind == "send":
            edge = sends[t.send]
            edge.level_db = ModulatedCurve(edge.level_db, mods, target)  # type: ignore[assignment]
        elif t.kind == "instrument":
            _wrap(node.instrument_automation, t.param.name, mods, target)
        elif t.device in slots:
            _wrap(slots[t.device].automation, t.param.name, mods, target)


def _key(target: ModTarget) -> tuple[Any, ...]:
    t = target.target
    if t.kind in ("volume", "pan"):
        return (t.kind,)
    if t.kind == "send":
        return ("send", t.send)
    if t.kind == "instrument":
        return ("instrument", t.param.name)
    return ("device", t.device, t.param.name)


def _wrap(automation: list[tuple[str, Any]], name: str, mods: list[Any],
          target: ModTarget) -> None:
    for i, (pname, curve) in enumerate(automation):
        if pname == name:
            automation[i] = (name, ModulatedCurve(curve, mods, target))
            return
    automation.append((name, ModulatedCurve(Curve.constant(target.base), mods, target)))


__all__ = ["FollowerSignal", "LfoSignal", "ModulatedCurve", "attach_modulators", "wave"]
