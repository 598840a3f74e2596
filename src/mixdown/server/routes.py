"""Every route of the studio. Each one asks :func:`require` who is asking and whether they
may, then calls :mod:`mixdown.services.review`; errors are the service's own
(``MixdownError`` with an ``http_status``), turned into responses in :mod:`.app`.

Names in URLs (songs, version numbers, ids) are handed to the service, which refuses
anything but a known name (404, nothing read): no route builds a path from a URL.
"""

from __future__ import annotations

import math
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)

from mixdown.core.targets import TargetTable
from mixdown.server import security
from mixdown.server.security import HTTPRefusal, Visitor
from mixdown.server.state import (
    PREVIEW_PLATFORMS,
    bar_grid,
    review,
    waveform_points_per_second,
)

router = APIRouter()

#: What only the owner may do, whatever a share link's role says.
OWNER_ONLY = frozenset({"render", "upload", "share", "files", "edit"})


def register(app: FastAPI) -> None:
    """Add the studio's routes to ``app``."""
    from mixdown.server.edit_routes import router as edit_router
    from mixdown.server.ledger_pages import router as ledger_router

    app.include_router(router)
    app.include_router(ledger_router)
    app.include_router(edit_router)


# -- who is asking -------------------------------------------------------------------------


def _studio(request: Request) -> Any:
    return request.app.state.studio.get()


def visitor(request: Request) -> Visitor:
    """Who made ``request``.

    Raises
    ------
    HTTPRefusal
        401 when the studio has a secret and the request carries neither the owner's
        cookie nor a review token.
    Forbidden
        403 for a wrong or revoked review token (from the review service).
    """
    config = request.app.state.config
    if config.secret is not None and security.owner_cookie_valid(
            config.secret, request.cookies.get(security.OWNER_COOKIE)):
        return Visitor("owner")
    token = _bearer(request) or request.cookies.get(security.REVIEW_COOKIE)
    if token:
        grant = review.check_token(_studio(request), token)
        return Visitor(grant.role, song=grant.song, token=token, name=grant.role)
    if config.secret is None:
        return Visitor("owner")
    raise HTTPRefusal("sign in first: this studio needs the owner's secret or a review link "
                      "(go to /login)", 401)


def require(request: Request, action: str, song: str | None = None) -> Visitor:
    """The visitor, if they may do ``action`` (on ``song``); else 403."""
    who = visitor(request)
    if who.is_owner:
        return who
    if action in OWNER_ONLY:
        raise HTTPRefusal(f"a {who.role} may not {_action_words(action)}; only the producer "
                          "can", 403)
    if song is not None and song != who.song:
        raise HTTPRefusal("this review link is for another song", 403)
    if action not in review.ROLES.get(who.role, frozenset()):
        raise HTTPRefusal(f"a {who.role} may not {_action_words(action)}", 403)
    return who


def _action_words(action: str) -> str:
    return {"render": "render a version", "upload": "upload files",
            "share": "manage review links", "files": "open the project's files",
            "status": "set a status", "edit": "edit the song"}.get(action, action)


def _bearer(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip() or None
    return None


def _page(request: Request, name: str, who: Visitor | None, **context: Any) -> HTMLResponse:
    templates = request.app.state.templates
    return templates.TemplateResponse(request, name, {
        "visitor": who, "csrf": request.state.csrf, **context})


def _refresh() -> Response:
    """An htmx answer that reloads the page (after a change)."""
    return Response(status_code=204, headers={"HX-Refresh": "true"})


# -- sign in, review links -----------------------------------------------------------------


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request) -> HTMLResponse:
    return _page(request, "login.html", None)


@router.post("/login")
def login(request: Request, secret: Annotated[str, Form()] = "") -> Response:
    config = request.app.state.config
    if config.secret is None:
        response: Response = Response(status_code=204, headers={"HX-Redirect": "/"})
        return response
    if not security.secret_matches(config.secret, secret):
        raise HTTPRefusal("wrong secret", 403)
    response = Response(status_code=204, headers={"HX-Redirect": "/"})
    response.set_cookie(security.OWNER_COOKIE, security.sign_owner(config.secret),
                        max_age=security.OWNER_SESSION_S, httponly=True, samesite="strict",
                        secure=config.scheme == "https", path="/")
    response.delete_cookie(security.REVIEW_COOKIE, path="/")
    return response


