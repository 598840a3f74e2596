"""The mixer's routes over HTTP (the app in-process under TestClient, a real songs folder,
real renders): each kind of change written to song.toml with only its value changed and the
comments kept, one undo step each, refused changes (the checker's message, the file's bytes
unchanged), the render job's meters, and reviewers kept out."""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from mixdown.io.project import load_project
from mixdown.server import ServeConfig, create_app
from mixdown.server.security import CSRF_COOKIE
from mixdown.services import review
from mixdown.services.history import current_revision
from mixer_song import make_mixer_song

PAD = {"kind": "track", "name": "Pad"}


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    folder = tmp_path / "songs"
    make_mixer_song(folder, "mix")
    c = TestClient(create_app(ServeConfig.from_options(folder)), follow_redirects=False)
    c.get("/static/studio.css")
    c.headers["X-CSRF-Token"] = c.cookies.get(CSRF_COOKIE) or ""
    c.song = folder / "mix"  # type: ignore[attr-defined]
    return c


def _toml(c: TestClient) -> Path:
    return c.song / "song.toml"  # type: ignore[attr-defined,no-any-return]


def _change(c: TestClient, **body: object):  # type: ignore[no-untyped-def]
    rev = current_revision(c.song)  # type: ignore[attr-defined]
    return c.post("/songs/mix/mixer/change", json=body, headers={"X-Song-Revision": rev})


def _diff(before: str, after: str) -> list[tuple[str, str]]:
    a, b = before.splitlines(), after.splitlines()
    assert len(a) == len(b), "an edit added or removed lines"
    return [(x, y) for x, y in zip(a, b, strict=True) if x != y]


def test_the_page_shows_every_strip_and_param(client: TestClient) -> None:
    page = client.get("/songs/mix/mixer")
    assert page.status_code == 200
    assert 'data-song-edit="/songs/mix"' in page.text and "data-undo" in page.text
    state = client.get("/api/songs/mix/mixer").json()
    assert state["revision"] == current_revision(client.song)  # type: ignore[attr-defined]
    keys = [s["key"] for s in state["view"]["strips"]]
    assert keys == ["track:Pad", "track:Keys", "bus:Space", "master:master"]
    pad = state["view"]["strips"][0]
    assert pad["volume_db"] == -6.0 and pad["pan"] == -0.25
    assert pad["sends"] == [{"to": "Space", "level_db": -12.0, "pre_fader": False}]
    lowpass = next(d for d in pad["devices"] if d["type"] == "lowpass")
    cutoff = next(p for p in lowpass["params"] if p["name"] == "cutoff_hz")
    assert cutoff["value"] == 12000.0 and cutoff["unit"] == "Hz" and cutoff["set"]
    assert (cutoff["min"], cutoff["max"]) == (10.0, 20000.0)
    slope = next(p for p in lowpass["params"] if p["name"] == "slope_db")
    assert slope["set"] is False and slope["value"] == slope["default"]
    assert pad["devices"][0]["kind"] == "instrument"  # the synth, its params editable too
    assert "lowpass" in state["view"]["device_types"] and "synth" not in state["view"][
        "device_types"]
    assert "spotify" in state["targets"]
    song = client.get("/songs/mix")
    assert 'href="/songs/mix/mixer"' in song.text


def test_a_fader_change_writes_only_that_number(client: TestClient) -> None:
    before = _toml(client).read_text()
    r = _change(client, op="set", strip=PAD, field="volume_db", value=-4.5)
    assert r.status_code == 200, r.text
    assert r.json()["label"] == "Pad volume -4.5 dB" and r.json()["can_undo"]
    assert _diff(before, _toml(client).read_text()) == [
        ("volume_db = -6.0      # the fader", "volume_db = -4.5      # the fader")]
    undo = client.post("/songs/mix/undo", headers={"X-Song-Revision": r.json()["revision"]})
    assert undo.status_code == 200 and _toml(client).read_text() == before


