"""A lookahead true-peak limiter (stereo-linked, streaming, block-size invariant).

Peaks are detected on a 4x oversampled copy of the signal, in the manner of
ITU-R BS.1770-4 Annex 2 (polyphase interpolation), refined between the
oversampled points by a parabola through the three points around each local
maximum, so that a peak that falls between two oversampled points is not
under-read (a 4x detector alone reads up to 0.69 dB low near Nyquist).

Meters disagree about content in the top few percent of the band below Nyquist,
because their interpolation filters treat it differently (a short filter droops
there, a long one does not). The detector therefore takes the larger reading of
three interpolators: a long Kaiser-windowed sinc (close to ideal below 0.45 fs,
like ffmpeg's resampler), the 49-tap Hann-windowed sinc of BS.1770-4 Annex 2 used
by libebur128, and scipy's default 8x ``resample_poly`` filter. The output is then
at or below the ceiling for each of those meters on hostile material (clipped
noise, square waves, fs/4 sines at 45 degrees), as the tests check. A near-ideal
reconstruction (e.g. soxr's VHQ resampler) can read higher on full-band noise: no
BS.1770 meter looks there.

The gain path, per frame (all in compiled code):

1. required gain ``r = min(1, threshold / peak)``, the peak linked over channels;
2. a running minimum of ``r`` over the lookahead window (``hold``), so that the
   gain is down before the peak arrives;
3. a release, ``e = min(hold, s - (s - e) * beta)``: exponential towards unity
   (``s = 1``, time constant ``release_ms``), or, with auto release
   (``transient_release_ms > 0``), a fast release towards a *sustained level* ``s``
   that follows the held gain down with time constant ``sustain_ms`` and recovers
   with ``release_ms``. Isolated or dense short peaks (drum hits, a clipped mix) then
   cost a few milliseconds of gain reduction each instead of ``release_ms``, while a
   sustained over (a loud passage) builds ``s`` down and is released slowly, without
   pumping or distortion from a fast release on steady material;
4. a moving average of ``e`` over the lookahead window: a smooth (linear) attack
   that still reaches the required gain at the peak, since every value averaged
   there is at or below it. The sum is kept in exact integer fixed point, so the
   output does not depend on how the input is split into blocks, and unity gain
   is exactly 1 (the limiter nulls with its delayed input below threshold).

The audio is delayed by :attr:`TruePeakLimiter.latency_frames`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit
from numpy.typing import NDArray

from mixdown.core.audio import AudioArray, check_audio
from mixdown.core.errors import ParameterError
from mixdown.core.targets import MAX_CEILING_DBTP, MIN_CEILING_DBTP, check_ceiling
from mixdown.core.units import db_to_gain, gain_to_db
from mixdown.dsp.base import Param, register_device
from mixdown.dsp.filters import kaiser_lowpass

OVERSAMPLE = 4
"""Oversampling factor of the peak detector."""
TAPS_PER_PHASE = 64
"""Taps per polyphase branch of the main interpolator (a 257-tap Kaiser-windowed sinc: long
enough that a 16x near-ideal reconstruction of content close to Nyquist reads no higher)."""
KAISER_BETA = 8.0
"""Kaiser window shape of the main interpolator: flat within 0.002 dB up to 0.4 fs."""
DETECTOR_MARGIN_DB = 0.05
"""Headroom for detector error: the worst under-read measured for sines up to 0.46 fs at
any phase is 0.015 dB, but on hard-clipped bright material (content up to Nyquist) ffmpeg's
meter reads up to 0.06 dB above the detector (mastering uses
``margin_db=0.1`` there); the tests check the ceiling with independent
8x and 16x oversamplers, with libebur128 and with ffmpeg."""
BULGE = 1.0 / math.cos(math.pi / (2 * OVERSAMPLE))
"""Largest ratio of a band-limited signal's peak to its nearest 4x sample (+0.69 dB); the
parabolic refinement is clamped to it."""
_FIX_ONE = 1 << 40  # fixed-point unity of the attack smoother

BS1770_ANNEX2_TAPS = np.array(
    [
        [0.0017089843750, 0.0109863281250, -0.0196533203125, 0.0332031250000,
         -0.0594482421875, 0.1373291015625, 0.9721679687500, -0.1022949218750,
         0.0476074218750, -0.0266113281250, 0.0148925781250, -0.0083007812500],
        [-0.0291748046875, 0.0292968750000, -0.0517578125000, 0.0891113281250,
         -0.1665039062500, 0.4650878906250, 0.7797851562500, -0.2003173828125,
         0.1015625000000, -0.0582275390625, 0.0330810546875, -0.0189208984375],
    ],
    dtype=np.float32,
)
BS1770_ANNEX2_TAPS = np.concatenate([BS1770_ANNEX2_TAPS, BS1770_ANNEX2_TAPS[::-1, ::-1]])
"""The 48-tap interpolator printed in ITU-R BS.1770-4 Annex 2 (4 phases x 12 taps; phases
2 and 3 mirror 1 and 0). The same table as :data:`mixdown.analysis.truepeak.BS1770_TAPS`
(a test keeps them equal): dsp does not import analysis."""

_CENTRE = TAPS_PER_PHASE // 2  # every interpolator is aligned to this delay, in frames


def _place(bank: NDArray[np.float64], branch: int, coefs: NDArray[np.float64],
           delay_frames: int) -> None:
    """Put a polyphase branch into ``bank`` (taps reversed, aligned to :data:`_CENTRE`).

    ``coefs[k]`` multiplies ``x[n - k]`` and the branch's own delay is ``delay_frames``.
    """
    shift = _CENTRE - delay_frames
    for k, coef in enumerate(coefs):
        bank[branch, TAPS_PER_PHASE - 1 - shift - k] = coef


def _main_bank() -> NDArray[np.float64]:
    """A 257-tap Kaiser-windowed sinc (branches normalised to unity DC gain), 4x."""
    length = OVERSAMPLE * TAPS_PER_PHASE + 1
    n = np.arange(length) - OVERSAMPLE * _CENTRE
    proto = np.sinc(n / OVERSAMPLE) * np.kaiser(length, KAISER_BETA)
    bank = np.zeros((OVERSAMPLE, TAPS_PER_PHASE))
    for phase in range(OVERSAMPLE):
        taps = proto[phase::OVERSAMPLE][:TAPS_PER_PHASE]
        _place(bank, phase, taps / taps.sum(), _CENTRE)
    return bank


def _hann_bank() -> NDArray[np.float64]:
    """libebur128's interpolator: a 49-tap Hann-windowed sinc, 4x (not normalised).

    A short filter reads content near Nyquist differently from a long one (here up to
    +0.11 dB of passband gain at 0.33 fs, and more droop above 0.4 fs).
    """
    taps = 49
    j = np.arange(taps)
    m = j - (taps - 1) / 2
    proto = np.sinc(m / OVERSAMPLE) * 0.5 * (1.0 - np.cos(2.0 * np.pi * j / (taps - 1)))
    bank = np.zeros((OVERSAMPLE, TAPS_PER_PHASE))
    for phase in range(OVERSAMPLE):
        _place(bank, phase, proto[phase::OVERSAMPLE], (taps - 1) // (2 * OVERSAMPLE))
    return bank


def _annex2_bank() -> NDArray[np.float64]:
    """The 48-tap filter printed in BS.1770-4 Annex 2 (mixdown's own true-peak meter).

    Its four phases sit at 1/8, 3/8, 5/8 and 7/8 of a sample (a grid offset from the
    others), with a little passband ripple (+0.04 dB at fs/4).
    """
    bank = np.zeros((OVERSAMPLE, TAPS_PER_PHASE))
    for phase in range(OVERSAMPLE):
        _place(bank, phase, BS1770_ANNEX2_TAPS[phase].astype(np.float64), 6)
    return bank


def _scipy_bank() -> NDArray[np.float64]:
    """Phases 0, 2, 4, 6 of scipy's default 8x ``resample_poly`` filter (Kaiser, beta 5).

    Its transition band passes more of the content just below Nyquist than the BS.1770
    filters do; generic 8x oversampling meters read like this.
    """
    up = 2 * OVERSAMPLE
    half = 10 * up
    proto = kaiser_lowpass(2 * half + 1, 1.0 / up, 5.0) * up
    bank = np.zeros((OVERSAMPLE, TAPS_PER_PHASE))
    for phase in range(OVERSAMPLE):
        _place(bank, phase, proto[2 * phase::up], half // up)
    return bank


def _design_banks() -> tuple[NDArray[np.float32], NDArray[np.int64], NDArray[np.int64]]:
    """The interpolators as (bank, branch, tap) float32, with each branch's non-zero taps.

    ``y = sum_j bank[b, k, j] * x[m - (TAPS_PER_PHASE - 1) + j]``; a bank's branches give
    the signal in time order within frame ``m - TAPS_PER_PHASE / 2``'s sample interval.
    """
    banks = np.stack([_main_bank(), _hann_bank(), _annex2_bank(), _scipy_bank()])
    # np.sinc leaves ~1e-17 where the sinc is exactly 0 (integer points): a zero tap
    banks[np.abs(banks) < 1e-12] = 0.0
    lo = np.zeros(banks.shape[:2], np.int64)
    hi = np.zeros(banks.shape[:2], np.int64)
    for b in range(banks.shape[0]):
        for k in range(banks.shape[1]):
            nz = np.flatnonzero(banks[b, k])
            lo[b, k], hi[b, k] = nz[0], nz[-1] + 1
    return banks.astype(np.float32), lo, hi


_BANKS, _BANK_LO, _BANK_HI = _design_banks()
_BANK_REFINE = np.array([True, False, False, True])
"""Refine between points: yes for the reconstructions, no for the two meters emulated on
their own 4x grid (libebur128 and BS.1770 Annex 2 read the raw maximum)."""
_BANK_BOUND = (np.abs(_BANKS.astype(np.float64)).sum(axis=2).max(axis=1)
               * np.where(_BANK_REFINE, BULGE, 1.0) * (1.0 + 1e-5))
"""Per bank: no reading (refined or not) exceeds this times the local max |x| (the largest
branch L1 norm, the refinement's clamp, an allowance for float32 rounding)."""
_GATE = float(_BANK_BOUND.max())

_JIT = {"cache": True, "nogil": True, "boundscheck": False, "error_model": "numpy"}


@njit(**_JIT)
def _branch(taps: np.ndarray, src: np.ndarray, lo: int, hi: int, start: int,
            acc: np.ndarray, w: int) -> None:  # pragma: no cover - numba
    """``acc[i] = sum_{lo <= j < hi} taps[j] * src[start + i + j]`` for ``i < w``.

    Frames run along the inner loop, so it vectorises, and every output is summed in the
    same order whatever the block boundaries.
    """
    for i in range(w):
        acc[i] = 0.0
    for j in range(lo, hi):
        tj = taps[j]
        seg = src[start + j:start + j + w]
        for i in range(w):
            acc[i] += tj * seg[i]


SUSTAIN_MS = 100.0
"""Default time constant (ms) over which auto release counts gain reduction as sustained."""

GATE_FRAMES = 64
"""Frames per detector gate decision (see :func:`_limit`)."""
SPAN_FRAMES = 16 * GATE_FRAMES
"""Most frames per interpolator pass: neighbouring chunks that need a bank are filtered
together, so the per-tap loop set-up is paid once per span rather than once per chunk."""


@njit(**_JIT)
def _tail_state(work: np.ndarray, banks: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                absy: np.ndarray, ybuf: np.ndarray, m: int, c: int,
                k: int) -> None:  # pragma: no cover - numba
    """Set bank ``k``'s refinement state for channel ``c`` to frame ``m``'s last two points."""
    n_br = banks.shape[1]
    for q in range(2):
        ph = n_br - 2 + q
        _branch(banks[k, ph], work[c], lo[k, ph], hi[k, ph], m + 1, ybuf[ph], 1)
        absy[k, c, q] = abs(ybuf[ph, 0])


@njit(**_JIT)
def _parabola(ya: float, yb: float, yc: float, bulge: float) -> float:  # pragma: no cover
    """``yb``, or the vertex of the parabola through (ya, yb, yc) if ``yb`` is a local
    maximum (clamped to ``yb * bulge``); branch-free so that loops over it vectorise."""
    den = ya - 2.0 * yb + yc
    ok = (yb >= ya) and (yb >= yc) and (den < 0.0)
    dd = den if ok else -1.0
    v = yb - 0.125 * (ya - yc) * (ya - yc) / dd
    lim = yb * bulge
    v = v if v < lim else lim
    return v if ok else yb


@njit(**_JIT)
def _chunk_levels(work: np.ndarray, n: int, lev: np.ndarray) -> None:  # pragma: no cover
    """``lev[c, q]``: largest |x| of channel ``c`` over the FIR windows of chunk ``q``'s
    frames (the gate's and the banks' bounds are multiples of it)."""
    hist = TAPS_PER_PHASE
    for c in range(work.shape[0]):
        wc = work[c]
        for q in range((n + GATE_FRAMES - 1) // GATE_FRAMES):
            s = q * GATE_FRAMES
            e = min(s + GATE_FRAMES, n)
            level = 0.0
            for j in range(s + 1, e + hist):
                v = abs(wc[j])
                level = v if v > level else level
            lev[c, q] = level


@njit(**_JIT)
def _span_peaks(wc: np.ndarray, bank: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                refine: bool, pos: int, w: int, ybuf: np.ndarray, zbuf: np.ndarray,
                pk: np.ndarray, bulge: float, floor: float) -> None:  # pragma: no cover
    """One bank's readings of frames ``pos .. pos + w`` (whole chunks) folded into ``pk``.

    ``zbuf[2:4, 0]`` holds the points of frame ``pos - 1`` (phases 2 and 3) on entry and
    those of the span's last frame on return. Frame ``i`` reads the points ``(i - 1, 3),
    (i, 0), (i, 1), (i, 2)`` (refined with their neighbours); a chunk whose points (and
    carried points) cannot exceed ``floor`` leaves ``pk`` alone.
    """
    z0 = zbuf[0]
    z1 = zbuf[1]
    z2 = zbuf[2]
    z3 = zbuf[3]
    for ph in range(4):
        _branch(bank[ph], wc, lo[ph], hi[ph], pos + 1, ybuf[ph], w)
        y = ybuf[ph]
        z = zbuf[ph]
        for i in range(w):
            z[i + 1] = abs(y[i])
    for cs in range(0, w, GATE_FRAMES):
        ce = min(cs + GATE_FRAMES, w)
        top = z2[cs] if z2[cs] > z3[cs] else z3[cs]
        for ph in range(4):
            z = zbuf[ph]
            for i in range(cs + 1, ce + 1):
                top = z[i] if z[i] > top else top
        if refine:
            if top * bulge <= floor:
                continue
            for i in range(cs, ce):
                r3 = _parabola(z2[i], z3[i], z0[i + 1], bulge)
                r0 = _parabola(z3[i], z0[i + 1], z1[i + 1], bulge)
                r1 = _parabola(z0[i + 1], z1[i + 1], z2[i + 1], bulge)
                r2 = _parabola(z1[i + 1], z2[i + 1], z3[i + 1], bulge)
                a = r3 if r3 > r0 else r0
                b = r1 if r1 > r2 else r2
                a = a if a > b else b
                m = pos + i
                pk[m] = a if a > pk[m] else pk[m]
        else:
            if top <= floor:
                continue
            for i in range(cs, ce):
                a = z3[i] if z3[i] > z0[i + 1] else z0[i + 1]
                b = z1[i + 1] if z1[i + 1] > z2[i + 1] else z2[i + 1]
                a = a if a > b else b
                m = pos + i
                pk[m] = a if a > pk[m] else pk[m]
    z2[0] = z2[w]
    z3[0] = z3[w]


@njit(**_JIT)
def _block_peaks(work: np.ndarray, n: int, need: np.ndarray, banks: np.ndarray,
                 lo: np.ndarray, hi: np.ndarray, refine: np.ndarray, bound: np.ndarray,
                 absy: np.ndarray, ybuf: np.ndarray, zbuf: np.ndarray, lev: np.ndarray,
                 pk: np.ndarray, bulge: float, floor: float) -> None:  # pragma: no cover
    """Oversampled peak of the block's frames ``0 .. n`` into ``pk`` (linked over channels).

    Only chunks (:data:`GATE_FRAMES`) with ``need[q]`` set are read; elsewhere ``pk`` is 0.
    Within them, a bank whose bound times the chunk's max |x| (``lev``, from
    :func:`_chunk_levels`) is at or below ``floor`` is
    not evaluated (a negative ``floor`` evaluates all): a frame's result is exact where it
    is above ``floor``. Runs of chunks that need a bank are filtered in spans of up to
    :data:`SPAN_FRAMES`. Every point is computed by the same arithmetic wherever the block
    and span boundaries fall, so the result does not depend on them. ``absy`` carries each
    bank's last two points (phases 2 and 3 of the last frame) into the next block.
    """
    n_bank = banks.shape[0]
    n_br = banks.shape[1]
    n_chunks = (n + GATE_FRAMES - 1) // GATE_FRAMES
    for i in range(n):
        pk[i] = 0.0
    if n == 0:
        return
    for c in range(work.shape[0]):
        wc = work[c]
        for k in range(n_bank):
            ended = False  # whether a run of this bank ended at the block's last frame
            q = 0
            while q < n_chunks:
                if not need[q] or (floor >= 0.0 and bound[k] * lev[c, q] <= floor):
                    q += 1
                    continue
                first = q
                while q < n_chunks and need[q] and not (floor >= 0.0
                                                        and bound[k] * lev[c, q] <= floor):
                    q += 1
                pos = first * GATE_FRAMES
                stop = min(q * GATE_FRAMES, n)
                if pos == 0:
                    zbuf[2, 0] = absy[k, c, 0]
                    zbuf[3, 0] = absy[k, c, 1]
                else:  # the frame before the run: its last two points
                    for t in range(2):
                        ph = n_br - 2 + t
                        _branch(banks[k, ph], wc, lo[k, ph], hi[k, ph], pos, ybuf[ph], 1)
                        zbuf[ph, 0] = abs(ybuf[ph, 0])
                while pos < stop:
                    w = min(SPAN_FRAMES, stop - pos)
                    _span_peaks(wc, banks[k], lo[k], hi[k], refine[k], pos, w, ybuf, zbuf,
                                pk, bulge, floor)
                    pos += w
                ended = stop == n
            if ended:
                absy[k, c, 0] = zbuf[2, 0]
                absy[k, c, 1] = zbuf[3, 0]
            else:
                _tail_state(work, banks, lo, hi, absy, ybuf, n - 1, c, k)


@njit(**_JIT)
def _detect(x: np.ndarray, work: np.ndarray, banks: np.ndarray, lo: np.ndarray,
            hi: np.ndarray, refine: np.ndarray, bound: np.ndarray, absy: np.ndarray,
            ybuf: np.ndarray, zbuf: np.ndarray, need: np.ndarray, lev: np.ndarray,
            pk: np.ndarray, bulge: float) -> float:  # pragma: no cover - numba
    """The detector's largest reading over ``x`` (C, n), streaming (state in ``work``)."""
    channels, n = x.shape
    hist = banks.shape[2]
    for c in range(channels):
        for j in range(n):
            work[c, hist + j] = x[c, j]
    for q in range(need.shape[0]):
        need[q] = True
    _chunk_levels(work, n, lev)
    _block_peaks(work, n, need, banks, lo, hi, refine, bound, absy, ybuf, zbuf, lev, pk,
                 bulge, 0.0)
    best = 0.0
    for i in range(n):
        best = pk[i] if pk[i] > best else best
    for c in range(channels):
        for j in range(hist):
            work[c, j] = work[c, n + j]
    return best


@njit(**_JIT)
def _limit(
    x: np.ndarray,
    out: np.ndarray,
    work: np.ndarray,
    banks: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    refine: np.ndarray,
    bound: np.ndarray,
    absy: np.ndarray,
    ybuf: np.ndarray,
    zbuf: np.ndarray,
    need: np.ndarray,
    lev: np.ndarray,
    pk: np.ndarray,
    delay: np.ndarray,
    dq_val: np.ndarray,
    dq_idx: np.ndarray,
    box: np.ndarray,
    istate: np.ndarray,
    fstate: np.ndarray,
    threshold: float,
    beta: float,
    beta_fast: float,
    alpha_sustain: float,
    auto: bool,
    bulge: float,
    gate: float,
) -> None:  # pragma: no cover - numba
    """Limit ``x`` (C, n) into ``out``; every state array is updated in place.

    istate = [frame index, delay pos, deque head, deque count, box pos, box sum, hold len]
    fstate = [release envelope, smallest gain so far, sustained level]

    Release: with ``auto`` the envelope releases by ``beta_fast`` towards a sustained
    level that follows the held gain down by ``alpha_sustain`` and recovers by ``beta``;
    without it, by ``beta`` towards unity (the sustained level stays exactly 1).
    ``work`` holds the last TAPS input frames followed by room for n frames; frame ``m``'s
    FIR window is ``work[m + 1 : m + 1 + TAPS]``.

    Gate: no interpolated value can exceed ``gate * max|x|`` over the FIR window (``gate``
    is the largest branch L1 norm times :data:`BULGE`, with a rounding allowance). Where
    that bound is below the threshold the required gain is exactly 1, so the FIR is skipped,
    and if the gain path is idle too the block is a pure delay. In the other chunks a bank
    (or its refinement) whose own bound stays at or below the threshold is skipped too
    (:data:`_BANK_BOUND`). The result is identical to the full computation (and so
    independent of block boundaries); an infinite ``gate`` forces the full computation.
    The detector runs over the whole block first (:func:`_block_peaks`, into ``pk``), then
    the gain path frame by frame.
    """
    channels, n = x.shape
    hist = banks.shape[2]
    floor = threshold if gate < math.inf else -1.0  # an infinite gate: the full path
    lat = delay.shape[1]
    box_len = box.shape[0]
    dq_cap = dq_val.shape[0]
    hold = istate[6]
    for c in range(channels):
        for j in range(n):
            work[c, hist + j] = x[c, j]
    frame = istate[0]
    dpos = istate[1]
    head = istate[2]
    count = istate[3]
    bpos = istate[4]
    bsum = istate[5]
    env = fstate[0]
    gmin = fstate[1]
    sus = fstate[2]
    beta_env = beta_fast if auto else beta
    unity_sum = np.int64(box_len) * np.int64(_FIX_ONE)
    denom = float(unity_sum)
    n_chunks = (n + GATE_FRAMES - 1) // GATE_FRAMES
    _chunk_levels(work, n, lev)
    for q in range(n_chunks):
        level = 0.0
        for c in range(channels):
            level = lev[c, q] if lev[c, q] > level else level
        need[q] = not level * gate <= threshold
    _block_peaks(work, n, need, banks, lo, hi, refine, bound, absy, ybuf, zbuf, lev, pk,
                 bulge, floor)
    for q in range(n_chunks):
        s = q * GATE_FRAMES
        e = min(s + GATE_FRAMES, n)
        quiet = not need[q]
        if (quiet and env == 1.0 and sus == 1.0 and bsum == unity_sum
                and dq_val[head] == 1.0):
            # idle: unity gain, a pure delay; the state ends as the full path would leave it
            for c in range(channels):
                d = dpos
                for m in range(s, e):
                    out[c, m] = delay[c, d]
                    delay[c, d] = x[c, m]
                    d += 1
                    if d == lat:
                        d = 0
            dpos = (dpos + (e - s)) % lat
            bpos = (bpos + (e - s)) % box_len
            frame += e - s
            head = 0
            count = 1
            dq_val[0] = 1.0
            dq_idx[0] = frame - 1
            continue
        for m in range(s, e):
            r = 1.0
            if not quiet:
                peak = pk[m]
                if peak > threshold:
                    r = threshold / peak
            # 2. running minimum over the hold window (monotonic deque in a ring)
            while count > 0:
                t = head + count - 1
                if t >= dq_cap:
                    t -= dq_cap
                if dq_val[t] < r:
                    break
                count -= 1
            t = head + count
            if t >= dq_cap:
                t -= dq_cap
            dq_val[t] = r
            dq_idx[t] = frame
            count += 1
            while dq_idx[head] <= frame - hold:
                head += 1
                if head == dq_cap:
                    head = 0
                count -= 1
            held = dq_val[head]
            # 3. release (towards the sustained level, which is 1 without auto release)
            if auto:
                if held < sus:
                    sus = held + (sus - held) * alpha_sustain
                else:
                    sus = 1.0 - (1.0 - sus) * beta
            rel = sus - (sus - env) * beta_env
            env = held if held < rel else rel
            # 4. attack: exact fixed-point moving average
            q = np.int64(math.floor(env * _FIX_ONE))
            bsum += q - box[bpos]
            box[bpos] = q
            bpos += 1
            if bpos == box_len:
                bpos = 0
            gain = bsum / denom
            if gain < gmin:
                gmin = gain
            if bsum == unity_sum:
                for c in range(channels):
                    out[c, m] = delay[c, dpos]
                    delay[c, dpos] = x[c, m]
            else:
                for c in range(channels):
                    out[c, m] = np.float32(delay[c, dpos] * gain)
                    delay[c, dpos] = x[c, m]
            dpos += 1
            if dpos == lat:
                dpos = 0
            frame += 1
    for c in range(channels):
        for j in range(hist):
            work[c, j] = work[c, n + j]
    istate[0] = frame
    istate[1] = dpos
    istate[2] = head
    istate[3] = count
    istate[4] = bpos
    istate[5] = bsum
    fstate[0] = env
    fstate[1] = gmin
    fstate[2] = sus


def _detector_buffers(channels: int, max_frames: int) -> tuple[NDArray[Any], ...]:
    """Work arrays of :func:`_block_peaks` for blocks of up to ``max_frames`` frames:
    (FIR output, points with their carry, chunk flags, per-channel chunk levels, peak per
    frame)."""
    chunks = (max_frames + GATE_FRAMES - 1) // GATE_FRAMES
    return (np.zeros((OVERSAMPLE, SPAN_FRAMES), np.float32),
            np.zeros((OVERSAMPLE, SPAN_FRAMES + 1), np.float64),
            np.zeros(chunks, np.bool_), np.zeros((channels, chunks), np.float64),
            np.zeros(max_frames, np.float64))


class TruePeakDetector:
    """The limiter's detector as a meter: the largest reading of its interpolators.

    Reads at least as high as libebur128, BS.1770-4 Annex 2 (mixdown's analyser) and an
    8x ``resample_poly`` oversampler, so a file it passes passes those meters too. Used to
    verify deliverables after encoding.

    Parameters
    ----------
    sample_rate : int
        Hz.
    channels : int
        Channel count.
    """

    def __init__(self, sample_rate: int, channels: int, block_frames: int = 65_536) -> None:
        self.sample_rate = int(sample_rate)
        self.channels = int(channels)
        self._chunk = int(block_frames)
        self._work = np.zeros((self.channels, TAPS_PER_PHASE + self._chunk), np.float32)
        self._absy = np.zeros((len(_BANKS), self.channels, 2), np.float64)
        self._buffers = _detector_buffers(self.channels, self._chunk)
        self._peak = 0.0
        self._flushed = False

    def push(self, block: AudioArray) -> None:
        """Measure the next float32 (channels, frames) block."""
        check_audio(block, name="block")
        if block.shape[0] != self.channels:
            raise ParameterError(f"block has {block.shape[0]} channels, the detector "
                                 f"{self.channels}")
        x = np.ascontiguousarray(block, dtype=np.float32)
        for start in range(0, x.shape[1], self._chunk):
            part = x[:, start:start + self._chunk]
            peak = _detect(part, self._work, _BANKS, _BANK_LO, _BANK_HI, _BANK_REFINE,
                           _BANK_BOUND, self._absy, *self._buffers, BULGE)
            self._peak = max(self._peak, peak)

    def true_peak_dbtp(self) -> float:
        """Largest reading so far in dBTP (the end of the signal is flushed once)."""
        if not self._flushed:
            self.push(np.zeros((self.channels, TAPS_PER_PHASE), np.float32))
            self._flushed = True
        return gain_to_db(self._peak)


class TruePeakLimiter:
    """Lookahead, stereo-linked true-peak limiter (a streaming :class:`Processor`).

    Parameters
    ----------
    ceiling_dbtp : float in [-30, 0]
        Largest true peak of the output, in dBTP (measured on an oversampled signal).
    release_ms : float > 0
        Time constant of the exponential gain recovery, in milliseconds.
    lookahead_ms : float in [0.5, 50]
        Lookahead (and attack ramp) in milliseconds; sets :attr:`latency_frames`.
    transient_release_ms : float, 0 or in [0.1, 1000]
        Auto release: the fast release (ms) towards the sustained level; 0 (the default)
        is a fixed exponential release of ``release_ms`` towards unity.
    sustain_ms : float in [1, 10000]
        With auto release: the time constant (ms) with which held gain reduction builds
        the sustained level (longer: more of a dense passage is released fast).
    margin_db : float in [0, 3]
        Detector headroom below the ceiling, dB (default :data:`DETECTOR_MARGIN_DB`).

    Notes
    -----
    Output for any split of the input into blocks is bit-identical. Below the threshold
    the output is exactly the input delayed by :attr:`latency_frames`.

    Examples
    --------
    >>> import numpy as np
    >>> lim = TruePeakLimiter(ceiling_dbtp=-1.0)
    >>> lim.prepare(48_000, 2, 1024)
    >>> out = lim.process(np.zeros((2, 1024), np.float32))
    >>> out.shape
    (2, 1024)
    """

    def __init__(self, ceiling_dbtp: float = -1.0, release_ms: float = 100.0,
                 lookahead_ms: float = 5.0, transient_release_ms: float = 0.0,
                 sustain_ms: float = SUSTAIN_MS,
                 margin_db: float = DETECTOR_MARGIN_DB) -> None:
        self.ceiling_dbtp = check_ceiling(ceiling_dbtp)
        self.release_ms = _check_range("release_ms", release_ms, 1.0, 10_000.0)
        self.lookahead_ms = _check_range("lookahead_ms", lookahead_ms, 0.5, 50.0)
        self.transient_release_ms = _check_transient(transient_release_ms)
        self.sustain_ms = _check_range("sustain_ms", sustain_ms, 1.0, 10_000.0)
        self.margin_db = _check_range("margin_db", margin_db, 0.0, 3.0)
        self.latency_frames = 0
        self.sample_rate = 0
        self.channels = 0
        self._prepared = False

    # -- Processor protocol -------------------------------------------------------------
    def prepare(self, sample_rate: int, channels: int, max_block_frames: int) -> None:
        """Allocate the delay line, detector and smoother state for a stream.

        Parameters
        ----------
        sample_rate : int
            Hz, 8000..768000.
        channels : int
            1..64; the gain is linked over all of them.
        max_block_frames : int
            Largest block :meth:`process` will usually get (larger ones are split).
        """
        if not 8000 <= int(sample_rate) <= 768_000:
            raise ParameterError(f"sample_rate must be 8000..768000 Hz, got {sample_rate}")
        if not 1 <= int(channels) <= 64:
            raise ParameterError(f"channels must be 1..64, got {channels}")
        if int(max_block_frames) < 1:
            raise ParameterError(f"max_block_frames must be >= 1, got {max_block_frames}")
        self.sample_rate = int(sample_rate)
        self.channels = int(channels)
        self._chunk = int(max_block_frames)
        self._look = max(1, round(self.lookahead_ms * 1e-3 * self.sample_rate))
        # detector timing (see module notes): peaks known TAPS/2 frames late, +-1 frame slack
        self.latency_frames = self._look + TAPS_PER_PHASE // 2 + 1
        self._hold = self._look + 3
        box_len = self._look + 1
        hist = TAPS_PER_PHASE
        self._work = np.zeros((self.channels, hist + self._chunk), np.float32)
        self._out = np.empty((self.channels, self._chunk), np.float32)
        self._absy = np.zeros((len(_BANKS), self.channels, 2), np.float64)
        self._buffers = _detector_buffers(self.channels, self._chunk)
        self._delay = np.zeros((self.channels, self.latency_frames), np.float32)
        self._dq_val = np.zeros(self._hold + 1, np.float64)
        self._dq_idx = np.zeros(self._hold + 1, np.int64)
        self._box = np.full(box_len, _FIX_ONE, np.int64)
        self._istate = np.array([0, 0, 0, 0, 0, box_len * _FIX_ONE, self._hold], np.int64)
        self._fstate = np.array([1.0, 1.0, 1.0], np.float64)
        self._update_coefficients()
        self._prepared = True

    def process(self, block: AudioArray, sidechain: AudioArray | None = None) -> AudioArray:
        """Limit one block; returns a new float32 (channels, frames) array.

        Parameters
        ----------
        block : ndarray [shape=(channels, frames), float32]
            The next frames of the stream (finite values).
        sidechain : None
            Not used (the limiter keys on its own input).

        Returns
        -------
        ndarray [shape=(channels, frames), float32]
            The limited signal, delayed by :attr:`latency_frames`.
        """
        x = self._check_block(block)
        result = np.empty_like(x)
        self.process_into(x, result)
        return result

    def process_into(self, block: AudioArray, out: AudioArray) -> AudioArray:
        """Like :meth:`process`, writing into ``out`` (same shape; may not alias ``block``).

        Parameters
        ----------
        block : ndarray [shape=(channels, frames), float32]
            The next frames of the stream.
        out : ndarray [shape=(channels, frames), float32]
            Receives the limited, delayed frames (a reused buffer in a hot loop).

        Returns
        -------
        ndarray [shape=(channels, frames), float32]
            ``out``.
        """
        x = self._check_block(block)
        if out.shape != x.shape or out.dtype != np.float32:
            raise ParameterError(
                f"out must be float32 shaped {x.shape}, got {out.dtype} {out.shape}"
            )
        frames = x.shape[1]
        for start in range(0, frames, self._chunk):
            n = min(self._chunk, frames - start)
            self._limit_block(x[:, start:start + n], out[:, start:start + n], _GATE)
        return out

    def _limit_block(self, x: AudioArray, out: AudioArray, gate: float) -> None:
        """Run the compiled limiter on at most ``max_block_frames`` frames (``gate``: see
        :func:`_limit`; an infinite one computes every detector reading)."""
        _limit(x, out, self._work, _BANKS, _BANK_LO, _BANK_HI, _BANK_REFINE, _BANK_BOUND,
               self._absy, *self._buffers, self._delay, self._dq_val, self._dq_idx,
               self._box, self._istate, self._fstate, self._threshold, self._beta,
               self._beta_fast, self._alpha_sustain, self._auto, BULGE, gate)

    def _check_block(self, block: AudioArray) -> AudioArray:
        if not self._prepared:
            raise ParameterError("TruePeakLimiter.process called before prepare()")
        check_audio(block, name="block")
        if block.shape[0] != self.channels:
            raise ParameterError(
                f"block has {block.shape[0]} channels; the limiter was prepared for "
                f"{self.channels}"
            )
        return np.ascontiguousarray(block, dtype=np.float32)

    def set_param(self, name: str, value: Any) -> None:
        """Change ``ceiling_dbtp``, ``release_ms``, ``transient_release_ms`` or
        ``sustain_ms`` between blocks.

        ``lookahead_ms`` changes the latency, so it can only be set before :meth:`prepare`.
        """
        if name == "ceiling_dbtp":
            self.ceiling_dbtp = check_ceiling(value)
        elif name == "release_ms":
            self.release_ms = _check_range("release_ms", value, 1.0, 10_000.0)
        elif name == "transient_release_ms":
            self.transient_release_ms = _check_transient(value)
        elif name == "sustain_ms":
            self.sustain_ms = _check_range("sustain_ms", value, 1.0, 10_000.0)
        elif name == "lookahead_ms":
            if self._prepared:
                raise ParameterError(
                    "lookahead_ms sets the limiter's latency and cannot change during a "
                    "stream; create a new limiter (or call prepare() again)"
                )
            self.lookahead_ms = _check_range("lookahead_ms", value, 0.5, 50.0)
        else:
            raise ParameterError(
                f"true_peak_limiter has no parameter {name!r}; use ceiling_dbtp, release_ms, "
                "lookahead_ms, transient_release_ms or sustain_ms"
            )
        if self._prepared:
            self._update_coefficients()

    def reset(self) -> None:
        """Clear the delay line and detector; unity gain again."""
        if self._prepared:
            self.prepare(self.sample_rate, self.channels, self._chunk)

    # -- extras ---------------------------------------------------------------------------
    @property
    def max_gain_reduction_db(self) -> float:
        """Largest gain reduction applied so far in this stream, in dB (>= 0)."""
        if not self._prepared:
            return 0.0
        gmin = float(self._fstate[1])
        return 0.0 if gmin >= 1.0 else -gain_to_db(max(gmin, 1e-12))

    @property
    def threshold_dbtp(self) -> float:
        """The detector threshold: the ceiling less ``margin_db``."""
        return self.ceiling_dbtp - self.margin_db

    def _update_coefficients(self) -> None:
        self._threshold = db_to_gain(self.threshold_dbtp)
        self._beta = _pole(self.release_ms, self.sample_rate)
        self._auto = self.transient_release_ms > 0.0
        self._beta_fast = _pole(self.transient_release_ms, self.sample_rate)
        self._alpha_sustain = _pole(self.sustain_ms, self.sample_rate)


def _pole(time_ms: float, sample_rate: int) -> float:
    """One-pole coefficient ``exp(-1 / (tau fs))`` of a time constant in ms (0 for 0 ms)."""
    return math.exp(-1.0 / (time_ms * 1e-3 * sample_rate)) if time_ms > 0.0 else 0.0


def _check_transient(value: Any) -> float:
    """``transient_release_ms``: 0 (off) or 0.1..1000 ms."""
    if value == 0:
        return 0.0
    return _check_range("transient_release_ms", value, 0.1, 1000.0)


def _check_range(name: str, value: Any, lo: float, hi: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ParameterError(f"{name} must be a finite number, got {value!r}")
    if not lo <= float(value) <= hi:
        raise ParameterError(f"{name} must be in [{lo:g}, {hi:g}], got {value:g}")
    return float(value)


def limit(audio: AudioArray, sample_rate: int, *, ceiling_dbtp: float = -1.0,
          release_ms: float = 100.0, lookahead_ms: float = 5.0,
          transient_release_ms: float = 0.0, sustain_ms: float = SUSTAIN_MS,
          block_frames: int = 65_536) -> tuple[AudioArray, float]:
    """Limit a whole signal, latency compensated (same length and alignment as the input).

    Parameters
    ----------
    audio : ndarray [shape=(channels, frames), float32]
        Finite samples.
    sample_rate : int
        Hz.
    ceiling_dbtp, release_ms, lookahead_ms, transient_release_ms, sustain_ms : float
        As for :class:`TruePeakLimiter`.
    block_frames : int
        Processing block size (the result does not depend on it).

    Returns
    -------
    limited : ndarray [shape=(channels, frames), float32]
        The limited signal, sample-aligned with ``audio``.
    max_gain_reduction_db : float
        Largest gain reduction applied, in dB.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.full((1, 4800), 0.5, np.float32)
    >>> y, gr_db = limit(x, 48_000, ceiling_dbtp=-12.0)
    >>> y.shape, round(gr_db, 1)
    ((1, 4800), 6.0)
    """
    check_audio(audio)
    x = np.ascontiguousarray(audio, dtype=np.float32)
    lim = TruePeakLimiter(ceiling_dbtp, release_ms, lookahead_ms, transient_release_ms,
                          sustain_ms)
    lim.prepare(sample_rate, x.shape[0], block_frames)
    frames = x.shape[1]
    lat = lim.latency_frames
    padded = np.empty((x.shape[0], frames + lat), np.float32)
    for i in range(0, frames, block_frames):
        n = min(block_frames, frames - i)
        lim.process_into(x[:, i:i + n], padded[:, i:i + n])
    lim.process_into(np.zeros((x.shape[0], lat), np.float32), padded[:, frames:])
    return np.ascontiguousarray(padded[:, lat:]), lim.max_gain_reduction_db


def limit_stream(limiter: TruePeakLimiter, blocks: Any) -> Any:
    """Yield limited blocks latency-compensated: drop the first ``latency_frames``, flush after.

    Parameters
    ----------
    limiter : TruePeakLimiter
        Prepared.
    blocks : iterable of ndarray [shape=(channels, frames), float32]
        The input stream.

    Yields
    ------
    ndarray [shape=(channels, frames), float32]
        Output blocks whose frames line up with the input's (same total length).
    """
    skip = limiter.latency_frames
    for block in blocks:
        out = limiter.process(block)
        if skip:
            drop = min(skip, out.shape[1])
            skip -= drop
            out = out[:, drop:]
        if out.shape[1]:
            yield out
    tail = limiter.process(np.zeros((limiter.channels, limiter.latency_frames), np.float32))
    tail = tail[:, skip:]
    if tail.shape[1]:
        yield tail


@register_device(
    "true_peak_limiter",
    kind="effect",
    params=[
        Param("ceiling_dbtp", -1.0, "Largest true peak of the output (dBTP).",
              min=MIN_CEILING_DBTP, max=MAX_CEILING_DBTP),
        Param("release_ms", 100.0, "Gain recovery time constant (ms).", min=1.0, max=10_000.0),
        Param("lookahead_ms", 5.0, "Lookahead and attack ramp (ms); sets the latency.",
              min=0.5, max=50.0, automatable=False),
        Param("transient_release_ms", 0.0, "Auto release: fast release (ms) of short "
              "peaks towards the sustained reduction; 0 = a fixed release_ms.",
              min=0.0, max=1000.0),
        Param("sustain_ms", SUSTAIN_MS, "Auto release: time (ms) over which reduction "
              "counts as sustained.", min=1.0, max=10_000.0),
    ],
    doc="Lookahead true-peak limiter: 4x oversampled detection, stereo-linked, bit-exact "
        "for any block size.",
)
def _make_true_peak_limiter(ceiling_dbtp: float, release_ms: float, lookahead_ms: float,
                            transient_release_ms: float,
                            sustain_ms: float) -> TruePeakLimiter:
    return TruePeakLimiter(ceiling_dbtp=ceiling_dbtp, release_ms=release_ms,
                           lookahead_ms=lookahead_ms,
                           transient_release_ms=transient_release_ms,
                           sustain_ms=sustain_ms)
