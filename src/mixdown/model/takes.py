"""Takes and comping: an audio track's takes of one passage (lanes) and the comp that picks
a take per range (the fields live on :class:`mixdown.model.project.Track`).

A take is a recorded file placed where it was recorded: the file, from ``offset_s`` on,
begins at ``start``. A comp range plays its take between ``start`` and ``end``; at every
switch between adjacent ranges the two takes crossfade over the track's
``comp_crossfade_s`` (equal power), starting at the boundary. Without a comp the last
take plays whole. Resolve turns takes and comp into audio clips (checked there: unknown
takes, overlapping ranges, ranges outside their take).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from mixdown.core.time import is_position


def _check_position(value: object) -> object:
    if isinstance(value, bool) or not is_position(value):
        raise ValueError(
            f"must be beats (16), 'bar:beat' ('5:1') or seconds ('12.5s'), got {value!r}")
    return float(value) if isinstance(value, int) else value


_Pos = Annotated[float | str, BeforeValidator(_check_position)]
"""A song position: beats, ``"bar:beat"`` or ``"<seconds>s"`` (as the project's)."""


class _Spec(BaseModel):
    # the project model's Spec settings (model.project imports this module, not the reverse)
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

COMP_CROSSFADE_RANGE = (0.0, 1.0)
"""Seconds a comp's crossfade may last."""


class Take(_Spec):
    """One recorded take: ``file`` (from ``offset_s`` seconds on) begins at ``start``."""

    name: str = Field(min_length=1)
    file: str = Field(min_length=1)
    start: _Pos = 0.0
    offset_s: float = Field(default=0.0, ge=0)
    gain_db: float = Field(default=0.0, ge=-96, le=48)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if v.strip() != v:
            raise ValueError(f"must not have surrounding spaces, got {v!r}")
        return v


class CompRange(_Spec):
    """A comp range: ``take`` plays from ``start`` to ``end`` (song positions)."""

    start: _Pos
    end: _Pos
    take: str = Field(min_length=1)


__all__ = ["COMP_CROSSFADE_RANGE", "CompRange", "Take"]
