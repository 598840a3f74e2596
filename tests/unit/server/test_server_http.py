"""The studio's HTTP surface: every route's bad input, its security, range requests.

A real songs folder, real renders (through the review service), a real SQLite database; the
app runs in-process under FastAPI's TestClient.
"""

from __future__ import annotations

import builtins
import io
import json
import os
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from mixdown.server import ServeConfig, create_app
from mixdown.server.security import CSRF_COOKIE, REVIEW_COOKIE
from mixdown.services import review
from web_songs import make_song

SECRET = "correct horse battery staple"


@pytest.fixture(scope="module")
def songs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A songs folder: ``first`` with two versions (the second 3 dB louder), ``second``
    with none, and an ``outside`` folder next to it with a private file."""
    root = tmp_path_factory.mktemp("studio")
    folder = root / "songs"
    make_song(folder, "first", title="First <b>Song</b>", bars=6)
    make_song(folder, "second", title="Second", bars=3)
    outside = root / "outside"
    make_song(root, "outside", title="Private")
    (outside / "private.txt").write_text("do not read me")
    with review.open_studio(folder) as studio:
        review.render_version(studio, "first", "v1 <script>alert(1)</script>")
        (folder / "first" / "song.toml").write_text(
            (folder / "first" / "song.toml").read_text().replace("volume_db = -6.0",
                                                                  "volume_db = -3.0"))
        review.render_version(studio, "first", "louder")
    return folder


def _client(songs: Path, **kw: object) -> TestClient:
    config = ServeConfig.from_options(songs, **kw)  # type: ignore[arg-type]
    client = TestClient(create_app(config), follow_redirects=False)
    client.get("/static/studio.css")  # sets the CSRF cookie
    token = client.cookies.get(CSRF_COOKIE)
    assert token
    client.headers["X-CSRF-Token"] = token
    return client


@pytest.fixture(scope="module")
def owner(songs: Path) -> Iterator[TestClient]:
    with _client(songs) as c:
        yield c


@pytest.fixture
def guarded(songs: Path) -> Iterator[TestClient]:
    """A studio with an owner secret (as a non-loopback bind must have)."""
    with _client(songs, host="0.0.0.0", secret=SECRET) as c:
        yield c


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every path this process opens from now on."""
    seen: list[str] = []
    real_open, real_os_open = builtins.open, os.open

    def spy_open(file, *a, **kw):  # type: ignore[no-untyped-def]
        seen.append(str(file))
        return real_open(file, *a, **kw)

    def spy_os_open(path, *a, **kw):  # type: ignore[no-untyped-def]
        seen.append(str(path))
        return real_os_open(path, *a, **kw)

    monkeypatch.setattr(builtins, "open", spy_open)
    monkeypatch.setattr(io, "open", spy_open)
    monkeypatch.setattr(os, "open", spy_os_open)
    return seen


def _message(response) -> str:  # type: ignore[no-untyped-def]
    return response.json()["error"]["message"]


# -- pages -------------------------------------------------------------------------------


def test_songs_page_lists_songs_with_escaped_titles(owner: TestClient) -> None:
    r = owner.get("/")
    assert r.status_code == 200
    assert "First &lt;b&gt;Song&lt;/b&gt;" in r.text and "<b>Song" not in r.text
    assert "Second" in r.text and "v2" in r.text
    assert "LUFS" in r.text and "dBTP" in r.text


def test_version_page_escapes_notes_and_embeds_player_data(owner: TestClient) -> None:
    r = owner.get("/songs/first/versions/1")
    assert r.status_code == 200
    assert "<script>alert(1)" not in r.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text
    start = r.text.index('id="version-data">') + len('id="version-data">')
    data = json.loads(r.text[start:r.text.index("</script>", start)])
    assert data["duration_s"] > 0 and len(data["peaks"]["max"]) > 100
    assert data["bars"][0] == {"bar": 1, "seconds": 0.0, "beat_s": 0.25, "beats": 4}  # 240 bpm
    assert [b["bar"] for b in data["bars"]] == [1, 2, 3, 4, 5, 6]
    assert [s["name"] for s in data["sections"]] == ["Verse", "Chorus"] or \
        [s["name"] for s in data["sections"]] == ["Verse"]


@pytest.mark.parametrize("url", [
    "/songs/nope", "/songs/nope/versions/1", "/songs/first/versions/9",
    "/songs/first/versions/0", "/songs/first/versions/abc", "/songs/first/versions/-1",
    "/songs/first/versions/9/audio", "/songs/first/versions/9/peaks.json",
    "/songs/first/references/5/audio", "/songs/first/compare?a=1&b=7",
    "/songs/first/compare?a=1&b=ref9", "/jobs/999/events", "/jobs/x/events",
])
def test_unknown_names_are_404(owner: TestClient, url: str) -> None:
    r = owner.get(url)
    assert r.status_code == 404, r.text
    assert _message(r)


