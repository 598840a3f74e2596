"""Long-term average spectrum and 1/3-octave band levels, streaming in blocks.

Non-overlapping Hann frames of about 1/3 s (a power of two: 16384 samples at
44.1/48 kHz, so bins are under 3 Hz wide and the 20 Hz band holds whole bins) are
laid from the first sample; their power spectra are averaged over frames and
channels. Levels are in dB relative to a full-scale sine: a sine of peak ``A``
reads ``20 log10(A)`` in the band that holds it. Frames are transformed one at a
time in order, so the result does not depend on how the signal was split.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from mixdown.core.audio import AudioArray

THIRD_OCTAVE_NOMINAL_HZ = (
    20, 25, 31.5, 40, 50, 63, 80, 100, 125, 160, 200, 250, 315, 400, 500, 630, 800,
    1000, 1250, 1600, 2000, 2500, 3150, 4000, 5000, 6300, 8000, 10000, 12500, 16000, 20000,
)
"""IEC 61260 nominal mid-band frequencies, 20 Hz to 20 kHz."""

_EXACT_MID_HZ = tuple(1000.0 * 10.0 ** (k / 10.0) for k in range(-17, 14))


def frame_length(sample_rate: int) -> int:
    """Spectrum frame length in samples: the power of two nearest to a third of a second."""
    return 1 << max(8, round(math.log2(sample_rate / 3.0)))


class SpectrumAccumulator:
    """Average power spectrum of a stream, shape-stable for any block split.

    Parameters
    ----------
    sample_rate : int
        Hz.
    channels : int
        Channel count; the spectrum is the mean over channels.
    """

    def __init__(self, sample_rate: int, channels: int) -> None:
        self.sample_rate = sample_rate
        self.channels = channels
        self.n = frame_length(sample_rate)
        self._window = np.hanning(self.n + 1)[:-1].astype(np.float32)  # periodic Hann
        self._window_power = float(np.sum(self._window.astype(np.float64) ** 2))
        self._power = np.zeros(self.n // 2 + 1)
        self._frames = 0
        self._pending = np.zeros((channels, self.n), np.float32)
        self._fill = 0

    def push(self, block: AudioArray) -> None:
        """Add a float32 (channels, frames) block."""
        x = block
        pos = 0
        total = x.shape[1]
        while pos < total:
            take = min(self.n - self._fill, total - pos)
            if self._fill == 0 and take == self.n:
                self._add_frame(x[:, pos : pos + take], self._window)
            else:
                self._pending[:, self._fill : self._fill + take] = x[:, pos : pos + take]
                self._fill += take
                if self._fill == self.n:
                    self._add_frame(self._pending, self._window)
                    self._fill = 0
            pos += take

    def _add_frame(self, frame: np.ndarray, window: NDArray[np.float32],
                   window_power: float | None = None) -> None:
        # numpy's pocketfft (float32 in, complex64 out, as scipy.fft's): importing scipy.fft
        # would add about 0.2 s to the start-up of every render that writes a QC report.
        spec = np.fft.rfft(frame * window, n=self.n, axis=-1)
        p = np.square(spec.real) + np.square(spec.imag)  # float32, per channel
        total = p[0].astype(np.float64)
        for c in range(1, p.shape[0]):
            total += p[c]
        power = self._window_power if window_power is None else window_power
        self._power += total * (1.0 / power)
        self._frames += 1

    def power(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """(frequencies in Hz, mean square per bin) averaged over frames and channels.

        The bins of a sine of peak ``A`` sum to ``A**2 / 2``. Audio shorter than one
        frame is measured as one zero-padded frame with a Hann window of its own length.
        """
        freqs = np.fft.rfftfreq(self.n, 1.0 / self.sample_rate)
        power = self._power.copy()
        frames = self._frames
        if frames == 0 and self._fill > 0:
            short = np.zeros_like(self._pending)
            short[:, : self._fill] = self._pending[:, : self._fill]
            w = np.zeros(self.n, np.float32)
            w[: self._fill] = np.hanning(self._fill + 1)[:-1] if self._fill > 1 else 1.0
            saved = self._power.copy()
            self._add_frame(short, w, float(np.sum(w.astype(np.float64) ** 2)))
            power = self._power.copy()
            self._power = saved
            self._frames = 0
            frames = 1
        if frames == 0:
            return freqs, np.zeros_like(power)
        # one-sided: every bin but DC and Nyquist holds half its power in negative frequencies
        scale = np.full(len(power), 2.0)
        scale[0] = 1.0
        scale[-1] = 1.0
        return freqs, power * scale / (self.n * frames * self.channels)

    def third_octave_db(self) -> tuple[list[float], list[float]]:
        """(nominal mid-band Hz, level in dB re full-scale sine) for bands below Nyquist."""
        freqs, ms = self.power()
        nominal: list[float] = []
        levels: list[float] = []
        nyquist = self.sample_rate / 2
        for nom, mid in zip(THIRD_OCTAVE_NOMINAL_HZ, _EXACT_MID_HZ, strict=True):
            lo = mid * 10.0 ** (-1.0 / 20.0)
            hi = mid * 10.0 ** (1.0 / 20.0)
            if hi > nyquist:
                break
            band = float(ms[(freqs >= lo) & (freqs < hi)].sum())
            nominal.append(float(nom))
            levels.append(10.0 * math.log10(2.0 * band) if band > 0 else -math.inf)
        return nominal, levels
