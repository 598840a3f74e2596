"""Compiled per-sample loops of the analysis (numba).

Everything here runs sample by sample in a fixed order with its state carried in
arrays between calls, so a meter gives bit-identical figures for any split of the
input into blocks. No ``fastmath`` reassociation anywhere: the true-peak kernels
only allow the no-NaN/no-inf flags (input is checked finite before they run).
"""

from __future__ import annotations

import numpy as np
from numba import njit

CLIP_LEVEL = 32767.0 / 32768.0
"""A sample at or above this magnitude (the top code of a 16-bit file) is at full scale."""

CLIP_MIN_RUN = 2
"""Consecutive full-scale samples in one channel that count as clipping."""

# Indices into the integer state array of ``loudness_block``.
I_SUB_COUNT, I_GATE_COUNT, I_SUBS_DONE, I_GATES_DONE, I_CLIPPED, I_CLIP_RUNS, I_LONGEST, \
    I_NONFINITE, I_FIRST_BAD = range(9)
N_ISTATE = 9


@njit(cache=True, nogil=True)
def loudness_block(
    x: np.ndarray,          # float32 (C, F)
    coef: np.ndarray,       # float64 (10,): b0 b1 b2 a1 a2 of the shelf, then of the high-pass
    weights: np.ndarray,    # float64 (C,) BS.1770 channel weights G_i
    zst: np.ndarray,        # float64 (C, 4) biquad states (transposed direct form II)
    acc: np.ndarray,        # float64 (2,) running sums of the open sub-hop and gate-hop
    ist: np.ndarray,        # int64 (N_ISTATE,)
    params: np.ndarray,     # int64 (4,): sub_len, gate_len, momentary_subs, short_term_subs
    sub_ring: np.ndarray,   # float64 (short_term_subs,) last sub-hop energy sums
    gate_ring: np.ndarray,  # float64 (30,) last gate-hop energy sums
    fstat: np.ndarray,      # float64 (3, C): sum x, sum x^2, peak |x|
    runs: np.ndarray,       # int64 (C,) current full-scale run length per channel
    slr: np.ndarray,        # float64 (1,) sum of L*R (stereo only)
    wave: bool,             # track a min/max waveform per sub-hop
    wcur: np.ndarray,       # float64 (2, C) open sub-hop min and max
    out_m: np.ndarray,      # float64 (S,) momentary energy at each sub-hop end (-1: not full)
    out_s: np.ndarray,      # float64 (S,) short-term energy at each sub-hop end (-1: not full)
    out_w: np.ndarray,      # float32 (2, C, S) waveform min/max per finished sub-hop
    out_g4: np.ndarray,     # float64 (G,) 400 ms gating-block energy at each gate-hop end
    out_g30: np.ndarray,    # float64 (G,) 3 s block energy at each gate-hop end (-1: not full)
) -> tuple[int, int]:
    """K-weight, accumulate and window one block; return (sub-hops, gate-hops) finished."""
    n_ch = x.shape[0]
    frames = x.shape[1]
    b0, b1, b2, a1, a2 = coef[0], coef[1], coef[2], coef[3], coef[4]
    c0, c1, c2, d1, d2 = coef[5], coef[6], coef[7], coef[8], coef[9]
    sub_len = params[0]
    gate_len = params[1]
    m_subs = params[2]
    s_subs = params[3]
    acc_sub = acc[0]
    acc_gate = acc[1]
    cnt_sub = ist[I_SUB_COUNT]
    cnt_gate = ist[I_GATE_COUNT]
    subs_done = ist[I_SUBS_DONE]
    gates_done = ist[I_GATES_DONE]
    n_sub_out = 0
    n_gate_out = 0
    stereo = n_ch == 2
    lr = slr[0]
    for n in range(frames):
        z = 0.0
        left = 0.0
        for c in range(n_ch):
            xv = np.float64(x[c, n])
            if not (abs(xv) <= 1.0e300):  # NaN or inf: count, then treat as silence
                if ist[I_NONFINITE] == 0:
                    ist[I_FIRST_BAD] = n
                ist[I_NONFINITE] += 1
                xv = 0.0
            fstat[0, c] += xv
            fstat[1, c] += xv * xv
            a = abs(xv)
            if a > fstat[2, c]:
                fstat[2, c] = a
            if a >= CLIP_LEVEL:
                runs[c] += 1
                r = runs[c]
                if r == CLIP_MIN_RUN:
                    ist[I_CLIPPED] += CLIP_MIN_RUN
                    ist[I_CLIP_RUNS] += 1
                elif r > CLIP_MIN_RUN:
                    ist[I_CLIPPED] += 1
                if r >= CLIP_MIN_RUN and r > ist[I_LONGEST]:
                    ist[I_LONGEST] = r
            else:
                runs[c] = 0
            if wave:
                if xv < wcur[0, c]:
                    wcur[0, c] = xv
                if xv > wcur[1, c]:
                    wcur[1, c] = xv
            if stereo:
                if c == 0:
                    left = xv
                else:
                    lr += left * xv
            # BS.1770 K-weighting: high shelf, then the RLB high-pass.
            y1 = b0 * xv + zst[c, 0]
            zst[c, 0] = b1 * xv - a1 * y1 + zst[c, 1]
            zst[c, 1] = b2 * xv - a2 * y1
            y2 = c0 * y1 + zst[c, 2]
            zst[c, 2] = c1 * y1 - d1 * y2 + zst[c, 3]
            zst[c, 3] = c2 * y1 - d2 * y2
            z += weights[c] * (y2 * y2)
        acc_sub += z
        acc_gate += z
        cnt_sub += 1
        cnt_gate += 1
        if cnt_sub == sub_len:
            sub_ring[subs_done % s_subs] = acc_sub
            subs_done += 1
            if subs_done >= m_subs:
                e = 0.0
                for j in range(subs_done - m_subs, subs_done):
                    e += sub_ring[j % s_subs]
                out_m[n_sub_out] = e / (m_subs * sub_len)
            else:
                out_m[n_sub_out] = -1.0
            if subs_done >= s_subs:
                e = 0.0
                for j in range(subs_done - s_subs, subs_done):
                    e += sub_ring[j % s_subs]
                out_s[n_sub_out] = e / (s_subs * sub_len)
            else:
                out_s[n_sub_out] = -1.0
            if wave:
                for c in range(n_ch):
                    out_w[0, c, n_sub_out] = wcur[0, c]
                    out_w[1, c, n_sub_out] = wcur[1, c]
                    wcur[0, c] = np.inf
                    wcur[1, c] = -np.inf
            n_sub_out += 1
            acc_sub = 0.0
            cnt_sub = 0
        if cnt_gate == gate_len:
            gate_ring[gates_done % 30] = acc_gate
            gates_done += 1
            if gates_done >= 4:
                e = 0.0
                for j in range(gates_done - 4, gates_done):
                    e += gate_ring[j % 30]
                out_g4[n_gate_out] = e / (4 * gate_len)
            else:
                out_g4[n_gate_out] = -1.0
            if gates_done >= 30:
                e = 0.0
                for j in range(gates_done - 30, gates_done):
                    e += gate_ring[j % 30]
                out_g30[n_gate_out] = e / (30 * gate_len)
            else:
                out_g30[n_gate_out] = -1.0
            n_gate_out += 1
            acc_gate = 0.0
            cnt_gate = 0
    acc[0] = acc_sub
    acc[1] = acc_gate
    ist[I_SUB_COUNT] = cnt_sub
    ist[I_GATE_COUNT] = cnt_gate
    ist[I_SUBS_DONE] = subs_done
    ist[I_GATES_DONE] = gates_done
    slr[0] = lr
    return n_sub_out, n_gate_out