@pytest.mark.parametrize("url", [
    "/songs/..%2Foutside", "/songs/%2e%2e%2Foutside", "/songs/..%2F..%2Fetc%2Fpasswd",
    "/songs/%2e%2e/versions/1/audio", "/songs/.%2E%2Foutside%2Fprivate.txt",
    "/songs/outside%00/versions/1", "/songs/first%2F..%2F..%2Foutside",
    "/static/..%2F..%2Fserver%2Fapp.py", "/static/%2e%2e/app.py",
    "/songs/link", "/songs/link/versions/1/audio",
])
def test_traversal_is_404_and_reads_nothing(owner: TestClient, songs: Path,
                                            opened: list[str], url: str) -> None:
    link = songs / "link"
    if not link.exists():
        link.symlink_to(songs.parent / "outside", target_is_directory=True)
    r = owner.get(url)
    assert r.status_code == 404, (url, r.status_code, r.text)
    assert "do not read me" not in r.text
    outside = str(songs.parent / "outside")
    assert not [p for p in opened if p.startswith(outside)], opened


def test_audio_is_served_with_range_requests(owner: TestClient) -> None:
    whole = owner.get("/songs/first/versions/1/audio")
    assert whole.status_code == 200 and whole.headers["accept-ranges"] == "bytes"
    part = owner.get("/songs/first/versions/1/audio", headers={"Range": "bytes=100-1099"})
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 100-1099/{len(whole.content)}"
    assert part.content == whole.content[100:1100]
    beyond = owner.get("/songs/first/versions/1/audio",
                       headers={"Range": f"bytes={len(whole.content) + 10}-"})
    assert beyond.status_code == 416


def test_peaks_and_loudness_json(owner: TestClient) -> None:
    peaks = owner.get("/songs/first/versions/2/peaks.json").json()
    assert peaks["version"] == 2 and peaks["bits"] == 8 and peaks["length"] > 0
    curve = owner.get("/songs/first/versions/2/loudness.json").json()
    assert curve["hop_s"] > 0 and len(curve["lufs"]) > 0


# -- CSRF --------------------------------------------------------------------------------


def test_state_changes_need_the_csrf_header(songs: Path) -> None:
    with TestClient(create_app(ServeConfig.from_options(songs))) as c:
        r = c.post("/songs/first/versions/1/status", data={"status": "approved"})
        assert r.status_code == 403 and "CSRF" in _message(r)
        c.get("/")
        r = c.post("/songs/first/versions/1/status", data={"status": "approved"},
                   headers={"X-CSRF-Token": "forged"})
        assert r.status_code == 403
        r = c.post("/songs/first/versions/1/status", data={"status": "needs_feedback"},
                   headers={"X-CSRF-Token": c.cookies.get(CSRF_COOKIE),
                            "Origin": "http://evil.example"})
        assert r.status_code == 403 and "cross-site" in _message(r)
    with review.open_studio(songs) as studio:
        assert review.get_version(studio, "first", 1).status != "approved"


# -- bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize("form", [
    {"bar": "x", "beat": "1", "text": "hi"}, {"bar": "1", "beat": "nan", "text": "hi"},
    {"bar": "0", "beat": "1", "text": "hi"}, {"bar": "1", "beat": "5", "text": "hi"},
    {"bar": "1", "beat": "1", "text": "   "}, {"bar": "99", "beat": "1", "text": "late"},
    {"bar": "1", "beat": "1", "text": "hi", "parent": "777"},
])
def test_bad_comments_are_refused(owner: TestClient, form: dict[str, str]) -> None:
    r = owner.post("/songs/first/versions/1/comments", data=form)
    assert r.status_code in (404, 422), r.text
    assert _message(r)


def test_bad_status_is_refused(owner: TestClient) -> None:
    r = owner.post("/songs/first/versions/1/status", data={"status": "shipped"})
    assert r.status_code == 422 and "approved" in _message(r)


def test_oversize_upload_is_413(songs: Path) -> None:
    config = ServeConfig.from_options(songs)
    small = ServeConfig(**{**config.__dict__, "max_upload_bytes": 1000})
    with TestClient(create_app(small)) as c:
        c.get("/")
        h = {"X-CSRF-Token": c.cookies.get(CSRF_COOKIE)}
        r = c.post("/songs/first/references?name=big.wav", content=b"\0" * 5000, headers=h)
        assert r.status_code == 413 and "limit" in _message(r)

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it comes
            for _ in range(10):
                yield b"\0" * 400

        r = c.post("/songs/first/references?name=big.wav", content=chunks(), headers=h)
        assert r.status_code == 413
    with review.open_studio(songs) as studio:
        assert review.list_references(studio, "first") == []


