"""Loudness by measurement: six program-like inputs land on the target, under the ceiling,
confirmed by ffmpeg; the allowance rule stops short and says by how much."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from program_material import KINDS, program
from tp_meters import ffmpeg_ebur128, loudness_libebur128, true_peak_8x

from mixdown.analysis.loudness import integrated_loudness
from mixdown.analysis.truepeak import true_peak_dbtp
from mixdown.core.errors import ParameterError
from mixdown.io.audio import AudioWriter
from mixdown.mastering.normalize import MasterResult, master_to_target

TARGET_LUFS = -14.0
CEILING_DBTP = -1.0
LOUDNESS_TOL_LU = 0.2  # issue 4: within +-0.2 LU of the target
METER_RESOLUTION_DB = 0.005  # ffmpeg prints linear peaks with 3 decimals


def master_array(audio: np.ndarray, sr: int, tmp_path: Path, **kwargs: float
                 ) -> tuple[np.ndarray, MasterResult]:
    src = tmp_path / "in.wav"
    sf.write(str(src), audio.T, sr, subtype="FLOAT")
    dst = tmp_path / "out.wav"
    result = master_to_target(src, lambda: AudioWriter(dst, sr, audio.shape[0], bit_depth=32),
                              **kwargs)
    out, out_sr = sf.read(str(dst), dtype="float32", always_2d=True)
    assert out_sr == sr
    return np.ascontiguousarray(out.T), result


@pytest.mark.parametrize("kind", KINDS)
def test_six_inputs_reach_the_target_under_the_ceiling(kind: str, tmp_path: Path,
                                                       rng: np.random.Generator) -> None:
    audio, sr = program(kind, rng)
    out, result = master_array(audio, sr, tmp_path, target_lufs=TARGET_LUFS,
                               ceiling_dbtp=CEILING_DBTP)
    assert out.shape == audio.shape  # same channels and length
    assert result.reached and result.shortfall_lu == 0.0
    # mixdown's analyser
    assert integrated_loudness(out, sr) == pytest.approx(TARGET_LUFS, abs=LOUDNESS_TOL_LU)
    assert true_peak_dbtp(out, sr) <= CEILING_DBTP
    # independent meters: ffmpeg, libebur128 and an 8x oversampler
    lufs, peak = ffmpeg_ebur128(out, sr)
    assert lufs == pytest.approx(TARGET_LUFS, abs=LOUDNESS_TOL_LU)
    assert peak <= CEILING_DBTP + METER_RESOLUTION_DB
    assert loudness_libebur128(out, sr) == pytest.approx(TARGET_LUFS, abs=LOUDNESS_TOL_LU)
    assert true_peak_8x(out) <= CEILING_DBTP
    # the result reports what was measured
    assert result.output_lufs == pytest.approx(integrated_loudness(out, sr), abs=1e-6)
    assert result.output_true_peak_dbtp == pytest.approx(true_peak_dbtp(out, sr), abs=1e-3)


def test_sample_alignment_is_kept(tmp_path: Path, rng: np.random.Generator) -> None:
    # a quiet mix needs no limiting: the master is the input times one gain, sample for sample
    audio, sr = program("mono", rng)
    audio *= np.float32(0.1)
    out, result = master_array(audio, sr, tmp_path, target_lufs=-30.0, ceiling_dbtp=-1.0)
    assert result.max_gain_reduction_db == 0.0
    gain = np.float32(10 ** (result.gain_db / 20))
    np.testing.assert_allclose(out, audio * gain, rtol=1e-6, atol=1e-9)


def test_louder_mix_is_turned_down(tmp_path: Path, rng: np.random.Generator) -> None:
    audio, sr = program("intersample", rng)  # about -3 LUFS, clipped, with overs
    out, result = master_array(audio, sr, tmp_path, target_lufs=TARGET_LUFS)
    assert result.gain_db < -10.0
    assert integrated_loudness(out, sr) == pytest.approx(TARGET_LUFS, abs=LOUDNESS_TOL_LU)
    assert any("turned down" in w for w in result.warnings)


def test_heavy_limiting_within_the_allowance_converges(tmp_path: Path,
                                                       rng: np.random.Generator) -> None:
    audio, sr = program("dynamic", rng)
    out, result = master_array(audio, sr, tmp_path, target_lufs=-7.0, allowance_db=12.0)
    assert result.max_gain_reduction_db > 6.0  # the limiter really works here
    assert 2 <= result.passes <= 5  # corrected by measurement, not guessed
    assert integrated_loudness(out, sr) == pytest.approx(-7.0, abs=LOUDNESS_TOL_LU)
    assert true_peak_8x(out) <= CEILING_DBTP


def test_target_out_of_allowance_stops_short(tmp_path: Path, rng: np.random.Generator) -> None:
    audio, sr = program("dynamic", rng)
    out, result = master_array(audio, sr, tmp_path, target_lufs=-6.0, allowance_db=6.0)
    assert not result.reached
    # the limiter was allowed exactly its 6 dB of peak reduction, no more
    assert result.max_gain_reduction_db == pytest.approx(6.0, abs=1e-3)
    measured = integrated_loudness(out, sr)
    assert result.shortfall_lu == pytest.approx(-6.0 - measured, abs=1e-3)
    assert result.shortfall_lu > 1.0
    assert "target not reached" in result.warnings[0]
    assert f"{result.shortfall_lu:.1f} LU short" in result.warnings[0]
    assert true_peak_8x(out) <= CEILING_DBTP
    # a bigger allowance gets closer: the allowance is what stopped it
    _, louder = master_array(audio, sr, tmp_path, target_lufs=-6.0, allowance_db=9.0)
    assert louder.output_lufs > result.output_lufs + 1.0


def test_callable_source_and_measure_only(rng: np.random.Generator) -> None:
    audio, sr = program("dense", rng, seconds=4.0)
    blocks = lambda: (audio[:, i:i + 10_000] for i in range(0, audio.shape[1], 10_000))  # noqa: E731
    result = master_to_target(blocks, target_lufs=-16.0, sample_rate=sr, channels=2)
    assert result.output_lufs == pytest.approx(-16.0, abs=0.05)
    assert result.frames == audio.shape[1]


def test_silence_is_a_clear_error(tmp_path: Path) -> None:
    src = tmp_path / "silence.wav"
    sf.write(str(src), np.zeros((48_000 * 2, 2), np.float32), 48_000, subtype="FLOAT")
    dst = tmp_path / "out.wav"
    with pytest.raises(ParameterError, match="digital silence"):
        master_to_target(src, lambda: AudioWriter(dst, 48_000, 2), target_lufs=-14.0)
    assert not dst.exists()
    assert list(tmp_path.iterdir()) == [src]  # no partial file either


def test_too_short_is_a_clear_error(tmp_path: Path) -> None:
    src = tmp_path / "blip.wav"
    sf.write(str(src), np.full((4800, 1), 0.5, np.float32), 48_000, subtype="FLOAT")
    with pytest.raises(ParameterError, match="shorter than one 400 ms"):
        master_to_target(src, target_lufs=-14.0)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"target_lufs": 3.0}, "outside -70...0"),
    ({"target_lufs": -14.0, "ceiling_dbtp": 0.5}, "above 0 dBTP"),
    ({"target_lufs": -14.0, "allowance_db": -1.0}, "allowance_db"),
])
def test_bad_settings(kwargs: dict[str, float], message: str, tmp_path: Path) -> None:
    src = tmp_path / "x.wav"
    sf.write(str(src), np.zeros((48_000, 1), np.float32), 48_000)
    with pytest.raises(ParameterError, match=message):
        master_to_target(src, **kwargs)


def test_output_equal_to_input_is_refused(tmp_path: Path, rng: np.random.Generator) -> None:
    audio, sr = program("dense", rng, seconds=2.0)
    src = tmp_path / "mix.wav"
    sf.write(str(src), audio.T, sr, subtype="FLOAT")
    before = src.read_bytes()
    with pytest.raises(ParameterError, match="the output is the input file"):
        master_to_target(src, tmp_path / "." / "mix.wav", target_lufs=-14.0)
    assert src.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mix.wav"]


def test_path_output_with_16_bit_tpdf_and_an_analyzer(tmp_path: Path,
                                                      rng: np.random.Generator) -> None:
    from mixdown.analysis.qc import Analyzer

    audio, sr = program("dense_44k", rng, seconds=3.0)
    src = tmp_path / "mix.wav"
    sf.write(str(src), audio.T, sr, subtype="FLOAT")
    analyzer = Analyzer(sr, 2)
    result = master_to_target(src, tmp_path / "cd.wav", target_lufs=-10.0, ceiling_dbtp=-0.3,
                              bit_depth=16, analyzer=analyzer)
    info = sf.info(str(tmp_path / "cd.wav"))
    assert (info.subtype, info.samplerate, info.frames) == ("PCM_16", sr, audio.shape[1])
    assert analyzer.result().integrated_lufs == pytest.approx(result.output_lufs, abs=1e-9)
    out, _ = sf.read(str(tmp_path / "cd.wav"), dtype="float32", always_2d=True)
    assert integrated_loudness(out.T.copy(), sr) == pytest.approx(-10.0, abs=LOUDNESS_TOL_LU)
    assert true_peak_8x(out.T) <= -0.3