@njit(cache=True, nogil=True, fastmath={"nnan", "ninf"})
def polyphase_peak(ext: np.ndarray, taps: np.ndarray, frames: int,
                   peaks: np.ndarray, sample_peaks: np.ndarray, buf: np.ndarray) -> None:
    """Raise ``peaks[c]`` to the largest |output| of a 12-tap polyphase interpolator.

    ``ext`` is float32 (C, frames + 11): 11 samples of history, then the block.
    ``taps`` is float32 (P, 12): phase p's output for input n is
    ``sum_k taps[p, k] * x[n - k]``, summed in the order k = 0..11.
    ``buf`` is float32 scratch of at least ``frames``. ``sample_peaks[c]`` is raised
    to the largest |input| of the block.
    """
    n_ch = ext.shape[0]
    n_ph = taps.shape[0]
    for c in range(n_ch):
        e = ext[c]
        s = np.float32(sample_peaks[c])
        for n in range(frames):
            v = abs(e[n + 11])
            s = v if v > s else s
        sample_peaks[c] = s
        m = np.float32(peaks[c])
        for p in range(n_ph):
            h0, h1, h2, h3 = taps[p, 0], taps[p, 1], taps[p, 2], taps[p, 3]
            h4, h5, h6, h7 = taps[p, 4], taps[p, 5], taps[p, 6], taps[p, 7]
            h8, h9, h10, h11 = taps[p, 8], taps[p, 9], taps[p, 10], taps[p, 11]
            for n in range(frames):
                buf[n] = abs(h0 * e[n + 11] + h1 * e[n + 10] + h2 * e[n + 9] + h3 * e[n + 8]
                             + h4 * e[n + 7] + h5 * e[n + 6] + h6 * e[n + 5] + h7 * e[n + 4]
                             + h8 * e[n + 3] + h9 * e[n + 2] + h10 * e[n + 1] + h11 * e[n])
            for n in range(frames):
                v = buf[n]
                m = v if v > m else m
        peaks[c] = m


