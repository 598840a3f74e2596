"""Utility: gain, stereo width (mid/side), mono, polarity, channel swap, balance.

The whole device is one 2x2 matrix on (left, right):
``out = M @ in`` with ``M = gain * balance * swap * polarity * width``, where the
width matrix keeps the mid ``(L + R) / 2`` and scales the side ``(L - R) / 2`` by
``width`` (0 = mono, 1 = unchanged, 2 = twice as wide). Automation glides the
matrix entries linearly over ``SMOOTH_MS``. On a mono stream only ``gain_db``
and ``invert_left`` apply.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from mixdown.core.audio import AudioArray
from mixdown.core.units import db_to_gain
from mixdown.dsp.base import Param, register_device
from mixdown.dsp.effects._common import EffectBase, VecRamp, require_channels

_PARAMS = (
    Param("gain_db", 0.0, "gain in dB", min=-96.0, max=36.0),
    Param("width", 1.0, "stereo width: 0 = mono, 1 = unchanged, 2 = side doubled", min=0.0,
          max=2.0),
    Param("mono", False, "sum to mono (same as width 0)", kind="bool"),
    Param("invert_left", False, "flip the polarity of the left channel", kind="bool"),
    Param("invert_right", False, "flip the polarity of the right channel", kind="bool"),
    Param("swap", False, "swap left and right", kind="bool"),
    Param("pan", 0.0, "balance, -1 (left only) .. 1 (right only); the other side is "
          "attenuated linearly, the near side stays at unity", min=-1.0, max=1.0),
)


@register_device(
    "utility", kind="effect", params=_PARAMS,
    doc="Gain, stereo width, mono, polarity, swap and balance as one 2x2 matrix.",
)
class Utility(EffectBase):
    """Gain and stereo utility (see the module doc)."""

    TYPE = "utility"
    PARAMS = _PARAMS

    def __init__(self, *, gain_db: float = 0.0, width: float = 1.0, mono: bool = False,
                 invert_left: bool = False, invert_right: bool = False, swap: bool = False,
                 pan: float = 0.0) -> None:
        super().__init__(locals())
        self._glide = VecRamp(self._targets())

    def matrix(self) -> NDArray[np.float64]:
        """The 2x2 matrix for the current parameters (rows: output L, R)."""
        p = self._p
        w = 0.0 if p["mono"] else p["width"]
        m = np.array([[(1 + w) / 2, (1 - w) / 2], [(1 - w) / 2, (1 + w) / 2]])
        m[0] *= -1.0 if p["invert_left"] else 1.0
        m[1] *= -1.0 if p["invert_right"] else 1.0
        if p["swap"]:
            m = m[::-1].copy()
        m[0] *= min(1.0, 1.0 - p["pan"])
        m[1] *= min(1.0, 1.0 + p["pan"])
        return m * db_to_gain(p["gain_db"])

    def _targets(self) -> list[float]:
        # the four matrix entries, then the mono-stream gain (gain and invert_left only)
        p = self._p
        mono_gain = db_to_gain(p["gain_db"]) * (-1.0 if p["invert_left"] else 1.0)
        return [*self.matrix().ravel(), mono_gain]

    def _prepare(self) -> None:
        require_channels(self.TYPE, self.channels)

    def _reset(self) -> None:
        self._glide.glide(self._targets(), 0)

    def _update(self, name: str) -> None:
        self._glide.glide(self._targets(), self._glide_frames)

    def _process(self, block: AudioArray, sidechain: AudioArray | None) -> AudioArray:
        g = self._glide
        n = block.shape[1]
        if g.pos < g.length:
            k = np.arange(g.pos + 1, g.pos + 1 + n, dtype=np.float64)
            t = np.minimum(k, g.length) / g.length
            m = g.start[:, None] + (g.target - g.start)[:, None] * t[None, :]  # (5, n)
        else:
            m = g.target[:, None]
        g.advance(n)
        if self.channels == 1:
            block[0] = block[0] * m[4]
            return block
        if g.pos >= g.length and np.array_equal(g.target[:4], [1.0, 0.0, 0.0, 1.0]):
            return block
        left = block[0].astype(np.float64)
        right = block[1].astype(np.float64)
        block[0] = left * m[0] + right * m[1]
        block[1] = left * m[2] + right * m[3]
        return block
