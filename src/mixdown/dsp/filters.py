"""Public biquad building blocks: RBJ-cookbook section design and a streaming SOS cascade.

The effects share these through :mod:`mixdown.dsp.effects._common`; other packages (the
mastering chain, reference matching) import them from here, never from the private
module.

* :func:`butterworth_sections` - high/low-pass as second-order sections, exactly
  -3.01 dB at the cutoff;
* :func:`peaking_section` - a bell, exactly ``gain_db`` at ``freq_hz``;
* :func:`shelf_section` - a low or high shelf, half of ``gain_db`` at ``freq_hz``;
* :class:`SosFilter` - a gliding cascade with fixed slots, float64 state, bit-identical
  for any block split;
* :data:`IDENTITY_SOS` - the pass-through section ``[1, 0, 0, 1, 0, 0]``.

Sections are float64 arrays ``[b0, b1, b2, a0, a1, a2]`` (``scipy.signal`` layout).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from mixdown.dsp.effects._common import (
    IDENTITY_SOS,
    SosFilter,
    butterworth_sections,
    peaking_section,
    shelf_section,
)


def kaiser_lowpass(numtaps: int, cutoff: float, beta: float) -> NDArray[np.float64]:
    """A Kaiser-windowed sinc low-pass FIR with unity DC gain.

    The same taps as ``scipy.signal.firwin(numtaps, cutoff, window=("kaiser", beta))``
    (to 1e-16), without importing ``scipy.signal`` (about 0.4 s at start-up).

    Parameters
    ----------
    numtaps : int
        Filter length.
    cutoff : float
        Cut-off as a fraction of Nyquist (0..1).
    beta : float
        Kaiser window shape.
    """
    m = np.arange(numtaps) - 0.5 * (numtaps - 1)
    h = cutoff * np.sinc(cutoff * m) * np.kaiser(numtaps, beta)
    return h / h.sum()


__all__ = [
    "IDENTITY_SOS", "SosFilter", "butterworth_sections", "kaiser_lowpass", "peaking_section",
    "shelf_section",
]