@router.post("/logout")
def logout() -> Response:
    response = Response(status_code=204, headers={"HX-Redirect": "/login"})
    response.delete_cookie(security.OWNER_COOKIE, path="/")
    response.delete_cookie(security.REVIEW_COOKIE, path="/")
    return response


@router.get("/r/{token}")
def open_review_link(request: Request, token: str) -> Response:
    grant = review.check_token(_studio(request), token)
    response = RedirectResponse(f"/songs/{quote(grant.song)}", status_code=303)
    config = request.app.state.config
    response.set_cookie(security.REVIEW_COOKIE, token, httponly=True, samesite="lax",
                        secure=config.scheme == "https", path="/")
    return response


# -- songs ---------------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
def songs_page(request: Request) -> Response:
    who = visitor(request)
    if not who.is_owner:
        return RedirectResponse(f"/songs/{quote(who.song or '')}", status_code=303)
    songs = review.list_songs(_studio(request))
    from mixdown.server.ledger_pages import ledger_links

    return _page(request, "songs.html", who, songs=songs, ledger=ledger_links(request))


@router.get("/api/songs")
def songs_json(request: Request) -> JSONResponse:
    require(request, "files")
    return JSONResponse([s.as_dict() for s in review.list_songs(_studio(request))])


@router.get("/songs/{song}", response_class=HTMLResponse)
def song_page(request: Request, song: str) -> HTMLResponse:
    who = require(request, "listen", song)
    studio = _studio(request)
    summary = review.song_summary(studio, song)
    versions = review.list_versions(studio, song)
    references = review.list_references(studio, song)
    links = review.list_share_links(studio, song) if who.is_owner else []
    return _page(request, "song.html", who, song=summary, versions=versions[::-1],
                 references=references, links=links, statuses=review.STATUS_LABELS)


@router.get("/api/songs/{song}/versions")
def versions_json(request: Request, song: str) -> JSONResponse:
    require(request, "listen", song)
    return JSONResponse([v.as_dict() for v in review.list_versions(_studio(request), song)])


# -- rendering -----------------------------------------------------------------------------


@router.post("/songs/{song}/render", response_class=HTMLResponse)
def start_render(request: Request, song: str, note: Annotated[str, Form()] = "") -> Response:
    require(request, "render", song)
    studio = _studio(request)
    review.song_summary(studio, song)  # 404 before queueing

    def work(progress: Any) -> dict[str, Any]:
        version = review.render_version(studio, song, note, author="owner", progress=progress)
        return {"number": version.number,
                "url": f"/songs/{quote(song)}/versions/{version.number}"}

    job = request.app.state.jobs.start(song, work)
    return _page(request, "job.html", None, job=job)


