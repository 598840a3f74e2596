"""Latency calibration by measurement: a simulated loopback (delay, gain, noise) is found
within a tenth of a sample for whole delays and a quarter of a sample for fractional ones."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from mixdown.services.record.latency import (
    CalibrationError,
    LatencyStore,
    measure_latency,
    probe,
)

SR = 48_000


def loopback(delay_frames: float, *, gain: float, noise_db: float, seed: int = 3,
             seconds: float = 1.5) -> np.ndarray:
    """The probe delayed by ``delay_frames`` (fractional: by an FFT phase shift), scaled by
    ``gain``, with white noise ``noise_db`` below the probe's RMS."""
    p = probe(SR).astype(np.float64)
    n = round(seconds * SR)
    x = np.zeros(n)
    x[:len(p)] = p
    freqs = np.fft.rfftfreq(n)
    x = np.fft.irfft(np.fft.rfft(x) * np.exp(-2j * np.pi * freqs * delay_frames), n) * gain
    rms = np.sqrt(np.mean(p ** 2)) * gain
    x += np.random.default_rng(seed).standard_normal(n) * rms * 10 ** (noise_db / 20)
    return x.astype(np.float32)


@pytest.mark.parametrize("delay", [0, 1, 137, 2_411, 9_600])
def test_whole_frame_delays_are_found_exactly(delay: int) -> None:
    m = measure_latency(loopback(delay, gain=0.3, noise_db=-20), SR)
    assert m.latency_frames == pytest.approx(delay, abs=0.1)
    assert m.latency_s == pytest.approx(delay / SR, abs=0.1 / SR)
    assert m.gain_db == pytest.approx(20 * np.log10(0.3), abs=0.5)


@pytest.mark.parametrize("delay", [480.25, 1_000.5, 3_333.75])
def test_fractional_delays_are_found_within_a_quarter_frame(delay: float) -> None:
    m = measure_latency(loopback(delay, gain=1.2, noise_db=-30), SR)
    assert m.latency_frames == pytest.approx(delay, abs=0.25)


def test_noisy_quiet_loopback_is_still_within_a_tenth_of_a_millisecond() -> None:
    m = measure_latency(loopback(5_000, gain=0.01, noise_db=0), SR)  # noise as loud as probe
    assert abs(m.latency_s - 5_000 / SR) < 1e-4


def test_stereo_recording_is_summed() -> None:
    mono = loopback(700, gain=0.5, noise_db=-20)
    m = measure_latency(np.stack([mono, mono]), SR)
    assert m.latency_frames == pytest.approx(700, abs=0.1)


def test_no_probe_is_refused_in_one_line() -> None:
    noise = np.random.default_rng(1).standard_normal(SR).astype(np.float32)
    with pytest.raises(CalibrationError, match="no clear probe") as err:
        measure_latency(noise, SR)
    assert "\n" not in str(err.value)
    with pytest.raises(CalibrationError, match="silent"):
        measure_latency(np.zeros(SR, np.float32), SR)
    with pytest.raises(CalibrationError, match="whole probe"):
        measure_latency(np.zeros(100, np.float32), SR)


def test_store_keeps_latencies_per_user_and_device(tmp_path: Path) -> None:
    store = LatencyStore(tmp_path)
    assert store.get("owner", "USB mic") is None
    store.put("owner", "USB mic", 0.0123)
    store.put("owner", "built-in", 0.0042)
    store.put("guest", "USB mic", 0.02)
    again = LatencyStore(tmp_path)  # a new process reads the same file
    assert again.get("owner", "USB mic").latency_s == 0.0123  # type: ignore[union-attr]
    assert again.get("owner", "built-in").latency_s == 0.0042  # type: ignore[union-attr]
    assert again.get("guest", "USB mic").latency_s == 0.02  # type: ignore[union-attr]
    assert [(s.device, s.latency_s) for s in again.of_user("owner")] == [
        ("USB mic", 0.0123), ("built-in", 0.0042)]
    data = json.loads((tmp_path / "record-latency.json").read_text())
    assert set(data) == {"owner", "guest"}
    with pytest.raises(CalibrationError):
        store.put("owner", "USB mic", -1.0)
    assert again.get("owner", "USB mic").latency_s == 0.0123  # type: ignore[union-attr]
