"""The project commands end to end, as a user runs them: real files, a real subprocess."""

from __future__ import annotations

import hashlib
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from signals import sine, write_wav

MIXDOWN = str(Path(sys.executable).with_name("mixdown"))

BASE = """\
# a comment the saver must keep
[song]
title = "CLI test"
tempo = 120
tail_s = 0.5

[[marker]]
name = "Intro"
at = "1:1"

[[marker]]
name = "Verse"
at = "2:1"

[[track]]
name = "Tone"
volume_db = -6.0
clips = [{ start = "1:1", file = "audio/tone.wav", fade_in_s = 0.01 }]
sends = { Space = -10.0 }

[[bus]]
name = "Space"
volume_db = -3.0
"""


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "120"}
    return subprocess.run([MIXDOWN, *args], capture_output=True, text=True, cwd=cwd, env=env,
                          timeout=300)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "song"
    write_wav(root / "audio" / "tone.wav", sine(440.0, 4.0, amp=0.5, channels=2))
    (root / "song.toml").write_text(BASE)
    return root


def assert_one_line_error(proc: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    err = proc.stderr.strip()
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1, err
    for n in needles:
        assert n in err, err


def test_render_wav_with_qc_and_stems(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "out" / "mix.wav"
    out.parent.mkdir()
    proc = run("render", str(project), "-o", str(out), "--stems", "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    audio, sr = sf.read(out, always_2d=True)
    assert sr == 48_000
    assert audio.shape == (round(4.5 * sr), 2)  # 4 s of clip + 0.5 s tail
    assert sf.info(out).subtype == "PCM_24"
    # The tone at -6 dB plus a -10 dB send through a -3 dB bus: 0.5 * (10^-0.3 + 10^-0.95).
    expected_peak = 0.5 * (10 ** (-6 / 20) + 10 ** (-6 / 20) * 10 ** (-13 / 20))
    assert np.abs(audio).max() == pytest.approx(expected_peak, rel=1e-3)
    stems = sorted(Path(s).name for s in report["stems"])
    assert stems == ["01 Tone.wav", "02 Space.wav"]
    total = sum(sf.read(s, always_2d=True)[0] for s in report["stems"])
    np.testing.assert_allclose(total, audio, atol=2e-6)  # 24-bit quantisation
    qc = json.loads((tmp_path / "out" / "mix.wav.qc.json").read_text())
    assert qc["true_peak_dbtp"] >= 20 * math.log10(expected_peak) - 0.01
    assert report["summary"].endswith("dBTP")


def test_render_flac_16_bit_is_repeatable(project: Path, tmp_path: Path) -> None:
    digests = []
    for name in ("a.flac", "b.flac"):
        proc = run("render", str(project / "song.toml"), "-o", str(tmp_path / name),
                   "--bit-depth", "16")
        assert proc.returncode == 0, proc.stderr
        assert "LUFS" in proc.stdout
        digests.append(hashlib.sha256((tmp_path / name).read_bytes()).hexdigest())
    assert sf.info(tmp_path / "a.flac").subtype == "PCM_16"
    assert digests[0] == digests[1]


def test_render_mp3_and_sample_rate(project: Path, tmp_path: Path) -> None:
    proc = run("render", str(project), "-o", str(tmp_path / "mix.mp3"), "--sample-rate", "44100")
    assert proc.returncode == 0, proc.stderr
    audio, sr = sf.read(tmp_path / "mix.mp3", always_2d=True)
    assert sr == 44_100
    # MP3 decoders add padding; the length is within a frame or two of 4.5 s.
    assert abs(audio.shape[0] - 4.5 * sr) < 3000


def test_render_a_section(project: Path, tmp_path: Path) -> None:
    proc = run("render", str(project), "-o", str(tmp_path / "v.wav"), "--section", "Verse",
               "--json")
    assert proc.returncode == 0, proc.stderr
    audio, sr = sf.read(tmp_path / "v.wav", always_2d=True)
    # Verse = bar 2 (2 s) to the song end (4 s), plus the 0.5 s tail.
    assert audio.shape[0] == round(2.5 * sr)
    proc = run("render", str(project), "-o", str(tmp_path / "x.wav"), "--section", "Chorus")
    assert_one_line_error(proc, "no section 'Chorus'", "Intro", "Verse")
    assert not (tmp_path / "x.wav").exists()


def test_check_and_info(project: Path) -> None:
    before = sorted(p.name for p in project.rglob("*"))
    proc = run("check", str(project))
    assert proc.returncode == 0, proc.stderr
    assert "ok" in proc.stdout
    proc = run("info", str(project), "--json")
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    assert [t["name"] for t in info["tracks"]] == ["Tone"]
    assert info["tempo_map"][0]["bpm"] == 120
    assert [s["name"] for s in info["sections"]] == ["Intro", "Verse"]
    assert info["duration_s"] == pytest.approx(4.0)
    proc = run("info", str(project))
    assert proc.returncode == 0 and "Tone" in proc.stdout
    assert sorted(p.name for p in project.rglob("*")) == before  # nothing written


def test_new_refuses_a_non_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "x.txt").write_text("mine")
    proc = run("new", str(tmp_path / "busy"))
    assert_one_line_error(proc, "not empty")
    assert (tmp_path / "busy" / "x.txt").read_text() == "mine"


def test_new_then_render_sounds(tmp_path: Path) -> None:
    proc = run("new", str(tmp_path / "fresh"))
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "fresh" / "renders" / "mix.wav"
    proc = run("render", str(tmp_path / "fresh"), "-o", str(out), "--json")
    assert proc.returncode == 0, proc.stderr
    qc = json.loads(proc.stdout)["qc"]
    assert qc["integrated_lufs"] is not None and -40 < qc["integrated_lufs"] < -6
    assert qc["true_peak_dbtp"] < 0.0


def test_json_is_strict(project: Path, tmp_path: Path) -> None:
    proc = run("render", str(project), "-o", str(tmp_path / "m.wav"), "--json")
    assert "NaN" not in proc.stdout and "Infinity" not in proc.stdout
    json.loads(proc.stdout)


# -- bad input: one line, exit 1, no partial output, project untouched ------------------------

BAD_PROJECTS = [
    ("[song\ntempo = 120", "song.toml", "TOML"),
    (BASE.replace("volume_db = -6.0", "volume_db = -6.0\nvolme = 1"), "volme", "track \"Tone\""),
    (BASE + '\n[master]\ndevices = [{ type = "compresor" }]\n', "compresor", "compressor"),
    (BASE + '\n[master]\ndevices = [{ type = "compressor", ratio = 0.5 }]\n', "ratio", "0.5"),
    (BASE + '\n[master]\ndevices = [{ type = "compressor", treshold_db = -3 }]\n',
     "treshold_db", "threshold_db"),
    (BASE.replace("volume_db = -6.0", "volume_db = nan"), "volume_db", "Tone"),
    (BASE.replace("tempo = 120", "tempo = -5"), "tempo", "-5"),
    (BASE.replace("tempo = 120", "tempo = 0"), "tempo", "0"),
    (BASE.replace("audio/tone.wav", "audio/missing.wav"), "audio/missing.wav", "Tone"),
    (BASE.replace("audio/tone.wav", "../outside.wav"), "../outside.wav", "escapes"),
    (BASE.replace("audio/tone.wav", "/etc/passwd"), "/etc/passwd", "absolute"),
]


@pytest.mark.parametrize(("text", "needle1", "needle2"), BAD_PROJECTS)
def test_bad_projects_fail_cleanly(project: Path, tmp_path: Path, text: str, needle1: str,
                                   needle2: str) -> None:
    (tmp_path / "outside.wav").write_bytes((project / "audio" / "tone.wav").read_bytes())
    (project / "song.toml").write_text(text)
    out = tmp_path / "bad.wav"
    for cmd in (["check", str(project)], ["render", str(project), "-o", str(out)]):
        proc = run(*cmd)
        assert_one_line_error(proc, needle1, needle2)
    assert not out.exists()
    assert (project / "song.toml").read_text() == text
    assert not list(tmp_path.glob("*.part")) and not list(tmp_path.glob(".bad*"))


def test_symlink_out_of_the_project_is_refused(project: Path, tmp_path: Path) -> None:
    (tmp_path / "secret.wav").write_bytes((project / "audio" / "tone.wav").read_bytes())
    (project / "audio" / "link.wav").symlink_to(tmp_path / "secret.wav")
    (project / "song.toml").write_text(BASE.replace("audio/tone.wav", "audio/link.wav"))
    assert_one_line_error(run("check", str(project)), "audio/link.wav", "escapes")


def test_nan_samples_are_refused(project: Path, tmp_path: Path) -> None:
    x = sine(440.0, 1.0, channels=2)
    x[0, 100] = np.nan
    write_wav(project / "audio" / "tone.wav", x)
    proc = run("render", str(project), "-o", str(tmp_path / "m.wav"))
    assert_one_line_error(proc, "NaN")
    assert not (tmp_path / "m.wav").exists()


def test_broken_wav_is_refused(project: Path, tmp_path: Path) -> None:
    (project / "audio" / "tone.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEfmt garbage")
    proc = run("render", str(project), "-o", str(tmp_path / "m.wav"))
    assert_one_line_error(proc, "tone.wav")
    assert not (tmp_path / "m.wav").exists()


def test_output_in_a_missing_folder(project: Path, tmp_path: Path) -> None:
    proc = run("render", str(project), "-o", str(tmp_path / "new" / "m.wav"))
    assert proc.returncode == 0, proc.stderr
    assert sf.info(str(tmp_path / "new" / "m.wav")).frames > 0
    (project / "audio" / "tone.wav").unlink()  # now the render fails
    failed = run("render", str(project), "-o", str(tmp_path / "nope" / "deeper" / "m.wav"))
    assert_one_line_error(failed, "tone.wav")
    assert not (tmp_path / "nope").exists()  # the folders made for it are gone again


def test_usage_errors_exit_2(project: Path) -> None:
    assert run("render", str(project)).returncode == 2  # no -o
    assert run("frobnicate").returncode == 2


def test_unknown_extension(project: Path, tmp_path: Path) -> None:
    assert_one_line_error(run("render", str(project), "-o", str(tmp_path / "m.xyz")),
                          ".xyz", "--format")


def test_render_a_time_range(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.wav"
    proc = run("render", str(project), "-o", str(out), "--start", "1:3", "--end", "3.5s")
    assert proc.returncode == 0, proc.stderr
    audio, sr = sf.read(out, always_2d=True)
    # Bar 1 beat 3 = 1 s at 120 bpm; to 3.5 s, plus the song's 0.5 s tail.
    assert audio.shape[0] == round(3.0 * sr)
    proc = run("render", str(project), "-o", str(out), "--start", "nowhere")
    assert_one_line_error(proc, "nowhere")


def test_output_over_the_projects_own_files_is_refused(project: Path) -> None:
    before = (project / "audio" / "tone.wav").read_bytes()
    proc = run("render", str(project), "-o", str(project / "audio" / "tone.wav"))
    assert_one_line_error(proc, "overwrite", "tone.wav")
    assert (project / "audio" / "tone.wav").read_bytes() == before