@pytest.mark.parametrize(("body", "check"), [
    ({"op": "set", "strip": PAD, "field": "pan", "value": 0.5},
     lambda p: p.track("Pad").pan == 0.5),
    ({"op": "set", "strip": PAD, "field": "mute", "value": True},
     lambda p: p.track("Pad").mute),
    ({"op": "set", "strip": {"kind": "track", "name": "Keys"}, "field": "solo",
      "value": True}, lambda p: p.track("Keys").solo),
    ({"op": "set", "strip": {"kind": "bus", "name": "Space"}, "field": "phase_invert",
      "value": True}, lambda p: p.bus("Space").phase_invert),
    ({"op": "send", "strip": PAD, "to": "Space", "level_db": -7.5},
     lambda p: p.track("Pad").sends[0].level_db == -7.5),
    ({"op": "send", "strip": {"kind": "track", "name": "Keys"}, "to": "Space",
      "level_db": -20.0}, lambda p: p.track("Keys").sends[0].to == "Space"),
    ({"op": "remove_send", "strip": PAD, "to": "Space"}, lambda p: not p.track("Pad").sends),
    ({"op": "param", "strip": PAD, "device": 0, "param": "cutoff_hz", "value": 800},
     lambda p: p.track("Pad").devices[0].params["cutoff_hz"] == 800),
    ({"op": "param", "strip": PAD, "device": 0, "param": "slope_db", "value": 24},
     lambda p: p.track("Pad").devices[0].params["slope_db"] == 24),
    ({"op": "param", "strip": PAD, "device": "instrument", "param": "preset",
      "value": "keys"}, lambda p: p.track("Pad").instrument.params["preset"] == "keys"),
    ({"op": "bypass", "strip": PAD, "device": 0, "value": True},
     lambda p: p.track("Pad").devices[0].bypass),
    ({"op": "add_device", "strip": {"kind": "bus", "name": "Space"}, "type": "compressor"},
     lambda p: [d.type for d in p.bus("Space").devices] == ["reverb", "compressor"]),
    ({"op": "remove_device", "strip": PAD, "device": 0}, lambda p: not p.track("Pad").devices),
    ({"op": "set", "strip": {"kind": "master"}, "field": "volume_db", "value": -1.5},
     lambda p: p.master.volume_db == -1.5),
    ({"op": "set", "strip": {"kind": "master"}, "field": "target", "value": "spotify"},
     lambda p: p.master.target == "spotify"),
    ({"op": "set", "strip": {"kind": "master"}, "field": "ceiling_dbtp", "value": -2.0},
     lambda p: p.master.ceiling_dbtp == -2.0),
])
def test_each_change_is_one_undoable_step_keeping_comments(client: TestClient, body, check
                                                           ) -> None:  # type: ignore[no-untyped-def]
    before = _toml(client).read_text()
    comments = [line.split("#", 1)[1] for line in before.splitlines() if "#" in line]
    r = _change(client, **body)
    assert r.status_code == 200, r.text
    after = _toml(client).read_text()
    assert check(load_project(client.song))  # type: ignore[attr-defined]
    assert [line.split("#", 1)[1] for line in after.splitlines() if "#" in line] == comments
    h = client.get("/api/songs/mix/history").json()
    assert len(h["steps"]) == 1 and h["position"] == 1
    client.post("/songs/mix/undo", headers={"X-Song-Revision": r.json()["revision"]})
    assert _toml(client).read_text() == before


def test_moving_a_device_reorders_the_chain(client: TestClient) -> None:
    assert _change(client, op="add_device", strip=PAD, type="compressor").status_code == 200
    r = _change(client, op="move_device", strip=PAD, device=1, to=0)
    assert r.status_code == 200, r.text
    assert [d.type for d in load_project(client.song).track("Pad").devices] == [  # type: ignore[attr-defined]
        "compressor", "lowpass"]


@pytest.mark.parametrize(("body", "message"), [
    ({"op": "param", "strip": PAD, "device": 0, "param": "cutoff_hz", "value": 99999},
     "cutoff_hz: must be <= 20000, got 99999"),
    ({"op": "param", "strip": PAD, "device": 0, "param": "slope_db", "value": 7},
     "slope_db"),
    ({"op": "param", "strip": PAD, "device": 0, "param": "cutof_hz", "value": 100},
     "no parameter 'cutof_hz'"),
    ({"op": "send", "strip": {"kind": "track", "name": "Keys"}, "to": "Nowhere",
      "level_db": -3.0}, "no bus 'Nowhere'"),
    ({"op": "set", "strip": PAD, "field": "volume_db", "value": 30.0}, "volume_db"),
    ({"op": "set", "strip": PAD, "field": "pan", "value": "left"}, "pan must be a number"),
    ({"op": "set", "strip": PAD, "field": "output", "value": "Space"}, "no field 'output'"),
    ({"op": "set", "strip": {"kind": "track", "name": "Bass"}, "field": "mute",
      "value": True}, "no track 'Bass'"),
    ({"op": "set", "strip": {"kind": "master"}, "field": "target", "value": "spotfy"},
     "spotify"),
    ({"op": "add_device", "strip": PAD, "type": "reverbb"}, "reverb"),
    ({"op": "remove_device", "strip": PAD, "device": 5}, "no device #6"),
    ({"op": "explode", "strip": PAD}, "unknown mixer change 'explode'"),
])
def test_a_refused_change_leaves_the_file_as_it_was(client: TestClient, body, message
                                                    ) -> None:  # type: ignore[no-untyped-def]
    before = _toml(client).read_bytes()
    r = _change(client, **body)
    assert r.status_code == 422, r.text
    assert message in r.json()["error"]["message"]
    assert _toml(client).read_bytes() == before
    assert client.get("/api/songs/mix/history").json()["steps"] == []


