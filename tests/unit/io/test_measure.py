"""Measuring files: analyze_file streams a file to the same figures as the array, names
the file in its errors, flags truncation; wav_declared_frames reads the data chunk."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from mixdown.analysis.qc import QCResult, analyze_array
from mixdown.core.errors import FormatError
from mixdown.io.audio import wav_declared_frames
from mixdown.io.measure import analyze_file


def tone(level_dbfs: float, seconds: float, sample_rate: int = 48_000, *,
         freq: float = 1000.0, channels: int = 2) -> np.ndarray:
    """A sine, float32 (channels, frames)."""
    t = np.arange(round(seconds * sample_rate)) / sample_rate
    x = 10.0 ** (level_dbfs / 20.0) * np.sin(2 * np.pi * freq * t)
    return np.repeat(x[None, :], channels, axis=0).astype(np.float32)


def _wav(path, audio: np.ndarray, sample_rate: int = 48_000, subtype: str = "FLOAT"):
    sf.write(str(path), audio.T, sample_rate, subtype=subtype)
    return path


def test_analyze_file_streams_the_same_figures_as_the_array(tmp_path) -> None:
    x = tone(-18.0, 3.0)
    path = _wav(tmp_path / "tone.wav", x)
    from_file = analyze_file(path)
    assert isinstance(from_file, QCResult) and from_file.file == str(path)
    assert from_file.as_dict()["file"] == str(path)
    from_array = analyze_array(x, 48_000)
    assert from_file.integrated_lufs == from_array.integrated_lufs
    assert from_file.true_peak_dbtp == from_array.true_peak_dbtp


def test_analyze_file_refuses_nan_with_the_file_and_time(tmp_path) -> None:
    x = tone(-18.0, 1.0)
    x[0, 30_000] = np.nan
    path = _wav(tmp_path / "nan.wav", x)
    with pytest.raises(FormatError, match=r"nan\.wav: .*NaN or infinite.*0\.62"):
        analyze_file(path)


def test_analyze_file_refuses_unsupported_rate(tmp_path) -> None:
    path = _wav(tmp_path / "low.wav", tone(-18.0, 1.0, 4_000, freq=100.0), 4_000)
    with pytest.raises(FormatError, match=r"low\.wav: sample rate 4000 Hz .* resample"):
        analyze_file(path)


def test_analyze_file_flags_a_truncated_file(tmp_path) -> None:
    path = _wav(tmp_path / "cut.wav", tone(-18.0, 2.0), subtype="PCM_16")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])  # the header still promises 2 s
    r = analyze_file(path)
    assert r.duration_s == pytest.approx(1.0, abs=0.01)
    assert any("truncated" in w for w in r.warnings)


@pytest.mark.parametrize(("subtype", "channels"), [("PCM_16", 2), ("PCM_24", 1), ("FLOAT", 2)])
def test_wav_declared_frames_reads_the_data_chunk(tmp_path, subtype: str, channels: int) -> None:
    path = _wav(tmp_path / "t.wav", tone(-18.0, 0.5, channels=channels), subtype=subtype)
    assert wav_declared_frames(path) == 24_000  # 0.5 s at 48 kHz, whatever the sample size
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])  # cut: the header still promises 0.5 s
    assert wav_declared_frames(path) == 24_000
    assert sf.info(str(path)).frames < 24_000  # what libsndfile hides


def test_wav_declared_frames_is_none_for_other_files(tmp_path) -> None:
    flac = tmp_path / "t.flac"
    sf.write(str(flac), tone(-18.0, 0.1).T, 48_000)
    assert wav_declared_frames(flac) is None
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"RIFF\x00\x00\x00\x00WAVE" + b"\xff" * 3)  # no chunks to read
    assert wav_declared_frames(junk) is None
    assert wav_declared_frames(tmp_path / "missing.wav") is None
