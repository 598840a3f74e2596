"""Dynamics: compressor, gate and a look-ahead peak limiter.

Envelope followers run in compiled loops (numba, float64 state). The channels are
linked: one gain, computed from the loudest channel (peak) or the channel mean
(RMS), is applied to all of them, so the stereo image does not move.

Compressor (Giannoulis, Massberg & Reiss, "Digital dynamic range compressor
design", JAES 2012): a log-domain gain computer with a quadratic soft knee
(their eq. 4) feeds a *smooth decoupled* peak detector (their eq. 17): the gain
reduction first passes a release-only peak follower, ``y1 = max(g, aR y1 +
(1 - aR) g)``, then an attack one-pole, ``yL = aA yL + (1 - aA) y1``. So a step
up reaches 63 % of its gain reduction after ``attack_ms``, a steady sine is
compressed by its peak level, and a step down releases as the two-pole response
of ``release_ms`` followed by ``attack_ms``.
"""

from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

from mixdown.core.audio import AudioArray
from mixdown.core.errors import ParameterError
from mixdown.core.units import db_to_gain
from mixdown.dsp.base import Param, register_device
from mixdown.dsp.effects._common import (
    EffectBase,
    Ramp,
    SosFilter,
    butterworth_sections,
    time_coef,
)

RMS_WINDOW_MS = 10.0
"""Time constant of the compressor's RMS detector (mean square one-pole), in ms."""

_FLUSH = 1e-12  # dB of gain reduction below which the envelope is set to exactly 0


# -- fast, deterministic log2 / exp2 ------------------------------------------------------
# The compressor needs a logarithm and an exponential per sample. libm's are calls that
# stop the loops from vectorising; these are inlined IEEE arithmetic (no FMA contraction,
# no fastmath), so they give the same bits on every machine and in every SIMD lane.
# Range reduction is done on the float64 bit pattern; the polynomials are Chebyshev fits
# (relative error of exp2 < 1.1e-15 on [-0.5, 0.5], absolute error of ln < 3e-16 on
# [sqrt(1/2), sqrt(2)]), i.e. far below 1e-9 dB.

_EXP2_Q = (0.6931471805599463, 0.24022650695910036, 0.055504108664663335,
           0.009618129107633553, 0.0013333558197793304, 0.0001540353039809473,
           1.5252675240321469e-05, 1.3215470425687612e-06, 1.0205363691147738e-07,
           7.066773901155402e-09)
"""exp2(f) = 1 + f q(f) on |f| <= 1/2: coefficients of q, lowest first."""
_LN_R = (0.666666666666623, 0.40000000011100784, 0.28571424152310654, 0.22222861585741988,
         0.1814020596959286, 0.16621791697668925)
"""ln(m) = 2 s + s^3 r(s^2), s = (m - 1) / (m + 1): coefficients of r, lowest first."""

_ROUND = 6755399441055744.0  # 1.5 * 2**52: x + _ROUND rounds x to an integer (|x| < 2**51)
_ROUND_BITS = 0x4338000000000000  # its bit pattern
_TWO52 = 4503599627370496.0  # 2**52
_TWO52_BITS = 0x4330000000000000
_MANT_SHIFT = 0x3FF0000000000000 - 0x3FE6A09E667F3BCD  # moves sqrt(1/2) to an exponent edge
_LN2 = math.log(2.0)
_DB_PER_LN = 10.0 / math.log(10.0)  # 10 log10(p) = _DB_PER_LN * ln(p)
_LOG2_PER_DB = math.log2(10.0) / 20.0  # 10 ** (-g / 20) = 2 ** (-g * _LOG2_PER_DB)


@intrinsic
def _f64_bits(typingctx, x):  # pragma: no cover - compiled
    """The IEEE-754 bit pattern of a float64 as an int64."""
    sig = types.int64(types.float64)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))

    return sig, codegen


@intrinsic
def _bits_f64(typingctx, i):  # pragma: no cover - compiled
    """The float64 with the IEEE-754 bit pattern ``i`` (int64)."""
    sig = types.float64(types.int64)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return sig, codegen


