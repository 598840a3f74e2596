"""Measure a delivered file *after encoding* and check it against its spec.

Every deliverable is decoded again (soundfile decodes MP3 sample-accurately) and
measured with mixdown's analyser (BS.1770-4 loudness, Annex 2 true peak) and with
the limiter's detector (:class:`~mixdown.mastering.limiter.TruePeakDetector`), which
reads at least as high as libebur128, ffmpeg and an 8x oversampler. Meters disagree
by tenths of a dB about decoded MP3s, whose content stops steeply near 20 kHz, so the
true-peak check uses the larger reading. Lossy codecs add overshoot: a master at
-1.0 dBTP often decodes at -0.3 dBTP as MP3, which is why the check is made on the
decoded file.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mixdown.analysis.qc import Analyzer, QCResult
from mixdown.core.errors import FormatError
from mixdown.io.audio import audio_info, iter_blocks
from mixdown.mastering.limiter import TruePeakDetector

PCM_LOUDNESS_TOL_LU = 0.2
"""A PCM deliverable is the master: same loudness within the mastering promise."""
LOSSY_LOUDNESS_TOL_LU = 0.5
"""A lossy encode may move the integrated loudness by a few tenths of a LU."""
LENGTH_TOL_FRAMES = 1
"""Resampling rounds the length to the nearest frame."""


@dataclass(frozen=True, slots=True)
class Check:
    """One line of a deliverable's spec sheet."""

    name: str
    measured: str
    expected: str
    passed: bool

    def as_dict(self) -> dict[str, Any]:
        """Plain dict for JSON and the HTML report."""
        return {"name": self.name, "measured": self.measured, "expected": self.expected,
                "passed": self.passed}


@dataclass(frozen=True, slots=True)
class Measurement:
    """A decoded file's format and loudness figures."""

    path: Path
    format: str
    subtype: str
    sample_rate: int
    channels: int
    frames: int
    bit_depth: int | None
    detector_true_peak_dbtp: float
    qc: QCResult = field(repr=False)

    @property
    def integrated_lufs(self) -> float:
        """BS.1770-4 integrated loudness, LUFS."""
        return self.qc.integrated_lufs

    @property
    def true_peak_dbtp(self) -> float:
        """The larger of the Annex 2 and the detector's true peak, dBTP."""
        return max(self.qc.true_peak_dbtp, self.detector_true_peak_dbtp)

    def as_dict(self) -> dict[str, Any]:
        """Plain dict: format and the QC figures."""
        return {"file": str(self.path), "format": self.format, "subtype": self.subtype,
                "sample_rate": self.sample_rate, "channels": self.channels,
                "frames": self.frames, "bit_depth": self.bit_depth,
                "integrated_lufs": self.integrated_lufs,
                "true_peak_dbtp": self.true_peak_dbtp,
                "true_peak_bs1770_dbtp": self.qc.true_peak_dbtp,
                "loudness_range_lu": self.qc.loudness_range_lu,
                "sample_peak_dbfs": self.qc.sample_peak_dbfs}


_DEPTHS = {"PCM_16": 16, "PCM_24": 24, "PCM_32": 32, "FLOAT": 32, "DOUBLE": 64}


def measure_file(path: str | Path) -> Measurement:
    """Decode ``path`` once and measure it (loudness, both true peaks, format)."""
    info = audio_info(path)
    analyzer = Analyzer(info.sample_rate, info.channels)
    detector = TruePeakDetector(info.sample_rate, info.channels)
    for block in iter_blocks(info.path, 65_536):
        analyzer.push(block)
        detector.push(block)
    if analyzer.frames == 0:
        raise FormatError(f"{info.path}: no audio could be decoded", info.path)
    qc = analyzer.result().with_file(info.path)
    return Measurement(info.path, info.format.lower(), info.subtype, info.sample_rate,
                       info.channels, qc.frames, _DEPTHS.get(info.subtype),
                       detector.true_peak_dbtp(), qc)


def check_measurement(m: Measurement, *, fmt: str, sample_rate: int, channels: int,
                      bit_depth: int | None, frames: int, ceiling_dbtp: float,
                      target_lufs: float | None, lossy: bool) -> list[Check]:
    """The spec sheet of one deliverable (format, rate, depth, length, loudness, peak)."""
    checks = [
        Check("format", m.format, fmt, m.format == fmt),
        Check("sample rate", f"{m.sample_rate} Hz", f"{sample_rate} Hz",
              m.sample_rate == sample_rate),
        Check("channels", str(m.channels), str(channels), m.channels == channels),
        Check("length", f"{m.frames} frames", f"{frames} +-{LENGTH_TOL_FRAMES}",
              abs(m.frames - frames) <= LENGTH_TOL_FRAMES),
    ]
    if bit_depth is not None:
        checks.append(Check("bit depth", f"{m.bit_depth} bit", f"{bit_depth} bit",
                            m.bit_depth == bit_depth))
    tp = m.true_peak_dbtp
    checks.append(Check("true peak", _num(tp, "dBTP", 2), f"<= {ceiling_dbtp:g} dBTP",
                        math.isfinite(tp) and tp <= ceiling_dbtp))
    if target_lufs is not None:
        tol = LOSSY_LOUDNESS_TOL_LU if lossy else PCM_LOUDNESS_TOL_LU
        lufs = m.integrated_lufs
        checks.append(Check("integrated loudness", _num(lufs, "LUFS", 2),
                            f"{target_lufs:g} +-{tol:g} LU",
                            math.isfinite(lufs) and abs(lufs - target_lufs) <= tol))
    return checks


def _num(value: float, unit: str, digits: int) -> str:
    return f"{value:.{digits}f} {unit}" if math.isfinite(value) else f"-inf {unit}"
