"""ADSR envelopes for the built-in instruments, stepped per sample in compiled code.

Not public API. An envelope is three numbers per voice (stage, level, level at
note-off) plus five coefficients shared by all voices (:func:`adsr_coefficients`).
The compiled kernels run :func:`adsr_run` over a segment before the audio; the
level of a sample includes that sample's step, so the first sample of a note
already has the level ``1 / attack_frames`` (a note is audible from its first frame).

The shape:

- attack: linear from the current level to 1 in ``attack_s``;
- decay: exponential from 1 to ``sustain``, landing on it exactly after ``decay_s``;
- sustain: holds ``sustain`` (which may be automated);
- release: exponential from the level at note-off to 0, landing on 0 exactly
  ``release_s`` later (it aims :data:`CURVE_FLOOR` of the distance past its target,
  the classic analogue overshoot, so the curve is close to linear in dB).

The state is carried exactly from block to block, so the output does not depend
on how a render is split into blocks.

Numba caches each kernel per module file and does not notice edits to the helpers it
inlines: after changing this file, delete the ``*.nbi``/``*.nbc`` files of ``synth``,
``fm`` and ``sampler`` in ``__pycache__`` (or touch those modules).
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numpy.typing import NDArray

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
