"""The arrangement operations on real projects (a song.toml and audio files on disk), each
measured in a render: a split nulls against the unsplit clip, a moved clip's onset lands on
its new bar:beat to the sample, a trim keeps the audio in place, fade shapes have their
midpoint gains, an automation breakpoint moves the level by its dB."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from mixdown import load
from mixdown.core.errors import ModelError
from mixdown.services import arrangement as arr
from mixdown.services.history import apply_edit
from mixdown.services.render import render_audio
from signals import write_wav

SR = 48_000
TEMPO = 100.0  # 0.6 s per beat: 28_800 frames, 2.4 s per 4/4 bar
BEAT = 28_800

SONG = """\
# an arrangement test song
[song]
title = "Arrange"
tempo = 100
time_signature = [4, 4]
tail_s = 0.0

[[marker]]
name = "Verse"
at = "1:1"

# the vocal take
[[track]]
name = "Vox"
clips = [
  { start = "2:1", file = "audio/noise.wav" },  # the take
]

[[track]]
name = "Dub"

[[track]]
name = "Keys"
instrument = { type = "synth" }
clips = [{ start = "1:1", length = 8, notes = [
  { pitch = 60, start = 0, length = 1 },
  { pitch = 64, start = 2, length = 1.5 },
  { pitch = 67, start = 5, length = 2 },
] }]

[[track]]
name = "Drums"
instrument = { type = "drums" }

