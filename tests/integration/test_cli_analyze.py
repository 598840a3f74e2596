"""``mixdown analyze`` as a user runs it: a subprocess, real files, hostile files."""

from __future__ import annotations

import json
import math
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

MIXDOWN = str(Path(sys.executable).with_name("mixdown"))
LU_TOL = 0.1  # EBU Tech 3341


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([MIXDOWN, "analyze", *map(str, args)], capture_output=True,
                          text=True, timeout=120, check=False)


def wav_bytes(*, channels: int = 2, rate: int = 48_000, bits: int = 16, fmt_tag: int = 1,
              data: bytes = b"", data_size: int | None = None) -> bytes:
    """A RIFF/WAVE file byte by byte, so headers can lie."""
    block = channels * bits // 8
    fmt = struct.pack("<HHIIHH", fmt_tag, channels, rate, rate * block, block, bits)
    size = len(data) if data_size is None else data_size
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + \
        struct.pack("<I", size) + data
    return b"RIFF" + struct.pack("<I", 4 + len(body) - 4) + body


def pcm16(x: np.ndarray) -> bytes:
    return (np.clip(x.T, -1, 1) * 32767).astype("<i2").tobytes()


def stereo_tone(level_dbfs: float, seconds: float, rate: int = 48_000) -> np.ndarray:
    t = np.arange(round(seconds * rate)) / rate
    x = 10 ** (level_dbfs / 20) * np.sin(2 * np.pi * 1000 * t)
    return np.stack([x, x]).astype(np.float32)


@pytest.fixture
def good(tmp_path: Path) -> Path:
    path = tmp_path / "good.wav"
    sf.write(str(path), stereo_tone(-23.0, 4.0).T, 48_000, subtype="PCM_24")
    return path


def test_json_for_one_file_has_the_issue_keys_and_units(good: Path) -> None:
    r = run(good, "--json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["file"] == str(good)
    assert d["integrated_lufs"] == pytest.approx(-23.0, abs=LU_TOL)
    assert d["true_peak_dbtp"] == pytest.approx(-23.0, abs=0.2)
    assert d["sample_rate"] == 48_000 and d["channels"] == 2
    assert d["duration_s"] == pytest.approx(4.0)
    assert d["correlation"] == pytest.approx(1.0, abs=1e-6)
    assert d["clipped_samples"] == 0 and len(d["dc_offset"]) == 2
    assert "momentary" not in d


def test_series_are_lists_of_time_and_lufs(good: Path) -> None:
    d = json.loads(run(good, "--json", "--series").stdout)
    t, lufs = d["momentary"][0]
    assert t == pytest.approx(0.4) and lufs == pytest.approx(-23.0, abs=LU_TOL)
    assert d["short_term"][-1][0] == pytest.approx(4.0)
    assert d["momentary"][1][0] - t <= 0.010 + 1e-9  # a hop of at most 10 ms


def test_human_output_and_target_verdict(good: Path) -> None:
    r = run(good, "--target", "ebu-r128")
    assert r.returncode == 0, r.stderr
    assert "-23.0 LUFS" in r.stdout and "target ebu-r128" in r.stdout and "PASS" in r.stdout
    r = run(good, "--target", "spotify")
    assert "FAIL" in r.stdout


def test_unknown_target_is_one_line_and_no_traceback(good: Path) -> None:
    r = run(good, "--target", "spotfy")
    assert r.returncode != 0
    assert r.stderr.count("\n") == 1 and "spotify" in r.stderr
    assert "Traceback" not in r.stderr


def test_report_folder_holds_a_page_per_file_and_an_index(good: Path, tmp_path: Path) -> None:
    r = run(good, "--report", tmp_path / "report", "--target", "spotify")
    assert r.returncode == 0, r.stderr
    page = (tmp_path / "report" / "good.html").read_text()
    assert page.count("data:image/png;base64,") == 3
    assert "good.html" in (tmp_path / "report" / "index.html").read_text()


BAD_FILES = {
    "empty.wav": b"",
    "text.wav": b"this is a shopping list, not audio\n" * 10,
    "corrupt.wav": b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00" + bytes(range(16)) + b"junk",
    "zero_channels.wav": wav_bytes(channels=0, data=bytes(400)),
    "zero_hz.wav": wav_bytes(rate=0, data=bytes(400)),
    "giga_hz.wav": wav_bytes(rate=1_000_000_000, data=bytes(400)),
    "no_frames.wav": wav_bytes(data=b""),
}


def test_a_batch_continues_past_bad_files(good: Path, tmp_path: Path) -> None:
    paths = []
    for name, data in BAD_FILES.items():
        path = tmp_path / name
        path.write_bytes(data)
        paths.append(path)
    nan = tmp_path / "nan.wav"
    x = stereo_tone(-20.0, 1.0)
    x[1, 1000] = np.nan
    sf.write(str(nan), x.T, 48_000, subtype="FLOAT")
    inf = tmp_path / "inf.wav"
    x[1, 1000] = np.inf
    sf.write(str(inf), x.T, 48_000, subtype="FLOAT")
    missing = tmp_path / "missing.wav"
    batch = [good, *paths, nan, inf, missing, good]
    r = run(*batch, "--json")
    assert r.returncode == 3
    assert "Traceback" not in r.stderr
    entries = json.loads(r.stdout)
    assert [e["file"] for e in entries] == [str(p) for p in batch]
    errors = {Path(e["file"]).name: e["error"] for e in entries if "error" in e}
    assert set(errors) == {*BAD_FILES, "nan.wav", "inf.wav", "missing.wav"}
    for name, message in errors.items():
        assert name in message, message  # every message names its file
        assert "\n" not in message
    assert "NaN or infinite" in errors["nan.wav"] and "NaN or infinite" in errors["inf.wav"]
    assert "not found" in errors["missing.wav"]
    assert "0 frames" in errors["no_frames.wav"]
    assert "empty (0 bytes)" in errors["empty.wav"]
    assert entries[0]["integrated_lufs"] == pytest.approx(-23.0, abs=LU_TOL)
    assert entries[-1]["integrated_lufs"] == entries[0]["integrated_lufs"]
    lines = r.stderr.strip().splitlines()
    assert len(lines) == len(errors) and all(ln.startswith("mixdown: error: ") for ln in lines)


def test_truncated_file_is_analysed_and_flagged(tmp_path: Path) -> None:
    audio = pcm16(stereo_tone(-20.0, 2.0))
    path = tmp_path / "truncated.wav"
    path.write_bytes(wav_bytes(data=audio[: len(audio) // 2], data_size=len(audio)))
    r = run(path, "--json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["duration_s"] == pytest.approx(1.0, abs=0.01)
    assert any("truncated" in w for w in d["warnings"])


def test_too_short_for_a_gating_block_is_flagged_not_crashed(tmp_path: Path) -> None:
    path = tmp_path / "blip.wav"
    path.write_bytes(wav_bytes(data=pcm16(stereo_tone(-20.0, 0.1))))
    r = run(path, "--json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["integrated_lufs"] is None and d["max_momentary_lufs"] is None
    assert d["true_peak_dbtp"] == pytest.approx(-20.0, abs=0.3)
    assert any("400 ms" in w for w in d["warnings"])


def test_silence_reads_null_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "silence.wav"
    path.write_bytes(wav_bytes(data=bytes(4 * 48_000 * 2)))
    r = run(path, "--json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["integrated_lufs"] is None and d["true_peak_dbtp"] is None
    assert d["plr_db"] is None and d["loudness_range_lu"] == 0.0
    assert any("silence" in w for w in d["warnings"])
    assert not math.isnan(d["duration_s"])
