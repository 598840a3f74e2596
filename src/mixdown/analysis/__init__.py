"""Analysis: BS.1770-4 loudness, true peak, loudness range, spectrum, QC report.

Arrays in, numbers out; everything streams in blocks with bit-identical results for any
split of the signal.
"""

from mixdown.analysis.loudness import LoudnessMeter, integrated_loudness
from mixdown.analysis.qc import Analyzer, QCResult, analyze_array, analyze_file
from mixdown.analysis.targets import TARGETS, Target, resolve_target
from mixdown.analysis.truepeak import TruePeakMeter, oversample_4x, true_peak_dbtp

__all__ = [
    "TARGETS",
    "Analyzer",
    "LoudnessMeter",
    "QCResult",
    "Target",
    "TruePeakMeter",
    "analyze_array",
    "analyze_file",
    "integrated_loudness",
    "oversample_4x",
    "resolve_target",
    "true_peak_dbtp",
]
