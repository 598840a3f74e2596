"""MIDI in and out as a user does it: `mixdown import`, `render`, `export`, `check FILE.mid`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import mido
import numpy as np
import pretty_midi
import pytest
import soundfile as sf

from midi_files import many_notes_file, write_mido

MIXDOWN = str(Path(sys.executable).with_name("mixdown"))
ONSET_TOL_S = 0.001  # the acceptance: within one millisecond of pretty-midi
Meta = mido.MetaMessage
Msg = mido.Message


def run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "120"}
    return subprocess.run([MIXDOWN, *args], capture_output=True, text=True, env=env,
                          timeout=300)


def _tempo_changes_file(path: Path) -> Path:
    """Rim shots (GM 37, a click) every half beat, off the grid by 0..34 ticks, across
    four tempo steps (120, 90, 150, 64 bpm), at 480 ticks per beat."""
    tpb = 480
    conductor = [Meta("set_tempo", tempo=500_000),
                 Meta("set_tempo", tempo=666_667, time=tpb * 4),
                 Meta("set_tempo", tempo=400_000, time=tpb * 4),
                 Meta("set_tempo", tempo=937_500, time=tpb * 3 + 240)]
    hits: list[Msg | Meta] = [Meta("track_name", name="Rim")]
    prev = 0
    for i in range(28):
        tick = i * tpb // 2 + (i % 3) * 17
        hits += [Msg("note_on", channel=9, note=37, velocity=110, time=tick - prev),
                 Msg("note_off", channel=9, note=37, time=40)]
        prev = tick + 40
    return write_mido(path, [conductor, hits], ticks_per_beat=tpb)


def _onsets(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """Seconds where the level first rises above -60 dB of the peak after 20 ms below it."""
    level = np.abs(audio).max(axis=1)
    above = np.flatnonzero(level > 1e-3 * level.max())
    firsts = np.concatenate([above[:1], above[1:][np.diff(above) > 0.02 * sample_rate]])
    return firsts / sample_rate


def test_imported_tempo_changes_render_on_time(tmp_path: Path) -> None:
    src = _tempo_changes_file(tmp_path / "tempo.mid")
    r = run("import", str(src), "-o", str(tmp_path / "song"))
    assert r.returncode == 0, r.stderr
    assert "4 tempos" in r.stdout
    out = tmp_path / "song" / "renders" / "mix.wav"
    r = run("render", str(tmp_path / "song"), "-o", str(out), "--bit-depth", "32")
    assert r.returncode == 0, r.stderr
    audio, sr = sf.read(out, dtype="float32")
    measured = _onsets(audio, sr)
    pm = pretty_midi.PrettyMIDI(str(src))
    expected = np.sort([n.start for n in pm.instruments[0].notes])
    assert len(measured) == len(expected) == 28
    err = np.abs(measured - expected)
    assert err.max() < ONSET_TOL_S, err.max()
    assert expected[-1] > 6.0  # the slow last tempo really moved the notes


def test_export_then_pretty_midi_reads_the_same_times(tmp_path: Path) -> None:
    src = _tempo_changes_file(tmp_path / "tempo.mid")
    assert run("import", str(src), "-o", str(tmp_path / "song")).returncode == 0
    r = run("export", str(tmp_path / "song"), "--format", "midi", "-o",
            str(tmp_path / "back.mid"), "--json")
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["notes"] == 28 and report["tracks"][0]["channel"] == 10
    a = pretty_midi.PrettyMIDI(str(src)).instruments[0]
    b = pretty_midi.PrettyMIDI(str(tmp_path / "back.mid")).instruments[0]
    assert b.is_drum
    np.testing.assert_allclose([(n.start, n.end, n.pitch) for n in a.notes],
                               [(n.start, n.end, n.pitch) for n in b.notes], atol=1e-6)


def test_check_reads_a_midi_file_and_writes_nothing(tmp_path: Path) -> None:
    src = _tempo_changes_file(tmp_path / "tempo.mid")
    r = run("check", str(src))
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(f"{src}: ok (1 tracks, 28 notes, 4 tempos")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tempo.mid"]


def _one_line_error(r: subprocess.CompletedProcess[str], path: Path, why: str) -> None:
    assert r.returncode == 1
    assert "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith(f"mixdown: error: {path}"), lines[0]
    assert why in lines[0], lines[0]


@pytest.mark.parametrize(("what", "why"), [
    ("truncated", "truncated"),
    ("running status", "no running status"),
    ("tempo 0", "tempo 0"),
    ("text", "not a Standard MIDI File"),
    ("million notes", "more than 500000 notes"),
])
def test_bad_midi_is_one_line_and_writes_nothing(tmp_path: Path, what: str, why: str) -> None:
    path = tmp_path / "bad.mid"
    if what == "truncated":
        good = _tempo_changes_file(tmp_path / "good.mid").read_bytes()
        path.write_bytes(good[:-9])
    elif what == "running status":
        # a track whose first event leans on a running status nobody set
        path.write_bytes(b"MThd" + (6).to_bytes(4, "big") + bytes([0, 0, 0, 1, 1, 0xE0])
                         + b"MTrk" + (8).to_bytes(4, "big")
                         + bytes([0x00, 60, 100, 0x60, 60, 0, 0x00, 0x00]))
    elif what == "tempo 0":
        write_mido(path, [[Meta("set_tempo", tempo=0)]])
    elif what == "text":
        path.write_text("MIDI? no, a shopping list\n")
    else:
        many_notes_file(path, 1_000_000)
    out = tmp_path / "song"
    _one_line_error(run("import", str(path), "-o", str(out)), path, why)
    assert not out.exists()
    _one_line_error(run("check", str(path)), path, why)


def test_output_folder_refusals(tmp_path: Path) -> None:
    src = _tempo_changes_file(tmp_path / "tempo.mid")
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "keep.txt").write_text("x")
    _one_line_error(run("import", str(src), "-o", str(busy)), busy, "--force")
    assert [p.name for p in busy.iterdir()] == ["keep.txt"]
    _one_line_error(run("import", str(src), "-o", str(src)), src, "not a folder")
    assert run("import", str(src), "-o", str(busy), "--force").returncode == 0
    assert (busy / "song.toml").is_file() and (busy / "keep.txt").read_text() == "x"
    _one_line_error(run("export", str(busy), "--format", "aaf", "-o",
                        str(tmp_path / "x.aaf")), Path("--format aaf"),
                    "unknown format")
