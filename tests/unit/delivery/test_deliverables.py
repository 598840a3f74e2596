"""Deliverables are measured after encoding: an MP3 that overshoots is caught and re-made;
PCM files pass first time; a file that cannot pass is not shipped."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from delivery_signals import (
    ffmpeg_ebur128,
    loud_mix,
    read,
    true_peak_8x,
    true_peak_libebur128,
    write,
)

from mixdown.delivery.deliverables import DELIVERABLES, make_deliverable
from mixdown.delivery.tags import Metadata, read_bext, read_tags
from mixdown.mastering.normalize import master_to_target

CEILING = -1.0
TARGET = -9.0  # loud: lossy codecs overshoot most on loud masters
METER_RESOLUTION_DB = 0.005  # ffmpeg prints linear peaks with 3 decimals
META = Metadata(title="Night Drive", artist="Ana", isrc="GBABC2600001")


@pytest.fixture(scope="module")
def master(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("master")
    mix = write(folder / "mix.wav", loud_mix(np.random.default_rng(7)))
    out = folder / "master.wav"
    result = master_to_target(mix, out, target_lufs=TARGET, ceiling_dbtp=CEILING, bit_depth=32)
    assert result.reached
    return out


def test_master_passes_as_wav_but_the_mp3_overshoots_and_is_fixed(master: Path,
                                                                   tmp_path: Path) -> None:
    wav = make_deliverable(master, DELIVERABLES["wav-24-48k"], tmp_path / "m.wav",
                           ceiling_dbtp=CEILING, target_lufs=TARGET, metadata=META)
    assert wav.passed and wav.attempts == 1  # as PCM the master is within its ceiling
    mp3 = make_deliverable(master, DELIVERABLES["mp3-320"], tmp_path / "m.mp3",
                           ceiling_dbtp=CEILING, target_lufs=TARGET, metadata=META)
    first = mp3.history[0]["true_peak_dbtp"]
    assert first > CEILING + 0.1  # the first encode overshot: caught after decoding
    assert mp3.passed and mp3.attempts >= 2 and mp3.margin_db > first - CEILING
    # the shipped MP3, decoded and measured by independent meters
    lufs, peak = ffmpeg_ebur128(tmp_path / "m.mp3")
    assert peak <= CEILING + METER_RESOLUTION_DB
    decoded, sr = read(tmp_path / "m.mp3")
    assert true_peak_8x(decoded) <= CEILING
    assert true_peak_libebur128(decoded, sr) <= CEILING
    assert lufs == pytest.approx(TARGET, abs=0.5)  # the re-make kept the loudness
    assert read_tags(tmp_path / "m.mp3")["isrc"] == "GBABC2600001"


def test_cd_wav_is_16_bit_44k1_dithered_and_tagged(master: Path, tmp_path: Path) -> None:
    res = make_deliverable(master, DELIVERABLES["wav-16-44k"], tmp_path / "cd.wav",
                           ceiling_dbtp=CEILING, target_lufs=TARGET, metadata=META)
    assert res.passed
    info = sf.info(str(res.path))
    assert (info.samplerate, info.subtype) == (44_100, "PCM_16")
    assert info.frames == round(sf.info(str(master)).frames * 44_100 / 48_000)
    bext = read_bext(res.path)
    assert bext is not None and "ISRC=GBABC2600001" in bext["description"]
    assert bext["max_true_peak_level"] <= CEILING
    assert "dither tpdf" in bext["coding_history"]
    # TPDF dither leaves no silence exactly silent: the fade-out's last samples toggle LSBs
    audio, _ = read(res.path)
    tail = audio[:, -200:]
    assert np.count_nonzero(tail) > 100


def test_a_deliverable_that_cannot_pass_is_not_shipped(master: Path, tmp_path: Path) -> None:
    dest = tmp_path / "m.mp3"
    res = make_deliverable(master, DELIVERABLES["mp3-320"], dest, ceiling_dbtp=CEILING,
                           max_attempts=1)
    assert not res.passed and res.path is None
    assert "not shipped" in (res.error or "")
    assert not dest.exists()
    assert list(tmp_path.iterdir()) == []  # no temporary file left behind


def test_aac_is_encoded_measured_and_fixed(master: Path, tmp_path: Path) -> None:
    from mixdown.io.audio import audio_info, read_audio

    res = make_deliverable(master, DELIVERABLES["aac-256"], tmp_path / "m.m4a",
                           ceiling_dbtp=CEILING, target_lufs=TARGET, metadata=META)
    assert res.passed, res.error
    # AAC overshoots a loud master like MP3 does: caught after decoding, re-made.
    assert res.history[0]["true_peak_dbtp"] > CEILING
    lufs, peak = ffmpeg_ebur128(tmp_path / "m.m4a")  # an independent decoder and meter
    assert peak <= CEILING + METER_RESOLUTION_DB
    assert lufs == pytest.approx(TARGET, abs=0.5)
    decoded, _ = read_audio(tmp_path / "m.m4a")
    assert true_peak_8x(decoded) <= CEILING
    # The length is the master's, to the frame (the encoder's padding is trimmed on read).
    assert decoded.shape[1] == audio_info(master).frames
    assert read_tags(tmp_path / "m.m4a")["isrc"] == "GBABC2600001"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.m4a"]