@njit(cache=True, nogil=True, error_model="numpy", boundscheck=False)
def _fast_ln(p):  # pragma: no cover - compiled
    """Natural logarithm of a positive, normal float64 (abs. error < 2e-13, < 4e-16 near 1)."""
    b = _f64_bits(p)
    eb = (b + _MANT_SHIFT) >> 52  # biased exponent of p / sqrt(1/2)
    m = _bits_f64(b - ((eb - 1023) << 52))  # in [sqrt(1/2), sqrt(2))
    k = _bits_f64(_TWO52_BITS | eb) - (_TWO52 + 1023.0)  # eb - 1023 as a float, exactly
    s = (m - 1.0) / (m + 1.0)
    z = s * s
    r = _LN_R[0] + z * (_LN_R[1] + z * (_LN_R[2] + z * (_LN_R[3] + z * (
        _LN_R[4] + z * _LN_R[5]))))
    return k * _LN2 + (2.0 * s + s * z * r)


@njit(cache=True, nogil=True, error_model="numpy", boundscheck=False)
def _fast_exp2(t):  # pragma: no cover - compiled
    """2 ** t for t <= 0 (relative error < 1.2e-15); 2 ** -1022 for t below -1022.

    ``_fast_exp2(0.0)`` is exactly 1.
    """
    t = max(t, -1022.0)
    kd = t + _ROUND
    n = _f64_bits(kd) - _ROUND_BITS  # round(t) as an int
    f = t - (kd - _ROUND)  # in [-1/2, 1/2]
    q = _EXP2_Q[0] + f * (_EXP2_Q[1] + f * (_EXP2_Q[2] + f * (_EXP2_Q[3] + f * (
        _EXP2_Q[4] + f * (_EXP2_Q[5] + f * (_EXP2_Q[6] + f * (_EXP2_Q[7] + f * (
            _EXP2_Q[8] + f * _EXP2_Q[9]))))))))
    return (1.0 + f * q) * _bits_f64((n + 1023) << 52)


_CHUNK = 64  # frames per pass of the envelope loop (see _envelope)


@njit(cache=True, nogil=True, error_model="numpy", boundscheck=False)
def _power_peak(key, out, n):  # pragma: no cover - compiled
    """out[:n] = the largest squared sample over the key's channels (float64)."""
    for i in range(n):
        v = np.float64(key[0, i])
        out[i] = v * v
    for c in range(1, key.shape[0]):
        for i in range(n):
            v = np.float64(key[c, i])
            out[i] = max(out[i], v * v)


@njit(cache=True, nogil=True, error_model="numpy", boundscheck=False)
def _power_rms(key, out, n, st, beta):  # pragma: no cover - compiled
    """out[:n] = the one-pole mean square of the key's channel mean; state in st[0]."""
    kch = key.shape[0]
    inv_k = 1.0 / kch
    ms = st[0]
    for i in range(n):
        acc = 0.0
        for c in range(kch):
            v = np.float64(key[c, i])
            acc += v * v
        ms = beta * ms + (1.0 - beta) * (acc * inv_k)
        out[i] = ms
    st[0] = ms


@njit(cache=True, nogil=True, error_model="numpy", boundscheck=False)
def _gain_computer(lvl, n, thr_db, slope, knee_db, knee_lo_pow):  # pragma: no cover
    """Replace the powers lvl[:n] by their static gain reduction in dB (eq. 4).

    o = dB over the knee's start: quadratic over the knee, then linear; 0 below it.
    """
    half = 0.5 * knee_db
    inv_knee2 = 1.0 / max(2.0 * knee_db, 1e-300)
    for i in range(n):
        p = lvl[i]
        o = _DB_PER_LN * _fast_ln(p) - thr_db + half
        m = min(o, knee_db)
        gr = slope * (m * m * inv_knee2 + (o - m))
        lvl[i] = gr if p > knee_lo_pow else 0.0