@pytest.mark.parametrize(("name", "body"), [
    ("notes.txt", b"hello"), ("fake.wav", b"RIFF\x00\x00\x00\x00WAVEjunk" * 10),
    ("empty.wav", b""),
])
def test_non_audio_upload_is_415(owner: TestClient, name: str, body: bytes) -> None:
    r = owner.post(f"/songs/first/references?name={name}", content=body)
    assert r.status_code == 415, r.text
    assert name in _message(r)


def test_audio_upload_is_decoded_and_kept(owner: TestClient, tmp_path: Path) -> None:
    sr = 48000
    t = np.arange(sr * 2) / sr
    tone = (0.1 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    f = tmp_path / "ref.wav"
    sf.write(f, np.stack([tone, tone], axis=1), sr)
    r = owner.post("/songs/first/references?name=My%20ref.wav", content=f.read_bytes())
    assert r.status_code == 201, r.text
    ref = r.json()
    assert ref["name"] == "My ref.wav" and ref["integrated_lufs"] < -15
    audio = owner.get(f"/songs/first/references/{ref['id']}/audio",
                      headers={"Range": "bytes=0-11"})
    assert audio.status_code == 206 and audio.content[:4] == b"RIFF"
    page = owner.get(f"/songs/first/compare?a=2&b=ref{ref['id']}")
    assert page.status_code == 200 and "My ref.wav" in page.text


def test_upload_to_unknown_song_is_404_before_reading(owner: TestClient) -> None:
    r = owner.post("/songs/..%2Foutside/references?name=a.wav", content=b"x" * 10)
    assert r.status_code == 404


# -- the owner's secret and review links -------------------------------------------------


def test_missing_credentials_are_401(guarded: TestClient) -> None:
    for url in ("/", "/songs/first", "/songs/first/versions/1/audio", "/api/songs"):
        r = guarded.get(url)
        assert r.status_code == 401, url
        assert "sign in" in _message(r)


def test_owner_signs_in_with_the_secret(guarded: TestClient) -> None:
    r = guarded.post("/login", data={"secret": "wrong"})
    assert r.status_code == 403
    assert guarded.get("/").status_code == 401
    r = guarded.post("/login", data={"secret": SECRET})
    assert r.status_code == 204
    assert guarded.get("/").status_code == 200


def test_wrong_or_revoked_review_token_is_403(songs: Path, guarded: TestClient) -> None:
    assert guarded.get("/r/not-a-token").status_code == 403
    with review.open_studio(songs) as studio:
        link = review.create_share_link(studio, "first", label="label")
    r = guarded.get(f"/r/{link.token}")
    assert r.status_code == 303 and r.headers["location"] == "/songs/first"
    assert guarded.get("/songs/first").status_code == 200
    assert guarded.get("/songs/first/versions/1/audio").status_code == 200
    with review.open_studio(songs) as studio:
        review.revoke_share_link(studio, "first", link.id)
    r = guarded.get("/songs/first")
    assert r.status_code == 403 and "revoked" in _message(r)
    guarded.cookies.delete(REVIEW_COOKIE)
    r = guarded.get("/songs/first", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 403 and "not valid" in _message(r)


def test_reviewer_may_listen_comment_and_set_status_but_not_render(
        songs: Path, guarded: TestClient) -> None:
    with review.open_studio(songs) as studio:
        link = review.create_share_link(studio, "first")
    assert guarded.get(f"/r/{link.token}").status_code == 303
    assert guarded.get("/songs/first/versions/2").status_code == 200
    assert guarded.get("/songs/first/compare?a=1&b=2").status_code == 200
    r = guarded.post("/songs/first/versions/2/comments",
                     data={"bar": "2", "beat": "1", "text": "more bass"})
    assert r.status_code == 204
    r = guarded.post("/songs/first/versions/2/status", data={"status": "needs_feedback"})
    assert r.status_code == 204
    refused = [
        guarded.post("/songs/first/render", data={"note": "mine"}),
        guarded.post("/songs/first/references?name=a.wav", content=b"x"),
        guarded.post("/songs/first/shares", data={"label": "x"}),
        guarded.get("/songs/first/versions/1/qc.json"),
        guarded.get("/api/songs"),
        guarded.get("/songs/second"),
    ]
    assert [r.status_code for r in refused] == [403] * 6
    assert "render" in _message(refused[0])
    with review.open_studio(songs) as studio:
        assert len(review.list_versions(studio, "first")) == 2


def test_listener_may_not_comment(songs: Path, guarded: TestClient) -> None:
    with review.open_studio(songs) as studio:
        link = review.create_share_link(studio, "first", "listener")
    r = guarded.get("/songs/first", headers={"Authorization": f"Bearer {link.token}"})
    assert r.status_code == 200
    r = guarded.post("/songs/first/versions/1/comments",
                     data={"bar": "1", "beat": "1", "text": "x"},
                     headers={"Authorization": f"Bearer {link.token}"})
    assert r.status_code == 403


# -- rendering from the studio -----------------------------------------------------------


def test_render_reports_progress_and_keeps_a_version(songs: Path, owner: TestClient) -> None:
    r = owner.post("/songs/second/render", data={"note": "first take"})
    assert r.status_code == 200 and "data-events" in r.text
    job = r.text.split('data-events="/jobs/')[1].split("/")[0]
    events = []
    with owner.stream("GET", f"/jobs/{job}/events") as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        for line in stream.iter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line[6:]))
    assert events[-1]["state"] == "done" and events[-1]["result"]["number"] == 1
    percents = [e["percent"] for e in events]
    assert percents == sorted(percents) and percents[-1] == 100.0
    assert owner.get(events[-1]["result"]["url"]).status_code == 200


