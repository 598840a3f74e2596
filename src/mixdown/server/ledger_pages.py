"""The production ledger's pages in the studio (owner only): sessions calendar, people,
budget vs actual, credits and split sheets, releases and their checklist.

Every route calls :mod:`mixdown.services.ledger` on the studio's own database (the one
``mixdown serve`` opened: ``--database``, ``$MIXDOWN_DATABASE_URL``, else ``mixdown.db`` in
the songs folder). A refused change (a double booking, splits not totalling 100 %...) is the
ledger's one-line message with its status (409, 404, 422); to an htmx form it comes back as
a small HTML fragment the page shows, and nothing is written.
"""

from __future__ import annotations

import calendar
import html
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mixdown.core.errors import MixdownError
from mixdown.server.security import HTTPRefusal, Visitor
from mixdown.services import ledger

router = APIRouter(prefix="/ledger")


# -- who is asking, errors -----------------------------------------------------------------


def _owner(request: Request) -> Visitor:
    """The visitor if they are the owner; 403 for a reviewer or listener."""
    from mixdown.server.routes import visitor

    who = visitor(request)
    if not who.is_owner:
        raise HTTPRefusal(f"a {who.role} may not open the ledger; only the producer can", 403)
    return who


def _db(request: Request) -> Any:
    return request.app.state.studio.get().db


def _page(request: Request, name: str, who: Visitor, **context: Any) -> HTMLResponse:
    return request.app.state.templates.TemplateResponse(request, name, {
        "visitor": who, "csrf": request.state.csrf, "money": ledger.format_money,
        "share": ledger.share_text, **context})


def _failed(request: Request, exc: MixdownError) -> Response:
    """A refused change: an escaped one-line fragment for htmx forms, else re-raised (the
    app's handler answers JSON or an error page)."""
    if "hx-request" not in request.headers:
        raise exc
    line = (str(exc).splitlines() or ["error"])[0]
    status = int(getattr(exc, "http_status", 500))
    return HTMLResponse(f'<p class="message ledger-error" role="alert">{html.escape(line)}</p>',
                        status_code=status)


def _done(request: Request, status: int = 201) -> Response:
    """A change made: htmx reloads the page; an API caller gets an empty 201."""
    if "hx-request" in request.headers:
        return Response(status_code=204, headers={"HX-Refresh": "true"})
    return Response(status_code=status)


def _names(text: str) -> list[str]:
    """``"Ana, Ben"`` (commas or new lines) -> ``["Ana", "Ben"]``."""
    return [n.strip() for n in text.replace("\n", ",").split(",") if n.strip()]


def _local(value: datetime) -> datetime:
    """A naive UTC datetime from the ledger in local time."""
    return value.replace(tzinfo=UTC).astimezone()


def studio_song(song: Any, folder: Path) -> str | None:
    """The studio song a ledger song is linked to: its project folder directly under the
    songs folder (else None)."""
    if not song.project_path:
        return None
    path = Path(song.project_path)
    try:
        return path.name if path.parent == folder.resolve() else None
    except OSError:
        return None


def ledger_links(request: Request) -> dict[str, str]:
    """Studio song name -> the ledger song linked to its project (for the songs page)."""
    folder = request.app.state.config.folder
    out: dict[str, str] = {}
    for s in ledger.list_songs(_db(request)):
        name = studio_song(s, folder)
        if name is not None:
            out.setdefault(name, s.name)
    return out


# -- sessions ------------------------------------------------------------------------------


def _month(text: str) -> date:
    if not text:
        today = date.today()
        return today.replace(day=1)
    try:
        first = datetime.strptime(text, "%Y-%m").date()
    except ValueError:
        raise HTTPRefusal(f"month must be YYYY-MM, got {text!r}", 422) from None
    return first


@router.get("", include_in_schema=False)
def ledger_home(request: Request) -> Response:
    _owner(request)
    return RedirectResponse("/ledger/sessions", status_code=303)


@router.get("/sessions", response_class=HTMLResponse)
def sessions_page(request: Request, month: str = "") -> HTMLResponse:
    who = _owner(request)
    db = _db(request)
    first = _month(month)
    days = calendar.monthrange(first.year, first.month)[1]
    after = first + timedelta(days=days)
    sessions = ledger.list_sessions(db, start=first.isoformat() + "T00:00",
                                    end=after.isoformat() + "T00:00")
    by_day: dict[date, list[Any]] = {}
    rows = []
    for s in sessions:
        a, b = _local(s.start), _local(s.end)
        row = {"s": s, "start": a, "end": b}
        rows.append(row)
        by_day.setdefault(a.date(), []).append(row)
    weeks = calendar.Calendar().monthdatescalendar(first.year, first.month)
    before = (first - timedelta(days=1)).replace(day=1)
    return _page(request, "ledger_sessions.html", who, month=first, weeks=weeks,
                 by_day=by_day, rows=rows, prev=before.strftime("%Y-%m"),
                 next=after.strftime("%Y-%m"), rooms=ledger.list_rooms(db),
                 people=ledger.list_people(db), songs=ledger.list_songs(db))


