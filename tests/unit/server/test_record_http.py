"""The record routes over HTTP: the panel, the plan, a take uploaded and placed, calibration,
and every bad input refused in one line with a 4xx and the project unchanged."""

from __future__ import annotations

import io
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
from mixdown.server.security import CSRF_COOKIE
from mixdown.services.record.latency import probe
from web_songs import make_song

VOCAL = '\n[[track]]\nname = "Vocal"\n'


@pytest.fixture()
def songs(tmp_path: Path) -> Path:
    folder = tmp_path / "songs"
    song = make_song(folder, "tune", title="Tune", tempo=120, bars=9)  # 8 bars of 2 s
    with (song / "song.toml").open("a") as f:
        f.write(VOCAL)
    return folder


@pytest.fixture()
def client(songs: Path) -> Iterator[TestClient]:
    base = ServeConfig.from_options(songs, secret="")
    config = ServeConfig(**{**base.__dict__, "max_upload_bytes": 2_000_000})
    with TestClient(create_app(config), follow_redirects=False) as c:
        c.get("/static/studio.css")
        c.headers["X-CSRF-Token"] = c.cookies.get(CSRF_COOKIE) or ""
        yield c


def revision(songs: Path) -> str:
    from mixdown.services.history import current_revision

    return current_revision(songs / "tune")


def wav(audio: np.ndarray, rate: int = 48_000) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, np.asarray(audio, np.float32).T, rate, format="WAV", subtype="FLOAT")
    return buf.getvalue()


def test_panel_lists_the_audio_tracks_only(client: TestClient) -> None:
    r = client.get("/songs/tune/record")
    assert r.status_code == 200
    assert '<option value="Vocal">' in r.text and 'value="Pad"' not in r.text
    assert "/static/record.js" in r.text


def test_plan_gives_the_clicks_and_the_stored_latency(client: TestClient) -> None:
    r = client.get("/songs/tune/record/plan", params={"track": "Vocal", "bar": 3,
                                                      "count_in": 1, "bars": 2})
    assert r.status_code == 200, r.text
    plan = r.json()
    assert plan["bar_s"] == 4.0 and plan["count_in_s"] == 2.0 and len(plan["clicks"]) == 12
    assert plan["latency_s"] == 0.0 and plan["calibrated"] is False


def test_calibration_then_a_take_placed_at_the_bar_less_the_latency(client: TestClient,
                                                                    songs: Path) -> None:
    delay = 612  # frames: a simulated loopback
    loop = np.zeros(72_000, np.float32)
    p = probe(48_000)
    loop[delay:delay + len(p)] = 0.4 * p
    r = client.post("/record/calibrate", params={"device": "Mic A"}, content=wav(loop[None]))
    assert r.status_code == 201, r.text
    assert r.json()["latency_s"] == pytest.approx(delay / 48_000, abs=0.1 / 48_000)
    assert "12.75 ms on Mic A" in client.get("/songs/tune/record").text
    plan = client.get("/songs/tune/record/plan", params={"track": "Vocal", "bar": 2,
                                                         "device": "Mic A"}).json()
    assert plan["calibrated"] and plan["latency_s"] == pytest.approx(delay / 48_000,
                                                                     abs=1e-5)
    take = np.random.default_rng(2).standard_normal((1, 3 * 48_000)) * 0.1
    r = client.post("/songs/tune/record", params={"track": "Vocal", "bar": 2,
                                                  "pre_roll_s": 1.0, "device": "Mic A"},
                    content=wav(take), headers={"X-Song-Revision": revision(songs)})
    assert r.status_code == 201, r.text
    took = r.json()
    assert took["offset_s"] == pytest.approx(1.0 + delay / 48_000, abs=1e-5)
    text = (songs / "tune" / "song.toml").read_text()
    assert text.endswith('\n[[track]]\nname = "Vocal"\ntakes = [\n    { name = "take 1", file = '
                         f'"audio/vocal-take-1.flac", start = "2:1", offset_s = '
                         f'{round(1.0 + delay / 48_000, 9)!r} }},\n]\n')
    stored, sr = sf.read(str(songs / "tune" / "audio" / "vocal-take-1.flac"))
    assert sr == 48_000 and np.max(np.abs(stored - take[0])) < 1e-5  # 24-bit FLAC


@pytest.mark.parametrize(("params", "body", "status", "message"), [
    ({"track": "Nope", "bar": 2}, None, 422, "no track 'Nope'"),
    ({"track": "Pad", "bar": 2}, None, 422, "plays an instrument"),
    ({"track": "Vocal", "bar": 40}, None, 422, "bar 40 is outside the song"),
    ({"track": "Vocal", "bar": "x"}, None, 422, "bar must be a whole number"),
    ({"track": "Vocal", "bar": 2}, b"garbage" * 100, 415, "cannot be decoded as audio"),
    ({"track": "Vocal", "bar": 2}, b"\0" * 2_000_001, 413, "over the 2000000-byte limit"),
])
def test_bad_recordings_are_4xx_in_one_line_and_change_nothing(
        client: TestClient, songs: Path, params: dict, body: bytes | None, status: int,
        message: str) -> None:
    before = (songs / "tune" / "song.toml").read_bytes()
    content = body if body is not None else wav(np.zeros((1, 48_000)) + 0.1)
    r = client.post("/songs/tune/record", params=params, content=content,
                    headers={"X-Song-Revision": revision(songs)})
    assert r.status_code == status, r.text
    line = r.json()["error"]["message"]
    assert message in line and "\n" not in line
    assert (songs / "tune" / "song.toml").read_bytes() == before
    assert not (songs / "tune" / "audio").exists()


def test_unknown_song_is_404_and_bad_calibration_is_refused(client: TestClient) -> None:
    assert client.post("/songs/nope/record", params={"track": "Vocal"},
                       content=b"x").status_code == 404
    noise = np.random.default_rng(1).standard_normal((1, 48_000)) * 0.1
    r = client.post("/record/calibrate", content=wav(noise))
    assert r.status_code == 422 and "no clear probe" in r.json()["error"]["message"]
    assert client.post("/record/calibrate", content=b"nonsense").status_code == 415
    assert client.get("/record/probe.wav", params={"rate": 12345}).status_code == 415
    r = client.get("/record/probe.wav", params={"rate": 48000})
    x, sr = sf.read(io.BytesIO(r.content))
    assert sr == 48_000 and np.allclose(x, probe(48_000), atol=1e-7)


def test_a_take_needs_the_pages_revision_and_a_stale_one_is_409(client: TestClient,
                                                                 songs: Path) -> None:
    before = (songs / "tune" / "song.toml").read_bytes()
    params = {"track": "Vocal", "bar": 2, "pre_roll_s": 0.0}
    body = wav(np.zeros((1, 48_000)) + 0.1)
    r = client.post("/songs/tune/record", params=params, content=body)
    assert r.status_code == 428 and "revision" in r.json()["error"]["message"]
    r = client.post("/songs/tune/record", params={**params, "base": "0" * 64}, content=body)
    assert r.status_code == 409, r.text
    assert (songs / "tune" / "song.toml").read_bytes() == before
    assert not (songs / "tune" / "audio").exists() or not any(
        (songs / "tune" / "audio").iterdir())
    r = client.post("/songs/tune/record", params={**params, "base": revision(songs)},
                    content=body)
    assert r.status_code == 201, r.text
    assert r.json()["revision"] == revision(songs)
