"""Reverb: Freeverb (Jezar at Dreampoint, public domain) in a compiled loop.

Eight damped feedback combs in parallel and four series all-passes per channel,
delay lengths scaled from the original 44.1 kHz tunings to the sample rate, the
right channel's lines 23 samples (at 44.1 kHz) longer for decorrelation. Our own
rather than pedalboard's JUCE Freeverb so that the output is bit-identical for
any block split and the loop releases the GIL; it is also a little faster than
pedalboard's (3 min of stereo 48 kHz in 8192-frame blocks: 0.28 s against 0.32 s).
The state is float64, which keeps decaying tails far from subnormal numbers.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from mixdown.core.audio import AudioArray
from mixdown.dsp.base import Param, register_device
from mixdown.dsp.effects._common import EffectBase, require_channels

_COMB_44K = (1116, 1188, 1277, 1356, 1422, 1491, 1557, 1617)
_ALLPASS_44K = (556, 441, 341, 225)
_SPREAD_44K = 23
_INPUT_GAIN = 0.015
_WET_SCALE = 3.0
_ROOM_SCALE, _ROOM_OFFSET = 0.28, 0.7
_DAMP_SCALE = 0.4
_ALLPASS_FEEDBACK = 0.5
MAX_PREDELAY_MS = 500.0
"""Longest pre-delay, in ms."""


@njit(cache=True, nogil=True, fastmath=False)
def _freeverb_kernel(x, combs, comb_len, comb_idx, comb_lp, aps, ap_len, ap_idx,
                     pre, ist, c0, c1, pos, length):  # pragma: no cover - compiled
    # c0/c1: [feedback, damp, wet1, wet2, dry] at the glide's start and end.
    # ist: [predelay write index, predelay frames]
    nch = x.shape[0]
    n = x.shape[1]
    out_ch = combs.shape[0]
    ncomb = combs.shape[1]
    nap = aps.shape[1]
    pre_size = pre.shape[0]
    pw = ist[0]
    pd = ist[1]
    fb = c1[0]
    damp = c1[1]
    wet1 = c1[2]
    wet2 = c1[3]
    dry = c1[4]
    o = np.zeros(2)
    for i in range(n):
        if pos + i < length:
            t = (pos + i + 1) / length
            fb = c0[0] + (c1[0] - c0[0]) * t
            damp = c0[1] + (c1[1] - c0[1]) * t
            wet1 = c0[2] + (c1[2] - c0[2]) * t
            wet2 = c0[3] + (c1[3] - c0[3]) * t
            dry = c0[4] + (c1[4] - c0[4]) * t
        elif pos + i == length:
            fb = c1[0]
            damp = c1[1]
            wet1 = c1[2]
            wet2 = c1[3]
            dry = c1[4]
        acc = 0.0
        for c in range(nch):
            acc += np.float64(x[c, i])
        mono = acc * (_INPUT_GAIN * 2.0 / nch)
        pre[pw] = mono
        rd = pw - pd
        if rd < 0:
            rd += pre_size
        inp = pre[rd]
        pw += 1
        if pw == pre_size:
            pw = 0
        for oc in range(out_ch):
            s = 0.0
            for k in range(ncomb):
                j = comb_idx[oc, k]
                y = combs[oc, k, j]
                lp = y * (1.0 - damp) + comb_lp[oc, k] * damp
                comb_lp[oc, k] = lp
                combs[oc, k, j] = inp + lp * fb
                j += 1
                if j == comb_len[oc, k]:
                    j = 0
                comb_idx[oc, k] = j
                s += y
            for k in range(nap):
                j = ap_idx[oc, k]
                b = aps[oc, k, j]
                aps[oc, k, j] = s + b * _ALLPASS_FEEDBACK
                s = b - s
                j += 1
                if j == ap_len[oc, k]:
                    j = 0
                ap_idx[oc, k] = j
            o[oc] = s
        if nch == 1:
            x[0, i] = np.float32(o[0] * (wet1 + wet2) + x[0, i] * dry)
        else:
            left = o[0] * wet1 + o[1] * wet2
            right = o[1] * wet1 + o[0] * wet2
            x[0, i] = np.float32(left + x[0, i] * dry)
            x[1, i] = np.float32(right + x[1, i] * dry)
    ist[0] = pw


_PARAMS = (
    Param("room_size", 0.5, "size of the room, 0..1; longer decay as it grows", min=0.0,
          max=1.0),
    Param("damping", 0.5, "high-frequency damping of the tail, 0..1", min=0.0, max=1.0),
    Param("wet", 0.33, "level of the reverberated signal, linear 0..1", min=0.0, max=1.0),
    Param("dry", 0.7, "level of the direct signal, linear 0..1", min=0.0, max=1.0),
    Param("width", 1.0, "stereo width of the tail, 0 (mono) .. 1 (fully decorrelated)",
          min=0.0, max=1.0),
    Param("predelay_ms", 0.0, "delay before the tail starts, in ms", min=0.0,
          max=MAX_PREDELAY_MS),
)


@register_device(
    "reverb", kind="effect", params=_PARAMS,
    doc="Freeverb-style algorithmic room reverb with pre-delay and stereo width.",
)
class Reverb(EffectBase):
    """Freeverb room reverb on 1 or 2 channels (the input is summed to mono)."""

    TYPE = "reverb"
    PARAMS = _PARAMS

    def __init__(self, *, room_size: float = 0.5, damping: float = 0.5, wet: float = 0.33,
                 dry: float = 0.7, width: float = 1.0, predelay_ms: float = 0.0) -> None:
        super().__init__(locals())
        self._c0 = np.zeros(5)
        self._c1 = np.zeros(5)
        self._pos = 0
        self._len = 0

    def _coefs(self) -> np.ndarray:
        p = self._p
        wet = p["wet"] * _WET_SCALE
        return np.array([
            p["room_size"] * _ROOM_SCALE + _ROOM_OFFSET,
            p["damping"] * _DAMP_SCALE,
            wet * (p["width"] / 2.0 + 0.5),
            wet * ((1.0 - p["width"]) / 2.0),
            p["dry"],
        ])

    def _prepare(self) -> None:
        require_channels(self.TYPE, self.channels)
        sr = self.sample_rate
        scale = sr / 44100.0
        out_ch = self.channels
        comb_len = np.array([[max(1, round((c + _SPREAD_44K * oc) * scale)) for c in _COMB_44K]
                             for oc in range(out_ch)], dtype=np.int64)
        ap_len = np.array([[max(1, round((a + _SPREAD_44K * oc) * scale)) for a in _ALLPASS_44K]
                           for oc in range(out_ch)], dtype=np.int64)
        self._comb_len = comb_len
        self._ap_len = ap_len
        self._combs = np.zeros((out_ch, len(_COMB_44K), int(comb_len.max())))
        self._aps = np.zeros((out_ch, len(_ALLPASS_44K), int(ap_len.max())))
        self._comb_idx = np.zeros_like(comb_len)
        self._ap_idx = np.zeros_like(ap_len)
        self._comb_lp = np.zeros((out_ch, len(_COMB_44K)))
        self._pre = np.zeros(round(MAX_PREDELAY_MS * 1e-3 * sr) + 1)
        self._ist = np.zeros(2, dtype=np.int64)

    def _reset(self) -> None:
        for a in (self._combs, self._aps, self._comb_lp, self._pre):
            a[:] = 0.0
        self._comb_idx[:] = 0
        self._ap_idx[:] = 0
        self._ist[:] = (0, round(self._p["predelay_ms"] * 1e-3 * self.sample_rate))
        self._c1 = self._coefs()
        self._c0 = self._c1.copy()
        self._pos = self._len = 0

    def _update(self, name: str) -> None:
        if name == "predelay_ms":  # a jump in the mono feed; the tail smears it
            self._ist[1] = round(self._p["predelay_ms"] * 1e-3 * self.sample_rate)
            return
        if self._pos < self._len:
            t = self._pos / self._len
            self._c0 = self._c0 + (self._c1 - self._c0) * t
        else:
            self._c0 = self._c1
        self._c1 = self._coefs()
        self._pos = 0
        self._len = self._glide_frames
        if self._len == 0:
            self._c0 = self._c1.copy()

    def _process(self, block: AudioArray, sidechain: AudioArray | None) -> AudioArray:
        _freeverb_kernel(block, self._combs, self._comb_len, self._comb_idx, self._comb_lp,
                         self._aps, self._ap_len, self._ap_idx, self._pre, self._ist,
                         self._c0, self._c1, self._pos, self._len)
        self._pos = min(self._pos + block.shape[1], self._len)
        return block
