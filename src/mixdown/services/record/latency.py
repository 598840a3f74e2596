"""Latency calibration: play a known probe, record it back through a loopback (the output
wired to the input), and find its delay in the recording by cross-correlation.

The delay found is the round trip a take recorded against the song's playback is late by
(the output's latency, until the performer hears the song, plus the input's, until the
recording receives the performance); recording places a take that much earlier. Pure numpy.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from mixdown.core.errors import MixdownError
from mixdown.core.files import atomic_path

PROBE_SECONDS = 0.5
"""Length of the probe sweep (s)."""
MIN_PEAK_RATIO = 8.0
"""How far the correlation peak must stand above the correlation's typical level (its RMS)
for a probe to count as found."""
MAX_LATENCY_S = 2.0
"""Largest latency a calibration accepts (s)."""


class CalibrationError(MixdownError):
    """The recording holds no clear copy of the probe."""

    http_status = 422


def probe(sample_rate: int, seconds: float = PROBE_SECONDS) -> np.ndarray:
    """The calibration probe: an exponential sine sweep from 100 Hz to 0.45 of
    ``sample_rate``, 0.5 peak, with 5 ms raised-cosine ends; float32 (frames,)."""
    n = round(seconds * sample_rate)
    t = np.arange(n) / sample_rate
    f0, f1 = 100.0, 0.45 * sample_rate
    k = math.log(f1 / f0)
    phase = 2 * np.pi * f0 * seconds / k * (np.exp(t / seconds * k) - 1)
    x = 0.5 * np.sin(phase)
    ramp = round(0.005 * sample_rate)
    edge = 0.5 - 0.5 * np.cos(np.pi * np.arange(ramp) / ramp)
    x[:ramp] *= edge
    x[n - ramp:] *= edge[::-1]
    return x.astype(np.float32)


@dataclass(frozen=True, slots=True)
class LatencyMeasurement:
    """Where the probe was found in a recording.

    Attributes
    ----------
    latency_s : float
        The probe's delay in the recording (s, sub-sample).
    latency_frames : float
        The same in frames at ``sample_rate``.
    sample_rate : int
        Hz.
    peak_ratio : float
        The correlation peak over the correlation's RMS: how clearly it was found.
    gain_db : float
        The level of the probe's copy relative to the probe (dB).
    """

    latency_s: float
    latency_frames: float
    sample_rate: int
    peak_ratio: float
    gain_db: float

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {"latency_s": self.latency_s, "latency_frames": self.latency_frames,
                "sample_rate": self.sample_rate, "peak_ratio": self.peak_ratio,
                "gain_db": self.gain_db}


def measure_latency(recorded: np.ndarray, sample_rate: int, *,
                    reference: np.ndarray | None = None,
                    max_latency_s: float = MAX_LATENCY_S) -> LatencyMeasurement:
    """The delay of ``reference`` (default: :func:`probe`) in ``recorded``.

    Parameters
    ----------
    recorded : ndarray
        The loopback recording, started when the probe started playing: (frames,) or
        (channels, frames) (channels are summed), at ``sample_rate`` Hz.
    sample_rate : int
        Hz.
    reference : ndarray, optional
        The signal that was played (frames,).
    max_latency_s : float
        The longest delay looked for (s).

    Raises
    ------
    CalibrationError
        The recording is too short, silent, or holds no clear copy of the probe.
    """
    ref = probe(sample_rate) if reference is None else np.asarray(reference, np.float64)
    rec = np.asarray(recorded, np.float64)
    if rec.ndim == 2:
        rec = rec.sum(axis=0)
    if not np.all(np.isfinite(rec)):
        raise CalibrationError("the calibration recording holds NaN or infinite samples")
    if len(rec) < len(ref):
        raise CalibrationError(f"the calibration recording is {len(rec) / sample_rate:.3f} s; "
                               f"it must hold the whole probe ({len(ref) / sample_rate:.3f} s)")
    max_lag = min(len(rec) - len(ref), round(max_latency_s * sample_rate))
    n = 1 << math.ceil(math.log2(len(rec) + len(ref)))
    corr = np.fft.irfft(np.fft.rfft(rec, n) * np.conj(np.fft.rfft(ref, n)), n)
    lags = corr[:max_lag + 1]
    energy = float(np.dot(ref, ref))
    rms = float(np.sqrt(np.mean(corr[:len(rec)] ** 2)))
    if energy == 0 or rms == 0:
        raise CalibrationError("the calibration recording is silent; wire the output to the "
                               "input (a loopback) and play the probe again")
    k = int(np.argmax(np.abs(lags)))
    ratio = abs(float(lags[k])) / rms
    if ratio < MIN_PEAK_RATIO:
        raise CalibrationError(f"no clear probe in the calibration recording (peak {ratio:.1f}"
                               f" x the correlation's RMS, needs {MIN_PEAK_RATIO:g}); raise "
                               "the loopback level and play the probe again")
    frac = 0.0
    if 0 < k < max_lag:  # parabolic peak interpolation for the fraction of a frame
        a, b, c = np.abs(lags[k - 1:k + 2])
        den = a - 2 * b + c
        if den != 0:
            frac = float(0.5 * (a - c) / den)
    frames = k + frac
    gain = abs(float(lags[k])) / energy
    return LatencyMeasurement(latency_s=frames / sample_rate, latency_frames=frames,
                              sample_rate=sample_rate, peak_ratio=ratio,
                              gain_db=20 * math.log10(gain) if gain > 0 else -math.inf)


# -- the per-user, per-device store ---------------------------------------------------------------

LATENCY_FILE = "record-latency.json"
"""The file, in the studio's store (``.mixdown-studio/``), of the measured latencies."""


