"""Stems: prove that the exported stems sum back to the mix (a null test).

The residual ``mix - sum(stems)`` is streamed block by block; its peak must stay
below :data:`NULL_THRESHOLD_DBFS` (-60 dBFS, issue 4). A stem with fewer channels
than the mix (mono) is spread to every channel.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mixdown.core.errors import FormatError
from mixdown.core.units import gain_to_db
from mixdown.io.audio import audio_info, iter_blocks

NULL_THRESHOLD_DBFS = -60.0
"""Largest residual peak for the stems to count as summing to the mix."""
BLOCK_FRAMES = 65_536


@dataclass(frozen=True, slots=True)
class NullTestResult:
    """The residual of ``mix - sum(stems)``, in dBFS."""

    mix: Path
    stems: tuple[Path, ...]
    residual_peak_dbfs: float
    residual_rms_dbfs: float
    threshold_dbfs: float
    passed: bool
    notes: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        """Plain dict for JSON and the report."""
        return {"mix": str(self.mix), "stems": [str(s) for s in self.stems],
                "residual_peak_dbfs": self.residual_peak_dbfs,
                "residual_rms_dbfs": self.residual_rms_dbfs,
                "threshold_dbfs": self.threshold_dbfs, "passed": self.passed,
                "notes": list(self.notes)}


def null_test(mix: str | Path, stems: Sequence[str | Path], *,
              threshold_dbfs: float = NULL_THRESHOLD_DBFS) -> NullTestResult:
    """Sum ``stems`` and subtract them from ``mix``; report the residual.

    Raises
    ------
    FormatError
        If a stem's sample rate differs from the mix's, or there are no stems.
    """
    mix_path = Path(mix)
    paths = tuple(Path(s) for s in stems)
    if not paths:
        raise FormatError(f"{mix_path}: no stems to compare with", mix_path)
    info = audio_info(mix_path)
    notes: list[str] = []
    for p in paths:
        si = audio_info(p)
        if si.sample_rate != info.sample_rate:
            raise FormatError(f"{p}: {si.sample_rate} Hz; the mix is {info.sample_rate} Hz", p)
        if si.frames != info.frames:
            notes.append(f"{p.name}: {si.frames} frames, the mix {info.frames}; the shorter "
                         "one is padded with silence")
        if si.channels not in (1, info.channels):
            raise FormatError(f"{p}: {si.channels} channels; the mix has {info.channels}", p)
    readers = [iter_blocks(p, BLOCK_FRAMES) for p in paths]
    peak = 0.0
    energy = 0.0
    count = 0
    for block in iter_blocks(mix_path, BLOCK_FRAMES):
        residual = block.astype(np.float64)
        for r in readers:
            stem = next(r, None)
            if stem is None:
                continue
            n = min(stem.shape[1], residual.shape[1])
            residual[:, :n] -= stem[:, :n]
        peak = max(peak, float(np.max(np.abs(residual), initial=0.0)))
        energy += float(np.sum(residual**2))
        count += residual.size
    for r in readers:  # a stem longer than the mix: its extra must be silence
        for stem in r:
            peak = max(peak, float(np.max(np.abs(stem), initial=0.0)))
    peak_db = gain_to_db(peak)
    rms_db = gain_to_db(math.sqrt(energy / count)) if count else -math.inf
    return NullTestResult(mix_path, paths, peak_db, rms_db, threshold_dbfs,
                          peak_db < threshold_dbfs, tuple(notes))
