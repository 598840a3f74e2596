"""Audio clip editing keys: fade shapes, crossfades, time-stretch, pitch shift, warp, reverse
and normalise (the fields live on :class:`mixdown.model.project.Clip`)."""

from __future__ import annotations

from typing import Any, Literal

FadeShape = Literal["linear", "equal_power", "s_curve"]
"""How a fade's gain goes from 0 to 1 over its length (position ``x`` in 0..1): ``linear``
is ``x``, ``equal_power`` is ``sin(x * pi / 2)``, ``s_curve`` is ``(1 - cos(x * pi)) / 2``."""

FADE_SHAPES: tuple[str, ...] = ("linear", "equal_power", "s_curve")

EDIT_KEYS = ("fade_in_shape", "fade_out_shape", "crossfade_s", "crossfade_shape", "stretch",
             "pitch_semitones", "preserve_formants", "source_bpm", "reverse", "normalize_db")
"""The audio clip editing keys (audio clips only)."""


STRETCH_RANGE = (0.25, 4.0)
"""The length factors Rubber Band is asked for."""


def check_stretch(value: Any) -> Any:
    """A clip's ``stretch``: None, ``"fit"`` or a length factor in :data:`STRETCH_RANGE`."""
    if value is None or value == "fit":
        return value
    lo, hi = STRETCH_RANGE
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not lo <= value <= hi:
            raise ValueError(f"must be {lo:g} .. {hi:g} or \"fit\", got {value:g}")
        return float(value)
    raise ValueError(f"must be a number {lo:g} .. {hi:g} or \"fit\", got {value!r}")
