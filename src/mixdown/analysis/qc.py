"""Every QC figure of a signal in one streaming pass: loudness, peaks, phase, DC, clipping.

:class:`Analyzer` takes blocks (a render pushes its output as it writes it);
:func:`mixdown.io.measure.analyze_file` streams a file through one. :class:`QCResult`
holds the figures, turns them into the JSON of ``mixdown analyze --json`` and the QC
sidecar (:meth:`QCResult.as_dict`) and into the one-line summary.

Definitions
-----------
* loudness figures: :mod:`mixdown.analysis.loudness` (BS.1770-4, EBU R128, Tech 3342);
* true peak: :mod:`mixdown.analysis.truepeak` (BS.1770-4 Annex 2, max over channels);
* ``sample_peak_dbfs``: largest |sample|; ``plr_db`` = true peak - integrated loudness;
* ``dc_offset``: mean per channel (linear); ``rms_dbfs``: RMS over all channels re a
  full-scale square wave (a full-scale sine reads -3.01); ``crest_factor_db`` = sample
  peak - RMS;
* ``clipped_samples``: samples in runs of at least 2 consecutive samples (per channel)
  at or above 32767/32768 of full scale; ``clip_runs`` counts the runs;
* ``correlation`` (stereo only): sum(L R) / sqrt(sum L^2 sum R^2), +1 mono, 0 unrelated,
  -1 polarity-inverted; ``width`` (stereo only): side energy / (mid + side) energy,
  0 mono, 0.5 unrelated channels, 1 fully out of phase;
* spectrum: :mod:`mixdown.analysis.spectrum`, 1/3-octave levels re a full-scale sine.
"""

from __future__ import annotations

import dataclasses
import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mixdown.analysis import _kernels as K
from mixdown.analysis.loudness import (
    LoudnessMeter,
    LoudnessSeries,
    energy_to_lufs,
)
from mixdown.analysis.spectrum import SpectrumAccumulator
from mixdown.analysis.truepeak import TruePeakMeter
from mixdown.core.audio import AudioArray
from mixdown.core.errors import ParameterError
from mixdown.core.pipeline import inline

DC_WARN_LINEAR = 10.0 ** (-60.0 / 20.0)
"""A DC offset above -60 dBFS is worth a warning (audible thumps at edits, lost headroom)."""

BLOCK_FRAMES = 65_536


_POOL: ThreadPoolExecutor | None = None


def _pool() -> ThreadPoolExecutor:
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mixdown-truepeak")
    return _POOL


def _db(linear: float) -> float:
    return 20.0 * math.log10(linear) if linear > 0 else -math.inf


def _fmt(value: float, unit: str) -> str:
    return f"{value:.1f} {unit}" if math.isfinite(value) else f"-inf {unit}"


