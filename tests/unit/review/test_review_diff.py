"""The musical diff between two song.toml snapshots."""

from __future__ import annotations

from mixdown.review.diff import diff_projects
from mixdown.review.timing import parse_snapshot
from review_songs import song_text

EXTRA_TRACK = """
[[track]]
name = "Bass"
instrument = { type = "synth", preset = "bass" }

[[track.clips]]
start = "5:1"
length = 4
notes = [["A1", 0, 1]]
"""


def texts(old: str, new: str) -> list[str]:
    return [c.text for c in diff_projects(parse_snapshot(old), parse_snapshot(new))]


def test_same_song_has_no_changes() -> None:
    assert texts(song_text(), song_text()) == []


def test_volume_and_device_parameter() -> None:
    got = texts(song_text(vocal_db=-6, threshold=-18), song_text(vocal_db=-8, threshold=-20))
    assert "Vocal: volume -2 dB (-6 -> -8 dB)" in got
    assert "Vocal: compressor threshold_db -18 -> -20" in got
    assert len(got) == 2


def test_whole_song_tempo() -> None:
    assert texts(song_text(tempo=120), song_text(tempo=124)) == ["Song: tempo 120 -> 124"]


def test_section_tempo() -> None:
    new = song_text(tempo=120).replace(
        "[[marker]]", '[[song.tempo_map]]\nat = "9:1"\nbpm = 124\n\n[[marker]]', 1)
    assert texts(song_text(tempo=120), new) == ["Chorus 2: tempo 120 -> 124"]


def test_track_added_and_removed() -> None:
    assert texts(song_text(), song_text() + EXTRA_TRACK) == ["Bass: track added"]
    assert texts(song_text() + EXTRA_TRACK, song_text()) == ["Bass: track removed"]


def test_clip_moved_and_section_moved() -> None:
    old = song_text() + EXTRA_TRACK
    new = (song_text() + EXTRA_TRACK.replace('start = "5:1"', 'start = "7:1"')).replace(
        'at = "9:1"', 'at = "10:1"')
    got = texts(old, new)
    assert "Bass: clip #1 moved 5:1 -> 7:1" in got
    assert "Chorus 2: section moved 9:1 -> 10:1" in got


def test_as_dict_is_plain() -> None:
    change = diff_projects(parse_snapshot(song_text(tempo=120)),
                           parse_snapshot(song_text(tempo=124)))[0]
    assert change.as_dict() == {"subject": "Song", "kind": "tempo",
                                "text": "Song: tempo 120 -> 124", "old": 120.0, "new": 124.0}