@dataclass(frozen=True, slots=True)
class StoredLatency:
    """A latency measured for one user's input device."""

    user: str
    device: str
    latency_s: float
    measured_at: str

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {"user": self.user, "device": self.device, "latency_s": self.latency_s,
                "measured_at": self.measured_at}


class LatencyStore:
    """The measured latencies of a studio, per user and device, in one JSON file written
    atomically (``<store>/record-latency.json``)."""

    def __init__(self, store: Path) -> None:
        self.file = Path(store) / LATENCY_FILE

    def _read(self) -> dict[str, dict[str, dict[str, Any]]]:
        try:
            data = json.loads(self.file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError):
            return {}  # unreadable: calibrate again
        return data if isinstance(data, dict) else {}

    def get(self, user: str, device: str) -> StoredLatency | None:
        """The latency stored for ``user``'s ``device``, or None."""
        entry = self._read().get(user, {}).get(_device_key(device))
        if not isinstance(entry, dict) or not isinstance(entry.get("latency_s"), int | float):
            return None
        return StoredLatency(user, _device_key(device), float(entry["latency_s"]),
                             str(entry.get("measured_at", "")))

    def of_user(self, user: str) -> list[StoredLatency]:
        """Every latency stored for ``user``, by device name."""
        out = []
        for device in sorted(self._read().get(user, {})):
            stored = self.get(user, device)
            if stored is not None:
                out.append(stored)
        return out

    def put(self, user: str, device: str, latency_s: float) -> StoredLatency:
        """Store ``latency_s`` (s, 0 .. MAX_LATENCY_S) for ``user``'s ``device``."""
        if not (math.isfinite(latency_s) and 0 <= latency_s <= MAX_LATENCY_S):
            raise CalibrationError(f"latency must be 0 .. {MAX_LATENCY_S:g} s, got "
                                   f"{latency_s!r}")
        data = self._read()
        when = datetime.now(UTC).isoformat(timespec="seconds")
        data.setdefault(user, {})[_device_key(device)] = {"latency_s": latency_s,
                                                          "measured_at": when}
        self.file.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(self.file) as tmp:
            tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        return StoredLatency(user, _device_key(device), latency_s, when)


def _device_key(device: str) -> str:
    """A device's name as stored: printable, at most 200 characters, "default" if empty."""
    shown = "".join(c for c in str(device) if c.isprintable()).strip()[:200]
    return shown or "default"


__all__ = ["CalibrationError", "LatencyMeasurement", "LatencyStore", "StoredLatency",
           "measure_latency", "probe"]