@njit(cache=True, nogil=True, error_model="numpy", boundscheck=False)
def _envelope(gr, out, n, st, a_att, a_rel):  # pragma: no cover - compiled
    """The smooth decoupled peak detector (eq. 17) over gr[:n] into out[:n]; state st[1:3].

    Both envelopes are set to exactly 0 once below ``_FLUSH``. That compare sits on
    the loop's critical path, so each chunk runs without it first and is run again
    with it only if an envelope came within (0, _FLUSH) there: the same numbers.
    """
    y1 = st[1]
    yl = st[2]
    b_rel = 1.0 - a_rel
    b_att = 1.0 - a_att
    i0 = 0
    while i0 < n:
        i1 = min(i0 + _CHUNK, n)
        y1_0 = y1
        yl_0 = yl
        lo = np.inf
        hi = 0.0
        g_c = gr[i0:i1]
        out_c = out[i0:i1]
        for i in range(i1 - i0):
            g = g_c[i]
            y1 = max(g, a_rel * y1 + b_rel * g)
            yl = a_att * yl + b_att * y1
            lo = min(lo, min(y1, yl))
            hi = max(hi, max(y1, yl))
            out_c[i] = yl
        if lo < _FLUSH and hi > 0.0:  # not all exactly 0: flush sample by sample
            y1 = y1_0
            yl = yl_0
            for i in range(i1 - i0):
                g = g_c[i]
                y1 = max(g, a_rel * y1 + b_rel * g)
                yl = a_att * yl + b_att * y1
                if y1 < _FLUSH:
                    y1 = 0.0
                if yl < _FLUSH:
                    yl = 0.0
                out_c[i] = yl
        i0 = i1
    st[1] = y1
    st[2] = yl


@njit(cache=True, nogil=True, error_model="numpy", boundscheck=False)
def _apply_gain(x, env, n, mk0, mk1, mpos, mlen):  # pragma: no cover - compiled
    """x *= make-up * 10 ** (-env / 20); the make-up glides over its first frames.

    env[:n] (dB of gain reduction) is replaced by the linear gain.
    """
    ramp_n = min(max(mlen - mpos, 0), n)
    for i in range(ramp_n):
        mk = mk0 + (mk1 - mk0) * ((mpos + i + 1) / mlen)
        env[i] = mk * _fast_exp2(-env[i] * _LOG2_PER_DB)
    steady = env[ramp_n:n]  # a view: loops from 0 vectorise, loops from ramp_n do not
    for i in range(n - ramp_n):
        steady[i] = mk1 * _fast_exp2(-steady[i] * _LOG2_PER_DB)
    for c in range(x.shape[0]):
        for i in range(n):
            x[c, i] = np.float32(x[c, i] * env[i])


@njit(cache=True, nogil=True, error_model="numpy", boundscheck=False)
def _compressor_kernel(x, key, st, work, thr_db, slope, knee_db, knee_lo_pow, rms, beta,
                       a_att, a_rel, mk0, mk1, mpos, mlen):  # pragma: no cover - compiled
    # Passes over the block: only the envelope recursions are serial; detection, the
    # gain computer and the gain vectorise. work: float64 (2, >= frames) scratch.
    n = x.shape[1]
    lvl = work[0]
    env = work[1]
    if rms:
        _power_rms(key, lvl, n, st, beta)
    else:
        _power_peak(key, lvl, n)
    _gain_computer(lvl, n, thr_db, slope, knee_db, knee_lo_pow)
    _envelope(lvl, env, n, st, a_att, a_rel)
    _apply_gain(x, env, n, mk0, mk1, mpos, mlen)


@njit(cache=True, nogil=True, fastmath=False)
def _gate_kernel(x, key, st, thr_pow, hold_frames, a_att, a_rel, floor):  # pragma: no cover
    nch = x.shape[0]
    kch = key.shape[0]
    n = x.shape[1]
    g = st[0]
    hold = st[1]
    for i in range(n):
        p = 0.0
        for c in range(kch):
            v = np.float64(key[c, i])
            if v * v > p:
                p = v * v
        if p >= thr_pow:
            hold = hold_frames
            target = 1.0
        elif hold > 0:
            hold -= 1
            target = 1.0
        else:
            target = 0.0
        g = target + (g - target) * a_att if target > g else target + (g - target) * a_rel
        if g < _FLUSH:
            g = 0.0
        gain = floor + (1.0 - floor) * g
        for c in range(nch):
            x[c, i] = np.float32(x[c, i] * gain)
    st[0] = g
    st[1] = hold


