"""Signals and independent meters for the delivery tests (no mixdown code inside)."""

from __future__ import annotations

import math
import re
import subprocess
from pathlib import Path

import numpy as np
import pyebur128
import soundfile as sf
from scipy.signal import lfilter, resample_poly


def loud_mix(rng: np.random.Generator, seconds: float = 8.0, sr: int = 48_000) -> np.ndarray:
    """A dense, bright stereo mix (kick, noise hats, saw bass), peaks near 0 dBFS."""
    n = round(seconds * sr)
    t = np.arange(n) / sr
    kick_env = np.exp(-(t % 0.5) / 0.05)
    kick = np.sin(2 * np.pi * (50 + 90 * kick_env) * t) * kick_env
    hats = np.exp(-((t + 0.25) % 0.25) / 0.015) * np.diff(rng.normal(0, 0.4, n + 1))
    saw = 0.3 * (2 * ((55 * t) % 1.0) - 1)
    pad = lfilter([0.05], [1, -0.95], rng.normal(0, 0.3, (2, n)))
    x = np.stack([0.8 * kick + 0.5 * hats + saw, 0.8 * kick + 0.45 * hats + saw]) + pad
    x = np.tanh(1.5 * x)
    ramp = np.minimum(1.0, np.minimum(np.arange(n), n - 1 - np.arange(n)) / 480.0)
    return (x / np.abs(x).max() * 0.95 * ramp).astype(np.float32)


def write(path: Path, audio: np.ndarray, sr: int = 48_000, subtype: str = "FLOAT") -> Path:
    sf.write(str(path), np.asarray(audio, np.float32).T, sr, subtype=subtype)
    return path


def read(path: Path) -> tuple[np.ndarray, int]:
    data, sr = sf.read(str(path), dtype="float32", always_2d=True)
    return np.ascontiguousarray(data.T), sr


def true_peak_8x(audio: np.ndarray) -> float:
    y = resample_poly(np.atleast_2d(audio).astype(np.float64), 8, 1, axis=1)
    return 20 * math.log10(float(np.max(np.abs(y))))


def true_peak_libebur128(audio: np.ndarray, sr: int) -> float:
    x = np.atleast_2d(audio).astype(np.float64)
    st = pyebur128.R128State(x.shape[0], sr, pyebur128.MeasurementMode.MODE_TRUE_PEAK)
    st.add_frames(np.ascontiguousarray(x.T).ravel(), x.shape[1])
    return 20 * math.log10(max(pyebur128.get_true_peak(st, c) for c in range(x.shape[0])))


def ffmpeg_ebur128(path: Path) -> tuple[float, float]:
    """(integrated LUFS, true peak dBTP) of a file as ffmpeg decodes and measures it."""
    proc = subprocess.run(
        ["ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-i", str(path), "-af",
         "ebur128=peak=true:metadata=1,ametadata=print:file=-", "-f", "null", "-"],
        capture_output=True, text=True, check=True)
    lufs = float(re.findall(r"lavfi\.r128\.I=([-\d.]+)", proc.stdout)[-1])
    peak = max(float(v) for v in re.findall(r"lavfi\.r128\.true_peaks_ch\d+=([-\d.e]+)",
                                             proc.stdout))
    return lufs, 20 * math.log10(peak)