@njit(cache=True, nogil=True)
def polyphase_interpolate(ext: np.ndarray, taps: np.ndarray, frames: int,
                          out: np.ndarray) -> None:
    """Write the interpolated signal: ``out[c, P * n + p]`` is phase p for input n.

    Same conventions (and the same arithmetic, so the same values) as
    :func:`polyphase_peak`; ``out`` is float32 (C, P * frames).
    """
    n_ch = ext.shape[0]
    n_ph = taps.shape[0]
    for c in range(n_ch):
        e = ext[c]
        for p in range(n_ph):
            h0, h1, h2, h3 = taps[p, 0], taps[p, 1], taps[p, 2], taps[p, 3]
            h4, h5, h6, h7 = taps[p, 4], taps[p, 5], taps[p, 6], taps[p, 7]
            h8, h9, h10, h11 = taps[p, 8], taps[p, 9], taps[p, 10], taps[p, 11]
            for n in range(frames):
                out[c, n_ph * n + p] = (
                    h0 * e[n + 11] + h1 * e[n + 10] + h2 * e[n + 9] + h3 * e[n + 8]
                    + h4 * e[n + 7] + h5 * e[n + 6] + h6 * e[n + 5] + h7 * e[n + 4]
                    + h8 * e[n + 3] + h9 * e[n + 2] + h10 * e[n + 1] + h11 * e[n])


@njit(cache=True, nogil=True, fastmath={"nnan", "ninf"})
def polyphase_envelope(ext: np.ndarray, taps: np.ndarray, frames: int,
                       env: np.ndarray) -> None:
    """``env[n]`` = largest |output| over phases and channels for input n (float32 (F,)).

    Same arithmetic as :func:`polyphase_peak`; ``env`` is overwritten.
    """
    n_ch = ext.shape[0]
    n_ph = taps.shape[0]
    env[:frames] = 0.0
    for c in range(n_ch):
        e = ext[c]
        for p in range(n_ph):
            h0, h1, h2, h3 = taps[p, 0], taps[p, 1], taps[p, 2], taps[p, 3]
            h4, h5, h6, h7 = taps[p, 4], taps[p, 5], taps[p, 6], taps[p, 7]
            h8, h9, h10, h11 = taps[p, 8], taps[p, 9], taps[p, 10], taps[p, 11]
            for n in range(frames):
                v = abs(h0 * e[n + 11] + h1 * e[n + 10] + h2 * e[n + 9] + h3 * e[n + 8]
                        + h4 * e[n + 7] + h5 * e[n + 6] + h6 * e[n + 5] + h7 * e[n + 4]
                        + h8 * e[n + 3] + h9 * e[n + 2] + h10 * e[n + 1] + h11 * e[n])
                w = abs(e[n + 11])
                v = w if w > v else v
                env[n] = v if v > env[n] else env[n]