@njit(cache=True, nogil=True, fastmath=False)
def _limiter_kernel(x, delay, dq_val, dq_pos, ring, st, ist, ceil, ceil32,
                    a_rel):  # pragma: no cover - compiled
    # ist: [t, dq_head, dq_size]; st: [env, box_sum]
    nch = x.shape[0]
    n = x.shape[1]
    size = ring.shape[0]  # lookahead + 1
    t = ist[0]
    head = ist[1]
    count = ist[2]
    env = st[0]
    total = st[1]
    inv = 1.0 / size
    for i in range(n):
        a = 0.0
        for c in range(nch):
            v = abs(np.float64(x[c, i]))
            if v > a:
                a = v
        req = ceil / a if a > ceil else 1.0
        # sliding minimum of req over [t - L, t] (monotonic deque of <= L + 1 entries)
        while count > 0 and dq_pos[head] < t - (size - 1):
            head = (head + 1) % size
            count -= 1
        while count > 0 and dq_val[(head + count - 1) % size] >= req:
            count -= 1
        j = (head + count) % size
        dq_val[j] = req
        dq_pos[j] = t
        count += 1
        m = dq_val[head]
        rec = 1.0 - (1.0 - env) * a_rel
        env = m if m < rec else rec
        p = t % size
        total += env - ring[p]
        ring[p] = env
        if p == size - 1:  # re-sum once per window so rounding cannot drift
            total = 0.0
            for k in range(size):
                total += ring[k]
        gain = total * inv
        q = (t + 1) % size
        for c in range(nch):
            delay[c, p] = x[c, i]
            y = np.float32(delay[c, q] * gain)
            if y > ceil32:
                y = ceil32
            elif y < -ceil32:
                y = -ceil32
            x[c, i] = y
        t += 1
    ist[0] = t
    ist[1] = head
    ist[2] = count
    st[0] = env
    st[1] = total


class _KeyedDynamics(EffectBase):
    """A dynamics device whose detector may listen to a sidechain."""

    def __init__(self, values: dict[str, object]) -> None:
        super().__init__(values)
        self._key = np.zeros((0, 0), dtype=np.float32)
        self._sc_filter: SosFilter | None = None

    def _key_for(self, block: AudioArray, sidechain: AudioArray | None,
                 highpass_hz: float) -> AudioArray:
        """The detector input: the sidechain (or the block), high-passed if asked."""
        src = block if sidechain is None else sidechain
        if sidechain is not None and (not isinstance(sidechain, np.ndarray)
                                      or sidechain.ndim != 2
                                      or sidechain.shape[1] != block.shape[1]):
            raise ParameterError(
                f"{self.TYPE}: sidechain must be shaped (channels, {block.shape[1]}) like the "
                f"block, got {getattr(sidechain, 'shape', None)}"
            )
        if highpass_hz <= 0 and (self._sc_filter is None or self._sc_filter.is_identity):
            return src
        kc, n = src.shape
        if self._key.shape[0] != kc or self._key.shape[1] < n:
            self._key = np.zeros((kc, max(n, self.max_block_frames)), dtype=np.float32)
        if self._sc_filter is None or self._sc_filter.z.shape[1] < kc:
            self._sc_filter = SosFilter(1, max(kc, self.channels))
            self._sc_filter.set(self._sc_design(), 0)
        key = self._key[:, :n]
        np.copyto(key, src, casting="same_kind")
        self._sc_filter.process(key)
        return key

    def _sc_design(self) -> np.ndarray:
        hz = float(self._p.get("sidechain_highpass_hz", 0.0))
        if hz <= 0:
            return np.array([[1.0, 0.0, 0.0, 1.0, 0.0, 0.0]])
        return np.vstack(butterworth_sections("highpass", hz, 2, self.sample_rate))

    def _reset_key(self) -> None:
        self._sc_filter = None


_COMP_PARAMS = (
    Param("threshold_db", -18.0, "level in dBFS above which the gain is reduced",
          min=-60.0, max=0.0),
    Param("ratio", 4.0, "input dB over the threshold per output dB (1 = no compression)",
          min=1.0, max=100.0),
    Param("attack_ms", 10.0, "attack time constant in ms (63 % of a step's gain reduction)",
          min=0.0, max=500.0),
    Param("release_ms", 100.0, "release time constant in ms", min=1.0, max=5000.0),
    Param("knee_db", 6.0, "soft-knee width in dB, centred on the threshold (0 = hard knee)",
          min=0.0, max=24.0),
    Param("makeup_db", 0.0, "make-up gain in dB applied after compression", min=-24.0,
          max=24.0),
    Param("detector", "peak", "level detector: peak (sample peak) or rms (10 ms mean square)",
          kind="choice", choices=("peak", "rms"), automatable=False),
    Param("sidechain", "", "track or bus whose signal drives the detector ('' = this signal)",
          kind="str", automatable=False),
    Param("sidechain_highpass_hz", 0.0,
          "12 dB/oct high-pass on the detector input in Hz (0 = off)", min=0.0, max=2000.0),
)


