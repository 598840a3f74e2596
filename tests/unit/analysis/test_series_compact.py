"""The loudness series are held compactly and written to JSON a slice at a time (issue 8).

``analyze --series`` on a 10-hour file used 3.7 GB when the series were Python lists; now
they are float32 arrays at the series' step and the JSON writer streams them.
"""

from __future__ import annotations

import io
import json
import math
import tracemalloc

import numpy as np
import pytest

from mixdown.analysis.loudness import LoudnessMeter, LoudnessSeries
from mixdown.analysis.qc import Analyzer, analyze_array
from mixdown.core.errors import ParameterError
from mixdown.core.jsonable import to_jsonable, write_json


def _program(seconds: float, rate: int = 48_000, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    level = np.repeat(rng.uniform(0.02, 0.3, int(seconds) + 1), rate)[:n]
    return (rng.standard_normal((2, n)) * level).astype(np.float32)


class _Sink(io.TextIOBase):
    """A text stream that keeps only the character count."""

    def __init__(self) -> None:
        self.chars = 0

    def write(self, s: str) -> int:
        self.chars += len(s)
        return len(s)


def test_series_are_float32_at_the_series_step() -> None:
    x = _program(20.0)
    r = analyze_array(x, 48_000, series=True)
    for series, first in ((r.momentary, 0.4), (r.short_term, 3.0)):
        assert isinstance(series, LoudnessSeries)
        assert series.lufs.dtype == np.float32 and series.lufs.ndim == 1
        assert series.lufs.nbytes == 4 * len(series)  # 4 bytes a point, no time column
        assert series.hop_s == pytest.approx(0.01)
        assert series[0][0] == pytest.approx(first)
        assert series[-1][0] == pytest.approx(20.0)
        assert len(series) == round((20.0 - first) / 0.01) + 1


def test_compact_series_read_the_same_as_the_meter_to_float32_precision() -> None:
    x = _program(12.0, 44_100)
    meter = LoudnessMeter(44_100, 2, series=True)
    meter.push(x)
    full = meter.momentary_series()
    compact = meter.series_compact("momentary")
    np.testing.assert_array_equal(np.asarray(compact), full)
    rows = compact[:]
    assert len(rows) == len(full)
    t, v = np.array([r[0] for r in rows]), np.array([r[1] for r in rows])
    np.testing.assert_allclose(t, full[:, 0], atol=1e-6)
    np.testing.assert_allclose(v, full[:, 1], atol=1e-4)  # rounded to 0.0001 LU


def test_silence_reads_none_in_the_rows_and_indexing_checks_its_range() -> None:
    x = _program(6.0)
    x[:, : 48_000 * 2] = 0.0
    r = analyze_array(x, 48_000, series=True)
    assert r.momentary[0][1] is None  # -inf LUFS is JSON null
    assert r.momentary[-1][1] is not None and math.isfinite(r.momentary[-1][1])
    assert r.momentary[::100] == [r.momentary[i] for i in range(0, len(r.momentary), 100)]
    with pytest.raises(IndexError):
        r.momentary[len(r.momentary)]
    with pytest.raises(ParameterError, match="kind"):
        LoudnessMeter(48_000, 2, series=True).series_compact("integrated")


def test_write_json_writes_what_json_dumps_writes() -> None:
    r = analyze_array(_program(7.0), 48_000, series=True)
    value = {"entry": r.as_dict(), "array": np.arange(3.0), "nan": math.nan, "empty": [],
             "none": {}, "pair": (1, -math.inf), "nested": [[1, [2, {"a": "b"}]]]}
    out = io.StringIO()
    write_json(value, out)
    assert out.getvalue() == json.dumps(to_jsonable(value), indent=2, allow_nan=False) + "\n"
    assert json.loads(out.getvalue())["entry"]["momentary"][0][0] == pytest.approx(0.4)


def test_writing_a_long_series_does_not_build_it_in_memory() -> None:
    # 10 minutes at 8 kHz: 60 000 points a curve. As Python lists they take > 15 MB and
    # json.dumps(indent=2) several times that; streamed, a slice of 4096 rows at a time.
    rate = 8_000
    analyzer = Analyzer(rate, 1, series=True)
    block = (np.random.default_rng(5).standard_normal((1, rate * 60)) * 0.1).astype(np.float32)
    for _ in range(10):
        analyzer.push(block)
    entry = analyzer.result().as_dict()
    assert len(entry["momentary"]) + len(entry["short_term"]) > 115_000
    sink = _Sink()
    tracemalloc.start()
    try:
        write_json(entry, sink)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert sink.chars > 4_000_000
    assert peak < 3_000_000, f"writing the series held {peak / 1e6:.1f} MB at once"
