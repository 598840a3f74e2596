"""Reference matching: tonal balance, loudness, width and dynamics move toward the
references, by the amount asked; any rate, mono or stereo; bad references are errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from scipy.signal import lfilter, resample_poly

from mixdown.analysis.qc import analyze_array
from mixdown.core.errors import FormatError, ParameterError
from mixdown.mastering.chain import MasterChain
from mixdown.mastering.reference import Profile, match_references, profile_file

SR = 48_000


def pink_stereo(rng: np.random.Generator, seconds: float = 6.0, side: float = 0.3) -> np.ndarray:
    n = round(SR * seconds)
    b = [0.049922035, -0.095993537, 0.050612699, -0.004408786]
    a = [1.0, -2.494956002, 2.017265875, -0.522189400]
    mid = lfilter(b, a, rng.normal(0, 1, n))
    sd = lfilter(b, a, rng.normal(0, 1, n)) * side
    x = np.stack([mid + sd, mid - sd])
    return (x / np.abs(x).max() * 0.5).astype(np.float32)


def brighter(x: np.ndarray) -> np.ndarray:
    """+6 dB high shelf near 4 kHz (a first-order shelf)."""
    pole = np.exp(-2 * np.pi * 4000 / SR)
    hp = lfilter([1, -1], [1, -pole], x, axis=1) * (1 + pole) / 2
    return (x + hp).astype(np.float32)


def balance_distance(p: Profile, q: Profile) -> float:
    """RMS difference of the tonal balance shapes in dB (a constant offset does not count:
    loudness, set afterwards, takes care of it)."""
    a = dict(zip(p.band_hz, p.balance_db, strict=True))
    b = dict(zip(q.band_hz, q.balance_db, strict=True))
    d = np.array([a[f] - b[f] for f in a if f in b and 60 <= f <= 14_000])
    return float(np.sqrt(np.mean((d - d.mean()) ** 2)))


def apply(chain_spec: object, x: np.ndarray) -> np.ndarray:
    chain = MasterChain(chain_spec)  # type: ignore[arg-type]
    chain.prepare(SR, x.shape[0], x.shape[1])
    return chain.process(x)


def test_eq_width_and_loudness_move_to_the_reference(rng: np.random.Generator) -> None:
    mix = pink_stereo(rng, side=0.3)  # width 0.08; the reference's is 0.2
    ref = brighter(pink_stereo(rng, side=0.5)) * np.float32(1.6)
    mix_p = Profile.from_qc("mix", analyze_array(mix, SR))
    ref_p = Profile.from_qc("ref", analyze_array(ref, SR))
    result = match_references(mix_p, [ref_p])
    out = apply(result.chain, mix)
    out_p = Profile.from_qc("out", analyze_array(out, SR))
    before, after = balance_distance(mix_p, ref_p), balance_distance(out_p, ref_p)
    assert before > 2.0 and after < 0.35 * before
    assert result.target_lufs == pytest.approx(ref_p.integrated_lufs)
    assert out_p.width == pytest.approx(ref_p.width, abs=0.02)
    assert any("kHz" in line for line in result.summary if line.startswith("EQ"))


def test_amount_blends(rng: np.random.Generator) -> None:
    mix = pink_stereo(rng)
    ref = brighter(pink_stereo(rng))
    mix_p = Profile.from_qc("mix", analyze_array(mix, SR))
    ref_p = Profile.from_qc("ref", analyze_array(ref, SR))
    full = match_references(mix_p, [ref_p])
    half = match_references(mix_p, [ref_p], amount=0.5)
    none = match_references(mix_p, [ref_p], amount=0.0)
    assert none.chain.is_identity and none.target_lufs == pytest.approx(mix_p.integrated_lufs)
    g_full = np.array([b.gain_db for b in full.chain.bells])
    g_half = np.array([b.gain_db for b in half.chain.bells])
    np.testing.assert_allclose(g_half, g_full / 2, atol=0.05)
    no_eq = match_references(mix_p, [ref_p], eq_amount=0.0)
    assert no_eq.chain.bells == () and no_eq.target_lufs == full.target_lufs


def test_reference_at_another_rate_and_mono(rng: np.random.Generator, tmp_path: Path) -> None:
    mix = pink_stereo(rng)
    ref = brighter(pink_stereo(rng))
    ref_mono_44k = resample_poly(ref.mean(axis=0), 147, 160).astype(np.float32)
    sf.write(str(tmp_path / "ref.wav"), ref_mono_44k, 44_100, subtype="FLOAT")
    ref_p = profile_file(tmp_path / "ref.wav")
    assert (ref_p.sample_rate, ref_p.channels, ref_p.width) == (44_100, 1, None)
    mix_p = Profile.from_qc("mix", analyze_array(mix, SR))
    result = match_references(mix_p, [ref_p])
    assert result.chain.width == 1.0  # no stereo reference: width left alone
    assert "no stereo reference" in result.summary[-1]
    out_p = Profile.from_qc("out", analyze_array(apply(result.chain, mix), SR))
    assert balance_distance(out_p, ref_p) < 0.5 * balance_distance(mix_p, ref_p)


def test_dynamics_add_glue_when_the_reference_is_denser(rng: np.random.Generator) -> None:
    quiet_loud = pink_stereo(rng, seconds=12.0)
    quiet_loud[:, : quiet_loud.shape[1] // 2] *= np.float32(0.1)  # 20 dB verse/chorus jump
    mix_p = Profile.from_qc("mix", analyze_array(quiet_loud, SR))
    ref_p = Profile.from_qc("ref", analyze_array(pink_stereo(rng, seconds=12.0), SR))
    result = match_references(mix_p, [ref_p])
    assert result.chain.glue is not None and result.chain.glue.ratio > 1.5
    assert match_references(mix_p, [ref_p], dynamics_amount=0.0).chain.glue is None


def test_corrupt_reference_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "ref.wav"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk" + bytes(64))
    with pytest.raises(FormatError, match=r"reference .*ref\.wav"):
        profile_file(bad)


def test_silent_reference_is_a_clear_error(tmp_path: Path) -> None:
    sf.write(str(tmp_path / "ref.wav"), np.zeros((48_000, 2), np.float32), SR)
    with pytest.raises(ParameterError, match="silent"):
        profile_file(tmp_path / "ref.wav")
