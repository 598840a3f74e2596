"""``mixdown batch`` as a user runs it: subprocesses, real files, a real local process pool,
a batch killed with SIGKILL, a full disk (a file-size limit), bad inputs."""

from __future__ import annotations

import csv
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyloudnorm
import pytest
import soundfile as sf

MIXDOWN = str(Path(sys.executable).with_name("mixdown"))
SR = 48_000
LU_TOL = 0.1  # EBU Tech 3341, for a steady sine
MASTER_TOL = 0.3  # mastering by measurement lands within this of the target (LU)


def run(*args: str | Path, timeout: float = 300, **kw: object
        ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([MIXDOWN, *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, check=False, **kw)  # type: ignore[call-overload]


def tone(path: Path, level_dbfs: float, seconds: float, freq: float = 1000.0) -> Path:
    """A stereo sine whose peak is ``level_dbfs``: BS.1770 puts it at ``level_dbfs`` LUFS
    (1 kHz, both channels)."""
    t = np.arange(round(seconds * SR)) / SR
    x = 10 ** (level_dbfs / 20) * np.sin(2 * np.pi * freq * t)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), np.stack([x, x]).T, SR, subtype="PCM_24")
    return path


def music(path: Path, seconds: float, seed: int) -> Path:
    """Chords and noise bursts at about -20 LUFS: something a limiter has to work on."""
    rng = np.random.default_rng(seed)
    t = np.arange(round(seconds * SR)) / SR
    x = sum(np.sin(2 * np.pi * f * t) for f in (110.0, 220.0 * 1.25, 330.0, 440.0 * 1.5))
    env = np.exp(-(t % 0.5) / 0.08)
    x = 0.08 * x + 0.3 * env * rng.standard_normal(t.size)
    stereo = np.stack([x, np.roll(x, 17)])
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), stereo.T, SR, subtype="PCM_24")
    return path


def lufs(path: Path) -> float:
    data, rate = sf.read(str(path))
    return float(pyloudnorm.Meter(rate).integrated_loudness(data))


def journal(outdir: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in
            (outdir / "batch-journal.jsonl").read_text().splitlines()]


def hidden(outdir: Path) -> list[Path]:
    return [p for p in outdir.rglob(".*")]


def test_analyze_a_folder_reports_every_file_and_names_the_bad_one(tmp_path: Path) -> None:
    src = tmp_path / "catalogue"
    levels = {"quiet": -20.0, "spot": -14.0, "hot": -9.0}
    for name, level in levels.items():
        tone(src / "album" / f"{name}.wav", level, 2.0)
    (src / "broken.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEjunk")
    out = tmp_path / "audit"
    r = run("batch", "analyze", src, "-o", out, "--target", "spotify", "--workers", "2")
    assert r.returncode == 3, r.stderr
    bad = [line for line in r.stderr.splitlines() if line.startswith("mixdown: error:")]
    assert len(bad) == 1 and "broken.wav" in bad[0], r.stderr
    assert "Traceback" not in r.stderr
    assert "3 done" in r.stdout and "1 failed" in r.stdout
    for name, level in levels.items():
        entry = json.loads((out / "album" / f"{name}.wav.json").read_text())
        assert entry["integrated_lufs"] == pytest.approx(level, abs=LU_TOL)
        assert entry["target"]["passed"] is (name == "spot")
    assert not (out / "broken.wav.json").exists()
    rows = {Path(r["input"]).stem: r for r in csv.DictReader(
        (out / "batch-report.csv").open())}
    assert rows["broken"]["status"] == "failed" and "broken.wav" in rows["broken"]["error"]
    assert float(rows["hot"]["integrated_lufs"]) == pytest.approx(-9.0, abs=LU_TOL)
    assert [rows[n]["in_spec"] for n in ("quiet", "spot", "hot")] == ["False", "True", "False"]
    report = json.loads((out / "batch-report.json").read_text())
    assert report["totals"] | {"seconds": 0} == {"total": 4, "done": 3, "skipped": 0,
                                                  "failed": 1, "seconds": 0,
                                                  "workers": "2 local processes"}
    page = (out / "batch-report.html").read_text()
    assert page.count("<svg") == 2  # the loudness histogram and the out-of-spec chart
    assert "Loudness distribution" in page and "Files out of spec" in page
    assert page.count("<tr class=\"out\">") == 2 and page.count("<tr class=\"failed\">") == 1


