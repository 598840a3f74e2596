"""ITU-R BS.1770-4 loudness with EBU R128 gating, streaming in blocks.

The meter K-weights each channel (a high shelf, then the RLB high-pass), weights
the channels (BS.1770-4 Table 3: L, R, C 1.0; Ls, Rs 1.41; the LFE excluded),
and keeps running energy sums on two grids aligned to the first sample:

* the **gate grid**, 100 ms hops (``round(rate / 10)`` samples): 400 ms gating
  blocks with 75 % overlap for the integrated loudness (absolute gate -70 LUFS,
  relative gate -10 LU, BS.1770-4 Annex 1), and 3 s short-term blocks every
  100 ms for the loudness range (EBU Tech 3342: >= 10 Hz, relative gate -20 LU,
  10th to 95th percentile);
* the **series grid**, hops of at most 10 ms: momentary (400 ms) and short-term
  (3 s) loudness, so their maxima land within 5 ms of any burst (EBU Tech 3341
  cases 13 and 14).

Away from 48 kHz the filters come from the prewarped bilinear transform of the
analog prototypes that libebur128 and ffmpeg use, so mixdown agrees with them at
every rate (the 48 kHz coefficients are those printed in BS.1770-4).

Every per-sample step runs in one compiled loop, in a fixed order, so the figures
are bit-identical for any split of the signal into blocks. Memory is flat in the
signal's length apart from one float per 100 ms for the gating statistics
(and the series, when asked for: one float32 per hop and curve, :class:`LoudnessSeries`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, overload

import numpy as np
from numpy.typing import NDArray

from mixdown.analysis import _kernels as K
from mixdown.core.audio import AudioArray
from mixdown.core.errors import ParameterError

MIN_SAMPLE_RATE = 8_000
MAX_SAMPLE_RATE = 192_000
ABSOLUTE_GATE_LUFS = -70.0
RELATIVE_GATE_LU = -10.0
LRA_RELATIVE_GATE_LU = -20.0
LRA_LOW_PERCENTILE = 0.10
LRA_HIGH_PERCENTILE = 0.95
LOUDNESS_OFFSET_DB = -0.691
"""BS.1770-4 eq. (2): L = -0.691 + 10 log10(sum G_i z_i)."""

SURROUND_WEIGHT = 1.41

_ABS_GATE_ENERGY = 10.0 ** ((ABSOLUTE_GATE_LUFS - LOUDNESS_OFFSET_DB) / 10.0)


def channel_weights(channels: int) -> tuple[NDArray[np.float64], str | None]:
    """BS.1770-4 channel weights for a channel count, and a warning if the layout is unknown.

    1 = mono, 2 = L R, 5 = L R C Ls Rs, 6 = L R C LFE Ls Rs (LFE weighted 0). Other
    counts weigh every channel 1.0 and return a warning saying so.
    """
    if channels in (1, 2):
        return np.ones(channels), None
    if channels == 5:
        return np.array([1.0, 1.0, 1.0, SURROUND_WEIGHT, SURROUND_WEIGHT]), None
    if channels == 6:
        return np.array([1.0, 1.0, 1.0, 0.0, SURROUND_WEIGHT, SURROUND_WEIGHT]), None
    return np.ones(channels), (
        f"{channels} channels: no BS.1770 layout for this count, every channel weighted 1.0 "
        "(use 1, 2, 5 = L R C Ls Rs or 6 = L R C LFE Ls Rs for standard weighting)"
    )


def k_weighting_coefficients(sample_rate: int) -> NDArray[np.float64]:
    """The two K-weighting biquads as a scipy ``sos`` array, shape (2, 6).

    Row 0 is the high shelf (+4 dB above ~1.7 kHz), row 1 the RLB high-pass (~38 Hz).
    At 48 kHz these are the BS.1770-4 Table 1 and 2 coefficients to 1e-8.
    """
    f0 = 1681.974450955533
    gain_db = 3.999843853973347
    q = 0.7071752369554196
    k = math.tan(math.pi * f0 / sample_rate)
    vh = 10.0 ** (gain_db / 20.0)
    vb = vh ** 0.4996667741545416
    a0 = 1.0 + k / q + k * k
    shelf = [(vh + vb * k / q + k * k) / a0, 2.0 * (k * k - vh) / a0,
             (vh - vb * k / q + k * k) / a0, 1.0, 2.0 * (k * k - 1.0) / a0,
             (1.0 - k / q + k * k) / a0]
    f0 = 38.13547087602444
    q = 0.5003270373238773
    k = math.tan(math.pi * f0 / sample_rate)
    d = 1.0 + k / q + k * k
    highpass = [1.0, -2.0, 1.0, 1.0, 2.0 * (k * k - 1.0) / d, (1.0 - k / q + k * k) / d]
    return np.array([shelf, highpass])


def energy_to_lufs(energy: float) -> float:
    """Weighted mean square to LUFS (``-inf`` for zero)."""
    return LOUDNESS_OFFSET_DB + 10.0 * math.log10(energy) if energy > 0 else -math.inf


def _energies_to_lufs(energy: NDArray[np.float64]) -> NDArray[np.float64]:
    out = np.full(energy.shape, -np.inf)
    pos = energy > 0
    out[pos] = LOUDNESS_OFFSET_DB + 10.0 * np.log10(energy[pos])
    return out


def check_sample_rate(sample_rate: int) -> int:
    """Return ``sample_rate`` as int, or raise ParameterError outside 8..192 kHz."""
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, int | np.integer):
        raise ParameterError(f"sample_rate must be an integer in Hz, got {sample_rate!r}")
    if not MIN_SAMPLE_RATE <= sample_rate <= MAX_SAMPLE_RATE:
        raise ParameterError(
            f"sample rate {sample_rate} Hz is outside the {MIN_SAMPLE_RATE}..{MAX_SAMPLE_RATE} Hz "
            "that loudness analysis supports; resample the audio first"
        )
    return int(sample_rate)


def check_channels(channels: int) -> int:
    """Return ``channels`` as int, or raise ParameterError outside 1..64."""
    if isinstance(channels, bool) or not isinstance(channels, int | np.integer) \
            or not 1 <= channels <= 64:
        raise ParameterError(f"channels must be an integer 1..64, got {channels!r}")
    return int(channels)


def series_hop(sample_rate: int) -> tuple[int, int, int]:
    """The series grid: (hop in samples, momentary window in hops, short-term window in hops).

    The hop is the longest divisor of both window lengths that is at most 10 ms, so
    both windows are exact (48 kHz: 480 samples, 40 and 300 hops). At odd rates where
    no such divisor reaches 5 ms, the hop is ``rate // 100`` and the windows are
    rounded to whole hops (off by at most half a hop).
    """
    n_m = round(0.4 * sample_rate)
    n_s = 3 * sample_rate
    g = math.gcd(n_m, n_s)
    limit = sample_rate // 100
    best = 0
    for d in range(limit, 0, -1):
        if g % d == 0:
            best = d
            break
    if best * 200 >= sample_rate:
        return best, n_m // best, n_s // best
    hop = limit
    return hop, max(1, round(n_m / hop)), max(1, round(n_s / hop))


@dataclass(frozen=True, slots=True)
class _Grid:
    sub_len: int
    momentary_subs: int
    short_term_subs: int
    gate_len: int


class _Growing:
    """An append-only array (float64 unless told) with amortised growth."""

    __slots__ = ("_data", "_n")

    def __init__(self, width: int = 0, dtype: type = np.float64) -> None:
        self._data = np.empty((256, width) if width else 256, dtype)
        self._n = 0

    def extend(self, values: np.ndarray) -> None:
        k = len(values)
        if self._n + k > len(self._data):
            new = np.empty((max(2 * len(self._data), self._n + k), *self._data.shape[1:]),
                           self._data.dtype)
            new[: self._n] = self._data[: self._n]
            self._data = new
        self._data[self._n : self._n + k] = values
        self._n += k

    def view(self) -> np.ndarray:
        return self._data[: self._n]


class LoudnessSeries(Sequence[list[float | None]]):
    """A loudness curve held compactly: ``lufs[i]`` is the window ending at ``t0_s + i hop_s``.

    float32 LUFS at the series' step (4 bytes a point, 1.4 MB per hour at 10 ms), not
    Python lists. As a sequence it gives JSON rows ``[t_end_s, lufs]`` (time rounded to
    1 us, LUFS to 0.0001, ``None`` for silence), one at a time or by slices, so a writer
    can stream them (:func:`mixdown.core.jsonable.write_json`); ``np.asarray`` gives the
    (points, 2) float64 array of :meth:`LoudnessMeter.momentary_series`.
    """

    __slots__ = ("_first", "_rate", "_step", "lufs")

    def __init__(self, lufs: NDArray[np.float32], first_end: int, step: int,
                 sample_rate: int) -> None:
        self.lufs = lufs
        self._first = first_end
        self._step = step
        self._rate = sample_rate

    @property
    def hop_s(self) -> float:
        """Seconds between two points."""
        return self._step / self._rate

    def times(self, start: int = 0, stop: int | None = None) -> NDArray[np.float64]:
        """Window end times in seconds of points ``start:stop``."""
        stop = len(self.lufs) if stop is None else stop
        return (self._first + np.arange(start, stop)) * self._step / self._rate

    def __len__(self) -> int:
        return len(self.lufs)

    def __array__(self, dtype: Any = None, copy: Any = None) -> NDArray[np.float64]:
        out = np.empty((len(self.lufs), 2))
        out[:, 0] = self.times()
        out[:, 1] = self.lufs
        return out if dtype is None else out.astype(dtype)

    def _rows(self, start: int, stop: int) -> list[list[float | None]]:
        t = np.round(self.times(start, stop), 6).tolist()
        v = np.round(self.lufs[start:stop].astype(np.float64), 4)
        vals: list[float | None] = v.tolist()
        for i in np.flatnonzero(~np.isfinite(v)).tolist():
            vals[i] = None
        return [[a, b] for a, b in zip(t, vals, strict=True)]

    @overload
    def __getitem__(self, index: int) -> list[float | None]: ...

    @overload
    def __getitem__(self, index: slice) -> list[list[float | None]]: ...

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            rows = self._rows(start, max(start, stop)) if step == 1 else [
                self[i] for i in range(start, stop, step)]
            return rows
        i = index + len(self) if index < 0 else index
        if not 0 <= i < len(self):
            raise IndexError("series index out of range")
        return self._rows(i, i + 1)[0]

    def __iter__(self) -> Iterator[list[float | None]]:
        for start in range(0, len(self), 8192):
            yield from self._rows(start, min(len(self), start + 8192))

    def tolist(self) -> list[list[float | None]]:
        """Every row as a list (what ``json.dumps`` needs; memory grows with length)."""
        return self._rows(0, len(self))


class LoudnessMeter:
    """Streaming BS.1770-4 / EBU R128 loudness meter.

    Parameters
    ----------
    sample_rate : int
        8000..192000 Hz.
    channels : int
        1..64; 1 mono, 2 stereo, 5 = L R C Ls Rs, 6 = L R C LFE Ls Rs.
    series : bool
        Keep the momentary and short-term series (one point per <= 10 ms hop).

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(48000 * 2) / 48000
    >>> tone = np.sin(2 * np.pi * 1000 * t).astype(np.float32) * 10 ** (-23 / 20)
    >>> meter = LoudnessMeter(48000, 2)
    >>> meter.push(np.stack([tone, tone]))
    >>> round(meter.integrated_lufs(), 1)
    -23.0
    """

    def __init__(self, sample_rate: int, channels: int, *, series: bool = False) -> None:
        self.sample_rate = check_sample_rate(sample_rate)
        self.channels = check_channels(channels)
        self.series = bool(series)
        self.weights, self.layout_warning = channel_weights(self.channels)
        sos = k_weighting_coefficients(self.sample_rate)
        self._coef = np.concatenate([sos[0, [0, 1, 2, 4, 5]], sos[1, [0, 1, 2, 4, 5]]])
        sub, m_subs, s_subs = series_hop(self.sample_rate)
        self._grid = _Grid(sub, m_subs, s_subs, (self.sample_rate + 5) // 10)
        self._params = np.array([sub, self._grid.gate_len, m_subs, s_subs], np.int64)
        self._wave = False
        self.reset()

    # -- state -----------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget everything pushed so far."""
        c = self.channels
        self.frames = 0
        self._zst = np.zeros((c, 4))
        self._acc = np.zeros(2)
        self._ist = np.zeros(K.N_ISTATE, np.int64)
        self._sub_ring = np.zeros(self._grid.short_term_subs)
        self._gate_ring = np.zeros(30)
        self._fstat = np.zeros((3, c))
        self._runs = np.zeros(c, np.int64)
        self._slr = np.zeros(1)
        self._wcur = np.empty((2, c))
        self._wcur[0] = np.inf
        self._wcur[1] = -np.inf
        self._blocks400 = _Growing()
        self._blocks3s = _Growing()
        self._max_m = -1.0
        self._max_s = -1.0
        self._subs_seen = 0
        self._m_series = _Growing(dtype=np.float32)  # LUFS at each hop once full
        self._s_series = _Growing(dtype=np.float32)
        self._m_first = -1  # the hop whose end is the first full window
        self._s_first = -1
        self._w_series: list[np.ndarray] = []
        self._out_cap = 0

    def _ensure_out(self, frames: int) -> None:
        subs = frames // self._grid.sub_len + 2
        gates = frames // self._grid.gate_len + 2
        if subs > self._out_cap:
            self._out_cap = subs
            self._out_m = np.empty(subs)
            self._out_s = np.empty(subs)
            self._out_w = np.empty((2, self.channels, subs if self._wave else 1), np.float32)
            self._out_g4 = np.empty(gates)
            self._out_g30 = np.empty(gates)

    def push(self, block: AudioArray) -> None:
        """Measure the next block, float32 shaped (channels, frames), any length.

        Raises
        ------
        ParameterError
            If the block's shape does not match the meter, or it holds NaN or inf
            (the meter is then unusable until :meth:`reset`).
        """
        x = self._check_block(block)
        frames = x.shape[1]
        if frames == 0:
            return
        self._ensure_out(frames)
        bad_before = int(self._ist[K.I_NONFINITE])
        n_sub, n_gate = K.loudness_block(
            x, self._coef, self.weights, self._zst, self._acc, self._ist, self._params,
            self._sub_ring, self._gate_ring, self._fstat, self._runs, self._slr, self._wave,
            self._wcur, self._out_m, self._out_s, self._out_w, self._out_g4, self._out_g30)
        start = self.frames
        self.frames += frames
        if self._ist[K.I_NONFINITE] > bad_before:
            at = start + int(self._ist[K.I_FIRST_BAD]) if bad_before == 0 else start
            raise ParameterError(
                f"audio holds NaN or infinite samples (first near {at / self.sample_rate:.3f} s, "
                f"frame {at}); fix the source or the processing that produced them"
            )
        self._collect(n_sub, n_gate)

    def _check_block(self, block: AudioArray) -> np.ndarray:
        if not isinstance(block, np.ndarray) or block.ndim != 2:
            raise ParameterError(
                f"block must be a 2-D array shaped (channels, frames), got "
                f"{getattr(block, 'shape', type(block).__name__)}"
            )
        if block.shape[0] != self.channels:
            raise ParameterError(
                f"block has {block.shape[0]} channels but the meter was made for "
                f"{self.channels}; is it frames-first? transpose it to (channels, frames)"
            )
        if self._ist[K.I_NONFINITE]:
            raise ParameterError("the meter saw NaN or infinite samples; call reset() first")
        return np.ascontiguousarray(block, dtype=np.float32)

    def _collect(self, n_sub: int, n_gate: int) -> None:
        if n_gate:
            g4 = self._out_g4[:n_gate]
            self._blocks400.extend(g4[g4 >= 0])
            g30 = self._out_g30[:n_gate]
            self._blocks3s.extend(g30[g30 >= 0])
        if n_sub:
            m = self._out_m[:n_sub]
            s = self._out_s[:n_sub]
            self._max_m = max(self._max_m, float(m.max()))
            self._max_s = max(self._max_s, float(s.max()))
            if self.series:
                self._m_first = self._extend_series(self._m_series, self._m_first, m)
                self._s_first = self._extend_series(self._s_series, self._s_first, s)
                if self._wave:
                    self._w_series.append(self._out_w[:, :, :n_sub].copy())
            self._subs_seen += n_sub

    def _extend_series(self, store: _Growing, first: int, energy: np.ndarray) -> int:
        """Append the LUFS of full windows (energy >= 0); return the first full hop."""
        if first < 0:
            full = np.flatnonzero(energy >= 0)
            if not len(full):
                return first
            first = self._subs_seen + int(full[0])
            energy = energy[full[0]:]
        lufs = _energies_to_lufs(np.maximum(energy, 0.0))
        store.extend(lufs.astype(np.float32))
        return first

    # -- figures -------------------------------------------------------------------------------
    @property
    def duration_s(self) -> float:
        """Seconds pushed so far."""
        return self.frames / self.sample_rate

    def gating_block_energies(self) -> NDArray[np.float64]:
        """Weighted mean squares of every complete 400 ms gating block, 100 ms apart."""
        return self._blocks400.view().copy()

    def integrated_lufs(self) -> float:
        """Gated integrated loudness in LUFS; ``-inf`` if no block passes the -70 LUFS gate."""
        return _gated_loudness(self._blocks400.view())

    def relative_gate_lufs(self) -> float:
        """The relative gate of the integrated measurement (-inf when nothing passed)."""
        e = self._blocks400.view()
        above = e[e > _ABS_GATE_ENERGY]
        if not len(above):
            return -math.inf
        return energy_to_lufs(float(above.mean())) + RELATIVE_GATE_LU

    def loudness_range_lu(self, *, block_step_s: float = 0.1) -> float:
        """EBU Tech 3342 loudness range in LU (0.0 when under 3 s or silent).

        Parameters
        ----------
        block_step_s : float
            Spacing of the 3 s short-term blocks, a multiple of 0.1 s. The default 0.1
            is what Tech 3342 (2016) asks for (>= 10 Hz); 1.0 gives the blocks that
            libebur128 and older meters use (ending at 3, 4, 5 ... s), for comparisons.
            On short or strongly sectioned material the two can differ by several
            tenths of an LU.
        """
        step = round(block_step_s * 10)
        if step < 1 or abs(step - block_step_s * 10) > 1e-9:
            raise ParameterError(
                f"block_step_s must be a multiple of 0.1 s, got {block_step_s!r}")
        return _loudness_range(self._blocks3s.view()[::step])

    def max_momentary_lufs(self) -> float:
        """Largest momentary (400 ms) loudness, ``-inf`` if under 400 ms or silent."""
        return energy_to_lufs(self._max_m) if self._max_m >= 0 else -math.inf

    def max_short_term_lufs(self) -> float:
        """Largest short-term (3 s) loudness, ``-inf`` if under 3 s or silent."""
        return energy_to_lufs(self._max_s) if self._max_s >= 0 else -math.inf

    def momentary_series(self) -> NDArray[np.float64]:
        """Momentary loudness, shape (points, 2): window end in s, LUFS (-inf for silence).

        Needs ``series=True``; one point per series hop (<= 10 ms) from 0.4 s on. The
        LUFS are float32-exact (see :meth:`series_compact`).
        """
        return np.asarray(self.series_compact("momentary"))

    def short_term_series(self) -> NDArray[np.float64]:
        """Short-term loudness, shape (points, 2): window end in s, LUFS; from 3 s on."""
        return np.asarray(self.series_compact("short_term"))

    def series_compact(self, kind: str) -> LoudnessSeries:
        """The ``"momentary"`` or ``"short_term"`` series as a compact :class:`LoudnessSeries`."""
        if not self.series:
            raise ParameterError("this meter keeps no series; create it with series=True")
        if kind not in ("momentary", "short_term"):
            raise ParameterError(f"kind must be 'momentary' or 'short_term', got {kind!r}")
        store, first = ((self._m_series, self._m_first) if kind == "momentary"
                        else (self._s_series, self._s_first))
        return LoudnessSeries(store.view().copy(), first + 1, self._grid.sub_len,
                              self.sample_rate)

    @property
    def series_hop_s(self) -> float:
        """Seconds between two series points."""
        return self._grid.sub_len / self.sample_rate


