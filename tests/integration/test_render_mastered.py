"""``render`` of a song with a ``[master]`` loudness target (the path ``make demo`` and the
benchmark take), checked with independent meters: pyloudnorm for integrated loudness,
libebur128 (pyebur128) for the true peak."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyebur128 as pe
import pyloudnorm
import pytest
import soundfile as sf

import mixdown
from signals import sine, write_wav

SONG = """\
[song]
title = "Mastered"
tempo = 120
tail_s = 0.5

[[track]]
name = "Low"
clips = [{{ start = "1:1", file = "audio/low.wav" }}]

[[track]]
name = "High"
volume_db = -4.0
clips = [{{ start = "1:1", file = "audio/high.wav" }}]

[master]
target_lufs = {lufs}
ceiling_dbtp = {ceiling}
"""


def true_peak_dbtp(x: np.ndarray, sr: int) -> float:
    st = pe.R128State(x.shape[1], sr, pe.MeasurementMode.MODE_TRUE_PEAK)
    st.add_frames(np.ascontiguousarray(x, dtype=np.float64).ravel(), x.shape[0])
    return 20 * np.log10(max(pe.get_true_peak(st, c) for c in range(x.shape[1])))


@pytest.mark.parametrize(("lufs", "ceiling", "ext"), [(-14.0, -1.0, "wav"),
                                                      (-9.0, -1.5, "flac")])
def test_render_meets_the_master_target(tmp_path: Path, lufs: float, ceiling: float,
                                        ext: str) -> None:
    root = tmp_path / "song"
    rng = np.random.default_rng(7)
    # a dense, peaky mix: a bass line and noise bursts, so the loud target needs the limiter
    low = sine(55.0, 8.0, amp=0.4, channels=2) * (1 + 0.5 * np.sin(np.arange(384_000) / 3e3))
    high = (rng.standard_normal((2, 384_000)) * 0.1).astype(np.float32)
    high[:, ::9600] = 0.95
    write_wav(root / "audio" / "low.wav", low.astype(np.float32))
    write_wav(root / "audio" / "high.wav", high)
    (root / "song.toml").write_text(SONG.format(lufs=lufs, ceiling=ceiling))
    report = mixdown.render(root, tmp_path / f"master.{ext}")
    x, sr = sf.read(str(report.output), always_2d=True)
    assert pyloudnorm.Meter(sr).integrated_loudness(x) == pytest.approx(lufs, abs=0.2)
    assert true_peak_dbtp(x, sr) <= ceiling + 0.05  # libebur128's 4x oversampling
    assert report.master is not None and report.master["reached"]
    assert report.qc["integrated_lufs"] == pytest.approx(lufs, abs=0.2)
    assert report.qc["true_peak_dbtp"] <= ceiling
