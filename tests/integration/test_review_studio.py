"""The review studio over real renders and a real SQLite database: versions, comments that
keep bar:beat across a tempo change, loudness-matched A/B, statuses, share links, uploads,
and bad input (404/401/403/413/415)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyloudnorm
import pytest
import soundfile as sf

from mixdown.core.errors import MixdownError, ParameterError
from mixdown.services import review as rv
from review_songs import make_song


@dataclass
class World:
    songs: Path
    studio: rv.Studio
    v1: rv.Version
    v2: rv.Version
    comment: rv.Comment
    stages: list[tuple[float, str]]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    songs = tmp_path_factory.mktemp("songs")
    make_song(songs, "alpha", tempo=180, vocal_db=-6)
    make_song(songs, "beta", title="Other")
    studio = rv.open_studio(songs)
    stages: list[tuple[float, str]] = []
    v1 = rv.render_version(studio, "alpha", "first mix",
                           progress=lambda f, s: stages.append((f, s)))
    comment = rv.add_comment(studio, v1, bar=17, beat=1, text="vocal <b>too loud</b>",
                             author="artist")
    make_song(songs, "alpha", tempo=200, vocal_db=-8)  # faster, and the vocal down 2 dB
    v2 = rv.render_version(studio, "alpha", "faster, vocal down")
    yield World(songs, studio, v1, v2, comment, stages)
    studio.close()


def _audio(world: World, v: rv.Version) -> tuple[np.ndarray, int]:
    data, sr = sf.read(rv.version_audio_path(world.studio, v), dtype="float64")
    return data, sr


def test_versions_are_numbered_and_kept(world: World) -> None:
    vs = rv.list_versions(world.studio, "alpha")
    assert [(v.number, v.note, v.tempo) for v in vs] == [
        (1, "first mix", 180.0), (2, "faster, vocal down", 200.0)]
    assert rv.get_version(world.studio, "alpha", 2) == vs[1]
    assert rv.get_version(world.studio, "alpha", "v1") == vs[0]
    assert "tempo = 180" in vs[0].song_toml and "tempo = 200" in vs[1].song_toml
    # the stored figures are the audio's: an independent BS.1770 meter agrees
    data, sr = _audio(world, world.v1)
    assert pyloudnorm.Meter(sr).integrated_loudness(data) == pytest.approx(
        world.v1.integrated_lufs, abs=0.1)
    assert world.v1.duration_s == pytest.approx(len(data) / sr)
    assert len(data) / sr == pytest.approx(17 * 4 * 60 / 180 + 0.5, abs=0.01)
    qc = rv.version_qc(world.studio, world.v1)
    assert qc["integrated_lufs"] == pytest.approx(world.v1.integrated_lufs)
    fractions = [f for f, _ in world.stages]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert {s for _, s in world.stages} == {"rendering", "measuring", "saving", "done"}
    assert not list((world.studio.store / "tmp").iterdir())


def test_comment_keeps_bar_beat_and_moves_in_seconds(world: World) -> None:
    assert (world.comment.bar, world.comment.beat) == (17, 1.0)
    assert world.comment.seconds == pytest.approx(64 * 60 / 180)
    [on_v2] = rv.list_comments(world.studio, world.v2)
    assert (on_v2.bar, on_v2.beat, on_v2.version) == (17, 1.0, 1)
    assert on_v2.seconds == pytest.approx(64 * 60 / 200)
    assert on_v2.text == "vocal <b>too loud</b>"  # stored as typed; escaping is the page's
    [on_v1] = rv.list_comments(world.studio, world.v1)
    assert on_v1.seconds == pytest.approx(64 * 60 / 180)


def test_bar_grid_and_timing_follow_each_version(world: World) -> None:
    for v, bpm in ((world.v1, 180), (world.v2, 200)):
        grid = rv.bar_grid(world.studio, v)
        assert [b.bar for b in grid] == list(range(1, 19))  # 17 bars, the 18th starts the tail
        assert grid[16].seconds == pytest.approx(64 * 60 / bpm)
        assert all(b.beat_s == pytest.approx(60 / bpm) for b in grid)
        timing = rv.version_timing(world.studio, v)
        assert timing.bar_beat(grid[16].seconds) == (17, pytest.approx(1.0))
    sections = rv.sections(world.studio, world.v2)
    assert [(s.name, s.bar, s.seconds) for s in sections] == [
        ("Verse", 1, 0.0), ("Chorus 2", 9, pytest.approx(32 * 60 / 200))]


def test_ab_gains_match_the_measured_loudness(world: World) -> None:
    cmp = rv.compare(world.studio, world.v1, world.v2)
    a, sr = _audio(world, world.v1)
    b, _ = _audio(world, world.v2)
    meter = pyloudnorm.Meter(sr)
    la, lb = meter.integrated_loudness(a), meter.integrated_loudness(b)
    assert la - lb > 1.0  # the vocal went down 2 dB
    assert cmp.b.gain_db - cmp.a.gain_db == pytest.approx(la - lb, abs=0.1)
    matched_a = meter.integrated_loudness(a * 10 ** (cmp.a.gain_db / 20))
    matched_b = meter.integrated_loudness(b * 10 ** (cmp.b.gain_db / 20))
    assert matched_a == pytest.approx(matched_b, abs=0.1)
    assert max(cmp.a.gain_db, cmp.b.gain_db) == 0.0  # the louder is turned down
    assert cmp.loudness_difference_db == pytest.approx(lb - la, abs=0.1)
    texts = [c.text for c in cmp.changes]
    assert "Song: tempo 180 -> 200" in texts
    assert "Vocal: volume -2 dB (-6 -> -8 dB)" in texts
    assert cmp.as_dict()["b"]["gain_db"] == cmp.b.gain_db


def test_platform_preview(world: World) -> None:
    p = rv.platform_preview_gain(world.v1, "spotify")
    assert p.target_lufs == -14.0
    assert p.gain_db == pytest.approx(-14.0 - world.v1.integrated_lufs, abs=0.051)
    assert p.plays_at_lufs == pytest.approx(-14.0, abs=0.06)
    with pytest.raises(MixdownError):
        rv.platform_preview_gain(world.v1, "no-such-platform")


def test_peaks_and_curve_are_the_versions(world: World) -> None:
    data, _ = _audio(world, world.v2)
    p = rv.peaks(world.studio, world.v2)
    spp = p.samples_per_point
    assert p.points == -(-len(data) // spp)
    mono_max = data.max(axis=1)
    i = p.points // 2
    assert p.max[i] == pytest.approx(mono_max[i * spp:(i + 1) * spp].max(), abs=2 / 32767)
    coarse = rv.peaks(world.studio, world.v2, points_per_second=10)
    assert coarse.points_per_second == pytest.approx(10)
    assert rv.peaks(world.studio, world.v2, points_per_second=10) is coarse  # cached
    body = rv.peaks_json(world.studio, world.v2, 10)
    assert json.loads(body) == coarse.as_dict(8)
    assert rv.peaks_json(world.studio, world.v2, 10) is body
    curve = rv.loudness_curve(world.studio, world.v2)
    assert np.nanmax(curve.lufs) == pytest.approx(
        rv.version_qc(world.studio, world.v2)["max_short_term_lufs"], abs=0.3)


def test_statuses_and_the_approved_version(world: World) -> None:
    studio = world.studio
    v = rv.set_status(studio, world.v1, "needs feedback", by="producer")
    assert (v.status, v.status_by) == ("needs_feedback", "producer")
    rv.set_status(studio, world.v1, "approved", by="label")
    assert rv.approved_version(studio, "alpha").number == 1
    history = rv.status_history(studio, world.v1)
    assert [(h.status, h.by) for h in history] == [("needs_feedback", "producer"),
                                                   ("approved", "label")]
    summary = {s.name: s for s in rv.list_songs(studio)}
    assert summary["alpha"].approved_version == 1
    assert summary["alpha"].last_version == 2 and summary["alpha"].versions == 2
    assert summary["beta"].versions == 0 and summary["beta"].title == "Other"
    with pytest.raises(ParameterError):
        rv.set_status(studio, world.v1, "shipped", by="x")


def test_replies_and_resolve(world: World) -> None:
    studio = world.studio
    c = rv.add_comment(studio, world.v2, bar=9, beat=1, end_bar=11, end_beat=1,
                       text="chorus drags", author="label")
    assert c.end_seconds - c.seconds == pytest.approx(8 * 60 / 200)
    reply = rv.add_comment(studio, world.v2, bar=9, beat=1, text="fixed in v3",
                           author="producer", parent_id=c.id)
    rv.resolve_comment(studio, "alpha", c.id, by="label")
    listed = {x.id: x for x in rv.list_comments(studio, world.v2)}
    assert listed[c.id].resolved and listed[c.id].resolved_by == "label"
    assert listed[reply.id].parent_id == c.id
    assert c.id not in {x.id for x in rv.list_comments(studio, world.v1)}  # made on v2
    for bad in ({"bar": 99, "beat": 1}, {"bar": 3, "beat": 5}, {"bar": 0, "beat": 1}):
        with pytest.raises(ParameterError):
            rv.add_comment(studio, world.v2, text="x", author="a", **bad)
    with pytest.raises(ParameterError):
        rv.add_comment(studio, world.v2, bar=3, beat=1, text="  ", author="a")
    with pytest.raises(ParameterError):
        rv.add_comment(studio, world.v2, bar=5, beat=1, end_bar=4, text="x", author="a")
    with pytest.raises(rv.NotFound):
        rv.add_comment(studio, world.v2, bar=5, beat=1, text="x", author="a",
                       parent_id=999_999)


def test_share_links(world: World) -> None:
    studio = world.studio
    link = rv.create_share_link(studio, "alpha", "reviewer", label="label A&R")
    grant = rv.check_token(studio, link.token)
    assert (grant.song, grant.role) == ("alpha", "reviewer")
    assert grant.allows("comment") and grant.allows("status") and not grant.allows("render")
    with pytest.raises(rv.Forbidden) as refused:
        grant.require("render")
    assert refused.value.http_status == 403
    with pytest.raises(rv.Forbidden):
        grant.require("listen", song="beta")
    with pytest.raises(rv.TokenMissing) as missing:
        rv.check_token(studio, None)
    assert missing.value.http_status == 401
    with pytest.raises(rv.Forbidden):
        rv.check_token(studio, link.token + "x")
    rv.revoke_share_link(studio, "alpha", link.id)
    with pytest.raises(rv.Forbidden, match="revoked"):
        rv.check_token(studio, link.token)
    [listed] = [x for x in rv.list_share_links(studio, "alpha") if x.id == link.id]
    assert listed.revoked and listed.token is None
    with studio.db.transaction() as s:  # only the hash is stored
        from sqlalchemy import text
        stored = s.execute(text("SELECT token_hash FROM review_share_links")).scalars().all()
    assert link.token not in stored and all(len(h) == 64 for h in stored)


def _wav_bytes(seconds: float, level_db: float) -> bytes:
    t = np.arange(int(48000 * seconds)) / 48000
    tone = 10 ** (level_db / 20) * np.sin(2 * np.pi * 997 * t)
    buf = io.BytesIO()
    sf.write(buf, np.stack([tone, tone], axis=1), 48000, format="WAV", subtype="PCM_24")
    return buf.getvalue()


def test_reference_upload_and_compare(world: World) -> None:
    studio = world.studio
    ref = rv.add_reference(studio, "alpha", "../../ref track.wav", _wav_bytes(5, -20))
    assert ref.name == "ref track.wav"
    assert ref.integrated_lufs == pytest.approx(-20.0, abs=0.15)
    assert rv.reference_audio_path(studio, ref).is_relative_to(studio.store)
    assert rv.get_reference(studio, "alpha", ref.id) == ref
    cmp = rv.compare(studio, world.v1, ref)
    assert cmp.changes == ()
    assert (world.v1.integrated_lufs + cmp.a.gain_db) == pytest.approx(
        ref.integrated_lufs + cmp.b.gain_db, abs=0.1)
    with pytest.raises(rv.UploadTooLarge) as big:
        rv.add_reference(studio, "alpha", "big.wav", _wav_bytes(1, -20), max_bytes=1000)
    assert big.value.http_status == 413
    for name, data in (("notes.txt", b"hello"), ("fake.wav", b"RIFF" + b"\0" * 200),
                       ("empty.flac", b"")):
        with pytest.raises(rv.UnsupportedUpload) as bad:
            rv.add_reference(studio, "alpha", name, data)
        assert bad.value.http_status == 415
    assert [r.id for r in rv.list_references(studio, "alpha")] == [ref.id]
    assert not list((studio.store / "tmp").iterdir())


@pytest.mark.parametrize("name", ["../alpha", "..", "alpha/../beta", "/etc", "%2e%2e",
                                  "nosuch", ".mixdown-studio"])
def test_unknown_or_traversing_song_is_404(world: World, name: str) -> None:
    studio = world.studio
    calls = [lambda: rv.list_versions(studio, name), lambda: rv.get_version(studio, name, 1),
             lambda: rv.render_version(studio, name, "x"),
             lambda: rv.add_reference(studio, name, "a.wav", _wav_bytes(1, -20)),
             lambda: rv.create_share_link(studio, name), lambda: rv.song_summary(studio, name)]
    for call in calls:
        with pytest.raises(rv.NotFound) as err:
            call()
        assert err.value.http_status == 404


@pytest.mark.parametrize("number", [0, 3, -1, "abc", "v", "1.5", True, 10**12])
def test_unknown_version_is_404(world: World, number: object) -> None:
    with pytest.raises(rv.NotFound):
        rv.get_version(world.studio, "alpha", number)  # type: ignore[arg-type]


def test_failed_render_keeps_nothing(world: World, tmp_path: Path) -> None:
    broken = world.songs / "broken"
    make_song(world.songs, "broken")
    text = (broken / "song.toml").read_text()
    (broken / "song.toml").write_text(text + '\n[[track]]\nname = "Gtr"\n'
                                      '[[track.clips]]\nfile = "audio/missing.wav"\n')
    with pytest.raises(MixdownError):
        rv.render_version(world.studio, "broken", "x")
    assert rv.list_versions(world.studio, "broken") == []
    assert not (world.studio.store / "versions" / "broken").exists()
    assert not list((world.studio.store / "tmp").iterdir())
