"""What a new user hit on the command line (issue 7, section 3), each checked end to end:
missing output folders, sidecar names, QC warnings, overwriting, bad inputs, help text."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from signals import sine, write_wav

MIXDOWN = str(Path(sys.executable).with_name("mixdown"))
COMMANDS = ("new", "check", "info", "render", "analyze", "master", "convert", "deliver")

SONG = """\
[song]
title = "Edges"
tempo = 120
tail_s = 0.3

[[track]]
name = "Tone"
volume_db = -6.0
clips = [{ start = "1:1", file = "audio/tone.wav" }]
"""


def run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "120"}
    env.pop("MIXDOWN_DEBUG", None)
    return subprocess.run([MIXDOWN, *map(str, args)], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=300)


def tree(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` with a hash of its bytes."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "song"
    write_wav(root / "audio" / "tone.wav", sine(440.0, 4.0, amp=0.5, channels=2))
    (root / "song.toml").write_text(SONG)
    return root


@pytest.fixture
def mix(tmp_path: Path) -> Path:
    return write_wav(tmp_path / "mix.wav", sine(220.0, 4.0, amp=0.25, channels=2))


def zero_frames(path: Path) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(48_000)
    return path


def test_version_debug_and_plain_help() -> None:
    version = run("--version")
    assert version.returncode == 0 and version.stdout.strip() == "mixdown 0.1.0"
    top = run("--help")
    assert "--debug" in top.stdout and "--version" in top.stdout
    for cmd in ("", *COMMANDS):
        text = run(*([cmd] if cmd else []), "--help").stdout
        assert "<bool>" not in text and "<list" not in text and "<path>" not in text, cmd


def test_new_json(tmp_path: Path) -> None:
    proc = run("new", tmp_path / "fresh", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert Path(data["file"]) == tmp_path / "fresh" / "song.toml" and Path(data["file"]).is_file()


def test_missing_output_folders_are_created(project: Path, mix: Path, tmp_path: Path) -> None:
    out = tmp_path / "a" / "b"
    assert run("render", project, "-o", out / "mix.wav").returncode == 0
    assert run("master", mix, "-o", out / "m" / "master.wav", "--target", "-16").returncode == 0
    assert run("convert", mix, "-o", out / "c" / "mix.flac", "--bit-depth", "24").returncode == 0
    assert sf.info(str(out / "mix.wav")).frames > 0
    assert sf.info(str(out / "m" / "master.wav")).frames > 0
    assert sf.info(str(out / "c" / "mix.flac")).frames == sf.info(str(mix)).frames


def test_sidecars_are_named_after_the_whole_file(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run("render", project, "-o", out / "mix.wav").returncode == 0
    assert run("render", project, "-o", out / "mix.mp3").returncode == 0
    wav = json.loads((out / "mix.wav.qc.json").read_text())
    mp3 = json.loads((out / "mix.mp3.qc.json").read_text())
    assert wav["file"].endswith("mix.wav") and mp3["file"].endswith("mix.mp3")
    assert not (out / "mix.qc.json").exists()


def test_render_prints_the_qc_warnings_of_its_sidecar(tmp_path: Path) -> None:
    root = tmp_path / "dc"
    x = sine(440.0, 4.0, amp=0.3, channels=2) + np.float32(0.01)  # a DC offset, -40 dBFS
    write_wav(root / "audio" / "tone.wav", x)
    (root / "song.toml").write_text(SONG.replace("volume_db = -6.0", "volume_db = 0.0"))
    proc = run("render", root, "-o", tmp_path / "mix.wav")
    assert proc.returncode == 0, proc.stderr
    sidecar = json.loads((tmp_path / "mix.wav.qc.json").read_text())
    dc = [w for w in sidecar["warnings"] if w.startswith("DC offset")]
    assert dc and all(f"warning: {w}" in proc.stderr for w in dc)
    as_json = json.loads(run("render", root, "-o", tmp_path / "mix2.wav", "--json").stdout)
    assert any(w.startswith("DC offset") for w in as_json["qc_warnings"])


def test_album_prints_files_and_needs_force_for_a_used_folder(tmp_path: Path) -> None:
    songs = [write_wav(tmp_path / f"{n}.wav", sine(f, 4.0, amp=a, channels=2))
             for n, f, a in (("one", 220.0, 0.3), ("two", 330.0, 0.1))]
    out = tmp_path / "album"
    proc = run("master", "--album", *songs, "-o", out, "--target", "-16")
    assert proc.returncode == 0, proc.stderr
    assert "{" not in proc.stdout
    assert f"{out / '01 one.wav'}: " in proc.stdout and "LUFS" in proc.stdout
    again = run("master", "--album", *songs, "-o", out, "--target", "-16")
    assert again.returncode == 1 and "--force" in again.stderr
    (out / "stray.txt").write_text("not ours")
    forced = run("master", "--album", *songs, "-o", out, "--target", "-16", "--force")
    assert forced.returncode == 0, forced.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "01 one.wav", "02 two.wav", "album.cue", "album.wav"]


def test_an_empty_file_is_described_once_and_one_bad_file_exits_1(tmp_path: Path) -> None:
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    analyzed = run("analyze", empty)
    mastered = run("master", empty, "-o", tmp_path / "m.wav", "--target", "-14")
    assert analyzed.returncode == 1 and mastered.returncode == 1
    assert analyzed.stderr == mastered.stderr == (
        f"mixdown: error: {empty}: the file is empty (0 bytes); export or copy it again\n")
    good = write_wav(tmp_path / "good.wav", sine(440.0, 2.0, amp=0.2))
    assert run("analyze", good, empty).returncode == 3  # several files: some failed


def test_a_turn_down_is_not_a_warning_and_stderr_has_no_blank_line(tmp_path: Path) -> None:
    loud = write_wav(tmp_path / "loud.wav", sine(440.0, 5.0, amp=0.9, channels=2))
    proc = run("master", loud, "-o", tmp_path / "m.wav", "--target", "-20")
    assert proc.returncode == 0
    assert proc.stderr == ""
    data = json.loads(run("master", loud, "-o", tmp_path / "m.wav", "--target", "-20",
                          "--json").stdout)
    assert data["warnings"] == [] and data["notes"] and data["gain_db"] < 0


def test_bad_inputs_leave_the_output_folder_unchanged(project: Path, mix: Path,
                                                       tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run("render", project, "-o", out / "mix.wav", "--stems").returncode == 0
    assert run("convert", mix, "-o", out / "conv.wav").returncode == 0
    assert run("master", mix, "-o", out / "master.wav", "--target", "-16").returncode == 0
    before = tree(out)
    zero = zero_frames(tmp_path / "zero.wav")
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "song.toml").write_text(SONG)  # its audio file is missing
    attempts = [
        ("convert", zero, "-o", out / "conv.wav"),
        ("convert", zero, "-o", out / "new.wav"),
        ("master", empty, "-o", out / "master.wav", "--target", "-16"),
        ("master", zero, "-o", out / "new-master.wav", "--target", "-16"),
        ("render", broken, "-o", out / "mix.wav", "--stems"),
        ("deliver", broken, "--targets", "spotify", "-o", out / "delivery"),
        ("analyze", empty, "--report", out / "report"),
    ]
    for args in attempts:
        proc = run(*args)
        assert proc.returncode == 1, (args, proc.stderr)
        assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr, args
        assert tree(out) == before, args


def test_a_failed_render_keeps_the_old_files_and_a_new_one_replaces_the_stems(
        project: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run("render", project, "-o", out / "mix.wav", "--stems").returncode == 0
    (out / "mix.stems" / "99 stale.wav").write_bytes(b"old")
    before = tree(out)
    (project / "audio" / "tone.wav").write_bytes(b"not audio any more")
    failed = run("render", project, "-o", out / "mix.wav", "--stems")
    assert failed.returncode == 1 and tree(out) == before
    write_wav(project / "audio" / "tone.wav", sine(440.0, 4.0, amp=0.5, channels=2))
    assert run("render", project, "-o", out / "mix.wav", "--stems").returncode == 0
    assert sorted(p.name for p in (out / "mix.stems").iterdir()) == ["01 Tone.wav"]
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no work files left
