"""convert: soxr resampling, bit depth and dither by the rules, never a silent clip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from delivery_signals import read, true_peak_8x, write

from mixdown.core.errors import ParameterError
from mixdown.delivery.convert import convert_file

TPDF_16_DBFS = 10 * np.log10((2.0**-15) ** 2 / 4)  # rounding + TPDF dither, -96.3 dBFS
ROUND_24_DBFS = 10 * np.log10((2.0**-23) ** 2 / 12)  # plain rounding at 24 bits
FLOOR_TOL_DB = 0.2
SRC_GAIN_TOL_DB = 0.01  # soxr VHQ passband ripple is far below this


def tone(freq: float, seconds: float, sr: int, amp: float = 0.5) -> np.ndarray:
    t = np.arange(round(seconds * sr)) / sr
    return np.repeat((amp * np.sin(2 * np.pi * freq * t))[None], 2, axis=0).astype(np.float32)


def test_resample_48k_to_44k1_keeps_level_and_length(tmp_path: Path) -> None:
    src = write(tmp_path / "in.wav", tone(1000.0, 2.0, 48_000), 48_000)
    res = convert_file(src, tmp_path / "out.wav", sample_rate=44_100, bit_depth=32)
    out, sr = read(res.output)
    assert sr == 44_100 and out.shape[1] == round(2.0 * 44_100) == res.frames
    mid = out[:, 4410:-4410]
    level_db = 20 * np.log10(np.sqrt(2 * np.mean(mid.astype(np.float64) ** 2)) / 0.5)
    assert abs(level_db) < SRC_GAIN_TOL_DB
    # and the tone is where it should be: 1 kHz, not a rate-shifted 1088 Hz
    spectrum = np.abs(np.fft.rfft(mid[0]))
    assert np.argmax(spectrum) * sr / mid.shape[1] == pytest.approx(1000.0, abs=1.0)


def test_16_bit_gets_tpdf_dither_by_default(tmp_path: Path) -> None:
    x = tone(997.0, 2.0, 48_000, amp=0.25)
    src = write(tmp_path / "in.wav", x)
    res = convert_file(src, tmp_path / "out.wav", bit_depth=16)
    assert res.dither == "tpdf"
    assert sf.info(str(res.output)).subtype == "PCM_16"
    out, _ = read(res.output)
    error_db = 10 * np.log10(np.mean((out.astype(np.float64) - x) ** 2))
    assert error_db == pytest.approx(TPDF_16_DBFS, abs=FLOOR_TOL_DB)


def test_24_bit_and_float_get_no_dither_unless_asked(tmp_path: Path) -> None:
    x = tone(997.0, 1.0, 48_000, amp=0.25)
    src = write(tmp_path / "in.wav", x)
    res = convert_file(src, tmp_path / "out24.wav", bit_depth=24)
    assert res.dither == "none"
    out, _ = read(res.output)
    error_db = 10 * np.log10(np.mean((out.astype(np.float64) - x) ** 2))
    assert error_db == pytest.approx(ROUND_24_DBFS, abs=1.0)  # rounding only, no dither
    same = convert_file(src, tmp_path / "copy.wav")  # float to float: a bit-exact copy
    np.testing.assert_array_equal(read(same.output)[0], x)
    asked = convert_file(src, tmp_path / "d24.wav", bit_depth=24, dither="tpdf")
    assert asked.dither == "tpdf"


def test_float_over_full_scale_is_refused_with_a_hint(tmp_path: Path) -> None:
    src = write(tmp_path / "hot.wav", tone(440.0, 1.0, 48_000, amp=1.4))  # +2.9 dBFS
    dst = tmp_path / "out.wav"
    with pytest.raises(ParameterError, match=r"above full scale.*--gain -3.*--normalize"):
        convert_file(src, dst, bit_depth=16)
    assert not dst.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hot.wav"]  # no partial file
    fixed = convert_file(src, dst, bit_depth=16, normalize_dbtp=-1.0)
    assert true_peak_8x(read(fixed.output)[0]) == pytest.approx(-1.0, abs=0.05)
    assert convert_file(src, tmp_path / "float.wav", bit_depth=32).bit_depth == 32  # float ok


def test_resampling_that_would_clip_is_refused(tmp_path: Path) -> None:
    # samples at 0.99 but a true peak of +2.9 dB: resampled, the overs become samples
    n = np.arange(48_000)
    x = np.repeat((1.4 * np.sin(2 * np.pi * n / 4 + np.pi / 4))[None], 2, 0).astype(np.float32)
    x = np.clip(x, -0.99, 0.99)
    src = write(tmp_path / "peaky.wav", x)
    with pytest.raises(ParameterError, match="true peak is"):
        convert_file(src, tmp_path / "out.wav", sample_rate=44_100, bit_depth=24)
    assert not (tmp_path / "out.wav").exists()


def test_mp3_is_320_kbps_cbr(tmp_path: Path) -> None:
    from mutagen.mp3 import MP3, BitrateMode

    src = write(tmp_path / "in.wav", tone(440.0, 2.0, 48_000, amp=0.3))
    res = convert_file(src, tmp_path / "out.mp3")
    info = MP3(str(res.output)).info
    assert info.bitrate == 320_000
    assert info.bitrate_mode == BitrateMode.CBR


def test_output_equal_to_input_is_refused(tmp_path: Path) -> None:
    src = write(tmp_path / "a.wav", tone(440.0, 0.5, 48_000))
    before = src.read_bytes()
    with pytest.raises(ParameterError, match="the output is the input"):
        convert_file(src, tmp_path / "./a.wav", bit_depth=16)
    assert src.read_bytes() == before


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"dither": "rect"}, "tpdf, shaped, none"),
    ({"sample_rate": 12_345}, "not supported"),
    ({"bit_depth": 8}, "16, 24 or 32"),
])
def test_bad_options(tmp_path: Path, kwargs: dict[str, object], message: str) -> None:
    src = write(tmp_path / "a.wav", tone(440.0, 0.5, 48_000))
    with pytest.raises(ParameterError, match=message):
        convert_file(src, tmp_path / "b.wav", **kwargs)  # type: ignore[arg-type]
