"""The render cache: a render with nothing changed upstream copies the last output (the same
bytes as a clean render), any change upstream renders again, a file changed in place is never
handed out, and renders the cache does not cover (stems, parts, ``cache=False``) never use it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from mixdown.services.render import render_project
from signals import sine, write_wav

SONG = """[song]
title = "cache"
tempo = 120.0
sample_rate = 48000
length = "6.0s"

[[track]]
name = "Tone"
volume_db = {volume}
clips = [{{ start = 0.0, file = "audio/tone.wav", length = 12.0 }}]
devices = [{{ type = "eq", bell1_hz = 800.0, bell1_gain_db = {bell}, bell1_q = 1.0 }}]

[[track]]
name = "Low"
clips = [{{ start = 2.0, file = "audio/low.wav", length = 8.0 }}]

[master]
target_lufs = -16.0
ceiling_dbtp = -1.0
"""


def write_song(root: Path, volume: float = -6.0, bell: float = 0.0) -> Path:
    (root / "song.toml").write_text(SONG.format(volume=volume, bell=bell))
    return root


@pytest.fixture
def song(tmp_path: Path) -> Path:
    root = tmp_path / "song"
    rng = np.random.default_rng(3)
    tone = sine(440.0, 6.0, channels=2, amp=0.5) + 0.05 * rng.standard_normal((2, 288_000))
    write_wav(root / "audio" / "tone.wav", tone)
    write_wav(root / "audio" / "low.wav", sine(80.0, 6.0, channels=2, amp=0.6))
    return write_song(root)


def test_an_unchanged_render_is_copied_and_identical_to_a_clean_one(song: Path,
                                                                   tmp_path: Path) -> None:
    first = render_project(song, tmp_path / "a.wav")
    assert first.cache is not None and first.cache["output"] == "written"
    second = render_project(song, tmp_path / "b.wav")
    assert second.cache is not None and second.cache["output"] == "read"
    clean = render_project(song, tmp_path / "clean.wav", cache=False)
    assert clean.cache is None
    data = (tmp_path / "clean.wav").read_bytes()
    assert (tmp_path / "a.wav").read_bytes() == data == (tmp_path / "b.wav").read_bytes()
    # the report and the QC sidecar say what a render would say
    assert second.master is not None and first.master is not None
    assert second.master["output_lufs"] == pytest.approx(first.master["output_lufs"], abs=0)
    assert second.master["output_lufs"] == pytest.approx(-16.0, abs=0.2)
    assert second.summary == first.summary and second.frames == first.frames
    qc = json.loads((tmp_path / "b.wav.qc.json").read_text())
    assert qc["file"] == str(tmp_path / "b.wav")
    assert qc["integrated_lufs"] == pytest.approx(first.qc["integrated_lufs"], abs=0)
    audio, sr = sf.read(tmp_path / "b.wav")
    assert sr == 48_000 and audio.shape == (first.frames, 2)


@pytest.mark.parametrize("edit", ["volume", "bell", "asset", "depth"])
def test_any_change_upstream_renders_again(song: Path, tmp_path: Path, edit: str) -> None:
    render_project(song, tmp_path / "a.wav")
    depth = None
    if edit == "volume":  # a fader: no node key changes, the mix does
        write_song(song, volume=-7.0)
    elif edit == "bell":
        write_song(song, bell=-3.0)
    elif edit == "asset":  # replaced on disk
        write_wav(song / "audio" / "low.wav", sine(90.0, 6.0, channels=2, amp=0.6))
    else:
        depth = 16
    again = render_project(song, tmp_path / "b.wav", bit_depth=depth)
    assert again.cache is not None and again.cache["output"] == "written"
    render_project(song, tmp_path / "clean.wav", bit_depth=depth, cache=False)
    assert (tmp_path / "b.wav").read_bytes() == (tmp_path / "clean.wav").read_bytes()
    assert (tmp_path / "a.wav").read_bytes() != (tmp_path / "b.wav").read_bytes()


def test_an_entry_changed_in_place_is_never_used(song: Path, tmp_path: Path) -> None:
    render_project(song, tmp_path / "a.wav")
    entries = list((song / ".mixdown" / "renders").glob("*.audio"))
    assert len(entries) == 1
    with entries[0].open("r+b") as f:  # the output file and the entry may share an inode
        f.seek(-6, 2)
        f.write(b"\x01\x02\x03\x04\x05\x06")
    again = render_project(song, tmp_path / "b.wav")
    assert again.cache is not None and again.cache["output"] == "written"
    render_project(song, tmp_path / "clean.wav", cache=False)
    assert (tmp_path / "b.wav").read_bytes() == (tmp_path / "clean.wav").read_bytes()


def test_stems_parts_and_no_cache_leave_it_alone(song: Path, tmp_path: Path) -> None:
    render_project(song, tmp_path / "a.wav")
    stems = render_project(song, tmp_path / "s.wav", stems=True)
    assert stems.cache is not None and stems.cache["output"] is None and stems.stems
    part = render_project(song, tmp_path / "p.wav", start_s=1.0, end_s=3.0)
    assert part.cache is not None and part.cache["output"] is None
    assert render_project(song, tmp_path / "n.wav", cache=False).cache is None
    assert len(list((song / ".mixdown" / "renders").glob("*.json"))) == 1
