"""Audio to MIDI as a user does it: `mixdown transcribe take.wav -o notes.mid`.

The take is a melody rendered by mixdown's own synth (and one of plain sines); the MIDI
file written is read back with pretty-midi and compared with the notes that were played.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pretty_midi
import pytest

from mixdown import Clip, Device, Note, Project, Song, Track
from mixdown.services.render import render_audio
from signals import write_wav

MIXDOWN = str(Path(sys.executable).with_name("mixdown"))
ONSET_TOL_S = 0.05  # basic-pitch's frames are 11.6 ms; a played onset lands within 50 ms
SR = 48_000
MELODY = [("C4", 0), ("E4", 1), ("G4", 2), ("A4", 3), ("F4", 4.5), ("D4", 5.5), ("C5", 6.5)]
BPM = 120.0


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "120"}
    return subprocess.run([MIXDOWN, *map(str, args)], capture_output=True, text=True, env=env,
                          timeout=600)


def expected_notes() -> list[tuple[int, float]]:
    """(MIDI pitch, onset in seconds) of MELODY at BPM."""
    return [(pretty_midi.note_name_to_number(name), beat * 60 / BPM) for name, beat in MELODY]


@pytest.fixture(scope="module")
def synth_take(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The melody played by mixdown's synth (its default patch), rendered to a WAV file."""
    root = tmp_path_factory.mktemp("take")
    notes = tuple(Note(pitch=name, start=beat, length=0.8, velocity=100)
                  for name, beat in MELODY)
    project = Project(song=Song(tempo=BPM, tail_s=0.5), tracks=(Track(
        name="Lead", instrument=Device(type="synth"), clips=(Clip(start=0, notes=notes),)),))
    audio, sr = render_audio(project, root=root)
    return write_wav(root / "take.wav", audio, sr)


def read_notes(path: Path) -> list[tuple[int, float]]:
    midi = pretty_midi.PrettyMIDI(str(path))
    notes = sorted((n for i in midi.instruments for n in i.notes), key=lambda n: n.start)
    return [(n.pitch, n.start) for n in notes]


def assert_same_melody(found: list[tuple[int, float]]) -> None:
    expected = expected_notes()
    assert [p for p, _ in found] == [p for p, _ in expected], found
    for (_, t_found), (_, t_expected) in zip(found, expected, strict=True):
        assert abs(t_found - t_expected) <= ONSET_TOL_S, (t_found, t_expected)


def test_a_synth_melody_is_transcribed_note_for_note(synth_take: Path, tmp_path: Path) -> None:
    out = tmp_path / "notes.mid"
    done = run("transcribe", synth_take, "-o", out)
    assert done.returncode == 0, done.stderr
    assert f"wrote {out} (7 notes" in done.stdout
    assert done.stderr == ""  # basic-pitch's prints and warnings are captured
    assert_same_melody(read_notes(out))


def test_sines_at_another_rate_and_json_output(tmp_path: Path) -> None:
    # Plain sines at 44.1 kHz (resampled to the model's 22.05 kHz), 0.4 s each with a gap.
    sr = 44_100
    audio = np.zeros(round(4.2 * sr), np.float32)
    for name, beat in MELODY:
        f = pretty_midi.note_number_to_hz(pretty_midi.note_name_to_number(name))
        t = np.arange(round(0.4 * sr)) / sr
        env = np.minimum(1.0, np.minimum(t / 0.01, (0.4 - t) / 0.02))
        start = round(beat * 60 / BPM * sr)
        audio[start:start + t.size] += (0.5 * env * np.sin(2 * np.pi * f * t)).astype(np.float32)
    take = write_wav(tmp_path / "sines.wav", audio[None, :], sr)
    out = tmp_path / "sines.mid"
    done = run("transcribe", take, "-o", out, "--json", "--tempo", "90")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)  # nothing but the JSON on stdout
    assert report["bpm"] == 90.0 and report["warnings"] == []
    assert [n["pitch"] for n in report["notes"]] == [p for p, _ in expected_notes()]
    assert_same_melody(read_notes(out))  # the tempo written changes no time in seconds
    assert pretty_midi.PrettyMIDI(str(out)).get_tempo_changes()[1][0] == pytest.approx(90.0)


def test_a_click_gives_an_empty_midi_file_and_a_warning(tmp_path: Path) -> None:
    click = np.zeros((1, SR), np.float32)
    click[0, 1000] = 0.5  # not silent, but no pitch in it
    take = write_wav(tmp_path / "click.wav", click)
    out = tmp_path / "click.mid"
    done = run("transcribe", take, "-o", out)
    assert done.returncode == 0, done.stderr
    assert "(0 notes" in done.stdout
    assert "no notes found" in done.stderr
    assert read_notes(out) == []


@pytest.mark.parametrize(("make", "message"), [
    (lambda p: p.write_text("not audio at all\n"), "take.wav: "),
    (lambda p: write_wav(p, np.zeros((1, 0), np.float32)), "no audio (0 frames)"),
    (lambda p: write_wav(p, np.zeros((2, SR), np.float32)), "the audio is silent"),
])
def test_bad_takes_write_nothing(tmp_path: Path, make: object, message: str) -> None:
    take = tmp_path / "take.wav"
    make(take)  # type: ignore[operator]
    out = tmp_path / "notes.mid"
    done = run("transcribe", take, "-o", out)
    assert done.returncode == 1
    assert message in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["take.wav"]


def test_bad_options_and_outputs(tmp_path: Path, synth_take: Path) -> None:
    cases = [
        (("-o", tmp_path / "x.txt"), "name it .mid"),
        (("-o", tmp_path), "is a folder"),
        (("-o", tmp_path / "x.mid", "--onset-threshold", "1.5"), "onset-threshold must be"),
        (("-o", tmp_path / "missing" / "x.mid"), "does not exist"),
    ]
    for args, message in cases:
        done = run("transcribe", synth_take, *args)
        assert done.returncode != 0
        assert message in done.stderr, (args, done.stderr)
    done = run("transcribe", tmp_path / "nope.wav", "-o", tmp_path / "x.mid")
    assert done.returncode == 1 and "nope.wav" in done.stderr
    assert list(tmp_path.iterdir()) == []
