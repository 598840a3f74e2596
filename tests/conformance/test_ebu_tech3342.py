"""EBU Tech 3342 loudness range test cases 1-4, generated from their definitions.

Each is a stereo 1 kHz sine stepping between levels (dBFS = LUFS for this signal);
the published tolerance is +-1 LU. mixdown uses 3 s blocks every 100 ms (Tech 3342:
at least 10 Hz).
"""

from __future__ import annotations

import numpy as np
import pytest

from mixdown.analysis import LoudnessMeter

LRA_TOL = 1.0  # Tech 3342: +-1 LU
SR = 48_000


def steps(levels: list[float], seconds: float = 20.0) -> np.ndarray:
    n = round(seconds * SR)
    t = np.arange(n * len(levels)) / SR
    gain = np.repeat([10 ** (v / 20) for v in levels], n)
    x = (gain * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)
    return np.stack([x, x])


@pytest.mark.parametrize(("case", "levels", "lra"), [
    (1, [-20.0, -30.0], 10.0),
    (2, [-20.0, -15.0], 5.0),
    (3, [-40.0, -20.0], 20.0),
    (4, [-50.0, -35.0, -20.0, -35.0, -50.0], 15.0),
])
def test_tech3342_case(case: int, levels: list[float], lra: float) -> None:
    meter = LoudnessMeter(SR, 2)
    meter.push(steps(levels))
    assert meter.loudness_range_lu() == pytest.approx(lra, abs=LRA_TOL), f"case {case}"
