"""The studio's edit endpoints: undo, redo, history, and :func:`edit_song`, through which
every view (mixer, arrangement, recording) changes a song.

Each edit is :func:`mixdown.services.history.apply_edit`: the song.toml saver (comments
kept), the checker (an invalid change is a 422 with its message, the file unchanged) and
one undoable step. The page sends the revision it last loaded (the ``X-Song-Revision``
header, or ``base`` in the JSON body); a stale one is a 409, and the page reloads.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from mixdown.server.routes import require
from mixdown.server.security import HTTPRefusal
from mixdown.services import review
from mixdown.services.history import EditResult, apply_edit, history, redo, undo

router = APIRouter()

REVISION_HEADER = "x-song-revision"
MAX_EDIT_BODY = 1_000_000
"""An edit request's JSON body larger than this (bytes) is refused (413)."""


def song_path(request: Request, song: str) -> Any:
    """The project folder of ``song`` in this studio (404 for an unknown name)."""
    return review.song_project(request.app.state.studio.get(), song)


async def edit_body(request: Request) -> dict[str, Any]:
    """The JSON object an edit request sends (400 if it is not one, 413 if too large)."""
    raw = await request.body()
    if len(raw) > MAX_EDIT_BODY:
        raise HTTPRefusal(f"an edit of {len(raw)} bytes is too large", 413)
    if not raw:
        return {}
    import json

    try:
        data = json.loads(raw)
    except ValueError:
        raise HTTPRefusal("the edit is not JSON", 400) from None
    if not isinstance(data, dict):
        raise HTTPRefusal("the edit must be a JSON object", 400)
    return data


def base_of(request: Request, body: dict[str, Any] | None = None) -> str:
    """The revision the page last loaded (required: an edit without one is a 428)."""
    base = request.headers.get(REVISION_HEADER) or (body or {}).get("base")
    if not isinstance(base, str) or not base:
        raise HTTPRefusal("send the revision this page loaded (the X-Song-Revision header)",
                          428)
    return base


def result_json(result: EditResult) -> dict[str, Any]:
    """What a page needs after a change: the new revision and what undo/redo can do."""
    h = result.history
    return {"revision": result.revision, "label": result.label, "changed": result.changed,
            "position": result.position,
            "can_undo": bool(h and h.can_undo), "can_redo": bool(h and h.can_redo),
            "undo_label": h.steps[h.position - 1].label if h and h.can_undo else None,
            "redo_label": h.steps[h.position].label if h and h.can_redo else None}


def edit_song(request: Request, song: str, change: Callable[[Any], Any], *,
              label: str, base: str) -> JSONResponse:
    """Apply ``change`` (a Project -> Project function) to ``song`` as one undoable step;
    the JSON of :func:`result_json`.

    Only the owner may edit (403 otherwise); a stale ``base`` is 409; a change the checker
    refuses is 422 with its one-line message; nothing is written in either case.
    """
    who = require(request, "edit", song)
    result = apply_edit(song_path(request, song), change, base=base, label=label,
                        author=who.name or who.role)
    return JSONResponse(result_json(result))


@router.post("/songs/{song}/undo")
async def undo_route(request: Request, song: str) -> JSONResponse:
    require(request, "edit", song)
    body = await edit_body(request)
    return JSONResponse(result_json(undo(song_path(request, song), base=base_of(request, body))))


@router.post("/songs/{song}/redo")
async def redo_route(request: Request, song: str) -> JSONResponse:
    require(request, "edit", song)
    body = await edit_body(request)
    return JSONResponse(result_json(redo(song_path(request, song), base=base_of(request, body))))


@router.get("/api/songs/{song}/history")
def history_json(request: Request, song: str) -> JSONResponse:
    require(request, "edit", song)
    h = history(song_path(request, song))
    return JSONResponse({
        "revision": h.revision, "position": h.position,
        "can_undo": h.can_undo, "can_redo": h.can_redo,
        "steps": [{"label": s.label, "kind": s.kind, "author": s.author, "time": s.time}
                  for s in h.steps]})