@register_device(
    "compressor", kind="effect", params=_COMP_PARAMS, sidechain=True,
    doc="Stereo-linked feed-forward compressor with soft knee, peak or RMS detector, sidechain.",
)
class Compressor(_KeyedDynamics):
    """Feed-forward compressor (see the module doc for the detector)."""

    TYPE = "compressor"
    PARAMS = _COMP_PARAMS

    def __init__(
        self, *, threshold_db: float = -18.0, ratio: float = 4.0, attack_ms: float = 10.0,
        release_ms: float = 100.0, knee_db: float = 6.0, makeup_db: float = 0.0,
        detector: str = "peak", sidechain: str = "", sidechain_highpass_hz: float = 0.0,
    ) -> None:
        super().__init__(locals())
        self._state = np.zeros(3)
        self._work = np.zeros((2, 0))
        self._makeup = Ramp(db_to_gain(makeup_db))

    def static_curve_db(self, level_db: float) -> float:
        """Output level in dB for a steady detector level ``level_db`` (incl. make-up)."""
        p = self._p
        over = level_db - p["threshold_db"]
        slope = 1.0 - 1.0 / p["ratio"]
        knee = p["knee_db"]
        if 2.0 * over <= -knee:
            gr = 0.0
        elif 2.0 * over < knee:
            gr = slope * (over + knee / 2.0) ** 2 / (2.0 * knee)
        else:
            gr = slope * over
        return level_db - gr + p["makeup_db"]

    def _reset(self) -> None:
        self._state[:] = 0.0
        self._makeup.jump(db_to_gain(self._p["makeup_db"]))
        self._reset_key()

    def _update(self, name: str) -> None:
        if name == "makeup_db":
            self._makeup.glide(db_to_gain(self._p["makeup_db"]), self._glide_frames)
        elif name == "sidechain_highpass_hz" and self._sc_filter is not None:
            self._sc_filter.set(self._sc_design(), self._glide_frames)

    def _at_rest(self, block: AudioArray, key: AudioArray) -> bool:
        """True for digital silence into a compressor at rest (detector and envelopes
        exactly 0): the kernel would leave its state at 0 and write each sample times a
        positive make-up gain, i.e. the same zero, sign included, so it can be skipped."""
        return key is block and not self._state.any() and not block.any()

    def _process(self, block: AudioArray, sidechain: AudioArray | None) -> AudioArray:
        p = self._p
        sr = self.sample_rate
        key = self._key_for(block, sidechain, p["sidechain_highpass_hz"])
        m = self._makeup
        n = block.shape[1]
        if self._at_rest(block, key):
            m.advance(n)  # nothing else to do: only the make-up glide moves on
            return block
        thr = p["threshold_db"]
        knee = p["knee_db"]
        knee_lo_pow = 10.0 ** ((thr - knee / 2.0) / 10.0)
        if self._work.shape[1] < n:
            self._work = np.zeros((2, max(n, self.max_block_frames)))
        _compressor_kernel(
            block, key, self._state, self._work, thr, 1.0 - 1.0 / p["ratio"], knee, knee_lo_pow,
            p["detector"] == "rms", time_coef(RMS_WINDOW_MS, sr),
            time_coef(p["attack_ms"], sr), time_coef(p["release_ms"], sr),
            m.start, m.target, m.pos, m.length,
        )
        m.advance(n)
        return block


_GATE_PARAMS = (
    Param("threshold_db", -40.0, "sample-peak level in dBFS above which the gate opens",
          min=-96.0, max=0.0),
    Param("range_db", -80.0, "gain in dB while the gate is closed (0 = no gating)",
          min=-120.0, max=0.0),
    Param("attack_ms", 1.0, "opening time constant in ms", min=0.0, max=100.0),
    Param("hold_ms", 20.0, "time in ms the gate stays open after the level drops",
          min=0.0, max=2000.0),
    Param("release_ms", 100.0, "closing time constant in ms", min=1.0, max=5000.0),
    Param("sidechain", "", "track or bus whose signal opens the gate ('' = this signal)",
          kind="str", automatable=False),
)


