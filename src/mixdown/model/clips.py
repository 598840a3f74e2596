"""Reusable clips: a note clip or drum pattern defined once (``[clips.bassline]``) and placed
on tracks many times (``{ use = "bassline", start = "9:1" }``).

A placement plays its definition's content with its own ``start``; what else it sets
replaces the definition's value, except ``transpose`` and ``transpose_degrees``, which add to
it. Its length (``length`` or ``bars``) defaults to the definition's. With ``loop = true`` the
definition (cut at its own length) repeats to fill the placement, as an audio clip's file
does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mixdown.core.time import MeterMap
from mixdown.model.clip_edit import EDIT_KEYS
from mixdown.model.notes import clip_length_beats
from mixdown.model.project import Clip

PLACEMENT_ONLY = ("use", "start", "loop", "file", "offset_s", "gain_db", "fade_in_s",
                  "fade_out_s", *EDIT_KEYS)
"""Keys a definition cannot have: where it plays is said by its placements, and a definition
is notes, a pattern, chords or a MIDI file, not audio."""

_ADDED = ("transpose", "transpose_degrees")


def placed_clip(clip: Clip, definitions: Mapping[str, Clip]) -> Clip:
    """The clip a placement plays: ``clip`` itself if it has no ``use``, else its definition's
    content with the placement's keys (``transpose`` and ``transpose_degrees`` added).

    Raises
    ------
    KeyError
        ``clip.use`` names no definition (resolve reports it first, with the known names).
    """
    if clip.use is None:
        return clip
    definition = definitions[clip.use]
    data: dict[str, Any] = {k: getattr(definition, k) for k in definition.model_fields_set}
    own = clip.model_fields_set - {"use"}
    if own & {"length", "bars"}:
        data.pop("length", None)
        data.pop("bars", None)
    for k in own:
        data[k] = getattr(clip, k)
    for k in _ADDED:
        data[k] = getattr(definition, k) + getattr(clip, k)
    fields = set(data) | {"use"}
    data["use"] = clip.use
    return Clip.model_construct(_fields_set=fields, **data)


def loop_period_beats(clip: Clip, definitions: Mapping[str, Clip], meter: MeterMap,
                      start_b: float) -> float | None:
    """For a looped placement, its definition's length in beats (None when the placement
    does not loop or its definition has no length)."""
    if clip.use is None or not clip.loop or clip.use not in definitions:
        return None
    return clip_length_beats(definitions[clip.use], meter, start_b)


__all__ = ["PLACEMENT_ONLY", "loop_period_beats", "placed_clip"]
