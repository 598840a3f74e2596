"""The mixer page (owner only): a channel strip per track and bus and the master, every
change one undoable edit of song.toml, and a render that meters every strip.

Each change the page sends (a JSON object) is read by :func:`mixdown.services.mixer.
mixer_change` and applied with :func:`mixdown.server.edit_routes.edit_song` (comments kept,
checked first, atomic; 409 stale, 422 the checker's message). The render is
:func:`mixdown.services.mixer_meters.render_meters` on the studio's render queue, watched
over the same server-sent events as a version render.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse

from mixdown.core.errors import MixdownError
from mixdown.server.edit_routes import base_of, edit_body, edit_song, song_path
from mixdown.server.routes import require
from mixdown.server.security import HTTPRefusal
from mixdown.services import mixer, mixer_meters
from mixdown.services.history import history

router = APIRouter()


@router.get("/songs/{song}/mixer", response_class=HTMLResponse)
def mixer_page(request: Request, song: str) -> HTMLResponse:
    who = require(request, "edit", song)
    folder = song_path(request, song)
    state = mixer.mixer_state(folder)
    return request.app.state.templates.TemplateResponse(request, "mixer.html", {
        "visitor": who, "csrf": request.state.csrf, "song": song, "state": state,
        "revision": state["revision"], "history": history(folder)})


@router.get("/api/songs/{song}/mixer")
def mixer_json(request: Request, song: str) -> JSONResponse:
    require(request, "edit", song)
    return JSONResponse(mixer.mixer_state(song_path(request, song)))


@router.post("/songs/{song}/mixer/change")
async def mixer_change(request: Request, song: str) -> JSONResponse:
    require(request, "edit", song)
    body = await edit_body(request)
    base = base_of(request, body)
    change, label = mixer.mixer_change(body)
    return edit_song(request, song, change, label=label, base=base)


@router.post("/songs/{song}/mixer/render")
async def mixer_render(request: Request, song: str) -> JSONResponse:
    require(request, "render", song)
    folder = song_path(request, song)
    section = (await edit_body(request)).get("section") or None
    if section is not None and not isinstance(section, str):
        raise HTTPRefusal("section must be a marker's name", 422)

    def work(progress: Any) -> dict[str, Any]:
        report = mixer_meters.render_meters(folder, section=section, progress=progress)
        return {"revision": report.revision, "meters": report.as_dict(),
                "audio": f"/songs/{quote(song)}/mixer/preview/{report.name}.wav"}

    job = request.app.state.jobs.start(song, work)
    return JSONResponse({"job": job.id, "events": f"/jobs/{job.id}/events"}, status_code=202)


@router.get("/songs/{song}/mixer/preview/{name}")
def mixer_preview(request: Request, song: str, name: str) -> FileResponse:
    require(request, "edit", song)
    folder = song_path(request, song)
    try:
        if not name.endswith(".wav"):
            raise MixdownError(name)
        path = mixer_meters.preview_path(folder, name.removesuffix(".wav"))
    except MixdownError:
        raise HTTPRefusal(f"no preview {name!r}", 404) from None
    if not path.is_file():
        raise HTTPRefusal("no preview of that revision (render it first)", 404)
    return FileResponse(path, media_type="audio/wav")
