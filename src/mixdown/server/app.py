"""The FastAPI application: middleware (who is asking, CSRF), error pages, routes."""

from __future__ import annotations

import contextlib
import html
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from mixdown.core.errors import MixdownError
from mixdown.server import security
from mixdown.server.config import ServeConfig
from mixdown.server.jobs import RenderJobs
from mixdown.server.state import StudioHolder

HERE = Path(__file__).parent
STATIC = HERE / "static"


def create_app(config: ServeConfig) -> FastAPI:
    """The studio app for ``config``; the database is opened (and migrated) in a background
    thread that requests wait for (:class:`~mixdown.server.state.StudioHolder`)."""
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        app.state.jobs.shutdown()
        app.state.studio.close()

    app = FastAPI(title="mixdown studio", docs_url=None, redoc_url=None, openapi_url=None,
                  lifespan=lifespan)
    templates = Jinja2Templates(directory=str(HERE / "templates"))  # autoescape on .html
    templates.env.globals["static_version"] = _static_version()
    app.state.config = config
    app.state.templates = templates
    app.state.studio = StudioHolder(config)
    app.state.jobs = RenderJobs()

    app.mount("/static", StaticFiles(directory=str(STATIC), follow_symlink=False),
              name="static")

    @app.middleware("http")
    async def guard(request: Request, call_next: Any) -> Response:
        csrf = request.cookies.get(security.CSRF_COOKIE)
        request.state.csrf = csrf or security.new_csrf_token()
        if request.method in security.UNSAFE_METHODS:
            refusal = _csrf_refusal(request, csrf)
            if refusal is not None:
                return _error(request, refusal, 403)
        response: Response = await call_next(request)
        if not csrf:
            response.set_cookie(security.CSRF_COOKIE, request.state.csrf, httponly=False,
                                samesite="strict", secure=config.scheme == "https", path="/")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
            "style-src 'self' 'unsafe-inline'; frame-ancestors 'none'")
        return response

    @app.exception_handler(MixdownError)
    async def mixdown_error(request: Request, exc: MixdownError) -> Response:
        status = int(getattr(exc, "http_status", 500))
        return _error(request, str(exc), status)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return _error(request, str(exc.detail), exc.status_code)

    from mixdown.server.routes import register

    register(app)
    from mixdown.server.record_pages import router as record_router

    app.include_router(record_router)
    return app


def _csrf_refusal(request: Request, cookie: str | None) -> str | None:
    """Why an unsafe request fails the CSRF check, or None when it passes."""
    origin = request.headers.get("origin")
    if origin is not None and origin != "null":
        host = request.headers.get("host", "")
        if origin.split("://", 1)[-1] != host:
            return f"cross-site request refused (Origin {origin} is not {host})"
    if not security.csrf_ok(cookie, request.headers.get(security.CSRF_HEADER)):
        return ("missing or wrong CSRF token: send the X-CSRF-Token header with the value "
                "of the mixdown_csrf cookie (the studio's pages do)")
    return None


def _error(request: Request, message: str, status: int) -> Response:
    """An error as JSON (API callers) or as a small escaped HTML page (browsers)."""
    line = message.splitlines()[0] if message else "error"
    wants_html = "text/html" in request.headers.get("accept", "") \
        and "hx-request" not in request.headers
    if wants_html:
        body = (f"<!doctype html><meta charset=utf-8><title>{status}</title>"
                f"<link rel=stylesheet href=/static/studio.css>"
                f"<main class=error><h1>{status}</h1><p class=message>{html.escape(line)}</p>"
                f"<p><a href=/>songs</a></p></main>")
        return HTMLResponse(body, status_code=status)
    return JSONResponse({"error": {"status": status, "message": line}}, status_code=status)


def _static_version() -> str:
    """A cache-busting tag for static URLs: the newest mtime under static/."""
    try:
        return str(max(int(p.stat().st_mtime) for p in STATIC.rglob("*") if p.is_file()))
    except ValueError:
        return "0"
