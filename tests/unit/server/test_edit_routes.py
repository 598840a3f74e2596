"""The studio's edit endpoints over HTTP (the app in-process under TestClient, a real songs
folder): an edit through edit_song, undo/redo byte for byte, a stale revision is 409, a
missing one 428, an invalid change 422 with the checker's message, reviewers refused."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from fastapi import Request

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from mixdown.server import ServeConfig, create_app
from mixdown.server.edit_routes import base_of, edit_body, edit_song
from mixdown.server.security import CSRF_COOKIE
from mixdown.services import review
from mixdown.services.edit import with_track
from mixdown.services.history import current_revision
from web_songs import make_song


def _app(folder: Path):
    app = create_app(ServeConfig.from_options(folder))

    @app.post("/test-edit/{song}")
    async def volume(request: Request, song: str):  # a minimal view, as the real ones do
        body = await edit_body(request)
        db = float(body["volume_db"])
        return edit_song(request, song, lambda p: with_track(p, body["track"], volume_db=db),
                         label=f"{body['track']} {db:+.1f} dB", base=base_of(request, body))

    return app


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    folder = tmp_path / "songs"
    make_song(folder, "tune", title="Tune")
    c = TestClient(_app(folder), follow_redirects=False)
    c.get("/static/studio.css")
    c.headers["X-CSRF-Token"] = c.cookies.get(CSRF_COOKIE) or ""
    c.song = folder / "tune"  # type: ignore[attr-defined]
    return c


def _track(client: TestClient) -> str:
    from mixdown.io.project import load_project

    return load_project(client.song).tracks[0].name  # type: ignore[attr-defined]


def test_edit_undo_redo_over_http(client: TestClient) -> None:
    song: Path = client.song  # type: ignore[attr-defined]
    original = (song / "song.toml").read_bytes()
    rev = current_revision(song)
    name = _track(client)
    r = client.post("/test-edit/tune", json={"track": name, "volume_db": -7.5},
                    headers={"X-Song-Revision": rev})
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["can_undo"] and not data["can_redo"] and data["revision"] != rev
    assert "volume_db = -7.5" in (song / "song.toml").read_text()
    h = client.get("/api/songs/tune/history").json()
    assert [s["label"] for s in h["steps"]] == [f"{name} -7.5 dB"]
    r = client.post("/songs/tune/undo", json={"base": data["revision"]})
    assert r.status_code == 200 and (song / "song.toml").read_bytes() == original
    r = client.post("/songs/tune/redo", headers={"X-Song-Revision": r.json()["revision"]})
    assert r.status_code == 200 and "volume_db = -7.5" in (song / "song.toml").read_text()


def test_stale_missing_and_invalid_edits_are_refused(client: TestClient) -> None:
    song: Path = client.song  # type: ignore[attr-defined]
    rev = current_revision(song)
    name = _track(client)
    assert client.post("/test-edit/tune", json={"track": name, "volume_db": -1.0},
                       headers={"X-Song-Revision": rev}).status_code == 200
    text = (song / "song.toml").read_bytes()
    stale = client.post("/test-edit/tune", json={"track": name, "volume_db": -2.0},
                        headers={"X-Song-Revision": rev})
    assert stale.status_code == 409
    assert "changed since this page loaded it" in stale.json()["error"]["message"]
    missing = client.post("/test-edit/tune", json={"track": name, "volume_db": -2.0})
    assert missing.status_code == 428
    fresh = current_revision(song)
    bad = client.post("/test-edit/tune", json={"track": name, "volume_db": 99.0},
                      headers={"X-Song-Revision": fresh})
    assert bad.status_code == 422 and "volume_db" in bad.json()["error"]["message"]
    assert (song / "song.toml").read_bytes() == text
    nothing = client.post("/songs/tune/redo", headers={"X-Song-Revision": fresh})
    assert nothing.status_code == 409 and "nothing to redo" in nothing.json()["error"]["message"]


def test_a_reviewer_may_not_edit(client: TestClient, tmp_path: Path) -> None:
    studio = review.open_studio(tmp_path / "songs")
    try:
        link = review.create_share_link(studio, "tune", "reviewer")
    finally:
        studio.close()
    rev = current_revision(client.song)  # type: ignore[attr-defined]
    r = client.post("/songs/tune/undo", headers={"X-Song-Revision": rev,
                                                 "Authorization": f"Bearer {link.token}"})
    assert r.status_code in (401, 403)
