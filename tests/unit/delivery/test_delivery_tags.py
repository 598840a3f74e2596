"""Tags: ID3v2 in MP3 and WAV, Vorbis comments in FLAC, a BWF bext v2 chunk with loudness."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from delivery_signals import read

from mixdown.core.errors import FormatError, ParameterError
from mixdown.delivery.tags import (
    BEXT_FIXED_BYTES,
    LoudnessFields,
    Metadata,
    read_bext,
    read_tags,
    write_tags,
)

META = Metadata(title="Night Drive", artist="Ana Ruiz", album="First", isrc="GB-ABC-26-00001",
                date="2026-11-24", track=3, comment="mastered by mixdown")
EXPECTED = {"title": "Night Drive", "artist": "Ana Ruiz", "album": "First",
            "isrc": "GBABC2600001", "date": "2026-11-24", "track": "3",
            "comment": "mastered by mixdown"}


@pytest.fixture
def audio(rng: np.random.Generator) -> np.ndarray:
    return (rng.normal(0, 0.1, (2, 24_000))).astype(np.float32)


@pytest.mark.parametrize(("ext", "subtype"), [(".wav", "PCM_24"), (".flac", "PCM_24"),
                                              (".mp3", "MPEG_LAYER_III")])
def test_tags_round_trip_and_audio_is_untouched(tmp_path: Path, audio: np.ndarray, ext: str,
                                                subtype: str) -> None:
    path = tmp_path / f"song{ext}"
    sf.write(str(path), audio.T, 48_000, subtype=subtype)
    before, _ = read(path)
    write_tags(path, META)
    assert read_tags(path) == EXPECTED
    after, _ = read(path)
    np.testing.assert_array_equal(after, before)


def test_bext_v2_chunk_with_loudness_fields(tmp_path: Path, audio: np.ndarray) -> None:
    path = tmp_path / "song.wav"
    sf.write(str(path), audio.T, 48_000, subtype="PCM_24")
    loud = LoudnessFields(-14.02, 5.5, -1.07, -9.1, -11.3)
    write_tags(path, META, loudness=loud, coding_history="A=PCM,F=48000,W=24,M=stereo")
    bext = read_bext(path)
    assert bext is not None
    assert bext["version"] == 2
    assert bext["description"] == "Night Drive - Ana Ruiz; ISRC=GBABC2600001"
    assert bext["originator"] == "mixdown"
    assert bext["origination_date"] == "2026-11-24"
    assert (bext["loudness_value"], bext["loudness_range"], bext["max_true_peak_level"],
            bext["max_momentary_loudness"], bext["max_short_term_loudness"]) == (
        -14.02, 5.5, -1.07, -9.1, -11.3)
    assert bext["coding_history"] == "A=PCM,F=48000,W=24,M=stereo\r\n"
    # the chunk sits right after fmt, before data, and the RIFF size is consistent
    raw = path.read_bytes()
    assert struct.unpack_from("<I", raw, 4)[0] == len(raw) - 8
    assert raw.index(b"fmt ") < raw.index(b"bext") < raw.index(b"data")
    size = struct.unpack_from("<I", raw, raw.index(b"bext") + 4)[0]
    assert size == BEXT_FIXED_BYTES + len("A=PCM,F=48000,W=24,M=stereo\r\n")
    # writing again replaces the chunk, it does not add a second one
    write_tags(path, META)
    assert path.read_bytes().count(b"bext") == 1
    assert read_bext(path)["loudness_value"] is None  # 0x7FFF: not measured


@pytest.mark.parametrize("isrc", ["GB-ABC-26", "12ABC2600001", "GB-AB!-26-00001"])
def test_malformed_isrc_is_refused(isrc: str) -> None:
    with pytest.raises(ParameterError, match=r"ISRC .* is malformed"):
        Metadata(isrc=isrc)


def test_unsupported_format(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match="WAV, FLAC, MP3 and M4A"):
        write_tags(tmp_path / "a.ogg", META)


def test_m4a_tags_round_trip(tmp_path: Path) -> None:
    import numpy as np

    from mixdown.io.audio import AudioWriter

    path = tmp_path / "a.m4a"
    with AudioWriter(path, 48_000, 2) as w:
        w.write(np.zeros((2, 4800), np.float32))
    write_tags(path, META)
    tags = read_tags(path)
    assert tags["title"] == META.title and tags["isrc"] == META.isrc
