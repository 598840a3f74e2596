"""The mastering chain before the limiter: EQ, glue compression, multiband, width.

Order: corrective EQ (subsonic high-pass, shelves), tonal EQ (a bank of bells: what
reference matching fits), glue compression (gentle, RMS, stereo-linked), optional
three-band compression (Linkwitz-Riley 4th-order crossovers, which sum flat), then
mid/side width. Every stage is a zero-latency IIR or gain computer in compiled
code, so the chain keeps the input's sample alignment, and its output does not
depend on the block size. The loudness gain and the true-peak limiter come after
(:func:`~mixdown.mastering.normalize.master_to_target`).

A :class:`ChainSpec` is plain data (JSON-able); :class:`MasterChain` is the
streaming processor built from it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mixdown.core.audio import AudioArray, check_audio
from mixdown.core.errors import ParameterError
from mixdown.dsp.effects.dynamics import Compressor
from mixdown.dsp.filters import (
    SosFilter,
    butterworth_sections,
    peaking_section,
    shelf_section,
)

MAX_EQ_DB = 12.0
"""Largest boost or cut of any EQ band."""


@dataclass(frozen=True, slots=True)
class Bell:
    """A peaking EQ band: centre in Hz, gain in dB at the centre, Q."""

    freq_hz: float
    gain_db: float
    q: float = 1.0


@dataclass(frozen=True, slots=True)
class GlueSpec:
    """Gentle bus compression. ``threshold_db`` None: 3 dB above the input's loudness."""

    threshold_db: float | None = None
    ratio: float = 2.0
    attack_ms: float = 30.0
    release_ms: float = 150.0
    knee_db: float = 6.0
    makeup_db: float = 0.0


@dataclass(frozen=True, slots=True)
class MultibandSpec:
    """Three-band compression: crossovers in Hz; per band threshold (dB) and ratio."""

    crossovers_hz: tuple[float, float] = (120.0, 2500.0)
    thresholds_db: tuple[float, float, float] = (-20.0, -20.0, -20.0)
    ratios: tuple[float, float, float] = (2.0, 2.0, 2.0)
    attack_ms: tuple[float, float, float] = (30.0, 15.0, 5.0)
    release_ms: tuple[float, float, float] = (200.0, 120.0, 80.0)


@dataclass(frozen=True, slots=True)
class ChainSpec:
    """Everything before the limiter. The defaults do nothing (an identity chain)."""

    highpass_hz: float = 0.0
    low_shelf_hz: float = 100.0
    low_shelf_db: float = 0.0
    high_shelf_hz: float = 8000.0
    high_shelf_db: float = 0.0
    bells: tuple[Bell, ...] = ()
    glue: GlueSpec | None = None
    multiband: MultibandSpec | None = None
    width: float = 1.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.highpass_hz <= 200.0:
            raise ParameterError(f"highpass_hz must be 0 (off) .. 200 Hz, got {self.highpass_hz}")
        for name in ("low_shelf_db", "high_shelf_db"):
            if abs(getattr(self, name)) > MAX_EQ_DB:
                raise ParameterError(f"{name} must be within +-{MAX_EQ_DB:g} dB")
        for b in self.bells:
            if not (10.0 <= b.freq_hz <= 24_000.0 and abs(b.gain_db) <= MAX_EQ_DB
                    and 0.1 <= b.q <= 20.0):
                raise ParameterError(f"bell {b} is out of range (10..24000 Hz, +-12 dB, Q "
                                     "0.1..20)")
        if not 0.0 <= self.width <= 2.0:
            raise ParameterError(f"width must be 0 (mono) .. 2, got {self.width}")
        if self.multiband is not None:
            lo, hi = self.multiband.crossovers_hz
            if not 20.0 <= lo < hi <= 16_000.0:
                raise ParameterError(f"multiband crossovers must rise within 20..16000 Hz, got "
                                     f"{self.multiband.crossovers_hz}")

    @property
    def is_identity(self) -> bool:
        """True when the chain would pass the signal unchanged."""
        return (self.highpass_hz == 0 and self.low_shelf_db == 0 and self.high_shelf_db == 0
                and all(b.gain_db == 0 for b in self.bells) and self.glue is None
                and self.multiband is None and self.width == 1.0)

    def as_dict(self) -> dict[str, Any]:
        """Plain dict for JSON."""
        return asdict(self)


@dataclass(slots=True)
class _Band:
    filters: list[SosFilter] = field(default_factory=list)
    comp: Compressor | None = None


def _lr4(kind: str, hz: float, sr: int) -> NDArray[np.float64]:
    """Linkwitz-Riley 4th order: two identical 2nd-order Butterworth sections."""
    rows = butterworth_sections(kind, hz, 2, sr)
    return np.vstack(rows + rows)


