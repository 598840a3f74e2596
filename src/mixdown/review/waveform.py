"""Waveform peaks and the short-term loudness curve of a file, measured once per version.

One streaming pass over the audio (memory bounded by the block size) gives:

- peaks: per bin of ``samples_per_point`` frames, the minimum and maximum sample over all
  channels (the audiowaveform/peaks.js idea), stored as int16 at :data:`BASE_POINTS_PER_S`;
  coarser views are reduced from it on demand (min of mins, max of maxes);
- the short-term loudness (BS.1770, 3 s window) every :data:`CURVE_HOP_S` seconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mixdown.analysis.loudness import LoudnessMeter
from mixdown.core.errors import ParameterError
from mixdown.io.audio import audio_info, iter_blocks

BASE_POINTS_PER_S = 200
"""Resolution of the stored peaks (points per second)."""
CURVE_HOP_S = 0.1
"""Seconds between two points of the stored loudness curve."""
PEAKS_FILE = "peaks.npy"
CURVE_FILE = "loudness.npy"
_SCALE = 32767.0


@dataclass(frozen=True, slots=True)
class Peaks:
    """Min/max pairs of a waveform (channels merged).

    Attributes
    ----------
    sample_rate : int
        Hz of the audio.
    samples_per_point : int
        Frames per point.
    min, max : ndarray of float32
        Lowest and highest sample of each point, in -1..1 (full scale).
    """

    sample_rate: int
    samples_per_point: int
    min: NDArray[np.float32]
    max: NDArray[np.float32]

    @property
    def points(self) -> int:
        """Number of points."""
        return len(self.min)

    @property
    def points_per_second(self) -> float:
        """Points per second of audio."""
        return self.sample_rate / self.samples_per_point

    def as_dict(self, bits: int = 8) -> dict[str, Any]:
        """audiowaveform's JSON format (version 2, one channel): ``data`` interleaves min and
        max as integers of ``bits`` (8 or 16) bits; divide by 128 or 32768 for full scale."""
        if bits not in (8, 16):
            raise ParameterError(f"bits must be 8 or 16, got {bits}")
        scale = 127.0 if bits == 8 else 32767.0
        data = np.empty(2 * self.points, np.int32)
        data[0::2] = np.round(self.min * scale)
        data[1::2] = np.round(self.max * scale)
        return {"version": 2, "channels": 1, "sample_rate": self.sample_rate,
                "samples_per_pixel": self.samples_per_point, "bits": bits,
                "length": self.points, "data": data.tolist()}


@dataclass(frozen=True, slots=True)
class LoudnessCurve:
    """Short-term loudness over time.

    Attributes
    ----------
    hop_s : float
        Seconds between points.
    t0_s : float
        Time of the first point (the end of its 3 s window), seconds.
    lufs : ndarray of float32
        Short-term loudness, LUFS (``-inf`` for silence).
    """

    hop_s: float
    t0_s: float
    lufs: NDArray[np.float32]

    def times(self) -> NDArray[np.float64]:
        """The time of each point in seconds."""
        return self.t0_s + np.arange(len(self.lufs)) * self.hop_s

    def as_dict(self) -> dict[str, Any]:
        """``{"hop_s", "t0_s", "lufs": [.. None for silence ..]}`` (LUFS to 0.1)."""
        vals = np.round(self.lufs.astype(np.float64), 1)
        return {"hop_s": self.hop_s, "t0_s": self.t0_s,
                "lufs": [v if math.isfinite(v) else None for v in vals.tolist()]}


def measure_waveform(path: Path, block_frames: int = 1 << 16) -> tuple[Peaks, LoudnessCurve]:
    """Peaks at :data:`BASE_POINTS_PER_S` and the short-term curve of an audio file, in one
    streaming pass."""
    info = audio_info(path)
    sr = info.sample_rate
    spp = max(1, round(sr / BASE_POINTS_PER_S))
    block = max(spp, (block_frames // spp) * spp)
    meter = LoudnessMeter(sr, info.channels, series=True)
    mins: list[NDArray[np.float32]] = []
    maxs: list[NDArray[np.float32]] = []
    carry = np.zeros((info.channels, 0), np.float32)
    for chunk in iter_blocks(path, block, check_finite=False):
        meter.push(chunk)
        data = np.concatenate([carry, chunk], axis=1) if carry.shape[1] else chunk
        whole = (data.shape[1] // spp) * spp
        if whole:
            bins = data[:, :whole].reshape(data.shape[0], -1, spp)
            mins.append(bins.min(axis=(0, 2)))
            maxs.append(bins.max(axis=(0, 2)))
        carry = data[:, whole:]
    if carry.shape[1]:
        mins.append(carry.min(axis=0, keepdims=False).min(keepdims=True))
        maxs.append(carry.max(axis=0, keepdims=False).max(keepdims=True))
    lo = np.clip(np.concatenate(mins) if mins else np.zeros(0, np.float32), -1, 1)
    hi = np.clip(np.concatenate(maxs) if maxs else np.zeros(0, np.float32), -1, 1)
    peaks = Peaks(sr, spp, lo.astype(np.float32), hi.astype(np.float32))
    series = meter.series_compact("short_term")
    step = max(1, round(CURVE_HOP_S / series.hop_s)) if len(series) else 1
    lufs = np.asarray(series.lufs[::step], np.float32)
    t0 = float(series.times(0, 1)[0]) if len(series) else 3.0
    return peaks, LoudnessCurve(series.hop_s * step, t0, lufs)


def save_waveform(folder: Path, peaks: Peaks, curve: LoudnessCurve) -> None:
    """Write ``peaks.npy`` (int16 min/max rows, a header row with rate and bin size) and
    ``loudness.npy`` (float32, a header with hop and start) into ``folder``."""
    table = np.empty((peaks.points + 1, 2), np.int32)
    table[0] = (peaks.sample_rate, peaks.samples_per_point)
    table[1:, 0] = np.round(peaks.min * _SCALE)
    table[1:, 1] = np.round(peaks.max * _SCALE)
    np.save(folder / PEAKS_FILE, table, allow_pickle=False)
    np.save(folder / CURVE_FILE,
            np.concatenate([[curve.hop_s, curve.t0_s], curve.lufs]).astype(np.float64),
            allow_pickle=False)


def load_peaks(folder: Path) -> Peaks:
    """The stored peaks of a version or reference."""
    table = np.load(folder / PEAKS_FILE, allow_pickle=False)
    sr, spp = int(table[0, 0]), int(table[0, 1])
    return Peaks(sr, spp, (table[1:, 0] / _SCALE).astype(np.float32),
                 (table[1:, 1] / _SCALE).astype(np.float32))


def load_curve(folder: Path) -> LoudnessCurve:
    """The stored loudness curve of a version or reference."""
    raw = np.load(folder / CURVE_FILE, allow_pickle=False)
    return LoudnessCurve(float(raw[0]), float(raw[1]), raw[2:].astype(np.float32))


def reduce_peaks(peaks: Peaks, points_per_second: float | None) -> Peaks:
    """``peaks`` at about ``points_per_second`` (whole multiples of the stored bin; never
    finer than stored). None keeps the stored resolution."""
    if points_per_second is None:
        return peaks
    if not (isinstance(points_per_second, int | float) and math.isfinite(points_per_second)
            and points_per_second > 0):
        raise ParameterError(f"points per second must be > 0, got {points_per_second!r}")
    factor = max(1, int(peaks.points_per_second / points_per_second))
    if factor == 1:
        return peaks
    n = peaks.points
    pad = (-n) % factor
    lo = np.concatenate([peaks.min, np.full(pad, np.inf, np.float32)]).reshape(-1, factor)
    hi = np.concatenate([peaks.max, np.full(pad, -np.inf, np.float32)]).reshape(-1, factor)
    return Peaks(peaks.sample_rate, peaks.samples_per_point * factor,
                 lo.min(axis=1).astype(np.float32), hi.max(axis=1).astype(np.float32))


__all__ = ["BASE_POINTS_PER_S", "CURVE_HOP_S", "LoudnessCurve", "Peaks", "load_curve",
           "load_peaks", "measure_waveform", "reduce_peaks", "save_waveform"]
