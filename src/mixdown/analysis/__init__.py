"""Analysis: BS.1770-4 loudness, true peak, loudness range, spectrum, QC report.

Arrays in, numbers out; everything streams in blocks with bit-identical results for any
split of the signal. Files are measured by :func:`mixdown.io.measure.analyze_file`; the
platform targets are :mod:`mixdown.core.targets`.
"""

from mixdown.analysis.loudness import LoudnessMeter, integrated_loudness
from mixdown.analysis.qc import Analyzer, QCResult, analyze_array
from mixdown.analysis.truepeak import TruePeakMeter, oversample_4x, true_peak_dbtp

__all__ = [
    "Analyzer",
    "LoudnessMeter",
    "QCResult",
    "TruePeakMeter",
    "analyze_array",
    "integrated_loudness",
    "oversample_4x",
    "true_peak_dbtp",
]