[[track.clips]]
start = "1:1"
bars = 3
pattern = { kick = "x... x... x... x...", hat = "..x. ..x. ..x. ..xX" }
"""


def noise(seconds: float, seed: int = 3) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal((1, round(seconds * SR))) * 0.1
            ).astype(np.float32)


@pytest.fixture
def song(tmp_path: Path) -> Path:
    folder = tmp_path / "song"
    write_wav(folder / "audio" / "noise.wav", noise(6.0))
    write_wav(folder / "audio" / "dc.wav", np.full((1, 4 * SR), 0.5, np.float32))
    (folder / "song.toml").write_text(SONG)
    return folder


def mix(project) -> np.ndarray:
    audio, sr = render_audio(project)
    assert sr == SR
    return audio


def only(project, *keep: str):
    """The project with every other track muted (so a render measures just these)."""
    from mixdown.services.edit import with_track

    for t in project.tracks:
        if t.name not in keep:
            project = with_track(project, t.name, mute=True)
    return project


def onset(x: np.ndarray) -> int:
    return int(np.flatnonzero(np.abs(x).max(axis=0) > 0)[0])


# -- positions ------------------------------------------------------------------------------


def test_positions_read_and_write_in_bar_beat(song: Path) -> None:
    p = load(song)
    assert arr.position_beats(p, "3:2.5") == pytest.approx(9.5)
    assert arr.format_position(p, 9.5) == "3:2.5"
    assert arr.format_position(p, 9.5, like=4.0) == 9.5
    assert arr.format_position(p, 4.0, like="1.5s") == "2.4s"
    for bad in ("0:1", "1:0", -1.0):
        with pytest.raises(ModelError, match="before the song start"):
            arr.position_beats(p, bad)


# -- clip operations, measured ---------------------------------------------------------------


@pytest.mark.parametrize("edit", [{}, {"gain_db": -3.0, "fade_in_s": 0.1, "fade_out_s": 0.2,
                                       "fade_out_shape": "s_curve", "offset_s": 0.25},
                                  {"stretch": 1.25}, {"reverse": True}])
def test_split_is_a_null_test_against_the_unsplit_clip(song: Path, edit: dict) -> None:
    from mixdown.services.edit import with_track

    p = only(load(song), "Vox")
    p = with_track(p, "Vox", clips=(arr._rebuild(p.track("Vox").clips[0], **edit),))
    before = mix(p)
    split = arr.split_clip(p, "Vox", 0, "3:2.5")
    a, b = split.track("Vox").clips
    assert (a.start, a.length, b.start) == ("2:1", 5.5, "3:2.5")
    assert b.offset_s == pytest.approx(edit.get("offset_s", 0.0)
                                       + 5.5 * 0.6 / edit.get("stretch", 1.0))
    assert (a.fade_out_s, b.fade_in_s) == (0.0, 0.0)
    after = mix(split)
    assert after.shape == before.shape
    assert np.max(np.abs(before)) > 0.1
    assert np.max(np.abs(after - before)) < 1e-6


def test_split_of_a_note_clip_keeps_the_notes_and_the_sound(song: Path) -> None:
    p = only(load(song), "Keys")
    before = mix(p)
    split = arr.split_clip(p, "Keys", 0, "2:1")  # between the notes (beat 4)
    a, b = split.track("Keys").clips
    assert [n.pitch for n in a.notes] == [60, 64] and [n.pitch for n in b.notes] == [67]
    assert (a.length, b.start, b.length, b.notes[0].start) == (4.0, "2:1", 4.0, 1.0)
    after = mix(split)
    assert np.max(np.abs(after - before)) < 1e-6


def test_split_and_trim_of_a_drum_pattern_keep_the_sound(song: Path) -> None:
    p = only(load(song), "Drums")
    before = mix(p)
    split = arr.split_clip(p, "Drums", 0, "2:2")  # 5 beats in: step 20, 4 into the bar
    a, b = split.track("Drums").clips
    assert (a.bars, a.length, b.start, b.length) == (None, 5.0, "2:2", 7.0)
    assert b.pattern == {"kick": "x... x... x... x...", "hat": "..x. ..x. ..xX ..x."}
    assert np.max(np.abs(mix(split) - before)) < 1e-6
    trimmed = arr.trim_clip(p, "Drums", 0, start="1:3", end="3:1")
    c = trimmed.track("Drums").clips[0]
    assert (c.start, c.bars, c.length) == ("1:3", None, 6.0)
    s, e = 2 * BEAT, 8 * BEAT
    after = mix(trimmed)
    # the same hits in place: only the ring of the hits cut off (before 1:3) is missing, so
    # the first beat correlates, and from a beat later the two renders are the same
    assert np.corrcoef(after[0, s:e], before[0, s:e])[0, 1] > 0.9999
    assert np.max(np.abs(after[:, s + BEAT:e] - before[:, s + BEAT:e])) < 1e-6
    assert not after[:, :s].any()
    with pytest.raises(ModelError, match="cut it on a step"):
        arr.split_clip(p, "Drums", 0, "2:2.1")


def test_a_moved_clip_starts_at_its_new_bar_beat_to_the_sample(song: Path) -> None:
    p = only(load(song), "Vox")
    for to, beats in (("4:3", 14.0), ("2:1.25", 4.25)):
        moved = arr.move_clip(p, "Vox", 0, to=to)
        assert moved.track("Vox").clips[0].start == to
        expected = round(beats * BEAT)
        assert abs(onset(mix(moved)) - expected) <= 1
    later = arr.move_clip(p, "Vox", 0, by_beats=4.0)
    assert later.track("Vox").clips[0].start == "3:1"
    assert abs(onset(mix(later)) - 8 * BEAT) <= 1


def test_positions_follow_the_tempo_and_meter_maps(song: Path) -> None:
    text = (song / "song.toml").read_text().replace(
        "time_signature = [4, 4]\n",
        "time_signature = [4, 4]\ntempo_map = [{ at = \"2:1\", bpm = 150 }]\n"
        "time_signatures = [{ bar = 3, signature = [3, 4] }]\n")
    (song / "song.toml").write_text(text)
    p = only(load(song), "Vox")
    moved = arr.move_clip(p, "Vox", 0, to="4:2")
    # bars 1-2 in 4/4 (8 beats), bar 3 in 3/4 (3 beats), one more beat: beat 12; the first
    # 4 beats at 100 bpm (2.4 s), the next 8 at 150 bpm (3.2 s): 5.6 s
    assert abs(onset(mix(moved)) - round(5.6 * SR)) <= 1
    assert arr.move_clip(moved, "Vox", 0, by_beats=3.0).track("Vox").clips[0].start == "5:2"


def test_move_to_another_track_of_the_same_kind(song: Path) -> None:
    p = load(song)
    moved = arr.move_clip(p, "Vox", 0, to="5:1", to_track="Dub")
    assert moved.track("Vox").clips == () and moved.track("Dub").clips[0].start == "5:1"
    with pytest.raises(ModelError, match="cannot hold an audio clip"):
        arr.move_clip(p, "Vox", 0, to_track="Keys")


def test_trim_keeps_the_audio_in_place(song: Path) -> None:
    p = only(load(song), "Vox")
    before = mix(p)[0]
    trimmed = arr.trim_clip(p, "Vox", 0, start="2:3", end="3:3")
    clip = trimmed.track("Vox").clips[0]
    assert (clip.start, clip.length) == ("2:3", 4.0)
    assert clip.offset_s == pytest.approx(1.2)
    after = mix(trimmed)[0]
    s, e = 6 * BEAT, 10 * BEAT
    assert not after[:s].any() and not after[e:].any()
    r = np.corrcoef(after[s:e], before[s:e])[0, 1]
    assert r > 0.9999
    assert np.max(np.abs(after[s:e] - before[s:e])) < 1e-6


def test_trim_of_a_note_clip_drops_and_cuts_notes(song: Path) -> None:
    p = load(song)
    t = arr.trim_clip(p, "Keys", 0, start="1:3", end="2:2.5")  # beats 2 .. 5.5
    c = t.track("Keys").clips[0]
    assert c.start == "1:3" and c.length == 3.5
    assert [(n.pitch, n.start, n.length) for n in c.notes] == [(64, 0.0, 1.5), (67, 3.0, 0.5)]


def test_duplicate_and_delete(song: Path) -> None:
    p = load(song)
    d = arr.duplicate_clip(p, "Keys", 0)
    a, b = d.track("Keys").clips
    assert b.start == "3:1" and b.notes == a.notes
    dv = arr.duplicate_clip(p, "Vox", 0)  # an audio clip without length: after its file end
    assert dv.track("Vox").clips[1].start == arr.format_position(p, 4 + 6.0 / 0.6)
    assert arr.delete_clip(d, "Keys", 1).track("Keys").clips == (a,)


FADE = 12_000


@pytest.mark.parametrize(("shape", "mid"), [("linear", 0.5), ("equal_power", math.sqrt(0.5)),
                                            ("s_curve", 0.5)])
def test_fade_shapes_measured_at_their_midpoint(song: Path, shape: str, mid: float) -> None:
    p = only(load(song), "Vox")
    p = arr.move_clip(p, "Vox", 0, to="1:1")
    p = arr.trim_clip(p, "Vox", 0, end="2:1")
    from mixdown.services.edit import with_track

    p = with_track(p, "Vox", clips=(p.track("Vox").clips[0].model_copy(
        update={"file": "audio/dc.wav"}),))
    faded = arr.set_fades(p, "Vox", 0, fade_in_s=FADE / SR, fade_out_s=FADE / SR,
                          fade_in_shape=shape, fade_out_shape=shape)
    clip = faded.track("Vox").clips[0]
    assert (clip.fade_in_shape, clip.fade_out_shape) == (shape, shape)
    gain = mix(faded)[0] / 0.5
    assert gain[FADE // 2] == pytest.approx(mid, abs=1e-3)
    end = 4 * BEAT
    assert gain[end - FADE // 2] == pytest.approx(mid, abs=1e-3)
    first_step = gain[1] - gain[0]
    if shape == "s_curve":  # flat at both ends: far below the linear slope of 1/FADE
        assert first_step < 0.01 / FADE
        assert gain[FADE - 1] - gain[FADE - 2] < 0.01 / FADE
    else:
        assert first_step > 0.5 / FADE
    with pytest.raises(ModelError, match="longer than"):
        arr.set_fades(p, "Vox", 0, fade_in_s=2.0, fade_out_s=1.0)


def test_clip_gain(song: Path) -> None:
    p = only(load(song), "Vox")
    louder = arr.set_clip_gain(p, "Vox", 0, 6.0)
    a, b = mix(p)[0], mix(louder)[0]
    s = 4 * BEAT
    ratio_db = 20 * np.log10(np.sqrt(np.mean(b[s:s + SR] ** 2) / np.mean(a[s:s + SR] ** 2)))
    assert ratio_db == pytest.approx(6.0, abs=1e-3)


def test_a_volume_breakpoint_changes_the_level_by_its_db(song: Path) -> None:
    from mixdown.services.edit import with_track

    p = only(load(song), "Vox")
    p = with_track(p, "Vox", clips=(p.track("Vox").clips[0].model_copy(
        update={"file": "audio/dc.wav", "start": "1:1"}),))
    flat = arr.add_point(p, "Vox", "volume_db", "1:1", 0.0)
    assert abs(mix(flat)[0][3 * BEAT] - 0.5) < 1e-6
    ramp = arr.add_point(flat, "Vox", "volume_db", "2:1", -6.0)
    lane = ramp.track("Vox").automation[0]
    assert [(pt.at, pt.value) for pt in lane.points] == [("1:1", 0.0), ("2:1", -6.0)]
    level = mix(ramp)[0]
    assert 20 * np.log10(level[5 * BEAT] / 0.5) == pytest.approx(-6.0, abs=0.01)
    assert 20 * np.log10(level[2 * BEAT] / 0.5) == pytest.approx(-3.0, abs=0.05)
    moved = arr.move_point(ramp, "Vox", "volume_db", 1, at="1:3", value=-12.0)
    assert 20 * np.log10(mix(moved)[0][3 * BEAT] / 0.5) == pytest.approx(-12.0, abs=0.01)
    gone = arr.delete_point(moved, "Vox", "volume_db", 1)
    assert abs(mix(gone)[0][3 * BEAT] - 0.5) < 1e-6
    assert arr.delete_point(gone, "Vox", "volume_db", 0).track("Vox").automation == ()
    with pytest.raises(ModelError, match="two points"):
        arr.add_point(ramp, "Vox", "volume_db", "2:1", -3.0)


def test_master_and_bus_lanes(song: Path) -> None:
    p = load(song)
    m = arr.add_point(p, "master", "volume_db", "2:1", -3.0)
    assert m.master.automation[0].points[0].value == -3.0
    with pytest.raises(ModelError, match="no track or bus 'Nope'"):
        arr.add_point(p, "Nope", "volume_db", "2:1", -3.0)


# -- errors -----------------------------------------------------------------------------------


def test_clear_one_line_errors(song: Path) -> None:
    p = load(song)
    cases = [
        (lambda: arr.move_clip(p, "Voc", 0, to="3:1"), "no track 'Voc'; tracks: Vox, Dub"),
        (lambda: arr.move_clip(p, "Vox", 3, to="3:1"), "track 'Vox' has no clip 3"),
        (lambda: arr.delete_clip(p, "Dub", 0), "track 'Dub' has no clips"),
        (lambda: arr.move_clip(p, "Vox", 0, by_beats=-8.0), "before the song start"),
        (lambda: arr.move_clip(p, "Vox", 0, to="0:4"), "before the song start"),
        (lambda: arr.split_clip(p, "Vox", 0, "1:2"), "split: 1:2 is outside 'Vox' clip 0"),
        (lambda: arr.split_clip(p, "Keys", 0, "9:1"), "is outside"),
        (lambda: arr.trim_clip(p, "Vox", 0, start="1:1"), "cannot start before its audio"),
        (lambda: arr.trim_clip(p, "Vox", 0, end="2:1"), "must come after its start"),
        (lambda: arr.set_fades(p, "Vox", 0, fade_in_shape="exp"), "fade_in_shape must be"),
        (lambda: arr.set_clip_gain(p, "Keys", 0, 3.0), "is a note clip"),
    ]
    for call, message in cases:
        with pytest.raises(ModelError) as err:
            call()
        text = str(err.value)
        assert message in text and "\n" not in text


# -- through the studio's edit path -------------------------------------------------------------


def test_an_edit_through_apply_edit_keeps_the_comments(song: Path) -> None:
    r = apply_edit(song, lambda p: arr.move_clip(p, "Vox", 0, by_beats=4.0), base=None,
                   label="move")
    text = (song / "song.toml").read_text()
    assert '{ start = "3:1", file = "audio/noise.wav" },  # the take' in text
    assert "# the vocal take" in text and "# an arrangement test song" in text
    assert text.replace('"3:1", file', '"2:1", file') == SONG
    assert r.project is not None and r.project.track("Vox").clips[0].start == "3:1"


def test_arrangement_state_and_peaks(song: Path) -> None:
    p = load(song)
    state = arr.arrangement(p)
    vox = state["tracks"][0]
    clip = vox["clips"][0]
    assert (clip["start"], clip["end"]) == (4.0, pytest.approx(4 + 6.0 / 0.6))
    assert clip["kind"] == "audio" and clip["file"] == "audio/noise.wav"
    keys = state["tracks"][2]["clips"][0]
    assert keys["notes"][1] == [2.0, 1.5, 64]
    assert state["sections"] == [{"name": "Verse", "at": 0.0}]
    assert state["beat_seconds"][1] == pytest.approx(0.6)
    assert state["bars"][1] == {"bar": 2, "at": 4.0, "beats": 4.0, "signature": [4, 4]}
    pk = arr.clip_peaks(song / "audio" / "noise.wav")
    x = noise(6.0)[0]
    assert len(pk.min) == 600 and pk.duration_s == pytest.approx(6.0)
    assert pk.max[10] == pytest.approx(x[4800:5280].max()) and pk.min[10] == pytest.approx(
        x[4800:5280].min())
    assert arr.clip_peaks(song / "audio" / "noise.wav") is pk  # cached
    write_wav(song / "audio" / "noise.wav", noise(3.0, seed=4))
    assert len(arr.clip_peaks(song / "audio" / "noise.wav").min) == 300  # a new stamp


def test_a_missing_file_is_shown_as_a_problem(song: Path) -> None:
    (song / "audio" / "noise.wav").unlink()
    clip = arr.arrangement_state(song)["tracks"][0]["clips"][0]
    assert clip["problem"] is not None and "noise.wav" in clip["problem"]
    assert clip["end"] - clip["start"] == 4.0