@router.get("/jobs/{job_id}/events")
def job_events(request: Request, job_id: str) -> StreamingResponse:
    require(request, "render")
    job = request.app.state.jobs.get(int(job_id)) if job_id.isdigit() else None
    if job is None:
        raise HTTPRefusal(f"no render job {job_id!r}", 404)
    return StreamingResponse(request.app.state.jobs.events(job), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


# -- versions ------------------------------------------------------------------------------


def _version_data(request: Request, version: Any, comments: list[Any]) -> dict[str, Any]:
    """What the player script needs, as JSON in the page."""
    studio = _studio(request)
    song = quote(version.song)
    peaks = review.peaks(studio, version, waveform_points_per_second(version))
    curve = review.loudness_curve(studio, version).as_dict()
    bars = bar_grid(studio, version)
    found = review.sections(studio, version)
    sections = []
    for i, s in enumerate(found):
        end = found[i + 1].seconds if i + 1 < len(found) else version.duration_s
        if end > s.seconds:
            sections.append({"name": s.name, "bar": s.bar, "beat": s.beat,
                             "start_s": s.seconds, "end_s": end})
    return {
        "song": version.song, "number": version.number,
        "audio_url": f"/songs/{song}/versions/{version.number}/audio",
        "duration_s": version.duration_s,
        "peaks": {"min": [round(float(x), 3) for x in peaks.min],
                  "max": [round(float(x), 3) for x in peaks.max]},
        "loudness": {"hop_s": curve["hop_s"], "start_s": curve["t0_s"],
                     "lufs": curve["lufs"]},
        "bars": bars, "sections": sections,
        "comments": [{"id": c.id, "bar": c.bar, "beat": c.beat, "seconds": c.seconds,
                      "text": c.text, "author": c.author, "resolved": c.resolved}
                     for c in comments if c.parent_id is None],
    }


def _threads(comments: list[Any]) -> list[tuple[Any, list[Any]]]:
    replies: dict[int, list[Any]] = {}
    for c in comments:
        if c.parent_id is not None:
            replies.setdefault(c.parent_id, []).append(c)
    return [(c, replies.get(c.id, [])) for c in comments if c.parent_id is None]


@router.get("/songs/{song}/versions/{number}", response_class=HTMLResponse)
def version_page(request: Request, song: str, number: str) -> HTMLResponse:
    who = require(request, "listen", song)
    studio = _studio(request)
    version = review.get_version(studio, song, number)
    versions = review.list_versions(studio, song)
    comments = review.list_comments(studio, version)
    table = TargetTable()
    previews = []
    for name in PREVIEW_PLATFORMS:
        p = review.platform_preview_gain(version, name)
        previews.append({"name": name, "note": table.get(name).note, **p.as_dict()})
    return _page(request, "version.html", who, version=version, versions=versions,
                 threads=_threads(comments), data=_version_data(request, version, comments),
                 previews=previews, references=review.list_references(studio, song),
                 history=review.status_history(studio, version),
                 statuses=review.STATUS_LABELS)


@router.get("/songs/{song}/versions/{number}/audio")
def version_audio(request: Request, song: str, number: str) -> FileResponse:
    require(request, "listen", song)
    studio = _studio(request)
    path = review.version_audio_path(studio, review.get_version(studio, song, number))
    return FileResponse(path, media_type=_audio_type(path.suffix),
                        headers={"Cache-Control": "private, max-age=31536000, immutable"})


@router.get("/songs/{song}/versions/{number}/peaks.json")
def version_peaks(request: Request, song: str, number: str) -> JSONResponse:
    require(request, "listen", song)
    studio = _studio(request)
    version = review.get_version(studio, song, number)
    return JSONResponse(review.peaks(studio, version).as_dict())


@router.get("/songs/{song}/versions/{number}/loudness.json")
def version_loudness(request: Request, song: str, number: str) -> JSONResponse:
    require(request, "listen", song)
    studio = _studio(request)
    version = review.get_version(studio, song, number)
    return JSONResponse(review.loudness_curve(studio, version).as_dict())


@router.get("/songs/{song}/versions/{number}/qc.json")
def version_qc(request: Request, song: str, number: str) -> JSONResponse:
    require(request, "files", song)
    studio = _studio(request)
    return JSONResponse(review.version_qc(studio, review.get_version(studio, song, number)))


@router.post("/songs/{song}/versions/{number}/comments")
def post_comment(request: Request, song: str, number: str,
                 bar: Annotated[str, Form()], beat: Annotated[str, Form()],
                 text: Annotated[str, Form()], parent: Annotated[str, Form()] = ""
                 ) -> Response:
    who = require(request, "comment", song)
    studio = _studio(request)
    version = review.get_version(studio, song, number)
    review.add_comment(studio, version, bar=_whole(bar, "bar"), beat=_number(beat, "beat"),
                       text=text, author=who.name,
                       parent_id=_whole(parent, "parent") if parent else None)
    return _refresh()


@router.post("/songs/{song}/comments/{comment_id}/resolve")
def resolve_comment(request: Request, song: str, comment_id: str,
                    reopen: Annotated[str, Form()] = "") -> Response:
    who = require(request, "comment", song)
    if not comment_id.isdigit():
        raise HTTPRefusal(f"no comment {comment_id!r}", 404)
    review.resolve_comment(_studio(request), song, int(comment_id), by=who.name,
                           resolved=not reopen)
    return _refresh()


@router.post("/songs/{song}/versions/{number}/status")
def post_status(request: Request, song: str, number: str,
                status: Annotated[str, Form()]) -> Response:
    who = require(request, "status", song)
    studio = _studio(request)
    review.set_status(studio, review.get_version(studio, song, number), status, by=who.name)
    return _refresh()


# -- compare -------------------------------------------------------------------------------


@router.get("/songs/{song}/compare", response_class=HTMLResponse)
def compare_page(request: Request, song: str, a: str = "", b: str = "") -> HTMLResponse:
    who = require(request, "compare", song)
    studio = _studio(request)
    first = review.get_version(studio, song, a)
    if b.startswith("ref"):
        other: Any = review.get_reference(studio, song, b.removeprefix("ref").lstrip(":-"))
        other_url = f"/songs/{quote(song)}/references/{other.id}/audio"
    else:
        other = review.get_version(studio, song, b)
        other_url = f"/songs/{quote(song)}/versions/{other.number}/audio"
    result = review.compare(studio, first, other)
    sides = [{"label": result.a.label, "gain_db": result.a.gain_db,
              "lufs": result.a.integrated_lufs,
              "url": f"/songs/{quote(song)}/versions/{first.number}/audio"},
             {"label": result.b.label, "gain_db": result.b.gain_db,
              "lufs": result.b.integrated_lufs, "url": other_url}]
    return _page(request, "compare.html", who, song=song, a=first, b=other, result=result,
                 ab={"sides": sides}, versions=review.list_versions(studio, song),
                 references=review.list_references(studio, song))


# -- references ----------------------------------------------------------------------------


@router.post("/songs/{song}/references")
async def upload_reference(request: Request, song: str, name: str = "") -> JSONResponse:
    import anyio.to_thread

    await anyio.to_thread.run_sync(require, request, "upload", song)
    studio = await anyio.to_thread.run_sync(_studio, request)
    await anyio.to_thread.run_sync(review.list_references, studio, song)  # 404 first
    limit = request.app.state.config.max_upload_bytes
    shown = name or "upload"
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise HTTPRefusal(f"{shown}: {int(declared)} bytes is over the {limit}-byte limit "
                          "for a reference track", 413)
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPRefusal(f"{shown}: over the {limit}-byte limit for a reference track",
                              413)
        chunks.append(chunk)
    ref = await anyio.to_thread.run_sync(
        lambda: review.add_reference(studio, song, name, b"".join(chunks), max_bytes=limit))
    return JSONResponse(ref.as_dict(), status_code=201)


@router.get("/songs/{song}/references/{reference_id}/audio")
def reference_audio(request: Request, song: str, reference_id: str) -> FileResponse:
    require(request, "compare", song)
    studio = _studio(request)
    path = review.reference_audio_path(studio, review.get_reference(studio, song, reference_id))
    return FileResponse(path, media_type=_audio_type(path.suffix))


# -- review links --------------------------------------------------------------------------


@router.post("/songs/{song}/shares", response_class=HTMLResponse)
def create_share(request: Request, song: str, label: Annotated[str, Form()] = "",
                 role: Annotated[str, Form()] = "reviewer") -> HTMLResponse:
    require(request, "share", song)
    link = review.create_share_link(_studio(request), song, role, label=label)
    url = str(request.base_url) + f"r/{link.token}"
    return _page(request, "share_created.html", None, link=link, url=url)


@router.post("/songs/{song}/shares/{link_id}/revoke")
def revoke_share(request: Request, song: str, link_id: str) -> Response:
    require(request, "share", song)
    if not link_id.isdigit():
        raise HTTPRefusal(f"no review link {link_id!r}", 404)
    review.revoke_share_link(_studio(request), song, int(link_id))
    return _refresh()


# -- helpers -------------------------------------------------------------------------------


def _audio_type(suffix: str) -> str:
    return {".wav": "audio/wav", ".flac": "audio/flac", ".mp3": "audio/mpeg",
            ".ogg": "audio/ogg", ".aif": "audio/aiff", ".aiff": "audio/aiff"
            }.get(suffix.lower(), "application/octet-stream")


def _whole(text: str, what: str) -> int:
    t = text.strip()
    if not t.isdigit() or len(t) > 9:
        raise HTTPRefusal(f"{what} must be a whole number, got {text!r}", 422)
    return int(t)


def _number(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise HTTPRefusal(f"{what} must be a number, got {text!r}", 422) from None
    if not math.isfinite(value):
        raise HTTPRefusal(f"{what} must be a number, got {text!r}", 422)
    return value
