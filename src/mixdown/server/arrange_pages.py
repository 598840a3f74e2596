"""The arrangement view: a song's tracks, clips and automation on a bar:beat timeline.

``GET /songs/{song}/arrange`` is the page; ``GET /api/songs/{song}/arrangement`` the state it
draws (:func:`mixdown.services.arrangement.arrangement_state`); ``GET
/api/songs/{song}/arrangement/peaks?file=...`` an audio clip's waveform. Each change is
``POST /songs/{song}/arrange/{op}`` with a JSON body, applied by
:func:`mixdown.server.edit_routes.edit_song` (owner only, one undoable step, stale = 409,
refused = 422 with the message). Everything else is :mod:`mixdown.services.arrangement`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse

from mixdown.server.edit_routes import base_of, edit_body, edit_song, song_path
from mixdown.server.routes import _page, require
from mixdown.server.security import HTTPRefusal
from mixdown.services import arrangement as arr
from mixdown.services import review
from mixdown.services.history import current_revision, history

router = APIRouter()


def _latest_audio(request: Request, song: str) -> str | None:
    versions = review.list_versions(request.app.state.studio.get(), song)
    if not versions:
        return None
    return f"/songs/{quote(song)}/versions/{versions[-1].number}/audio"


@router.get("/songs/{song}/arrange", response_class=HTMLResponse)
def arrange_page(request: Request, song: str) -> HTMLResponse:
    who = require(request, "edit", song)
    folder = song_path(request, song)
    summary = review.song_summary(request.app.state.studio.get(), song)
    return _page(request, "arrange.html", who, song=summary, revision=current_revision(folder),
                 history=history(folder), audio=_latest_audio(request, song))


@router.get("/api/songs/{song}/arrangement")
def arrangement_json(request: Request, song: str) -> JSONResponse:
    require(request, "edit", song)
    state = arr.arrangement_state(song_path(request, song))
    state["audio"] = _latest_audio(request, song)
    return JSONResponse(state)


@router.get("/api/songs/{song}/arrangement/peaks")
def clip_peaks_json(request: Request, song: str, file: str) -> JSONResponse:
    require(request, "edit", song)
    pk = arr.project_clip_peaks(song_path(request, song), file)
    return JSONResponse({"points_per_second": pk.points_per_second,
                         "duration_s": pk.duration_s,
                         "min": [round(float(x), 3) for x in pk.min],
                         "max": [round(float(x), 3) for x in pk.max]})


# -- edits ------------------------------------------------------------------------------------


def _str(body: dict[str, Any], key: str) -> str:
    v = body.get(key)
    if not isinstance(v, str) or not v:
        raise HTTPRefusal(f"send {key} (a name)", 400)
    return v


def _int(body: dict[str, Any], key: str) -> int:
    v = body.get(key)
    if isinstance(v, bool) or not isinstance(v, int):
        raise HTTPRefusal(f"send {key} (a whole number)", 400)
    return v


def _num(body: dict[str, Any], key: str, default: float | None = None) -> float | None:
    v = body.get(key, default)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        raise HTTPRefusal(f"{key} must be a number, got {v!r}", 400)
    return float(v)


def _pos(body: dict[str, Any], key: str) -> Any:
    v = body.get(key)
    if v is None or isinstance(v, bool) or not isinstance(v, str | int | float):
        raise HTTPRefusal(f"send {key} (a position: 'bar:beat' or beats)", 400)
    return v


def _opt_pos(body: dict[str, Any], key: str) -> Any:
    return None if body.get(key) is None else _pos(body, key)


def _shape(body: dict[str, Any], key: str) -> str | None:
    v = body.get(key)
    if v is not None and not isinstance(v, str):
        raise HTTPRefusal(f"{key} must be a shape name", 400)
    return v


def _change(op: str, b: dict[str, Any]) -> tuple[Callable[[Any], Any], str]:
    """The Project -> Project change of an edit request, and its label for the history."""
    if op.startswith("point-"):
        target, param = _str(b, "target"), _str(b, "param")
        if op == "point-add":
            at, value = _pos(b, "at"), _num(b, "value")
            if value is None:
                raise HTTPRefusal("send value (a number)", 400)
            curve = _num(b, "curve", 0.0) or 0.0
            where = f"{at:g} beats in" if isinstance(at, int | float) else str(at)
            return (lambda p: arr.add_point(p, target, param, at, value, curve),
                    f"{target} {param}: point at {where}")
        i = _int(b, "index")
        if op == "point-move":
            at, value, curve = _opt_pos(b, "at"), _num(b, "value"), _num(b, "curve")
            return (lambda p: arr.move_point(p, target, param, i, at=at, value=value,
                                             curve=curve),
                    f"{target} {param}: move point {i}")
        if op == "point-delete":
            return (lambda p: arr.delete_point(p, target, param, i),
                    f"{target} {param}: delete point {i}")
        raise HTTPRefusal(f"no arrangement edit {op!r}", 404)
    track, i = _str(b, "track"), _int(b, "clip")
    what = f"{track} clip {i}"
    if op == "move":
        to, by = _opt_pos(b, "to"), _num(b, "by_beats")
        to_track = b.get("to_track")
        if to_track is not None and not isinstance(to_track, str):
            raise HTTPRefusal("to_track must be a track name", 400)
        where = f" to {to}" if to is not None else f" by {by:g} beats" if by else ""
        return (lambda p: arr.move_clip(p, track, i, to=to, by_beats=by, to_track=to_track),
                f"move {what}{where}{f' on {to_track}' if to_track else ''}")
    if op == "trim":
        start, end = _opt_pos(b, "start"), _opt_pos(b, "end")
        return (lambda p: arr.trim_clip(p, track, i, start=start, end=end), f"trim {what}")
    if op == "split":
        at = _pos(b, "at")
        return lambda p: arr.split_clip(p, track, i, at), f"split {what} at {at}"
    if op == "duplicate":
        return lambda p: arr.duplicate_clip(p, track, i), f"duplicate {what}"
    if op == "delete":
        return lambda p: arr.delete_clip(p, track, i), f"delete {what}"
    if op == "gain":
        gain = _num(b, "gain_db")
        if gain is None:
            raise HTTPRefusal("send gain_db (a number)", 400)
        return lambda p: arr.set_clip_gain(p, track, i, gain), f"{what} gain {gain:+.1f} dB"
    if op == "fades":
        fi, fo = _num(b, "fade_in_s"), _num(b, "fade_out_s")
        si, so = _shape(b, "fade_in_shape"), _shape(b, "fade_out_shape")
        return (lambda p: arr.set_fades(p, track, i, fade_in_s=fi, fade_out_s=fo,
                                        fade_in_shape=si, fade_out_shape=so),
                f"{what} fades")
    raise HTTPRefusal(f"no arrangement edit {op!r}", 404)


@router.post("/songs/{song}/arrange/{op}")
async def arrange_edit(request: Request, song: str, op: str) -> JSONResponse:
    require(request, "edit", song)
    body = await edit_body(request)
    change, label = _change(op, body)
    return edit_song(request, song, change, label=label, base=base_of(request, body))