def test_master_batch_equals_the_single_command_and_a_rerun_skips_it(tmp_path: Path
                                                                     ) -> None:
    src = [music(tmp_path / "in" / f"song{k}.wav", 2.0, seed=k) for k in range(3)]
    out = tmp_path / "out"
    r = run("batch", "master", tmp_path / "in", "-o", out, "--target", "-16",
            "--ceiling", "-1.5", "--workers", "2")
    assert r.returncode == 0, r.stderr
    for s in src:
        master = out / s.name
        assert lufs(master) == pytest.approx(-16.0, abs=MASTER_TOL)
        assert sf.info(str(master)).frames == sf.info(str(s)).frames
    single = tmp_path / "single.wav"
    assert run("master", src[1], "-o", single, "--target", "-16", "--ceiling", "-1.5"
               ).returncode == 0
    assert single.read_bytes() == (out / src[1].name).read_bytes()  # the same service
    rows = json.loads((out / "batch-report.json").read_text())["files"]
    assert all(row["true_peak_dbtp"] <= -1.5 + 0.05 and row["in_spec"] for row in rows)

    before = {p: p.stat().st_mtime_ns for p in out.glob("*.wav")}
    again = run("batch", "master", tmp_path / "in", "-o", out, "--target", "-16",
                "--ceiling", "-1.5", "--workers", "2")
    assert again.returncode == 0, again.stderr
    assert "skipping 3 of 3 inputs already done" in again.stderr
    assert "0 done, 3 skipped" in again.stdout
    assert {p: p.stat().st_mtime_ns for p in out.glob("*.wav")} == before
    assert len(journal(out)) == 3

    other = run("batch", "master", tmp_path / "in", "-o", out, "--target", "-18",
                "--workers", "2")  # other options: other keys, the work is redone
    assert other.returncode == 0, other.stderr
    assert "3 done, 0 skipped" in other.stdout
    assert lufs(out / src[0].name) == pytest.approx(-18.0, abs=MASTER_TOL)


def test_convert_batch_from_a_manifest_with_per_file_options(tmp_path: Path) -> None:
    a = tone(tmp_path / "a.wav", -12.0, 1.0)
    b = tone(tmp_path / "b.wav", -12.0, 1.0)
    manifest = tmp_path / "jobs.csv"
    manifest.write_text(f"input,bit-depth,gain,output\n{a.name},,,\n{b.name},24,-6,b-quiet.flac\n")
    out = tmp_path / "out"
    r = run("batch", "convert", manifest, "-o", out, "--bit-depth", "16", "--format", "flac",
            "--workers", "1")
    assert r.returncode == 0, r.stderr
    ia, ib = sf.info(str(out / "a.flac")), sf.info(str(out / "b-quiet.flac"))
    assert (ia.format, ia.subtype, ib.subtype) == ("FLAC", "PCM_16", "PCM_24")
    assert lufs(out / "b-quiet.flac") == pytest.approx(-18.0, abs=LU_TOL)
    assert lufs(out / "a.flac") == pytest.approx(-12.0, abs=LU_TOL)


