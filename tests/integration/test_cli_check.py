"""`mixdown check` and `render` report every problem of a project, one line each, and the
warnings the resolve step finds; as a user runs them (a real subprocess)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

from signals import write_wav

MIXDOWN = str(Path(sys.executable).with_name("mixdown"))

THREE_MISTAKES = """\
[song]
tempo = 120

[[track]]
name = "Bass"
instrument = { type = "synth" }
devices = [{ type = "compressor", ratoi = 4 }]
clips = [{ start = "1:1", length = 4, notes = [["C2", 0, 1]] }]

[[track]]
name = "Drums"
instrument = { type = "drums" }
clips = [{ start = "1:1", bars = 1, pattern = { kik = "x..." } }]

[[track]]
name = "Vox"
clips = [{ start = 0, file = "audio/missing.wav" }]
"""


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([MIXDOWN, *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300, check=False)


def test_check_prints_every_independent_mistake(tmp_path: Path) -> None:
    (tmp_path / "song.toml").write_text(THREE_MISTAKES)
    r = run("check", ".", cwd=tmp_path)
    assert r.returncode == 1
    assert "Traceback" not in r.stderr and r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert lines == [
        "mixdown: error: song.toml:7: track \"Bass\", devices[0].ratoi: compressor has no "
        "parameter 'ratoi'; did you mean 'ratio'?",
        "mixdown: error: song.toml:13: track \"Drums\", clips[0].pattern.kik: unknown drum "
        "voice; did you mean 'kick'?",
        f"mixdown: error: song.toml:17: track \"Vox\", clips[0].file: audio/missing.wav not "
        f"found in {tmp_path.resolve()}",
    ]


def test_render_prints_every_mistake_and_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "song.toml").write_text(THREE_MISTAKES)
    r = run("render", ".", "-o", "out.wav", cwd=tmp_path)
    assert r.returncode == 1
    assert len([ln for ln in r.stderr.splitlines() if ln.startswith("mixdown: error: ")]) == 3
    assert not (tmp_path / "out.wav").exists()


LATE_AND_LONG = """\
[song]
tempo = 120
length = 8
tail_s = 0

[[track]]
name = "Vox"
clips = [{ start = 0, file = "audio/tone.wav", fade_in_s = 0.4, fade_out_s = 0.4 },
         { start = 12, file = "audio/tone.wav" }]
"""


def test_a_late_clip_and_long_fades_are_warnings_in_check_and_render(tmp_path: Path) -> None:
    write_wav(tmp_path / "audio" / "tone.wav", np.full((1, 24_000), 0.1, np.float32), 48_000)
    (tmp_path / "song.toml").write_text(LATE_AND_LONG)
    expected = [
        'warning: song.toml: track "Vox", clips[0]: fades (0.4 s in + 0.4 s out) are longer '
        "than the clip (0.500 s); they overlap",
        'warning: song.toml: track "Vox", clips[1]: starts after the song\'s end '
        "(song.length = 8); it does not play",
    ]
    c = run("check", ".", cwd=tmp_path)
    assert c.returncode == 0, c.stderr
    assert [ln for ln in c.stderr.splitlines() if ln.startswith("warning")] == expected
    r = run("render", ".", "-o", "mix.wav", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    # render also prints the QC analyzer's warnings about its output (silence, DC...)
    assert [ln for ln in r.stderr.splitlines() if ln.startswith("warning: song.toml")
            ] == expected
