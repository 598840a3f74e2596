"""AAC (.m4a) through PyAV: written in blocks, read back aligned and to the exact length."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mixdown.core.errors import FormatError, ParameterError
from mixdown.io.audio import AudioWriter, audio_info, iter_blocks, read_audio

SR = 48_000


def test_round_trip_keeps_length_alignment_and_rate(tmp_path: Path) -> None:
    t = np.arange(2 * SR) / SR
    x = np.stack([0.3 * np.sin(2 * np.pi * 440 * t), 0.3 * np.sin(2 * np.pi * 660 * t)])
    x = x.astype(np.float32)
    out = tmp_path / "tone.m4a"
    with AudioWriter(out, SR, 2, mp3_bitrate_kbps=256) as w:
        for i in range(0, x.shape[1], 7000):  # blocks that are not AAC frames
            w.write(x[:, i:i + 7000])
    info = audio_info(out)
    assert (info.format, info.sample_rate, info.channels, info.frames) == ("AAC", SR, 2, 2 * SR)
    y, sr = read_audio(out)
    assert sr == SR and y.shape == x.shape
    # Lossy but aligned: each channel correlates with its source at lag 0.
    for c in range(2):
        assert np.corrcoef(x[c, 2000:-2000], y[c, 2000:-2000])[0, 1] > 0.999
    assert sum(b.shape[1] for b in iter_blocks(out, 5000)) == 2 * SR
    bitrate_kbps = out.stat().st_size * 8 / 2.0 / 1000
    assert 150 < bitrate_kbps < 300  # 256 kbps requested (the encoder varies a little)


def test_garbage_m4a_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.m4a"
    bad.write_bytes(b"\x00\x00\x00\x18ftypM4A garbage")
    with pytest.raises(FormatError, match=r"bad\.m4a"):
        audio_info(bad)


def test_aac_refuses_odd_rates_and_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match="AAC takes sample rates"):
        AudioWriter(tmp_path / "x.m4a", 50_000, 2)
    assert list(tmp_path.iterdir()) == []