def _gated_loudness(blocks: NDArray[np.float64]) -> float:
    above = blocks[blocks > _ABS_GATE_ENERGY]
    if not len(above):
        return -math.inf
    threshold = above.mean() * 10.0 ** (RELATIVE_GATE_LU / 10.0)
    gated = above[above > threshold]
    return energy_to_lufs(float(gated.mean()))


def _loudness_range(blocks: NDArray[np.float64]) -> float:
    above = blocks[blocks > _ABS_GATE_ENERGY]
    if not len(above):
        return 0.0
    threshold = above.mean() * 10.0 ** (LRA_RELATIVE_GATE_LU / 10.0)
    gated = np.sort(above[above > threshold])
    n = len(gated)
    lo = gated[int((n - 1) * LRA_LOW_PERCENTILE + 0.5)]
    hi = gated[int((n - 1) * LRA_HIGH_PERCENTILE + 0.5)]
    return energy_to_lufs(float(hi)) - energy_to_lufs(float(lo))


def integrated_loudness(audio: AudioArray, sample_rate: int) -> float:
    """Integrated loudness per ITU-R BS.1770-4 with EBU R128 gating.

    Parameters
    ----------
    audio : ndarray [shape=(channels, frames), float32]
        Channel order L, R, C, (LFE,) Ls, Rs.
    sample_rate : int
        8000..192000 Hz.

    Returns
    -------
    float
        LUFS; ``-inf`` for silence or audio shorter than one 400 ms gating block.

    Raises
    ------
    ParameterError
        If ``audio`` is not 2-D (channels, frames), holds NaN/inf, or the rate is unsupported.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> noise = rng.standard_normal((2, 48000 * 3)).astype(np.float32) * 0.05
    >>> round(integrated_loudness(noise, 48000), 1)
    -19.9
    """
    if not isinstance(audio, np.ndarray) or audio.ndim != 2:
        raise ParameterError(
            f"audio must be a 2-D array shaped (channels, frames), got "
            f"{getattr(audio, 'shape', type(audio).__name__)}"
        )
    meter = LoudnessMeter(sample_rate, audio.shape[0])
    meter.push(audio)
    return meter.integrated_lufs()