@router.post("/sessions")
def book(request: Request, room: Annotated[str, Form()] = "",
         start: Annotated[str, Form()] = "", end: Annotated[str, Form()] = "",
         people: Annotated[str, Form()] = "", songs: Annotated[str, Form()] = "",
         notes: Annotated[str, Form()] = "") -> Response:
    _owner(request)
    try:
        ledger.book_session(_db(request), room=room, start=start, end=end,
                            people=_names(people), songs=_names(songs), notes=notes)
    except MixdownError as exc:
        return _failed(request, exc)
    return _done(request)


# -- people --------------------------------------------------------------------------------


@router.get("/people", response_class=HTMLResponse)
def people_page(request: Request) -> HTMLResponse:
    who = _owner(request)
    return _page(request, "ledger_people.html", who, people=ledger.list_people(_db(request)))


@router.post("/people")
def add_person(request: Request, name: Annotated[str, Form()] = "",
               roles: Annotated[str, Form()] = "", email: Annotated[str, Form()] = "",
               pro: Annotated[str, Form()] = "", ipi: Annotated[str, Form()] = "") -> Response:
    _owner(request)
    try:
        ledger.add_person(_db(request), name, roles=_names(roles), email=email or None,
                          pro=pro or None, ipi=ipi or None)
    except MixdownError as exc:
        return _failed(request, exc)
    return _done(request)


# -- budget vs actual ----------------------------------------------------------------------


@router.get("/budgets", response_class=HTMLResponse)
def budgets_page(request: Request) -> HTMLResponse:
    who = _owner(request)
    db = _db(request)
    reports = [ledger.budget_report(db, b.name) for b in ledger.list_budgets(db)]
    return _page(request, "ledger_budgets.html", who, reports=reports)


@router.get("/budgets/{budget:path}/chart.svg")
def budget_chart(request: Request, budget: str) -> Response:
    _owner(request)
    svg = ledger.budget_chart(_db(request), budget, "svg")
    return Response(svg, media_type="image/svg+xml",
                    headers={"Content-Security-Policy": "default-src 'none'; style-src "
                             "'unsafe-inline'", "Cache-Control": "no-store"})


# -- credits and split sheets --------------------------------------------------------------


@router.get("/songs", response_class=HTMLResponse)
def songs_page(request: Request) -> HTMLResponse:
    who = _owner(request)
    db = _db(request)
    folder = request.app.state.config.folder
    songs = [{"song": s, "studio": studio_song(s, folder),
              "credits": ledger.list_credits(db, s.name),
              "splits": ledger.show_splits(db, s.name)} for s in ledger.list_songs(db)]
    return _page(request, "ledger_songs.html", who, songs=songs,
                 people=ledger.list_people(db))


@router.post("/songs/{song:path}/credits")
def add_credit(request: Request, song: str, person: Annotated[str, Form()] = "",
               role: Annotated[str, Form()] = "") -> Response:
    _owner(request)
    try:
        ledger.add_credit(_db(request), song, person=person, role=role)
    except MixdownError as exc:
        return _failed(request, exc)
    return _done(request)


@router.post("/songs/{song:path}/splits")
def set_splits(request: Request, song: str, writers: Annotated[str, Form()] = "",
               publishers: Annotated[str, Form()] = "") -> Response:
    _owner(request)
    try:
        ledger.set_splits(_db(request), song, writers=_names(writers),
                          publishers=_names(publishers))
    except MixdownError as exc:
        return _failed(request, exc)
    return _done(request)


# -- releases ------------------------------------------------------------------------------


@router.get("/releases", response_class=HTMLResponse)
def releases_page(request: Request) -> HTMLResponse:
    who = _owner(request)
    db = _db(request)
    releases = [(r, ledger.check_release(db, r.title)) for r in ledger.list_releases(db)]
    return _page(request, "ledger_releases.html", who, releases=releases)


@router.get("/releases/{title:path}", response_class=HTMLResponse)
def release_page(request: Request, title: str) -> HTMLResponse:
    who = _owner(request)
    db = _db(request)
    release = ledger.show_release(db, title)
    return _page(request, "ledger_release.html", who, release=release,
                 check=ledger.check_release(db, title),
                 url=f"/ledger/releases/{quote(release.title)}")


@router.post("/releases/{title:path}/check", response_class=HTMLResponse)
def check_release(request: Request, title: str) -> Response:
    who = _owner(request)
    try:
        check = ledger.check_release(_db(request), title)
    except MixdownError as exc:
        return _failed(request, exc)
    return _page(request, "ledger_check.html", who, check=check)


@router.post("/releases/{title:path}")
def edit_release(request: Request, title: str, upc: Annotated[str, Form()] = "",
                 release_date: Annotated[str, Form()] = "",
                 artwork: Annotated[str, Form()] = "") -> Response:
    _owner(request)
    try:
        ledger.edit_release(_db(request), title, upc=upc or None,
                            release_date=release_date or None, artwork=artwork or None)
    except MixdownError as exc:
        return _failed(request, exc)
    return _done(request, 200)
