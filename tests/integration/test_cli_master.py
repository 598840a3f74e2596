"""``mixdown master``, ``convert`` and ``deliver`` as a user runs them: a real subprocess,
real files, strict JSON, one-line errors, nothing overwritten or left half-written."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from scipy.signal import lfilter

MIXDOWN = str(Path(sys.executable).with_name("mixdown"))
SR = 48_000
LOUDNESS_TOL_LU = 0.2  # issue 4
ANALYSIS_KEYS = {"integrated_lufs", "true_peak_dbtp", "loudness_range_lu", "sample_peak_dbfs",
                 "plr_db", "duration_s", "sample_rate", "channels"}


def run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run([MIXDOWN, *map(str, args)], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=300)


def mix(rng: np.random.Generator, seconds: float = 5.0, level: float = 0.3) -> np.ndarray:
    """Pink noise with a kick every half second: a mix with some crest."""
    n = round(seconds * SR)
    t = np.arange(n) / SR
    pink = lfilter([0.049922035, -0.095993537, 0.050612699, -0.004408786],
                   [1.0, -2.494956002, 2.017265875, -0.522189400], rng.normal(0, 1, (2, n)))
    env = np.exp(-(t % 0.5) / 0.06)
    kick = np.sin(2 * np.pi * (50 + 80 * env) * t) * env
    x = 0.15 * pink / np.abs(pink).max() + kick
    return (x / np.abs(x).max() * level).astype(np.float32)


def write(path: Path, audio: np.ndarray, sr: int = SR) -> Path:
    sf.write(str(path), audio.T, sr, subtype="FLOAT")
    return path


def test_master_json_lands_on_the_target(tmp_path: Path, rng: np.random.Generator) -> None:
    src = write(tmp_path / "mix.wav", mix(rng))
    out = tmp_path / "master.wav"
    proc = run("master", src, "-o", out, "--target", "spotify", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert set(data["input"]) >= ANALYSIS_KEYS and set(data["output"]) >= ANALYSIS_KEYS
    assert isinstance(data["warnings"], list)
    assert data["output"]["integrated_lufs"] == pytest.approx(-14.0, abs=LOUDNESS_TOL_LU)
    assert data["output"]["true_peak_dbtp"] <= -1.0
    assert data["target"] == {**data["target"], "name": "spotify", "lufs": -14.0,
                              "ceiling_dbtp": -1.0}
    info, src_info = sf.info(str(out)), sf.info(str(src))
    assert (info.frames, info.samplerate, info.channels) == (src_info.frames, SR, 2)


def test_unreachable_target_is_reported_and_exits_0(tmp_path: Path,
                                                   rng: np.random.Generator) -> None:
    src = write(tmp_path / "mix.wav", mix(rng))
    proc = run("master", src, "-o", tmp_path / "loud.wav", "--target", "-5", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    note = next(w for w in data["warnings"] if w.startswith("target not reached"))
    assert f"{data['shortfall_lu']:.1f} LU short" in note and data["shortfall_lu"] > 0.5
    assert data["max_gain_reduction_db"] == pytest.approx(6.0, abs=0.01)
    assert data["output"]["true_peak_dbtp"] <= -1.0  # -5 LUFS is a number: -1 dBTP ceiling
    plain = run("master", src, "-o", tmp_path / "loud2.wav", "--target", "-5")
    assert plain.returncode == 0 and "target not reached" in plain.stderr


def test_reference_at_44k1_mono(tmp_path: Path, rng: np.random.Generator) -> None:
    src = write(tmp_path / "mix.wav", mix(rng))
    ref = write(tmp_path / "ref.wav", mix(rng, level=0.8)[:1, ::2].copy(), sr=24_000)
    proc = run("master", src, "-o", tmp_path / "m.wav", "--reference", ref, "--amount", "0.8",
               "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["reference"]["references"] == [str(ref)]
    assert data["target"]["name"] == "reference"
    assert data["output"]["integrated_lufs"] == pytest.approx(data["target"]["lufs"],
                                                              abs=LOUDNESS_TOL_LU)
    assert any(s.startswith("width: unchanged") for s in data["summary"])


def test_bad_input_gives_one_line_and_touches_nothing(tmp_path: Path,
                                                      rng: np.random.Generator) -> None:
    src = write(tmp_path / "mix.wav", mix(rng))
    silent = write(tmp_path / "silent.wav", np.zeros((2, SR), np.float32))
    corrupt = tmp_path / "bad.wav"
    corrupt.write_bytes(b"RIFF\x10\x00\x00\x00WAVEfmt " + bytes(40))
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    cases = [
        (["--target", "spotfy"], "unknown target 'spotfy'; did you mean 'spotify'"),
        (["--target", "spotify", "--ceiling", "0.5"], "above 0 dBTP"),
        (["--target", "spotify", "--reference", corrupt], "bad.wav"),
        ([], "give a loudness target"),
    ]
    for extra, message in cases:
        proc = run("master", src, "-o", tmp_path / "out.wav", *extra)
        assert proc.returncode == 1, (extra, proc.stderr)
        assert message in proc.stderr and proc.stderr.count("\n") == 1, proc.stderr
        assert "Traceback" not in proc.stderr
    same = run("master", src, "-o", tmp_path / "." / "mix.wav", "--target", "spotify")
    assert same.returncode == 1 and "the output is the input" in same.stderr
    quiet = run("master", silent, "-o", tmp_path / "out.wav", "--target", "spotify")
    assert quiet.returncode == 1 and "silent" in quiet.stderr
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert after == before  # nothing overwritten, no partial or temporary file left


def test_album_writes_songs_album_and_cue(tmp_path: Path, rng: np.random.Generator) -> None:
    songs = [write(tmp_path / f"{name}.wav", mix(rng, 3.0, level))
             for name, level in (("one", 0.2), ("two", 0.5), ("three", 0.3))]
    out = tmp_path / "album"
    proc = run("master", "--album", *songs, "-o", out, "--target", "apple-music", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    loud = [t["output"]["integrated_lufs"] for t in data["tracks"]]
    assert max(loud) == pytest.approx(-16.0, abs=LOUDNESS_TOL_LU)
    assert loud.index(max(loud)) == 1
    assert (out / "album.cue").read_text().count("TRACK") == 3
    assert sorted(p.name for p in out.iterdir()) == [
        "01 one.wav", "02 two.wav", "03 three.wav", "album.cue", "album.wav"]


def test_convert_refuses_a_silent_clip_and_converts(tmp_path: Path) -> None:
    t = np.arange(SR) / SR
    hot = write(tmp_path / "hot.wav",
                np.repeat((1.3 * np.sin(2 * np.pi * 440 * t))[None], 2, 0).astype(np.float32))
    refused = run("convert", hot, "-o", tmp_path / "cd.wav", "--bit-depth", "16",
                  "--sample-rate", "44100")
    assert refused.returncode == 1
    assert "--gain" in refused.stderr and "--normalize" in refused.stderr
    assert not (tmp_path / "cd.wav").exists()
    ok = run("convert", hot, "-o", tmp_path / "cd.wav", "--bit-depth", "16", "--sample-rate",
             "44100", "--normalize", "-1", "--dither", "shaped", "--json")
    assert ok.returncode == 0, ok.stderr
    data = json.loads(ok.stdout)
    assert (data["sample_rate"], data["bit_depth"], data["dither"]) == (44_100, 16, "shaped")
    assert data["output"]["true_peak_dbtp"] == pytest.approx(-1.0, abs=0.1)
    assert sf.info(str(tmp_path / "cd.wav")).subtype == "PCM_16"
    plain = run("convert", tmp_path / "cd.wav", "-o", tmp_path / "cd.flac")
    assert plain.returncode == 0, plain.stderr
    first = plain.stdout.splitlines()[0]
    assert first.startswith(f"wrote {tmp_path / 'cd.flac'} (")  # the path, not a dict
    assert "{" not in first


def test_deliver_a_new_project(tmp_path: Path) -> None:
    project = tmp_path / "song"
    assert run("new", project, "--title", "Night Drive").returncode == 0
    out = tmp_path / "delivery"
    proc = run("deliver", project, "--targets", "spotify,cd", "-o", out, "--isrc",
               "GB-ABC-26-00001", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["passed"] and data["stems"]["passed"]
    assert data["stems"]["residual_peak_dbfs"] < -60.0
    files = {d["deliverable"]: Path(d["path"]) for e in data["targets"]
             for d in e["deliverables"]}
    assert set(files) == {"wav-24-48k", "flac", "mp3-320", "wav-16-44k"}
    assert all(p.exists() for p in files.values())
    for entry in data["targets"]:
        ceiling = entry["target"]["ceiling_dbtp"]
        for d in entry["deliverables"]:
            assert d["measured"]["true_peak_dbtp"] <= ceiling
            assert not math.isnan(d["measured"]["integrated_lufs"])
    assert sf.info(str(files["wav-16-44k"])).subtype == "PCM_16"
    html = (out / "report.html").read_text()
    assert all(p.name in html for p in files.values())
    again = run("deliver", project, "--targets", "spotify", "-o", out)
    assert again.returncode == 1 and "not empty" in again.stderr and "--force" in again.stderr
