"""Independent meters for the mastering tests: none of them shares code with mixdown.

- ``true_peak_8x``: scipy's ``resample_poly`` at 8x (Kaiser-windowed sinc), max |y|.
- ``true_peak_libebur128``: libebur128 (pyebur128), the meter most tools embed.
- ``ffmpeg_ebur128``: ffmpeg's ebur128 filter with ``peak=true`` (integrated LUFS and
  true peak read from its per-frame metadata, 3 decimals).
"""

from __future__ import annotations

import math
import re
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pyebur128
import soundfile as sf
from scipy.signal import resample_poly


def true_peak_8x(audio: np.ndarray) -> float:
    """True peak in dBTP by 8x polyphase oversampling (scipy)."""
    y = resample_poly(np.atleast_2d(audio).astype(np.float64), 8, 1, axis=1)
    return 20 * math.log10(float(np.max(np.abs(y))))


def true_peak_libebur128(audio: np.ndarray, sample_rate: int) -> float:
    """True peak in dBTP by libebur128."""
    x = np.atleast_2d(audio).astype(np.float64)
    state = pyebur128.R128State(x.shape[0], sample_rate, pyebur128.MeasurementMode.MODE_TRUE_PEAK)
    state.add_frames(np.ascontiguousarray(x.T).ravel(), x.shape[1])
    peak = max(pyebur128.get_true_peak(state, c) for c in range(x.shape[0]))
    return 20 * math.log10(peak)


def loudness_libebur128(audio: np.ndarray, sample_rate: int) -> float:
    """Integrated loudness in LUFS by libebur128."""
    x = np.atleast_2d(audio).astype(np.float64)
    state = pyebur128.R128State(x.shape[0], sample_rate, pyebur128.MeasurementMode.MODE_I)
    state.add_frames(np.ascontiguousarray(x.T).ravel(), x.shape[1])
    return float(pyebur128.get_loudness_global(state))


def ffmpeg_ebur128(source: np.ndarray | Path, sample_rate: int = 48_000) -> tuple[float, float]:
    """(integrated LUFS, true peak dBTP) by ffmpeg's ebur128 filter.

    ``source`` is a file ffmpeg can decode (WAV, FLAC, MP3...) or a (channels, frames) array.
    """
    with tempfile.TemporaryDirectory() as tmp:
        if isinstance(source, np.ndarray):
            path = Path(tmp) / "in.wav"
            sf.write(str(path), np.atleast_2d(source).T.astype(np.float32), sample_rate,
                     subtype="FLOAT")
        else:
            path = Path(source)
        proc = subprocess.run(
            ["ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-i", str(path), "-af",
             "ebur128=peak=true:metadata=1,ametadata=print:file=-", "-f", "null", "-"],
            capture_output=True, text=True, check=True,
        )
    integrated = re.findall(r"lavfi\.r128\.I=([-\d.]+)", proc.stdout)
    peaks = [float(v) for v in re.findall(r"lavfi\.r128\.true_peaks_ch\d+=([-\d.e]+)",
                                          proc.stdout)]
    peak = max(peaks)
    return float(integrated[-1]), (20 * math.log10(peak) if peak > 0 else -math.inf)


def fade(audio: np.ndarray, frames: int = 480) -> np.ndarray:
    """Raised-cosine fade in and out, so that a test signal does not start with a step."""
    out = np.array(audio, dtype=np.float32, copy=True)
    ramp = (0.5 - 0.5 * np.cos(np.pi * np.arange(frames) / frames)).astype(np.float32)
    out[..., :frames] *= ramp
    out[..., -frames:] *= ramp[::-1]
    return out


def hostile_signals(sample_rate: int, seconds: float, rng: np.random.Generator
                    ) -> dict[str, np.ndarray]:
    """Intersample-peaky stereo material, every one far over a -1 dBTP ceiling."""
    n = np.arange(round(sample_rate * seconds))
    two = lambda x: np.stack([x, x])  # noqa: E731
    signals = {
        # fs/4 sine at 45 degrees: samples at 0.707 of the peak, a +3 dB intersample over
        "fs4_45deg": two(2.0 * np.sin(2 * np.pi * n / 4 + np.pi / 4)),
        "square_997": two(np.sign(np.sin(2 * np.pi * 997 * n / sample_rate + 0.3))),
        "square_11025": two(np.sign(np.sin(2 * np.pi * 11025 * n / sample_rate + 0.3))),
        "clipped_noise": 2.0 * np.clip(rng.normal(0, 0.5, (2, n.size)), -1.0, 1.0),
        "left_only_burst": np.stack([
            np.where((n // (sample_rate // 10)) % 2 == 0, 3.0, 0.1)
            * np.sin(2 * np.pi * 5000 * n / sample_rate + 1.0),
            0.05 * np.sin(2 * np.pi * 300 * n / sample_rate)]),
    }
    return {k: fade(v) for k, v in signals.items()}


def true_peak_16x(audio: np.ndarray, taps_per_phase: int | None = 64, beta: float = 8.0,
                  chunk: int = 1 << 15) -> float:
    """True peak in dBTP by 16x oversampling with a long windowed sinc (scipy), in chunks.

    ``taps_per_phase`` taps of a Kaiser-windowed sinc cut off at the input's Nyquist
    (1025 taps at 16x by default); None uses ``resample_poly``'s own 16x filter. Chunks
    overlap by more than the filter, so the result is that of the whole signal.
    """
    from scipy.signal import firwin

    x = np.atleast_2d(audio).astype(np.float64)
    up = 16
    window: object = ("kaiser", 5.0)
    half = 10
    if taps_per_phase is not None:
        window = firwin(up * taps_per_phase + 1, 1.0 / up, window=("kaiser", beta))
        half = taps_per_phase // 2
    pad = half + 8
    xp = np.pad(x, ((0, 0), (pad, pad)))
    peak = 0.0
    for start in range(pad, pad + x.shape[1], chunk):
        seg = xp[:, start - pad:start + chunk + pad]
        y = resample_poly(seg, up, 1, axis=1, window=window)
        core = y[:, up * pad:up * (pad + min(chunk, x.shape[1] + pad - start))]
        peak = max(peak, float(np.max(np.abs(core))))
    return 20 * math.log10(peak)