def test_a_batch_killed_half_way_finishes_on_rerun_with_one_output_each(tmp_path: Path
                                                                         ) -> None:
    src = [music(tmp_path / "in" / f"take{k}.wav", 4.0, seed=10 + k) for k in range(6)]
    out = tmp_path / "out"
    args = ["batch", "master", tmp_path / "in", "-o", out, "--target", "-15",
            "--workers", "2"]
    proc = subprocess.Popen([MIXDOWN, *map(str, args)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    jpath = out / "batch-journal.jsonl"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None:
        entries = jpath.read_text().count("\n") if jpath.exists() else 0
        if (entries >= 2 and hidden(out)) or entries >= 4:  # some done, one mid-write
            break
        time.sleep(0.02)
    assert proc.poll() is None, "the batch ended before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)  # the batch and its workers, at once
    proc.wait()
    killed_at = len(journal(out))
    assert 2 <= killed_at < len(src)

    r = run("batch", *args[1:])
    assert r.returncode == 0, r.stderr
    assert f"skipping {killed_at} of 6 inputs already done" in r.stderr
    entries = journal(out)
    assert sorted(e["input"] for e in entries) == sorted(str(s.resolve()) for s in src)
    assert all(e["status"] == "done" for e in entries)
    assert hidden(out) == []  # the killed run's temp files are gone
    assert sorted(p.name for p in out.glob("*.wav")) == sorted(s.name for s in src)
    for s in src:
        assert sf.info(str(out / s.name)).frames == sf.info(str(s)).frames
        assert lufs(out / s.name) == pytest.approx(-15.0, abs=MASTER_TOL)


def _file_size_limit(limit: int) -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def test_a_full_disk_fails_that_file_only_and_leaves_nothing_partial(tmp_path: Path) -> None:
    small = [music(tmp_path / "in" / f"short{k}.wav", 0.8, seed=k) for k in range(2)]
    big = music(tmp_path / "in" / "long.wav", 8.0, seed=5)  # 2.3 MB as a 24-bit master
    out = tmp_path / "out"
    r = subprocess.run([MIXDOWN, "batch", "master", str(tmp_path / "in"), "-o", str(out),
                        "--target", "-16", "--workers", "2", "--retries", "1"],
                       capture_output=True, text=True, timeout=300, check=False,
                       preexec_fn=lambda: _file_size_limit(1_000_000))
    assert r.returncode == 3, r.stderr
    errors = [line for line in r.stderr.splitlines() if line.startswith("mixdown: error:")]
    assert len(errors) == 1 and str(big.resolve()) in errors[0], r.stderr
    assert "too large" in errors[0] or "no space" in errors[0]
    assert sorted(p.name for p in out.glob("*.wav")) == sorted(s.name for s in small)
    assert hidden(out) == []
    for s in small:
        assert lufs(out / s.name) == pytest.approx(-16.0, abs=MASTER_TOL)
    failed = [e for e in journal(out) if e["status"] == "failed"]
    assert [e["attempts"] for e in failed] == [2]  # retried once, then reported


def test_collisions_and_an_output_inside_the_inputs_stop_the_batch_before_it_starts(
        tmp_path: Path) -> None:
    tone(tmp_path / "in" / "song.wav", -20.0, 0.5)
    tone(tmp_path / "in" / "song.flac", -20.0, 0.5)
    r = run("batch", "master", tmp_path / "in", "-o", tmp_path / "out", "--target", "-14")
    assert r.returncode == 1
    assert r.stderr.startswith("mixdown: error: output name collision:") and "song.wav" in r.stderr
    assert not (tmp_path / "out").exists()
    r = run("batch", "analyze", tmp_path / "in", "-o", tmp_path / "in" / "audit")
    assert r.returncode == 1 and "inside the input folder" in r.stderr
    assert not (tmp_path / "in" / "audit").exists()


def test_a_cluster_that_does_not_answer_is_a_clear_error(tmp_path: Path) -> None:
    tone(tmp_path / "in" / "song.wav", -20.0, 0.5)
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    r = run("batch", "analyze", tmp_path / "in", "-o", tmp_path / "out", "--cluster",
            f"tcp://127.0.0.1:{port}", timeout=120)
    assert r.returncode == 1
    assert r.stderr.strip().splitlines() == [
        f"mixdown: error: --cluster tcp://127.0.0.1:{port}: the scheduler does not answer "
        "within 5 s (OSError); is `dask scheduler` running there and reachable?"]
    assert not (tmp_path / "out").exists()


TINY_SONG = """\
schema_version = 1

[song]
title = "Tiny"
tempo = 120
time_signature = [4, 4]
sample_rate = 48000
tail_s = 0.5

[[track]]
name = "Drums"
instrument = { type = "drums", kit = "909" }

[[track.clips]]
start = "1:1"
bars = 2
pattern = { kick = "x...x...x...x...", hat = "..x...x...x...x." }

[master]
target = "spotify"
"""


def test_render_and_deliver_batches_call_the_single_file_services(tmp_path: Path) -> None:
    (tmp_path / "songs" / "first").mkdir(parents=True)
    (tmp_path / "songs" / "first" / "song.toml").write_text(TINY_SONG)
    out = tmp_path / "renders"
    r = run("batch", "render", tmp_path / "songs", "-o", out, "--workers", "1")
    assert r.returncode == 0, r.stderr
    single = tmp_path / "single.wav"
    assert run("render", tmp_path / "songs" / "first", "-o", single).returncode == 0
    assert (out / "first.wav").read_bytes() == single.read_bytes()
    assert lufs(single) == pytest.approx(-14.0, abs=MASTER_TOL)  # the song's [master] target
    assert (out / "first.wav.qc.json").is_file()

    d = run("batch", "deliver", tmp_path / "songs", "-o", tmp_path / "delivery",
            "--targets", "spotify", "--formats", "flac", "--no-stems", "--workers", "1")
    assert d.returncode == 0, d.stderr
    folder = tmp_path / "delivery" / "first"
    assert json.loads((folder / "delivery.json").read_text())["passed"] is True
    (flac,) = (folder / "spotify").glob("*.flac")
    assert lufs(flac) == pytest.approx(-14.0, abs=0.5)
    assert hidden(tmp_path / "delivery") == []
