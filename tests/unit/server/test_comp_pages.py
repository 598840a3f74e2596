"""The comp panel over HTTP (the app in-process, a real song with two takes): the page and
its state, a good comp saved as one undoable step with the comments kept, a bad comp refused
422 with the checker's message and the file unchanged, a reviewer refused 403."""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from comp_songs import make_comp_song
from mixdown.io.project import load_project
from mixdown.server import ServeConfig, create_app
from mixdown.server.security import CSRF_COOKIE
from mixdown.services import review
from mixdown.services.history import current_revision, history

GOOD = {"track": "Vox", "crossfade_s": 0.05,
        "ranges": [{"start": "1:1", "end": "3:1", "take": "take 1"},
                   {"start": "3:1", "end": "5:1", "take": "take 2"}]}


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    song = make_comp_song(tmp_path / "songs")
    c = TestClient(create_app(ServeConfig.from_options(tmp_path / "songs")),
                   follow_redirects=False)
    c.get("/static/studio.css")
    c.headers["X-CSRF-Token"] = c.cookies.get(CSRF_COOKIE) or ""
    c.song = song  # type: ignore[attr-defined]
    return c


def save(client: TestClient, body: dict, **headers: str):
    rev = current_revision(client.song)  # type: ignore[attr-defined]
    return client.post("/songs/tune/record/comp", json=body,
                       headers={"X-Song-Revision": rev, **headers})


def test_the_page_shows_the_takes_and_is_linked_from_the_record_page(
        client: TestClient) -> None:
    assert 'href="/songs/tune/comp?track=Vox"' in client.get("/songs/tune/record").text
    page = client.get("/songs/tune/comp", params={"track": "Vox"})
    assert page.status_code == 200
    assert 'data-song-edit="/songs/tune"' in page.text and "comp.js" in page.text
    raw = re.search(r'id="comp-state">(.*?)</script>', page.text, re.S)
    assert raw is not None
    state = json.loads(raw.group(1))
    assert [t["name"] for t in state["takes"]] == ["take 1", "take 2"]
    assert client.get("/songs/tune/comp", params={"track": "Nope"}).status_code == 422


def test_a_good_comp_is_one_undo_step_with_comments_kept(client: TestClient) -> None:
    song: Path = client.song  # type: ignore[attr-defined]
    before = (song / "song.toml").read_text()
    r = save(client, GOOD)
    assert r.status_code == 200, r.text
    assert r.json()["can_undo"] and r.json()["label"] == "comp Vox"
    vox = load_project(song).track("Vox")
    assert [(c.start, c.end, c.take) for c in vox.comp] == [
        ("1:1", "3:1", "take 1"), ("3:1", "5:1", "take 2")]
    assert vox.comp_crossfade_s == 0.05
    after = (song / "song.toml").read_text()
    assert "# lead vocal" in after and "# the better chorus" in after
    assert after.startswith(before.split("comp_crossfade_s")[0])
    assert len(history(song).steps) == 1
    u = client.post("/songs/tune/undo", headers={"X-Song-Revision": current_revision(song)})
    assert u.status_code == 200
    assert (song / "song.toml").read_text() == before


@pytest.mark.parametrize(("body", "status", "message"), [
    ({**GOOD, "ranges": [{"start": "1:1", "end": "3:1", "take": "take 1"},
                         {"start": "2:1", "end": "4:1", "take": "take 2"}]}, 422,
     "comp ranges must not overlap"),
    ({**GOOD, "ranges": [{"start": "1:1", "end": "3:1", "take": "take 9"}]}, 422,
     "no take 'take 9'"),
    ({**GOOD, "crossfade_s": 3.0}, 422, "comp_crossfade_s"),
    ({**GOOD, "crossfade_s": "long"}, 422, "crossfade_s must be a number"),
    ({"track": "Vox", "ranges": "1:1"}, 422, "send {track, ranges"),
])
def test_a_bad_comp_is_refused_and_the_file_unchanged(client: TestClient, body: dict,
                                                      status: int, message: str) -> None:
    song: Path = client.song  # type: ignore[attr-defined]
    before = (song / "song.toml").read_bytes()
    r = save(client, body)
    assert r.status_code == status, r.text
    assert message in r.json()["error"]["message"]
    assert (song / "song.toml").read_bytes() == before


def test_a_reviewer_may_not_comp(client: TestClient, tmp_path: Path) -> None:
    studio = review.open_studio(tmp_path / "songs")
    try:
        link = review.create_share_link(studio, "tune", "reviewer")
    finally:
        studio.close()
    auth = {"Authorization": f"Bearer {link.token}"}
    song: Path = client.song  # type: ignore[attr-defined]
    before = (song / "song.toml").read_bytes()
    assert client.get("/songs/tune/comp", params={"track": "Vox"},
                      headers=auth).status_code == 403
    assert save(client, GOOD, **auth).status_code == 403
    assert (song / "song.toml").read_bytes() == before