@dataclass(frozen=True, slots=True)
class QCResult:
    """The QC figures of one signal (see the module notes for definitions and units)."""

    sample_rate: int
    channels: int
    frames: int
    integrated_lufs: float
    loudness_range_lu: float
    true_peak_dbtp: float
    true_peak_per_channel_dbtp: tuple[float, ...]
    true_peak_oversampling: int
    sample_peak_dbfs: float
    max_momentary_lufs: float
    max_short_term_lufs: float
    relative_gate_lufs: float
    dc_offset: tuple[float, ...]
    rms_dbfs: float
    clipped_samples: int
    clip_runs: int
    longest_clip_run: int
    correlation: float | None
    width: float | None
    spectrum_hz: tuple[float, ...]
    spectrum_db: tuple[float, ...]
    warnings: tuple[str, ...]
    file: str | None = None
    momentary: LoudnessSeries | None = field(default=None, repr=False, compare=False)
    """Momentary loudness every series hop (series only); ``np.asarray`` gives (points, 2)."""
    short_term: LoudnessSeries | None = field(default=None, repr=False, compare=False)
    """Short-term loudness every series hop (series only)."""
    series_hop_s: float = 0.0
    waveform: NDArray[np.float32] | None = field(default=None, repr=False, compare=False)
    """(2, channels, hops): min and max of each series hop (series only)."""
    true_peak_envelope: NDArray[np.float32] | None = field(default=None, repr=False,
                                                         compare=False)
    """(hops,): linear true peak of each series hop over all channels (series only)."""
    ltas: tuple[NDArray[np.float64], NDArray[np.float64]] | None = field(
        default=None, repr=False, compare=False)
    """(frequencies Hz, mean square per bin) of the long-term average spectrum."""

    @property
    def duration_s(self) -> float:
        """Length in seconds."""
        return self.frames / self.sample_rate

    @property
    def plr_db(self) -> float:
        """Peak-to-loudness ratio: true peak minus integrated loudness (nan when silent)."""
        if math.isfinite(self.true_peak_dbtp) and math.isfinite(self.integrated_lufs):
            return self.true_peak_dbtp - self.integrated_lufs
        return math.nan

    @property
    def crest_factor_db(self) -> float:
        """Sample peak minus RMS in dB (nan when silent)."""
        if math.isfinite(self.sample_peak_dbfs) and math.isfinite(self.rms_dbfs):
            return self.sample_peak_dbfs - self.rms_dbfs
        return math.nan

    def with_file(self, path: str | Path) -> QCResult:
        """A copy naming the file the figures belong to."""
        return dataclasses.replace(self, file=str(path))

    def as_dict(self) -> dict[str, Any]:
        """The JSON object of ``mixdown analyze --json`` and of the QC sidecar.

        Non-finite figures stay ``float('-inf')``/``nan`` here; :func:`mixdown.cli.output.
        print_json` writes them as ``null``. Series (``momentary``, ``short_term``) are
        sequences of ``[t_end_seconds, lufs]`` rows and appear only when measured: compact
        :class:`~mixdown.analysis.loudness.LoudnessSeries` objects that
        :func:`mixdown.core.jsonable.write_json` streams (``list(...)`` for plain lists).
        """
        d: dict[str, Any] = {}
        if self.file is not None:
            d["file"] = self.file
        d.update(
            sample_rate=self.sample_rate,
            channels=self.channels,
            duration_s=self.duration_s,
            integrated_lufs=self.integrated_lufs,
            loudness_range_lu=self.loudness_range_lu,
            true_peak_dbtp=self.true_peak_dbtp,
            sample_peak_dbfs=self.sample_peak_dbfs,
            max_momentary_lufs=self.max_momentary_lufs,
            max_short_term_lufs=self.max_short_term_lufs,
            plr_db=self.plr_db,
            dc_offset=list(self.dc_offset),
            clipped_samples=self.clipped_samples,
            correlation=self.correlation,
            warnings=list(self.warnings),
            true_peak_per_channel_dbtp=list(self.true_peak_per_channel_dbtp),
            true_peak_oversampling=self.true_peak_oversampling,
            relative_gate_lufs=self.relative_gate_lufs,
            rms_dbfs=self.rms_dbfs,
            crest_factor_db=self.crest_factor_db,
            clip_runs=self.clip_runs,
            longest_clip_run=self.longest_clip_run,
            width=self.width,
            spectrum_third_octave={"frequencies_hz": list(self.spectrum_hz),
                                   "levels_db": list(self.spectrum_db)},
        )
        if self.momentary is not None:
            d["momentary"] = self.momentary
        if self.short_term is not None:
            d["short_term"] = self.short_term
        return d

    def summary(self) -> str:
        """One line: ``-14.1 LUFS, LRA 6.2 LU, -1.2 dBTP``."""
        return (f"{_fmt(self.integrated_lufs, 'LUFS')}, LRA {_fmt(self.loudness_range_lu, 'LU')}, "
                f"{_fmt(self.true_peak_dbtp, 'dBTP')}")