def test_stale_and_missing_revisions_are_refused(client: TestClient) -> None:
    rev = current_revision(client.song)  # type: ignore[attr-defined]
    assert _change(client, op="set", strip=PAD, field="mute", value=True).status_code == 200
    before = _toml(client).read_bytes()
    stale = client.post("/songs/mix/mixer/change", headers={"X-Song-Revision": rev},
                        json={"op": "set", "strip": PAD, "field": "solo", "value": True})
    assert stale.status_code == 409 and "changed since" in stale.json()["error"]["message"]
    missing = client.post("/songs/mix/mixer/change",
                          json={"op": "set", "strip": PAD, "field": "solo", "value": True})
    assert missing.status_code == 428
    assert _toml(client).read_bytes() == before


def _wait_job(client: TestClient, job_id: int) -> dict:  # type: ignore[type-arg]
    jobs = client.app.state.jobs  # type: ignore[attr-defined]
    deadline = time.monotonic() + 600
    while jobs.get(job_id).state not in ("done", "failed"):
        assert time.monotonic() < deadline, "the render did not finish"
        time.sleep(0.05)
    job = jobs.get(job_id)
    assert job.state == "done", job.message
    return job.result  # type: ignore[no-any-return]


def test_render_meters_every_strip_and_serves_the_mix(client: TestClient) -> None:
    r = client.post("/songs/mix/mixer/render")
    assert r.status_code == 202
    result = _wait_job(client, r.json()["job"])
    meters = result["meters"]["strips"]
    assert set(meters) == {"track:Pad", "track:Keys", "bus:Space", "master:master"}
    assert all(-60 < m["peak_dbfs"] < 0 for m in meters.values())
    state = client.get("/api/songs/mix/mixer").json()
    assert state["meters"]["revision"] == state["revision"]
    audio = client.get(result["audio"])
    assert audio.status_code == 200 and audio.content[:4] == b"RIFF"
    assert client.get("/songs/mix/mixer/preview/" + "0" * 64 + ".wav").status_code == 404
    part = client.post("/songs/mix/mixer/render", json={"section": "Chorus"})
    quick = _wait_job(client, part.json()["job"])
    assert quick["meters"]["section"] == "Chorus" and quick["audio"] != result["audio"]
    assert client.get(quick["audio"]).status_code == 200
    assert client.get("/api/songs/mix/mixer").json()["sections"] == ["Verse", "Chorus"]
    assert client.get("/songs/mix/mixer/preview/..%2Fsong.toml").status_code == 404


def test_a_reviewer_sees_no_mixer(client: TestClient, tmp_path: Path) -> None:
    studio = review.open_studio(tmp_path / "songs")
    try:
        link = review.create_share_link(studio, "mix", "reviewer")
    finally:
        studio.close()
    auth = {"Authorization": f"Bearer {link.token}",
            "X-Song-Revision": current_revision(client.song)}  # type: ignore[attr-defined]
    before = _toml(client).read_bytes()
    assert client.get("/songs/mix/mixer", headers=auth).status_code == 403
    assert client.get("/api/songs/mix/mixer", headers=auth).status_code == 403
    assert client.post("/songs/mix/mixer/change", headers=auth, json={
        "op": "set", "strip": PAD, "field": "mute", "value": True}).status_code == 403
    assert client.post("/songs/mix/mixer/render", headers=auth).status_code == 403
    assert _toml(client).read_bytes() == before
    page = client.get("/songs/mix", headers=auth)
    assert page.status_code == 200 and "/mixer" not in page.text


def test_a_song_broken_outside_is_shown_and_can_be_undone(client: TestClient) -> None:
    good = _toml(client).read_text()
    assert client.get("/songs/mix/mixer").status_code == 200  # the page saw the good file
    _toml(client).write_text(good.replace("pan = -0.25", "pan = -7"))
    page = client.get("/songs/mix/mixer")
    assert page.status_code == 200 and "data-undo" in page.text
    state = client.get("/api/songs/mix/mixer").json()
    assert state["view"] is None and "pan" in state["error"]
    h = client.get("/api/songs/mix/history").json()
    assert [s["label"] for s in h["steps"]] == ["edited outside the studio"]
    r = client.post("/songs/mix/undo", headers={"X-Song-Revision": state["revision"]})
    assert r.status_code == 200 and _toml(client).read_text() == good
