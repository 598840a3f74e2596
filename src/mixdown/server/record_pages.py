"""The record panel (owner only): record a take from the browser's microphone into an audio
track at a chosen bar, with a count-in and a click while the newest version plays, and
calibrate the input latency with a loopback. Every route calls :mod:`mixdown.services.record`
(errors are the service's own, with their HTTP status); no route builds a path from a URL.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from mixdown.server.routes import _page, _studio, require
from mixdown.server.security import HTTPRefusal

router = APIRouter()


def _record() -> Any:
    import mixdown.services.record.studio as record

    return record


async def _body(request: Request, limit: int, what: str) -> bytes:
    """The request body, refused with 413 past ``limit`` bytes (read no further)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise HTTPRefusal(f"{what}: {int(declared)} bytes is over the {limit}-byte limit", 413)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPRefusal(f"{what}: over the {limit}-byte limit", 413)
        chunks.append(chunk)
    return b"".join(chunks)


def _int(value: str, name: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise HTTPRefusal(f"{name} must be a whole number, got {value[:40]!r}", 422) from None


def _float(value: str, name: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise HTTPRefusal(f"{name} must be a number, got {value[:40]!r}", 422) from None


@router.get("/songs/{song}/record", response_class=HTMLResponse)
def record_page(request: Request, song: str) -> HTMLResponse:
    who = require(request, "upload", song)
    info = _record().record_page(_studio(request), song, who.name)
    return _page(request, "record.html", who, song=song, **info)


@router.get("/songs/{song}/record/plan")
def record_plan(request: Request, song: str, track: str = "", bar: str = "1",
                count_in: str = "1", bars: str = "4", device: str = "") -> JSONResponse:
    who = require(request, "upload", song)
    plan = _record().studio_record_plan(
        _studio(request), song, track, _int(bar, "bar"), count_in_bars=_int(count_in,
                                                                           "count_in"),
        bars=_int(bars, "bars"), user=who.name, device=device)
    return JSONResponse(plan)


@router.post("/songs/{song}/record")
async def record_take(request: Request, song: str, track: str = "", bar: str = "1",
                      pre_roll_s: str = "0", device: str = "", base: str = ""
                      ) -> JSONResponse:
    import anyio.to_thread

    from mixdown.server.edit_routes import base_of

    who = await anyio.to_thread.run_sync(require, request, "upload", song)
    studio = await anyio.to_thread.run_sync(_studio, request)
    record = _record()
    bar_n, pre_roll = _int(bar, "bar"), _float(pre_roll_s, "pre_roll_s")
    # the song, track and bar are checked before the upload is read
    await anyio.to_thread.run_sync(
        lambda: record.studio_record_plan(studio, song, track, bar_n, count_in_bars=0,
                                          bars=1, user=who.name, device=device))
    revision = base_of(request, {"base": base})  # the page's revision: 428 without one
    limit = request.app.state.config.max_upload_bytes
    data = await _body(request, limit, "the recording")
    took = await anyio.to_thread.run_sync(
        lambda: record.studio_record_take(studio, song, track, bar_n, data,
                                          pre_roll_s=pre_roll, user=who.name, device=device,
                                          max_bytes=limit, base=revision))
    return JSONResponse(took.as_dict(), status_code=201)


@router.get("/record/probe.wav")
def probe(request: Request, rate: str = "48000") -> Response:
    require(request, "upload")
    return Response(_record().probe_wav(_int(rate, "rate")), media_type="audio/wav",
                    headers={"Cache-Control": "no-store"})


@router.post("/record/calibrate")
async def calibrate(request: Request, device: str = "") -> JSONResponse:
    import anyio.to_thread

    who = await anyio.to_thread.run_sync(require, request, "upload")
    studio = await anyio.to_thread.run_sync(_studio, request)
    record = _record()
    data = await _body(request, record.MAX_CALIBRATION_BYTES, "the calibration recording")
    measured, stored = await anyio.to_thread.run_sync(
        lambda: record.calibrate(studio, data, user=who.name, device=device))
    return JSONResponse({**measured.as_dict(), **stored.as_dict()}, status_code=201)


@router.get("/songs/{song}/comp", response_class=HTMLResponse)
def comp_page(request: Request, song: str, track: str = "") -> HTMLResponse:
    """The comp panel: one lane per take of ``track`` over the bar ruler, the comp on top."""
    from mixdown.services.history import current_revision, history
    from mixdown.services.record.comp import comp_state

    who = require(request, "edit", song)
    folder = _record().song_project(_studio(request), song)
    state = comp_state(folder, track)
    return _page(request, "comp.html", who, song=song, state=state,
                 revision=current_revision(folder), history=history(folder))


@router.post("/songs/{song}/record/comp")
async def save_comp(request: Request, song: str) -> JSONResponse:
    """Set a track's comp: JSON ``{track, ranges: [{start, end, take}], crossfade_s}``, one
    undoable step (422 with the checker's message for a bad comp, nothing written)."""
    from mixdown.server.edit_routes import base_of, edit_body, edit_song
    from mixdown.services.record.comp import set_comp

    body = await edit_body(request)
    track, ranges, xf = body.get("track"), body.get("ranges"), body.get("crossfade_s")
    if not isinstance(track, str) or not isinstance(ranges, list) or not all(
            isinstance(r, dict) for r in ranges):
        raise HTTPRefusal("send {track, ranges: [{start, end, take}], crossfade_s}", 422)
    if xf is not None and (isinstance(xf, bool) or not isinstance(xf, int | float)):
        raise HTTPRefusal(f"crossfade_s must be a number of seconds, got {xf!r}"[:120], 422)
    spans = [(r.get("start"), r.get("end"), r.get("take")) for r in ranges]
    return edit_song(request, song, lambda p: set_comp(p, track, spans, xf),
                     label=f"comp {track}", base=base_of(request, body))
