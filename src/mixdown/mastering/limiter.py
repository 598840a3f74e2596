"""The true-peak limiter, as mastering uses it.

The DSP lives in :mod:`mixdown.dsp.true_peak` (it is also the
``true_peak_limiter`` device); this module keeps mastering's names importable from
``mixdown.mastering.limiter``.
"""

from __future__ import annotations

from mixdown.core.targets import check_ceiling
from mixdown.dsp.true_peak import (
    DETECTOR_MARGIN_DB,
    OVERSAMPLE,
    TruePeakDetector,
    TruePeakLimiter,
    limit,
    limit_stream,
)

__all__ = [
    "DETECTOR_MARGIN_DB",
    "OVERSAMPLE",
    "TruePeakDetector",
    "TruePeakLimiter",
    "check_ceiling",
    "limit",
    "limit_stream",
]
