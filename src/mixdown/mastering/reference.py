"""Reference mastering: match a mix's tonal balance, loudness, dynamics and width to one
or more reference tracks.

What is compared (each reference is measured with mixdown's analyser, at its own
sample rate, mono or stereo, and several references are averaged):

* **tonal balance**: 1/3-octave levels relative to the integrated loudness, so that
  a louder reference does not read as brighter. The difference (reference - mix),
  smoothed over three bands and limited to 30 Hz..16 kHz (and to both signals'
  Nyquist), is fitted by least squares with ten octave-spaced bells (31.5 Hz..16 kHz,
  Q 1.41) whose real responses at the mix's rate are the basis, each within
  +-:data:`MAX_MATCH_DB`;
* **loudness**: the references' mean integrated loudness becomes the target
  (unless the caller gives one);
* **dynamics**: if the references' loudness range is smaller, a glue compressor
  with ratio ``mix LRA / reference LRA`` (1..4) narrows it;
* **width**: side/(mid + side) energy; a mid/side gain moves the mix's width to the
  references' (mono on either side: width is left alone).

``amount`` blends everything between "unchanged" (0) and "fully matched" (1);
``eq_amount``, ``dynamics_amount`` and ``width_amount`` scale each aspect on top.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy.signal import sosfreqz

from mixdown.analysis.qc import QCResult
from mixdown.core.errors import FormatError, ParameterError
from mixdown.dsp.filters import peaking_section
from mixdown.io.measure import analyze_file
from mixdown.mastering.chain import Bell, ChainSpec, GlueSpec

MAX_MATCH_DB = 6.0
"""Largest boost or cut reference matching applies in one band."""
BELL_CENTRES_HZ = tuple(31.25 * 2.0**k for k in range(10))  # 31.25 Hz .. 16 kHz
BELL_Q = 1.41
"""One-octave bandwidth."""
MATCH_RANGE_HZ = (30.0, 16_000.0)
MAX_WIDTH_FACTOR = 2.0


@dataclass(frozen=True, slots=True)
class Profile:
    """What matching compares: balance per band (dB re loudness), LUFS, LRA, width."""

    name: str
    sample_rate: int
    channels: int
    band_hz: tuple[float, ...]
    balance_db: tuple[float, ...]
    integrated_lufs: float
    loudness_range_lu: float
    true_peak_dbtp: float
    width: float | None

    @classmethod
    def from_qc(cls, name: str, qc: QCResult) -> Profile:
        """A profile from an analysis result."""
        if not math.isfinite(qc.integrated_lufs):
            raise ParameterError(f"{name}: silent (or shorter than 0.4 s); nothing to match")
        nyquist = 0.45 * qc.sample_rate
        bands = [(f, lv - qc.integrated_lufs) for f, lv in zip(qc.spectrum_hz, qc.spectrum_db,
                                                                  strict=True)
                 if f <= nyquist and math.isfinite(lv)]
        return cls(name, qc.sample_rate, qc.channels, tuple(f for f, _ in bands),
                   tuple(b for _, b in bands), qc.integrated_lufs, qc.loudness_range_lu,
                   qc.true_peak_dbtp, qc.width if qc.channels == 2 else None)


def profile_file(path: str | Path) -> Profile:
    """Measure a reference (or a mix) file.

    Raises
    ------
    FormatError
        If the file is missing, corrupt or unreadable (the message names it).
    ParameterError
        If it is silent.
    """
    p = Path(path)
    try:
        qc = analyze_file(p)
    except FormatError as exc:
        raise FormatError(f"reference {exc}", p) from exc
    return Profile.from_qc(str(p), qc)


@dataclass(slots=True)
class MatchResult:
    """The chain and loudness target that match the references, and what changed."""

    chain: ChainSpec
    target_lufs: float
    report: dict[str, Any] = field(default_factory=dict)
    summary: list[str] = field(default_factory=list)


def _check_amount(name: str, value: float) -> float:
    if not (isinstance(value, int | float) and 0.0 <= value <= 1.0):
        raise ParameterError(f"{name} must be 0..1, got {value!r}")
    return float(value)


def _mean_balance(refs: Sequence[Profile]) -> tuple[np.ndarray, np.ndarray]:
    common = sorted(set.intersection(*(set(r.band_hz) for r in refs)))
    values = np.array([[dict(zip(r.band_hz, r.balance_db, strict=True))[f] for f in common]
                       for r in refs])
    return np.array(common), values.mean(axis=0)


def fit_bells(freqs_hz: np.ndarray, target_db: np.ndarray, sample_rate: int,
              *, limit_db: float = MAX_MATCH_DB) -> list[Bell]:
    """Octave bells whose summed response fits the shape of ``target_db`` (least squares).

    Two passes: a linear fit on the 1 dB responses (plus a free constant: only the shape
    counts), then a correction of the residual through the real cascade response.
    """
    centres = [c for c in BELL_CENTRES_HZ if c < 0.45 * sample_rate]
    if freqs_hz.size == 0 or not centres:
        return []

    def response(gains: np.ndarray) -> np.ndarray:
        total = np.zeros(freqs_hz.size)
        for c, g in zip(centres, gains, strict=True):
            if g:
                sos = peaking_section(c, float(g), BELL_Q, sample_rate)[None]
                _, h = sosfreqz(sos, worN=freqs_hz, fs=sample_rate)
                total += 20 * np.log10(np.abs(h))
        return total

    n = len(centres)
    # a constant column absorbs any overall level offset: balance is relative to loudness,
    # and loudness is set afterwards by the gain, so only the shape needs EQ
    basis = np.stack([response(np.eye(n)[i]) for i in range(n)] + [np.ones(freqs_hz.size)],
                     axis=1)
    ridge = np.diag([0.05] * n + [0.0])  # keeps neighbouring bells from fighting
    lhs = basis.T @ basis + ridge
    gains = np.clip(np.linalg.solve(lhs, basis.T @ target_db)[:n], -limit_db, limit_db)
    residual = target_db - response(gains)
    step = np.linalg.solve(lhs, basis.T @ residual)[:n]
    gains = np.clip(gains + step, -limit_db, limit_db)
    return [Bell(c, round(float(g), 2), BELL_Q) for c, g in zip(centres, gains, strict=True)]


def match_references(
    mix: Profile,
    references: Sequence[Profile],
    *,
    amount: float = 1.0,
    eq_amount: float = 1.0,
    dynamics_amount: float = 1.0,
    width_amount: float = 1.0,
    target_lufs: float | None = None,
) -> MatchResult:
    """The chain (EQ, glue, width) and loudness target that bring ``mix`` to the references.

    Parameters
    ----------
    mix : Profile
        The mix to master.
    references : sequence of Profile
        One or more references, any sample rate, mono or stereo.
    amount : float in [0, 1]
        Blend of every aspect (0 = leave the mix alone).
    eq_amount, dynamics_amount, width_amount : float in [0, 1]
        Per-aspect scale on top of ``amount``.
    target_lufs : float, optional
        Overrides the references' loudness as the target.

    Returns
    -------
    MatchResult
    """
    if not references:
        raise ParameterError("reference matching needs at least one reference track")
    a = _check_amount("amount", amount)
    k_eq = a * _check_amount("eq_amount", eq_amount)
    k_dyn = a * _check_amount("dynamics_amount", dynamics_amount)
    k_w = a * _check_amount("width_amount", width_amount)
    summary: list[str] = []
    report: dict[str, Any] = {"references": [r.name for r in references], "amount": a}

    # tonal balance
    ref_hz, ref_bal = _mean_balance(references)
    mix_map = dict(zip(mix.band_hz, mix.balance_db, strict=True))
    lo, hi = MATCH_RANGE_HZ
    keep = [i for i, f in enumerate(ref_hz) if lo <= f <= hi and f in mix_map]
    freqs = ref_hz[keep]
    diff = ref_bal[keep] - np.array([mix_map[f] for f in freqs])
    if diff.size >= 3:
        diff = np.convolve(np.pad(diff, 1, mode="edge"), np.ones(3) / 3, mode="valid")
    bells = fit_bells(freqs, diff * k_eq, mix.sample_rate) if k_eq > 0 else []
    report["eq"] = {"bands_hz": [b.freq_hz for b in bells],
                    "gains_db": [b.gain_db for b in bells],
                    "difference_hz": freqs.tolist(), "difference_db": diff.tolist()}
    moves = [f"{b.gain_db:+.1f} dB at {_hz(b.freq_hz)}" for b in bells if abs(b.gain_db) >= 0.5]
    summary.append("EQ: " + (", ".join(moves) if moves else "no change over 0.5 dB"))

    # loudness
    ref_lufs = float(np.mean([r.integrated_lufs for r in references]))
    target = target_lufs if target_lufs is not None else (
        mix.integrated_lufs + a * (ref_lufs - mix.integrated_lufs))
    report["loudness"] = {"mix_lufs": mix.integrated_lufs, "reference_lufs": ref_lufs,
                          "target_lufs": target, "from": "target" if target_lufs is not None
                          else "references"}
    summary.append(f"loudness: {mix.integrated_lufs:.1f} -> {target:.1f} LUFS"
                   + (f" (references at {ref_lufs:.1f})" if target_lufs is not None
                      else ""))

    # dynamics
    glue = None
    ref_lra = float(np.mean([r.loudness_range_lu for r in references]))
    ratio = 1.0
    if (k_dyn > 0 and math.isfinite(ref_lra) and math.isfinite(mix.loudness_range_lu)
            and ref_lra > 0 and mix.loudness_range_lu > ref_lra):
        full = min(4.0, mix.loudness_range_lu / max(ref_lra, 0.5))
        ratio = 1.0 + k_dyn * (full - 1.0)
        if ratio >= 1.05:
            glue = GlueSpec(threshold_db=None, ratio=round(ratio, 2))
    report["dynamics"] = {"mix_lra_lu": mix.loudness_range_lu, "reference_lra_lu": ref_lra,
                          "glue_ratio": ratio if glue else 1.0}
    summary.append(f"dynamics: LRA {mix.loudness_range_lu:.1f} LU vs {ref_lra:.1f} LU; "
                   + (f"glue compression {glue.ratio:g}:1" if glue else "no compression"))

    # width
    factor = 1.0
    stereo_refs = [r.width for r in references if r.width is not None]
    if k_w > 0 and mix.width is not None and stereo_refs and 0 < mix.width < 1:
        t = float(np.clip(np.mean(stereo_refs), 1e-4, 0.9))
        c = mix.width
        full = math.sqrt(t * (1 - c) / ((1 - t) * c))
        factor = 1.0 + k_w * (min(MAX_WIDTH_FACTOR, full) - 1.0)
        summary.append(f"width: {c:.2f} -> {t:.2f} (side x{factor:.2f})")
    else:
        why = ("the mix is mono" if mix.width is None else
               "no stereo reference" if not stereo_refs else "not asked")
        summary.append(f"width: unchanged ({why})")
    report["width"] = {"mix": mix.width, "reference": (float(np.mean(stereo_refs))
                                                       if stereo_refs else None),
                       "side_gain": factor}
    chain = ChainSpec(bells=tuple(bells), glue=glue, width=round(factor, 3))
    return MatchResult(chain, float(target), report, summary)


def _hz(f: float) -> str:
    return f"{f / 1000:.3g} kHz" if f >= 1000 else f"{f:.3g} Hz"