class MasterChain:
    """The streaming processor for a :class:`ChainSpec` (Processor protocol, no latency).

    Parameters
    ----------
    spec : ChainSpec
    input_lufs : float, optional
        The input's integrated loudness, for a glue threshold left to ``None``.
    """

    latency_frames = 0

    def __init__(self, spec: ChainSpec, *, input_lufs: float | None = None) -> None:
        self.spec = spec
        self.input_lufs = input_lufs
        self.sample_rate = 0
        self.channels = 0

    def prepare(self, sample_rate: int, channels: int, max_block_frames: int) -> None:
        """Design the filters and compressors for a stream."""
        s = self.spec
        self.sample_rate, self.channels = int(sample_rate), int(channels)
        sr = self.sample_rate
        rows: list[NDArray[np.float64]] = []
        if s.highpass_hz > 0:
            rows += butterworth_sections("highpass", s.highpass_hz, 2, sr)
        if s.low_shelf_db:
            rows.append(shelf_section("low", s.low_shelf_hz, s.low_shelf_db, 0.707, sr))
        if s.high_shelf_db:
            rows.append(shelf_section("high", s.high_shelf_hz, s.high_shelf_db, 0.707, sr))
        rows += [peaking_section(b.freq_hz, b.gain_db, b.q, sr) for b in s.bells
                 if b.gain_db != 0 and b.freq_hz < 0.49 * sr]
        self._eq: SosFilter | None = None
        if rows:
            self._eq = SosFilter(len(rows), self.channels)
            self._eq.set(np.vstack(rows), 0)
        self._glue: Compressor | None = None
        if s.glue is not None:
            g = s.glue
            thr = g.threshold_db
            if thr is None:
                thr = (self.input_lufs if self.input_lufs is not None
                       and math.isfinite(self.input_lufs) else -18.0) + 3.0
            self._glue = Compressor(threshold_db=float(min(0.0, max(-60.0, thr))),
                                    ratio=g.ratio, attack_ms=g.attack_ms,
                                    release_ms=g.release_ms, knee_db=g.knee_db,
                                    makeup_db=g.makeup_db, detector="rms")
            self._glue.prepare(sr, self.channels, max_block_frames)
        self._bands: list[_Band] = []
        if s.multiband is not None:
            self._prepare_multiband(s.multiband, max_block_frames)
        self._width = float(s.width)

    def _prepare_multiband(self, mb: MultibandSpec, block: int) -> None:
        sr = self.sample_rate
        f1, f2 = mb.crossovers_hz

        def filt(sos: NDArray[np.float64]) -> SosFilter:
            f = SosFilter(sos.shape[0], self.channels)
            f.set(sos, 0)
            return f

        # low = AP2(LP1 x); mid = LP2(HP1 x); high = HP2(HP1 x). AP2 = LP2 + HP2 keeps the
        # low band in phase with the other two, so the three sum to AP1 AP2 x (flat).
        self._split1 = (filt(_lr4("lowpass", f1, sr)), filt(_lr4("highpass", f1, sr)))
        self._split2 = (filt(_lr4("lowpass", f2, sr)), filt(_lr4("highpass", f2, sr)))
        self._allpass = (filt(_lr4("lowpass", f2, sr)), filt(_lr4("highpass", f2, sr)))
        for i in range(3):
            comp = Compressor(threshold_db=mb.thresholds_db[i], ratio=mb.ratios[i],
                              attack_ms=mb.attack_ms[i], release_ms=mb.release_ms[i],
                              knee_db=6.0, detector="rms")
            comp.prepare(sr, self.channels, block)
            self._bands.append(_Band(comp=comp))

    def process(self, block: AudioArray, sidechain: AudioArray | None = None) -> AudioArray:
        """Process one float32 (channels, frames) block; returns a new array."""
        check_audio(block, name="block")
        x = np.array(block, dtype=np.float32, copy=True)
        if self._eq is not None:
            self._eq.process(x)
        if self._glue is not None:
            self._glue.process(x)
        if self._bands:
            x = self._multiband(x)
        if self._width != 1.0 and x.shape[0] == 2:
            mid = 0.5 * (x[0] + x[1])
            side = (0.5 * self._width) * (x[0] - x[1])
            x = np.stack([mid + side, mid - side]).astype(np.float32)
        return x

    def _multiband(self, x: AudioArray) -> AudioArray:
        low = x.copy()
        self._split1[0].process(low)
        rest = x.copy()
        self._split1[1].process(rest)
        ap_lo = low.copy()
        self._allpass[0].process(ap_lo)
        self._allpass[1].process(low)
        low = ap_lo + low
        mid = rest.copy()
        self._split2[0].process(mid)
        high = rest
        self._split2[1].process(high)
        out = np.zeros_like(x)
        for band, sig in zip(self._bands, (low, mid, high), strict=True):
            assert band.comp is not None
            sig = np.ascontiguousarray(sig, dtype=np.float32)
            band.comp.process(sig)
            out += sig
        return out

    def set_param(self, name: str, value: Any) -> None:
        """The chain is fixed for a stream; build another to change it."""
        raise ParameterError("a MasterChain is fixed for a stream; build a new ChainSpec")

    def reset(self) -> None:
        """Clear every filter and envelope."""
        if self.sample_rate:
            self.prepare(self.sample_rate, self.channels, 65_536)


def apply_chain(blocks: Iterable[AudioArray], spec: ChainSpec, sample_rate: int, channels: int,
                *, input_lufs: float | None = None) -> Iterator[AudioArray]:
    """Stream ``blocks`` through a fresh :class:`MasterChain`."""
    chain = MasterChain(spec, input_lufs=input_lufs)
    chain.prepare(sample_rate, channels, 65_536)
    for block in blocks:
        yield chain.process(block)


__all__ = ["Bell", "ChainSpec", "GlueSpec", "MasterChain", "MultibandSpec", "apply_chain"]