def test_render_of_a_broken_song_fails_in_one_line(songs: Path, owner: TestClient) -> None:
    make_song(songs, "broken")
    (songs / "broken" / "song.toml").write_text("[song]\ntitle = 'x'\ntempo = -5\n")
    r = owner.post("/songs/broken/render", data={"note": ""})
    job = r.text.split('data-events="/jobs/')[1].split("/")[0]
    with owner.stream("GET", f"/jobs/{job}/events") as stream:
        last = [json.loads(line[6:]) for line in stream.iter_lines()
                if line.startswith("data: ")][-1]
    assert last["state"] == "failed" and "\n" not in last["message"] and last["message"]
    with review.open_studio(songs) as studio:
        assert review.list_versions(studio, "broken") == []


def test_approved_version_is_marked_on_the_songs_page(owner: TestClient) -> None:
    assert owner.post("/songs/first/versions/1/status",
                      data={"status": "approved"}).status_code == 204
    r = owner.get("/")
    row = r.text.split('data-song="first"')[1].split("</tr>")[0]
    assert "✔ v1" in row


# -- starting the server -----------------------------------------------------------------


def test_non_loopback_bind_needs_a_secret(songs: Path, monkeypatch: pytest.MonkeyPatch
                                          ) -> None:
    from mixdown.server.config import ServeRefused

    monkeypatch.delenv("MIXDOWN_SECRET", raising=False)
    with pytest.raises(ServeRefused, match="MIXDOWN_SECRET"):
        ServeConfig.from_options(songs, host="0.0.0.0")
    with pytest.raises(ServeRefused, match="MIXDOWN_SECRET"):
        ServeConfig.from_options(songs, host="192.168.1.10")
    assert ServeConfig.from_options(songs, host="::1").secret is None
    monkeypatch.setenv("MIXDOWN_SECRET", SECRET)
    assert ServeConfig.from_options(songs, host="0.0.0.0").secret == SECRET


def test_comment_threads_replies_and_resolve(songs: Path, owner: TestClient) -> None:
    r = owner.post("/songs/first/versions/2/comments",
                   data={"bar": "3", "beat": "2.5", "text": "snare <b>late</b>"})
    assert r.status_code == 204 and r.headers["HX-Refresh"] == "true"
    with review.open_studio(songs) as studio:
        c = next(c for c in review.list_comments(studio, review.get_version(studio, "first", 2))
                 if c.text == "snare <b>late</b>")
    assert (c.bar, c.beat) == (3, 2.5)
    r = owner.post("/songs/first/versions/2/comments",
                   data={"bar": "3", "beat": "2.5", "text": "fixed in v3", "parent": str(c.id)})
    assert r.status_code == 204
    assert owner.post(f"/songs/first/comments/{c.id}/resolve").status_code == 204
    page = owner.get("/songs/first/versions/2").text
    item = page.split(f'data-comment="{c.id}"')[1].split("</li>\n{% endfor %}")[0]
    assert "snare &lt;b&gt;late&lt;/b&gt;" in page and "<b>late" not in page
    assert "resolved by owner" in item and "fixed in v3" in item
    assert owner.post(f"/songs/first/comments/{c.id}/resolve",
                      data={"reopen": "1"}).status_code == 204
    assert owner.post("/songs/first/comments/99999/resolve").status_code == 404
    assert owner.post("/songs/first/comments/x/resolve").status_code == 404
