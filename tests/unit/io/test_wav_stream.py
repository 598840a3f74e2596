"""The compiled PCM WAV reader: the same samples as libsndfile, or no reader at all."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from mixdown.io.wav_stream import open_pcm_wav


def _soundfile_block(path: Path, first: int, count: int) -> np.ndarray:
    """libsndfile's frames [first, first + count), zeros past the end, channels first."""
    with sf.SoundFile(str(path)) as f:
        f.seek(min(first, f.frames))
        data = f.read(count, dtype="float32", always_2d=True)
        out = np.zeros((count, f.channels), np.float32)
    out[: data.shape[0]] = data
    return np.ascontiguousarray(out.T)


@pytest.mark.parametrize("subtype", ["PCM_16", "PCM_24"])
@pytest.mark.parametrize("channels", [1, 2, 3])  # 3 channels: WAVE_FORMAT_EXTENSIBLE
def test_blocks_are_libsndfile_bits(tmp_path: Path, subtype: str, channels: int) -> None:
    rng = np.random.default_rng(channels)
    x = rng.uniform(-1.0, 1.0, (5000, channels)).astype(np.float32)
    x[0], x[1] = -1.0, 0.9999999  # both ends of the integer range
    path = tmp_path / "a.wav"
    sf.write(str(path), x, 48_000, subtype=subtype)
    stream = open_pcm_wav(path)
    assert stream is not None and stream.frames == 5000 and stream.channels == channels
    with stream:
        for first, count in [(0, 5000), (17, 333), (4990, 40), (6000, 8)]:
            stream.seek(first)
            got = stream.read(count).T
            assert got.shape == (channels, count)
            assert got.tobytes() == _soundfile_block(path, first, count).tobytes()


def test_a_file_shorter_than_its_header_reads_zeros_past_its_end(tmp_path: Path) -> None:
    path = tmp_path / "cut.wav"
    sf.write(str(path), np.full((1000, 2), 0.5, np.float32), 48_000, subtype="PCM_24")
    path.write_bytes(path.read_bytes()[:-600])  # 100 frames of 6 bytes lost
    stream = open_pcm_wav(path)
    assert stream is not None and stream.frames == 900
    with stream:
        stream.seek(850)
        block = stream.read(100).T
    assert np.all(block[:, :50] == np.float32(0.5)) and np.all(block[:, 50:] == 0.0)


@pytest.mark.parametrize("subtype", ["PCM_32", "FLOAT", "PCM_U8"])
def test_other_encodings_are_left_to_libsndfile(tmp_path: Path, subtype: str) -> None:
    path = tmp_path / "a.wav"
    sf.write(str(path), np.zeros((100, 2), np.float32), 48_000, subtype=subtype)
    assert open_pcm_wav(path) is None


def test_not_a_wav_is_left_to_libsndfile(tmp_path: Path) -> None:
    flac = tmp_path / "a.flac"
    sf.write(str(flac), np.zeros((100, 2), np.float32), 48_000, subtype="PCM_16")
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"RIFF\x04\x00\x00\x00WAVEfmt ")
    assert open_pcm_wav(flac) is None and open_pcm_wav(junk) is None
