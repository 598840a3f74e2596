"""The arrangement view over HTTP (the app in-process, a real song folder with audio): the
page and its state, clip peaks, every edit as one undoable step, refusals (422 with the
message and the file unchanged, 400 for a malformed edit, 404 for a file no clip plays, 403
for a reviewer)."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from arrange_songs import make_arrange_song, noise
from mixdown.io.project import load_project
from mixdown.server import ServeConfig, create_app
from mixdown.server.security import CSRF_COOKIE
from mixdown.services import review
from mixdown.services.history import current_revision


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    folder = tmp_path / "songs"
    song = make_arrange_song(folder)
    c = TestClient(create_app(ServeConfig.from_options(folder)), follow_redirects=False)
    c.get("/static/studio.css")
    c.headers["X-CSRF-Token"] = c.cookies.get(CSRF_COOKIE) or ""
    c.song = song  # type: ignore[attr-defined]
    return c


def post(client: TestClient, op: str, **body: object):
    rev = current_revision(client.song)  # type: ignore[attr-defined]
    return client.post(f"/songs/tune/arrange/{op}", json=body,
                       headers={"X-Song-Revision": rev})


def test_page_links_and_state(client: TestClient) -> None:
    assert 'href="/songs/tune/arrange"' in client.get("/songs/tune").text
    page = client.get("/songs/tune/arrange")
    assert page.status_code == 200
    assert 'data-song-edit="/songs/tune"' in page.text and "arrange.js" in page.text
    state = client.get("/api/songs/tune/arrangement").json()
    assert state["revision"] == current_revision(client.song)  # type: ignore[attr-defined]
    assert [t["name"] for t in state["tracks"]] == ["Vox", "Dub", "Keys"]
    assert [s["name"] for s in state["sections"]] == ["Verse", "Chorus"]
    vox = state["tracks"][0]["clips"]
    assert (vox[0]["start"], vox[0]["end"]) == (4.0, pytest.approx(4 + 4.0 / 0.6))
    assert state["audio"] is None


def test_peaks_of_a_clip_file_only(client: TestClient) -> None:
    pk = client.get("/api/songs/tune/arrangement/peaks", params={"file": "audio/noise.wav"})
    assert pk.status_code == 200
    data = pk.json()
    x = noise(4.0)[0]
    assert len(data["max"]) == 400
    assert data["max"][7] == pytest.approx(float(x[7 * 480:8 * 480].max()), abs=0.001)
    for bad in ("song.toml", "../x.wav", "audio/other.wav"):
        r = client.get("/api/songs/tune/arrangement/peaks", params={"file": bad})
        assert r.status_code == 404 and "no audio clip plays" in r.json()["error"]["message"]


def test_each_edit_is_one_undoable_step(client: TestClient) -> None:
    song: Path = client.song  # type: ignore[attr-defined]
    original = (song / "song.toml").read_bytes()
    steps = [
        ("move", {"track": "Vox", "clip": 0, "to": 8.0}),
        ("trim", {"track": "Vox", "clip": 0, "end": 12.0}),
        ("split", {"track": "Vox", "clip": 0, "at": "3:3"}),
        ("duplicate", {"track": "Keys", "clip": 0}),
        ("delete", {"track": "Keys", "clip": 1}),
        ("gain", {"track": "Vox", "clip": 1, "gain_db": -3.5}),
        ("fades", {"track": "Vox", "clip": 1, "fade_out_s": 0.5, "fade_out_shape": "s_curve"}),
        ("point-add", {"target": "Vox", "param": "volume_db", "at": 4.0, "value": -6.0}),
        ("point-add", {"target": "Vox", "param": "volume_db", "at": 8.0, "value": 0.0}),
        ("point-move", {"target": "Vox", "param": "volume_db", "index": 1, "value": -2.0}),
        ("point-delete", {"target": "Vox", "param": "volume_db", "index": 0}),
        ("move", {"track": "Vox", "clip": 0, "to": "4:1", "to_track": "Dub"}),
    ]
    for op, body in steps:
        r = post(client, op, **body)
        assert r.status_code == 200, (op, r.text)
    p = load_project(song)
    assert p.track("Dub").clips[0].start == "4:1"
    vox = p.track("Vox").clips
    assert vox[0].start == "3:3" and vox[0].gain_db == -3.5
    assert vox[0].fade_out_shape == "s_curve"
    assert [(x.at, x.value) for x in p.track("Vox").automation[0].points] == [("3:1", -2.0)]
    h = client.get("/api/songs/tune/history").json()
    assert len(h["steps"]) == len(steps)
    assert h["steps"][0]["label"] == "move Vox clip 0 to 8.0"
    for _ in steps:
        r = client.post("/songs/tune/undo", headers={"X-Song-Revision": current_revision(song)})
        assert r.status_code == 200
    assert (song / "song.toml").read_bytes() == original


@pytest.mark.parametrize(("op", "body", "status", "message"), [
    ("split", {"track": "Vox", "clip": 0, "at": "1:2"}, 422, "split: 1:2 is outside"),
    ("move", {"track": "Vox", "clip": 0, "by_beats": -8}, 422, "before the song start"),
    ("move", {"track": "Voc", "clip": 0, "to": "2:1"}, 422, "no track 'Voc'"),
    ("delete", {"track": "Vox", "clip": 9}, 422, "track 'Vox' has no clip 9"),
    ("move", {"track": "Vox", "clip": 0, "to_track": "Keys"}, 422, "cannot hold an audio"),
    ("gain", {"track": "Vox", "clip": 0, "gain_db": 99}, 422, "gain_db"),
    ("fades", {"track": "Vox", "clip": 1, "fade_in_s": 5.0}, 422, "longer than"),
    ("move", {"track": "Vox", "clip": "0"}, 400, "send clip"),
    ("warp", {"track": "Vox", "clip": 0}, 404, "no arrangement edit 'warp'"),
])
def test_refused_edits_leave_the_file(client: TestClient, op: str, body: dict, status: int,
                                      message: str) -> None:
    song: Path = client.song  # type: ignore[attr-defined]
    before = (song / "song.toml").read_bytes()
    r = post(client, op, **body)
    assert r.status_code == status, r.text
    assert message in r.json()["error"]["message"]
    assert (song / "song.toml").read_bytes() == before


def test_a_reviewer_may_not_arrange(client: TestClient, tmp_path: Path) -> None:
    studio = review.open_studio(tmp_path / "songs")
    try:
        link = review.create_share_link(studio, "tune", "reviewer")
    finally:
        studio.close()
    auth = {"Authorization": f"Bearer {link.token}"}
    before = (client.song / "song.toml").read_bytes()  # type: ignore[attr-defined]
    assert client.get("/songs/tune/arrange", headers=auth).status_code == 403
    assert client.get("/api/songs/tune/arrangement", headers=auth).status_code == 403
    r = client.post("/songs/tune/arrange/delete", json={"track": "Vox", "clip": 0},
                    headers={**auth, "X-Song-Revision": current_revision(client.song)})  # type: ignore[attr-defined]
    assert r.status_code == 403
    assert (client.song / "song.toml").read_bytes() == before  # type: ignore[attr-defined]