class Analyzer:
    """Streaming QC analysis: push blocks, then read :meth:`result`.

    Parameters
    ----------
    sample_rate : int
        8000..192000 Hz.
    channels : int
        1..64 (1 mono, 2 stereo, 5 = L R C Ls Rs, 6 = L R C LFE Ls Rs).
    series : bool
        Also keep the momentary/short-term series, a min/max waveform and a true-peak
        envelope per <= 10 ms hop (what the HTML report plots).

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(48000 * 4) / 48000
    >>> tone = (0.1 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)
    >>> qc = Analyzer(48000, 2)
    >>> qc.push(np.stack([tone, tone]))
    >>> qc.result().summary()
    '-20.0 LUFS, LRA 0.0 LU, -20.0 dBTP'
    """

    def __init__(self, sample_rate: int, channels: int, *, series: bool = False) -> None:
        self.loudness = LoudnessMeter(sample_rate, channels, series=series)
        self.sample_rate = self.loudness.sample_rate
        self.channels = self.loudness.channels
        self.series = bool(series)
        if self.series:
            self.loudness._wave = True
        self.true_peak = TruePeakMeter(self.sample_rate, self.channels)
        self.spectrum = SpectrumAccumulator(self.sample_rate, self.channels)
        self._tp_env: list[np.ndarray] = []
        self._tp_open = 0.0
        self._tp_fill = 0

    @property
    def frames(self) -> int:
        """Frames pushed so far."""
        return self.loudness.frames

    def push(self, block: AudioArray) -> None:
        """Analyse the next float32 (channels, frames) block.

        Raises
        ------
        ParameterError
            If the shape does not match, or the block holds NaN or inf (the message
            gives the time of the first one).
        """
        x = self.loudness._check_block(block)
        if x.shape[1] == 0:
            return
        # The true-peak kernel runs beside the loudness kernel (both release the GIL);
        # each keeps its own state, so the figures do not depend on the timing.
        # One thread per job (a batch worker): the true peak is metered here first.
        peak = None if inline() else _pool().submit(self.true_peak._run, x, self.series)
        env = self.true_peak._run(x, self.series) if peak is None else None
        try:
            self.loudness.push(x)
            self.spectrum.push(x)
        finally:
            if peak is not None:
                env = peak.result()
        if env is not None:
            self._collect_envelope(env)

    def _collect_envelope(self, env: np.ndarray) -> None:
        hop = self.loudness._grid.sub_len
        pos = 0
        n = len(env)
        out: list[float] = []
        while pos < n:
            take = min(hop - self._tp_fill, n - pos)
            self._tp_open = max(self._tp_open, float(env[pos : pos + take].max()))
            self._tp_fill += take
            pos += take
            if self._tp_fill == hop:
                out.append(self._tp_open)
                self._tp_open = 0.0
                self._tp_fill = 0
        if out:
            self._tp_env.append(np.asarray(out, np.float32))

    def result(self) -> QCResult:
        """The figures of everything pushed so far (the analyzer stays usable)."""
        m = self.loudness
        frames = m.frames
        n_total = frames * self.channels
        fstat = m._fstat
        warnings: list[str] = []
        if m.layout_warning:
            warnings.append(m.layout_warning)
        integrated = m.integrated_lufs()
        duration = frames / self.sample_rate
        if frames == 0:
            warnings.append("no audio: 0 frames")
        elif duration < 0.4:
            warnings.append(f"shorter than one 400 ms gating block ({duration:.3f} s): "
                            "no loudness figures")
        elif not math.isfinite(integrated):
            warnings.append("silence: nothing above the -70 LUFS gate, loudness figures are null")
        if 0.4 <= duration < 3.0:
            warnings.append(f"shorter than 3 s ({duration:.2f} s): no short-term loudness "
                            "or loudness range")
        dc = tuple(float(v) for v in (fstat[0] / frames if frames else np.zeros(self.channels)))
        for i, v in enumerate(dc):
            if abs(v) > DC_WARN_LINEAR:
                warnings.append(f"DC offset on channel {i + 1}: {v:+.5f} ({_db(abs(v)):.1f} dBFS); "
                                "high-pass the source")
        ist = m._ist
        clipped = int(ist[K.I_CLIPPED])
        runs = int(ist[K.I_CLIP_RUNS])
        longest = int(ist[K.I_LONGEST])
        if clipped:
            warnings.append(f"clipping: {clipped} samples at full scale in {runs} runs "
                            f"(longest {longest})")
        sample_peak = _db(float(fstat[2].max())) if frames else -math.inf
        if sample_peak > 0.0:
            warnings.append(f"samples above full scale (peak {sample_peak:+.2f} dBFS): they will "
                            "clip in a fixed-point file")
        tp_channels = self.true_peak.channel_true_peaks_dbtp()
        tp = max(tp_channels) if frames else -math.inf
        if tp > 0.0:
            warnings.append(f"true peak {tp:+.2f} dBTP: inter-sample peaks will clip after "
                            "conversion or encoding")
        correlation: float | None = None
        width: float | None = None
        if self.channels == 2 and frames:
            ll, rr, lr = float(fstat[1, 0]), float(fstat[1, 1]), float(m._slr[0])
            if ll > 0 and rr > 0:
                correlation = max(-1.0, min(1.0, lr / math.sqrt(ll * rr)))
            mid = ll + rr + 2 * lr
            side = ll + rr - 2 * lr
            if mid + side > 0:
                width = max(0.0, min(1.0, side / (mid + side)))
            if correlation is not None and correlation < 0.0:
                warnings.append(f"negative phase correlation ({correlation:+.2f}): the mix "
                                "loses level in mono; check polarity")
        sumsq = float(fstat[1].sum())
        rms = _db(math.sqrt(sumsq / n_total)) if n_total and sumsq > 0 else -math.inf
        hz, db = self.spectrum.third_octave_db()
        momentary = short_term = waveform = env = None
        if self.series:
            momentary = m.series_compact("momentary")
            short_term = m.series_compact("short_term")
            waveform = (np.concatenate(m._w_series, axis=2) if m._w_series
                        else np.zeros((2, self.channels, 0), np.float32))
            env = (np.concatenate(self._tp_env) if self._tp_env else np.zeros(0, np.float32))
        return QCResult(
            sample_rate=self.sample_rate,
            channels=self.channels,
            frames=frames,
            integrated_lufs=integrated,
            loudness_range_lu=m.loudness_range_lu(),
            true_peak_dbtp=tp,
            true_peak_per_channel_dbtp=tuple(tp_channels),
            true_peak_oversampling=self.true_peak.oversampling,
            sample_peak_dbfs=sample_peak,
            max_momentary_lufs=m.max_momentary_lufs(),
            max_short_term_lufs=m.max_short_term_lufs(),
            relative_gate_lufs=m.relative_gate_lufs(),
            dc_offset=dc,
            rms_dbfs=rms,
            clipped_samples=clipped,
            clip_runs=runs,
            longest_clip_run=longest,
            correlation=correlation,
            width=width,
            spectrum_hz=tuple(hz),
            spectrum_db=tuple(db),
            warnings=tuple(warnings),
            momentary=momentary,
            short_term=short_term,
            series_hop_s=m.series_hop_s,
            waveform=waveform,
            true_peak_envelope=env,
            ltas=self.spectrum.power(),
        )


def analyze_array(audio: AudioArray, sample_rate: int, *, series: bool = False) -> QCResult:
    """QC figures of a whole float32 (channels, frames) array (see :class:`Analyzer`)."""
    if not isinstance(audio, np.ndarray) or audio.ndim != 2:
        raise ParameterError(
            f"audio must be a 2-D array shaped (channels, frames), got "
            f"{getattr(audio, 'shape', type(audio).__name__)}"
        )
    analyzer = Analyzer(sample_rate, audio.shape[0], series=series)
    for start in range(0, audio.shape[1], BLOCK_FRAMES):
        analyzer.push(audio[:, start : start + BLOCK_FRAMES])
    return analyzer.result()


__all__ = ["BLOCK_FRAMES", "Analyzer", "QCResult", "analyze_array", "energy_to_lufs"]