@register_device(
    "gate", kind="effect", params=_GATE_PARAMS, sidechain=True,
    doc="Noise gate with hold and range; the key can be a sidechain.",
)
class Gate(_KeyedDynamics):
    """Stereo-linked noise gate.

    The gate opens while the key's sample peak is at or above ``threshold_db``
    and for ``hold_ms`` after (which also bridges a waveform's zero crossings);
    its gain glides between 1 and ``range_db`` with one-pole time constants.
    """

    TYPE = "gate"
    PARAMS = _GATE_PARAMS

    def __init__(
        self, *, threshold_db: float = -40.0, range_db: float = -80.0, attack_ms: float = 1.0,
        hold_ms: float = 20.0, release_ms: float = 100.0, sidechain: str = "",
    ) -> None:
        super().__init__(locals())
        self._state = np.zeros(2)

    def _reset(self) -> None:
        self._state[:] = 0.0

    def _at_rest(self, block: AudioArray, key: AudioArray) -> bool:
        """True for digital silence into a compressor at rest (detector and envelopes
        exactly 0): the kernel would leave its state at 0 and write each sample times a
        positive make-up gain, i.e. the same zero, sign included, so it can be skipped."""
        return key is block and not self._state.any() and not block.any()

    def _process(self, block: AudioArray, sidechain: AudioArray | None) -> AudioArray:
        p = self._p
        sr = self.sample_rate
        key = self._key_for(block, sidechain, 0.0)
        _gate_kernel(block, key, self._state, 10.0 ** (p["threshold_db"] / 10.0),
                     float(round(p["hold_ms"] * 1e-3 * sr)), time_coef(p["attack_ms"], sr),
                     time_coef(p["release_ms"], sr), db_to_gain(p["range_db"]))
        return block


_LIMITER_PARAMS = (
    Param("ceiling_db", -1.0, "highest sample peak of the output in dBFS", min=-24.0, max=0.0),
    Param("release_ms", 100.0, "time constant in ms of the gain's recovery", min=1.0,
          max=2000.0),
    Param("lookahead_ms", 5.0, "look-ahead in ms; the gain ramps down over it (= latency)",
          min=0.0, max=20.0, automatable=False),
)


@register_device(
    "limiter", kind="effect", params=_LIMITER_PARAMS,
    doc="Look-ahead peak limiter; the output never exceeds ceiling_db in sample peak.",
)
class Limiter(EffectBase):
    """Look-ahead brick-wall peak limiter.

    The gain each sample needs (``ceiling / |x|``, channels linked) passes a
    sliding minimum over the look-ahead window of ``L + 1`` frames, an
    exponential recovery (``release_ms``) that may only go lower, and a moving
    average over ``L + 1`` frames. Every averaged window holds only values at or
    below the need of the sample it lands on, so the output never exceeds the
    ceiling, and the gain moves down as a ramp over the look-ahead instead of
    jumping. The audio is delayed by ``L`` frames (``latency_frames``).
    """

    TYPE = "limiter"
    PARAMS = _LIMITER_PARAMS

    def __init__(self, *, ceiling_db: float = -1.0, release_ms: float = 100.0,
                 lookahead_ms: float = 5.0) -> None:
        super().__init__(locals())
        self._delay = np.zeros((1, 1), dtype=np.float32)
        self._dq_val = np.zeros(1)
        self._dq_pos = np.zeros(1, dtype=np.int64)
        self._ring = np.ones(1)
        self._st = np.zeros(2)
        self._ist = np.zeros(3, dtype=np.int64)

    def _prepare(self) -> None:
        self.latency_frames = round(self._p["lookahead_ms"] * 1e-3 * self.sample_rate)
        size = self.latency_frames + 1
        self._delay = np.zeros((self.channels, size), dtype=np.float32)
        self._dq_val = np.zeros(size)
        self._dq_pos = np.zeros(size, dtype=np.int64)
        self._ring = np.ones(size)

    def _reset(self) -> None:
        self._delay[:] = 0.0
        self._ring[:] = 1.0
        self._st[:] = (1.0, float(self._ring.shape[0]))
        self._ist[:] = 0

    def _process(self, block: AudioArray, sidechain: AudioArray | None) -> AudioArray:
        ceil = db_to_gain(self._p["ceiling_db"])
        ceil32 = np.float32(ceil)
        if float(ceil32) > ceil:
            ceil32 = np.nextafter(ceil32, np.float32(0.0))
        _limiter_kernel(block, self._delay, self._dq_val, self._dq_pos, self._ring, self._st,
                        self._ist, ceil, ceil32, time_coef(self._p["release_ms"],
                                                           self.sample_rate))
        return block
