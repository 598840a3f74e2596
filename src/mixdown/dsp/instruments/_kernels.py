"""The compiled per-sample code of the built-in instruments, in one module.

Not public API. Envelopes (ADSR), oscillators (sine table, polyBLEP/polyBLAMP) and the
voice kernels of "synth", "fm" and "sampler" live together because numba caches a
kernel per *module file* and does not notice edits to helpers it inlines from another
file; with everything here, any edit recompiles everything.

Envelopes: an envelope is three numbers per voice (stage, level, level at note-off)
plus five coefficients shared by all voices (:func:`adsr_coefficients`). The kernels
run :func:`adsr_run` over a segment before the audio; the level of a sample includes
that sample's step, so the first sample of a note already has the level
``1 / attack_frames`` (a note is audible from its first frame). The shape:

- attack: linear from the current level to 1 in ``attack_s``;
- decay: exponential from 1 to ``sustain``, landing on it exactly after ``decay_s``;
- sustain: holds ``sustain`` (which may be automated);
- release: exponential from the level at note-off to 0, landing on 0 exactly
  ``release_s`` later (it aims :data:`CURVE_FLOOR` of the distance past its target,
  the classic analogue overshoot, so the curve is close to linear in dB).

Oscillators: :func:`sin_cycles` reads a sine table (linear interpolation, error below
3e-7, i.e. -130 dB), several times cheaper than ``math.sin`` in the loops.
:func:`osc_sample` gives band-limited saw, square and triangle waves: the naive
waveform plus polyBLEP (steps) or polyBLAMP (corners) residuals, which push aliasing
down by 20-40 dB at high notes.

Kernels keep every voice's state in arrays that they update in place, load it into
locals for the sample loop and store it back, so the output does not depend on how a
render is split into blocks.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit
from numpy.typing import NDArray

# -- envelopes -----------------------------------------------------------------------------

ATTACK = 0
DECAY = 1
SUSTAIN = 2
RELEASE = 3
DONE = 4

CURVE_FLOOR = 1e-4
"""How far (relative to the segment's range) the exponential segments aim past their
target: 1e-4 makes the curve span 80 dB before it is clamped at the target."""


def adsr_coefficients(attack_s: float, decay_s: float, sustain: float, release_s: float,
                      sample_rate: int) -> NDArray[np.float64]:
    """Per-sample coefficients of an ADSR envelope.

    Parameters
    ----------
    attack_s, decay_s, release_s : float >= 0
        Segment times in seconds (rounded to whole frames).
    sustain : float in [0, 1]
        Sustain level (linear amplitude).
    sample_rate : int
        In Hz.

    Returns
    -------
    ndarray [shape=(5,), float64]
        ``attack increment, decay coefficient, decay offset, sustain, release coefficient``.
    """
    r = CURVE_FLOOR
    a_frames = max(1, round(attack_s * sample_rate))
    d_frames = round(decay_s * sample_rate)
    r_frames = round(release_s * sample_rate)
    d_coef = (r / (1.0 + r)) ** (1.0 / d_frames) if d_frames > 0 else 0.0
    r_coef = (r / (1.0 + r)) ** (1.0 / r_frames) if r_frames > 0 else 0.0
    d_base = (1.0 - d_coef) * (sustain - (1.0 - sustain) * r)
    return np.array([1.0 / a_frames, d_coef, d_base, sustain, r_coef], dtype=np.float64)


@njit(cache=True, nogil=True, inline="always")
def adsr_run(stage: NDArray[np.int8], level: NDArray[np.float64],
             level0: NDArray[np.float64], v: int, e: int, par: NDArray[np.float64],
             out: NDArray[np.float64], n: int) -> int:
    """Run envelope ``e`` of voice ``v`` for ``n`` samples into ``out[:n]``.

    Returns the number of samples until the envelope is over (it reached 0 in its
    release, or holds a sustain level of 0), counting the first silent sample, or
    ``n + 1`` if it is not over within the run. The state arrays are updated.
    """
    st = stage[v, e]
    lv = level[v, e]
    a_inc = par[e, 0]
    d_coef = par[e, 1]
    d_base = par[e, 2]
    sus = par[e, 3]
    r_coef = par[e, 4]
    r_base = -(1.0 - r_coef) * CURVE_FLOOR * level0[v, e]
    end = n + 1
    for i in range(n):
        if st == ATTACK:
            lv += a_inc
            if lv >= 1.0:
                lv = 1.0
                st = DECAY
        elif st == DECAY:
            lv = d_coef * lv + d_base
            if lv <= sus:
                lv = sus
                st = SUSTAIN
        elif st == SUSTAIN:
            lv = sus
        elif st == RELEASE:
            lv = r_coef * lv + r_base
            if lv <= 0.0:
                lv = 0.0
                st = DONE
        else:
            lv = 0.0
        out[i] = lv
        if end > n and lv == 0.0 and st in (DONE, SUSTAIN):
            end = i + 1
    stage[v, e] = st
    level[v, e] = lv
    return end


def release_envelopes(stage: NDArray[np.int8], level: NDArray[np.float64],
                      level0: NDArray[np.float64], v: int) -> None:
    """Put every envelope of voice ``v`` into its release stage (from its current level)."""
    for e in range(stage.shape[1]):
        if stage[v, e] != DONE:
            stage[v, e] = RELEASE
            level0[v, e] = level[v, e]


# -- oscillators --------------------------------------------------------------------------

SINE_TABLE_SIZE = 4096
SINE_TABLE: NDArray[np.float64] = np.sin(2.0 * np.pi * np.arange(SINE_TABLE_SIZE + 1)
                                         / SINE_TABLE_SIZE)
"""One cycle of a sine plus a guard point, for :func:`sin_cycles`."""

SAW, SQUARE, TRIANGLE, SINE = range(4)


@njit(cache=True, nogil=True, inline="always")
def sin_cycles(x: float, table: NDArray[np.float64]) -> float:
    """``sin(2 pi x)`` for any real ``x`` (in cycles), from :data:`SINE_TABLE`."""
    x -= math.floor(x)
    pos = x * SINE_TABLE_SIZE
    i = int(pos)
    fr = pos - i
    a = table[i]
    return a + fr * (table[i + 1] - a)


@njit(cache=True, nogil=True, inline="always")
def _blep(t: float, dt: float) -> float:
    """PolyBLEP residual of a unit step at phase 0 (t: phase in [0, 1), dt: increment)."""
    if t < dt:
        t = t / dt
        return t + t - t * t - 1.0
    if t > 1.0 - dt:
        t = (t - 1.0) / dt
        return t * t + t + t + 1.0
    return 0.0


@njit(cache=True, nogil=True, inline="always")
def _blamp(t: float, dt: float) -> float:
    """PolyBLAMP residual at phase 0 (a slope change of ``s`` per cycle: times ``s dt / 2``)."""
    if t < dt:
        t = t / dt - 1.0
        return -t * t * t / 3.0
    if t > 1.0 - dt:
        t = (t - 1.0) / dt + 1.0
        return t * t * t / 3.0
    return 0.0


@njit(cache=True, nogil=True, inline="always")
def osc_sample(wave: int, ph: float, dt: float, table: NDArray[np.float64]) -> float:
    """One band-limited oscillator sample at phase ``ph`` in [0, 1) with increment ``dt``.

    ``wave``: :data:`SAW` (rises from -1 to 1), :data:`SQUARE` (+1 on the first half
    cycle), :data:`TRIANGLE` (-1 at phase 0, +1 at 0.5) or :data:`SINE`.
    """
    if wave == SAW:
        return 2.0 * ph - 1.0 - _blep(ph, dt)
    if wave == SQUARE:
        p2 = ph + 0.5
        if p2 >= 1.0:
            p2 -= 1.0
        naive = 1.0 if ph < 0.5 else -1.0
        return naive + _blep(ph, dt) - _blep(p2, dt)
    if wave == TRIANGLE:
        p2 = ph + 0.5
        if p2 >= 1.0:
            p2 -= 1.0
        naive = 1.0 - 4.0 * abs(ph - 0.5)
        return naive + 4.0 * dt * (_blamp(ph, dt) - _blamp(p2, dt))
    return sin_cycles(ph, table)


# -- synth ---------------------------------------------------------------------------------

CONTROL_FRAMES = 16
"""Synth pitch (glide) and cutoff are recomputed every this many frames (absolute grid)."""

MIN_K = 0.05
"""Synth filter damping at resonance 1 (Q = 20)."""

# indices into the synth kernel's scalar parameter vector
SY_CUTOFF, SY_KEYTRACK, SY_K1, SY_K2, SY_STAGES, SY_SR, SY_GAIN, SY_MAXCUT, SY_NOISE, \
    SY_KILL = range(10)


@njit(cache=True, nogil=True)
def synth_kernel(mix: NDArray[np.float64], off: int, n: int, frame0: int,
                  active: NDArray[np.int8], kill: NDArray[np.int32],
                  env_stage: NDArray[np.int8], env_level: NDArray[np.float64],
                  env_level0: NDArray[np.float64], env_par: NDArray[np.float64],
                  ctrl_due: NDArray[np.int8], g_from: NDArray[np.float64],
                  g_to: NDArray[np.float64], g_start: NDArray[np.int64],
                  g_frames: NDArray[np.int64], pitch_now: NDArray[np.float64],
                  inc: NDArray[np.float64], phase: NDArray[np.float64],
                  ratio: NDArray[np.float64], pan: NDArray[np.float64],
                  wave: NDArray[np.int64], level: NDArray[np.float64],
                  rng: NDArray[np.uint64], vel_gain: NDArray[np.float64],
                  fenv_st: NDArray[np.float64], fco: NDArray[np.float64],
                  fst: NDArray[np.float64], last_mod: NDArray[np.float64],
                  fp: NDArray[np.float64], table: NDArray[np.float64]) -> None:
    n_uni = ratio.shape[0]
    sr = fp[SY_SR]
    two_stages = int(fp[SY_STAGES]) == 2
    kill_n = fp[SY_KILL]
    noise = fp[SY_NOISE]
    cutoff = fp[SY_CUTOFF]
    key_track = fp[SY_KEYTRACK]
    k1 = fp[SY_K1]
    k2 = fp[SY_K2]
    max_cut = fp[SY_MAXCUT]
    amp_env = np.empty(n)
    fil_env = np.empty(n)
    ph = np.empty((n_uni, 3))
    for v in range(active.shape[0]):
        if active[v] == 0:
            continue
        end = adsr_run(env_stage, env_level, env_level0, v, 0, env_par, amp_env, n)
        adsr_run(env_stage, env_level, env_level0, v, 1, env_par, fil_env, n)
        m = min(end, n)
        over = end <= n
        kv = kill[v]
        if 0 < kv <= m:
            m = kv
            over = True
        for u in range(n_uni):
            for o in range(3):
                ph[u, o] = phase[v, u, o]
        due = ctrl_due[v] != 0
        p_now = pitch_now[v]
        ib = inc[v]
        lm = last_mod[v]
        gfr = g_frames[v]
        gst = g_start[v]
        gfrom = g_from[v]
        gto = g_to[v]
        fenv = fenv_st[v]
        a1, a2, a3 = fco[v, 0, 0], fco[v, 0, 1], fco[v, 0, 2]
        b1, b2, b3 = fco[v, 1, 0], fco[v, 1, 1], fco[v, 1, 2]
        la1, la2, ra1, ra2 = fst[v, 0, 0, 0], fst[v, 0, 0, 1], fst[v, 0, 1, 0], fst[v, 0, 1, 1]
        lb1, lb2, rb1, rb2 = fst[v, 1, 0, 0], fst[v, 1, 0, 1], fst[v, 1, 1, 0], fst[v, 1, 1, 1]
        x = rng[v]
        gv0 = vel_gain[v] * fp[SY_GAIN]
        for i in range(m):
            f = frame0 + i
            if due or f % CONTROL_FRAMES == 0:
                p = gto
                el = f - gst
                if gfr > 0 and el < gfr:
                    p = gfrom + (gto - gfrom) * (el / gfr)
                if p != p_now or due:
                    p_now = p
                    ib = 440.0 * 2.0 ** ((p - 69.0) / 12.0) / sr
                md = key_track * (p - 60.0) + fenv * fil_env[i]
                if md != lm or due:
                    lm = md
                    fc = min(max(cutoff * 2.0 ** (md / 12.0), 10.0), max_cut)
                    g = math.tan(math.pi * fc / sr)
                    a1 = 1.0 / (1.0 + g * (g + k1))
                    a2 = g * a1
                    a3 = g * a2
                    if two_stages:
                        b1 = 1.0 / (1.0 + g * (g + k2))
                        b2 = g * b1
                        b3 = g * b2
                due = False
            xl = 0.0
            xr = 0.0
            for o in range(3):
                lv = level[o]
                if lv == 0.0:
                    continue
                w = wave[o]
                for u in range(n_uni):
                    dt = ib * ratio[u, o]
                    q = ph[u, o] + dt
                    if q >= 1.0:
                        q -= math.floor(q)
                    ph[u, o] = q
                    if dt < 0.5:
                        y = lv * osc_sample(w, q, dt, table)
                        xl += y * pan[u, 0]
                        xr += y * pan[u, 1]
            if noise != 0.0:
                x ^= x >> np.uint64(12)
                x ^= x << np.uint64(25)
                x ^= x >> np.uint64(27)
                r = (x * np.uint64(0x2545F4914F6CDD1D)) >> np.uint64(11)
                nz = noise * (float(r) * (2.0 / 9007199254740992.0) - 1.0)
                xl += nz
                xr += nz
            # topology-preserving SVF low-pass (Simper), one or two stages per channel
            v3 = xl - la2
            v1 = a1 * la1 + a2 * v3
            v2 = la2 + a2 * la1 + a3 * v3
            la1 = 2.0 * v1 - la1
            la2 = 2.0 * v2 - la2
            xl = v2
            v3 = xr - ra2
            v1 = a1 * ra1 + a2 * v3
            v2 = ra2 + a2 * ra1 + a3 * v3
            ra1 = 2.0 * v1 - ra1
            ra2 = 2.0 * v2 - ra2
            xr = v2
            if two_stages:
                v3 = xl - lb2
                v1 = b1 * lb1 + b2 * v3
                v2 = lb2 + b2 * lb1 + b3 * v3
                lb1 = 2.0 * v1 - lb1
                lb2 = 2.0 * v2 - lb2
                xl = v2
                v3 = xr - rb2
                v1 = b1 * rb1 + b2 * v3
                v2 = rb2 + b2 * rb1 + b3 * v3
                rb1 = 2.0 * v1 - rb1
                rb2 = 2.0 * v2 - rb2
                xr = v2
            gv = amp_env[i] * gv0
            if kv > 0:
                gv *= (kv - i) / (kill_n + 1.0)
            mix[0, off + i] += xl * gv
            mix[1, off + i] += xr * gv
        for u in range(n_uni):
            for o in range(3):
                phase[v, u, o] = ph[u, o]
        ctrl_due[v] = 1 if due else 0
        pitch_now[v] = p_now
        inc[v] = ib
        last_mod[v] = lm
        fco[v, 0, 0], fco[v, 0, 1], fco[v, 0, 2] = a1, a2, a3
        fco[v, 1, 0], fco[v, 1, 1], fco[v, 1, 2] = b1, b2, b3
        fst[v, 0, 0, 0], fst[v, 0, 0, 1], fst[v, 0, 1, 0], fst[v, 0, 1, 1] = la1, la2, ra1, ra2
        fst[v, 1, 0, 0], fst[v, 1, 0, 1], fst[v, 1, 1, 0], fst[v, 1, 1, 1] = lb1, lb2, rb1, rb2
        rng[v] = x
        if kv > 0:
            kill[v] = kv - m
        if over:
            active[v] = 0
            kill[v] = 0


# -- fm ------------------------------------------------------------------------------------

OPERATORS = 4

# indices into the fm kernel's scalar parameter vector
FM_SR, FM_GAIN, FM_BETA, FM_FBOP, FM_KILL = range(5)


@njit(cache=True, nogil=True)
def fm_kernel(mix: NDArray[np.float64], off: int, n: int,
               active: NDArray[np.int8], kill: NDArray[np.int32],
               env_stage: NDArray[np.int8], env_level: NDArray[np.float64],
               env_level0: NDArray[np.float64], env_par: NDArray[np.float64],
               phase: NDArray[np.float64], fb: NDArray[np.float64],
               inc: NDArray[np.float64], vel_amp: NDArray[np.float64],
               vel_idx: NDArray[np.float64], ratio: NDArray[np.float64],
               level: NDArray[np.float64], carrier: NDArray[np.int8],
               used: NDArray[np.int8], mods: NDArray[np.int8],
               fp: NDArray[np.float64], table: NDArray[np.float64]) -> None:
    inv_two_pi = 0.5 / math.pi
    fb_on_2 = int(fp[FM_FBOP]) == 1  # else the feedback operator is op 4
    fbk = 0.5 * fp[FM_BETA] * inv_two_pi  # feedback averages two samples, in cycles
    kill_n = fp[FM_KILL]
    u2, u3, u4 = used[1] != 0, used[2] != 0, used[3] != 0
    c2, c3, c4 = float(carrier[1]), float(carrier[2]), float(carrier[3])
    m12, m13, m14 = float(mods[0, 1]), float(mods[0, 2]), float(mods[0, 3])
    m23, m24, m34 = float(mods[1, 2]), float(mods[1, 3]), float(mods[2, 3])
    env = np.zeros((OPERATORS, n))
    for v in range(active.shape[0]):
        if active[v] == 0:
            continue
        over = True
        m = 0
        for j in range(OPERATORS):
            if used[j] != 0:
                end = adsr_run(env_stage, env_level, env_level0, v, j, env_par, env[j], n)
                if carrier[j] != 0:
                    if end > n:
                        over = False
                    m = max(m, end)
        m = min(m, n)
        kv = kill[v]
        if 0 < kv <= m:
            m = kv
            over = True
        p1, p2, p3, p4 = phase[v, 0], phase[v, 1], phase[v, 2], phase[v, 3]
        d1, d2, d3, d4 = ratio[0] * inc[v], ratio[1] * inc[v], ratio[2] * inc[v], ratio[3] * inc[v]
        vi = vel_idx[v]
        # per-operator output scale: amplitude for carriers, index (radians -> cycles) else
        s1 = level[0] if carrier[0] else level[0] * vi * inv_two_pi
        s2 = level[1] if carrier[1] else level[1] * vi * inv_two_pi
        s3 = level[2] if carrier[2] else level[2] * vi * inv_two_pi
        s4 = level[3] if carrier[3] else level[3] * vi * inv_two_pi
        f1 = fb[v, 0]
        f2 = fb[v, 1]
        g0 = vel_amp[v] * fp[FM_GAIN]
        o1 = o2 = o3 = o4 = 0.0
        for i in range(m):
            if u4:
                p4 += d4
                if p4 >= 1.0:
                    p4 -= math.floor(p4)
                y = sin_cycles(p4 + fbk * (f1 + f2), table)
                f2 = f1
                f1 = y
                o4 = y * env[3, i] * s4
            if u3:
                p3 += d3
                if p3 >= 1.0:
                    p3 -= math.floor(p3)
                o3 = sin_cycles(p3 + m34 * o4, table) * env[2, i] * s3
            if u2:
                p2 += d2
                if p2 >= 1.0:
                    p2 -= math.floor(p2)
                if fb_on_2:
                    y = sin_cycles(p2 + fbk * (f1 + f2), table)
                    f2 = f1
                    f1 = y
                else:
                    y = sin_cycles(p2 + m23 * o3 + m24 * o4, table)
                o2 = y * env[1, i] * s2
            p1 += d1
            if p1 >= 1.0:
                p1 -= math.floor(p1)
            o1 = sin_cycles(p1 + m12 * o2 + m13 * o3 + m14 * o4, table) * env[0, i] * s1
            out = o1 + c2 * o2 + c3 * o3 + c4 * o4
            gv = g0
            if kv > 0:
                gv *= (kv - i) / (kill_n + 1.0)
            mix[0, off + i] += out * gv
            mix[1, off + i] += out * gv
        phase[v, 0], phase[v, 1], phase[v, 2], phase[v, 3] = p1, p2, p3, p4
        fb[v, 0] = f1
        fb[v, 1] = f2
        if kv > 0:
            kill[v] = kv - m
        if over:
            active[v] = 0
            kill[v] = 0


# -- sampler ------------------------------------------------------------------------------

@njit(cache=True, nogil=True, inline="always")
def _tap(data: NDArray[np.float32], c: int, base: int, length: int, j: int, looping: bool,
         ls: int, le: int) -> float:
    if looping and j >= le:
        j = ls + (j - ls) % (le - ls)
    if j < 0 or j >= length:
        return 0.0
    return float(data[c, base + j])


@njit(cache=True, nogil=True)
def sampler_kernel(mix: NDArray[np.float64], off: int, n: int,
                    active: NDArray[np.int8], kill: NDArray[np.int32],
                    env_stage: NDArray[np.int8], env_level: NDArray[np.float64],
                    env_level0: NDArray[np.float64], env_par: NDArray[np.float64],
                    zone: NDArray[np.int64], pos: NDArray[np.float64],
                    rate: NDArray[np.float64], looping: NDArray[np.int8],
                    amp: NDArray[np.float64], data: NDArray[np.float32],
                    z_off: NDArray[np.int64], z_len: NDArray[np.int64],
                    z_ls: NDArray[np.int64], z_le: NDArray[np.int64],
                    kill_n: float, gain: float) -> None:
    env = np.empty(n)
    for v in range(active.shape[0]):
        if active[v] == 0:
            continue
        end = adsr_run(env_stage, env_level, env_level0, v, 0, env_par, env, n)
        m = min(end, n)
        over = end <= n
        kv = kill[v]
        if 0 < kv <= m:
            m = kv
            over = True
        z = zone[v]
        base = z_off[z]
        length = z_len[z]
        ls = z_ls[z]
        le = z_le[z]
        lp = looping[v] != 0
        p = pos[v]
        r = rate[v]
        g0 = amp[v] * gain
        for i in range(m):
            ip = math.floor(p)
            fr = p - ip
            gv = env[i] * g0
            if kv > 0:
                gv *= (kv - i) / (kill_n + 1.0)
            for c in range(2):
                xm = _tap(data, c, base, length, ip - 1, lp, ls, le)
                x0 = _tap(data, c, base, length, ip, lp, ls, le)
                x1 = _tap(data, c, base, length, ip + 1, lp, ls, le)
                x2 = _tap(data, c, base, length, ip + 2, lp, ls, le)
                c1 = 0.5 * (x1 - xm)
                c2 = xm - 2.5 * x0 + 2.0 * x1 - 0.5 * x2
                c3 = 0.5 * (x2 - xm) + 1.5 * (x0 - x1)
                mix[c, off + i] += (((c3 * fr + c2) * fr + c1) * fr + x0) * gv
            p += r
            if lp:
                while p >= le:
                    p -= le - ls
            elif p >= length:
                m = i + 1
                over = True
                break
        pos[v] = p
        if kv > 0:
            kill[v] = kv - m
        if over:
            active[v] = 0
            kill[v] = 0
