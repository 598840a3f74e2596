"""Metadata: ID3v2 for MP3 and WAV, Vorbis comments for FLAC, a BWF ``bext`` chunk for WAV.

The ``bext`` chunk follows EBU Tech 3285 version 2, including its loudness fields
(integrated loudness, loudness range, maximum true peak, maximum momentary and
short-term loudness, each in hundredths), so that a broadcast tool reads the
delivery's measured loudness from the file itself. The ISRC goes in the ID3 ``TSRC``
frame, the Vorbis ``ISRC`` comment, and (for WAV) the ``bext`` description as
``ISRC=...`` as EBU Tech 3352 suggests.
"""

from __future__ import annotations

import math
import os
import re
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mixdown.core.codes import normalize_isrc
from mixdown.core.errors import FormatError, ParameterError

BEXT_FIXED_BYTES = 602
"""Size of the fixed part of a version 2 ``bext`` chunk."""
BEXT_UNKNOWN = 0x7FFF
"""Loudness field value meaning 'not measured' (EBU Tech 3285 v2)."""


@dataclass(frozen=True, slots=True)
class Metadata:
    """Tags for a deliverable; None fields are not written."""

    title: str | None = None
    artist: str | None = None
    album: str | None = None
    isrc: str | None = None
    date: str | None = None
    track: int | None = None
    comment: str | None = None
    originator: str = "mixdown"

    def __post_init__(self) -> None:
        if self.isrc is not None:
            object.__setattr__(self, "isrc", normalize_isrc(self.isrc))
        if self.date is not None and not re.fullmatch(r"\d{4}(-\d{2}-\d{2})?", self.date):
            raise ParameterError(f"date must be YYYY or YYYY-MM-DD, got {self.date!r}")
        if self.track is not None and not 1 <= self.track <= 999:
            raise ParameterError(f"track number must be 1..999, got {self.track}")

    def as_dict(self) -> dict[str, Any]:
        """The set fields."""
        return {k: getattr(self, k) for k in ("title", "artist", "album", "isrc", "date",
                                              "track", "comment")
                if getattr(self, k) is not None}


@dataclass(frozen=True, slots=True)
class LoudnessFields:
    """Measured figures for the ``bext`` v2 loudness fields (LUFS, LU, dBTP)."""

    integrated_lufs: float = math.nan
    loudness_range_lu: float = math.nan
    true_peak_dbtp: float = math.nan
    max_momentary_lufs: float = math.nan
    max_short_term_lufs: float = math.nan


def write_tags(path: str | Path, meta: Metadata, *, loudness: LoudnessFields | None = None,
               coding_history: str = "") -> None:
    """Write ``meta`` into the file at ``path`` (WAV, FLAC or MP3), in place.

    Raises
    ------
    FormatError
        For another format or a file the tag library cannot parse.
    """
    p = Path(path)
    kind = _kind(p)
    try:
        if kind == "wav":
            write_bext(p, meta, loudness=loudness, coding_history=coding_history)
            _write_id3(p, meta, wave=True)
        elif kind == "mp3":
            _write_id3(p, meta, wave=False)
        elif kind == "mp4":
            _write_mp4(p, meta)
        else:
            _write_vorbis(p, meta)
    except (FormatError, ParameterError):
        raise
    except Exception as exc:
        raise FormatError(f"{p}: cannot write tags ({exc})", p) from exc


def read_tags(path: str | Path) -> dict[str, str]:
    """The title, artist, album, ISRC, date, track and comment found in a file."""
    p = Path(path)
    kind = _kind(p)
    out: dict[str, str] = {}
    if kind == "mp4":
        from mutagen.mp4 import MP4

        tags = MP4(str(p)).tags or {}
        for key, atom in _MP4_ATOMS.items():
            if key == "track":
                if tags.get(atom):
                    out["track"] = str(tags[atom][0][0])
            elif tags.get(atom):
                value = tags[atom][0]
                out[key] = value.decode() if isinstance(value, bytes) else str(value)
        return out
    if kind == "flac":
        from mutagen.flac import FLAC

        f = FLAC(str(p))
        for key in ("title", "artist", "album", "isrc", "date", "tracknumber", "comment"):
            if f.get(key):
                out["track" if key == "tracknumber" else key] = str(f[key][0])
        return out
    from mutagen.id3 import ID3, ID3NoHeaderError

    try:
        if kind == "wav":
            from mutagen.wave import WAVE

            tags: Any = WAVE(str(p)).tags
        else:
            tags = ID3(str(p))
    except ID3NoHeaderError:
        return out
    if tags is None:
        return out
    for key, frame in (("title", "TIT2"), ("artist", "TPE1"), ("album", "TALB"),
                       ("isrc", "TSRC"), ("date", "TDRC"), ("track", "TRCK")):
        if frame in tags:
            out[key] = str(tags[frame].text[0])
    comments = tags.getall("COMM")
    if comments:
        out["comment"] = str(comments[0].text[0])
    return out


_MP4_ATOMS = {
    "title": "\xa9nam", "artist": "\xa9ART", "album": "\xa9alb", "date": "\xa9day",
    "comment": "\xa9cmt", "track": "trkn", "isrc": "----:com.apple.iTunes:ISRC",
}
"""MP4 (iTunes) atoms for each field; the ISRC goes in the freeform atom iTunes uses."""


def _write_mp4(p: Path, meta: Metadata) -> None:
    from mutagen.mp4 import MP4, MP4FreeForm

    f = MP4(str(p))
    if f.tags is None:
        f.add_tags()
    tags = f.tags
    assert tags is not None
    for key, atom in _MP4_ATOMS.items():
        value = getattr(meta, key)
        if value is None:
            continue
        if key == "track":
            tags[atom] = [(int(value), 0)]
        elif key == "isrc":
            tags[atom] = [MP4FreeForm(str(value).encode())]
        else:
            tags[atom] = [str(value)]
    f.save()


def _kind(p: Path) -> str:
    ext = p.suffix.lower()
    kinds = {".wav": "wav", ".wave": "wav", ".flac": "flac", ".mp3": "mp3", ".m4a": "mp4"}
    if ext not in kinds:
        raise FormatError(f"{p}: tags are written to WAV, FLAC, MP3 and M4A files, "
                          f"not {ext!r}", p)
    return kinds[ext]


def _write_id3(p: Path, meta: Metadata, *, wave: bool) -> None:
    from mutagen.id3 import COMM, ID3, TALB, TDRC, TIT2, TPE1, TRCK, TSRC, ID3NoHeaderError

    if wave:
        from mutagen.wave import WAVE

        f = WAVE(str(p))
        if f.tags is None:
            f.add_tags()
        tags: Any = f.tags
    else:
        try:
            tags = ID3(str(p))
        except ID3NoHeaderError:
            tags = ID3()
    frames = [(TIT2, meta.title), (TPE1, meta.artist), (TALB, meta.album),
              (TSRC, meta.isrc), (TDRC, meta.date),
              (TRCK, None if meta.track is None else str(meta.track))]
    for cls, value in frames:
        if value is not None:
            tags.setall(cls.__name__, [cls(encoding=3, text=[value])])
    if meta.comment is not None:
        tags.setall("COMM", [COMM(encoding=3, lang="eng", desc="", text=[meta.comment])])
    if wave:
        f.save(v2_version=3)
    else:
        tags.save(str(p), v2_version=3)


def _write_vorbis(p: Path, meta: Metadata) -> None:
    from mutagen.flac import FLAC

    f = FLAC(str(p))
    for key, value in (("TITLE", meta.title), ("ARTIST", meta.artist), ("ALBUM", meta.album),
                       ("ISRC", meta.isrc), ("DATE", meta.date),
                       ("TRACKNUMBER", None if meta.track is None else str(meta.track)),
                       ("COMMENT", meta.comment)):
        if value is not None:
            f[key] = [value]
    f.save()


# -- BWF bext ------------------------------------------------------------------------------

def _fixed(text: str, size: int) -> bytes:
    return text.encode("ascii", "replace")[:size].ljust(size, b"\0")


def _centi(value: float) -> int:
    if not math.isfinite(value):
        return BEXT_UNKNOWN
    return max(-32767, min(32766, round(value * 100)))


def bext_chunk(meta: Metadata, *, loudness: LoudnessFields | None = None,
               coding_history: str = "") -> bytes:
    """The ``bext`` chunk body (EBU Tech 3285 v2) for ``meta``."""
    description = meta.title or ""
    if meta.artist:
        description = f"{description} - {meta.artist}" if description else meta.artist
    if meta.isrc:
        description = f"{description}; ISRC={meta.isrc}" if description else f"ISRC={meta.isrc}"
    date = meta.date if meta.date and len(meta.date) == 10 else ""
    lf = loudness or LoudnessFields()
    body = b"".join([
        _fixed(description, 256),
        _fixed(meta.originator, 32),
        _fixed(meta.isrc or "", 32),  # OriginatorReference: the recording's identifier
        _fixed(date, 10),
        _fixed("", 8),
        struct.pack("<IIH", 0, 0, 2),  # TimeReference low/high, Version 2
        b"\0" * 64,  # UMID
        struct.pack("<5h", _centi(lf.integrated_lufs), _centi(lf.loudness_range_lu),
                    _centi(lf.true_peak_dbtp), _centi(lf.max_momentary_lufs),
                    _centi(lf.max_short_term_lufs)),
        b"\0" * 180,
    ])
    assert len(body) == BEXT_FIXED_BYTES
    history = "".join(line.rstrip("\r\n") + "\r\n" for line in coding_history.splitlines())
    return body + history.encode("ascii", "replace")


def read_bext(path: str | Path) -> dict[str, Any] | None:
    """The ``bext`` fields of a WAV file, or None if it has none."""
    chunks = _riff_chunks(Path(path))
    data = next((body for cid, body in chunks if cid == b"bext"), None)
    if data is None:
        return None

    def text(a: int, b: int) -> str:
        return data[a:b].split(b"\0", 1)[0].decode("ascii", "replace")

    low, high, version = struct.unpack_from("<IIH", data, 338)
    fields = struct.unpack_from("<5h", data, 412)
    names = ("loudness_value", "loudness_range", "max_true_peak_level",
             "max_momentary_loudness", "max_short_term_loudness")
    return {
        "description": text(0, 256), "originator": text(256, 288),
        "originator_reference": text(288, 320), "origination_date": text(320, 330),
        "time_reference": low + (high << 32), "version": version,
        **{n: (None if v == BEXT_UNKNOWN else v / 100.0) for n, v in zip(names, fields,
                                                                           strict=True)},
        "coding_history": data[BEXT_FIXED_BYTES:].decode("ascii", "replace"),
    }


def write_bext(path: str | Path, meta: Metadata, *, loudness: LoudnessFields | None = None,
               coding_history: str = "") -> None:
    """Put a ``bext`` chunk right after ``fmt `` (replacing any), atomically."""
    p = Path(path)
    chunks = [(cid, body) for cid, body in _riff_chunks(p) if cid != b"bext"]
    new = bext_chunk(meta, loudness=loudness, coding_history=coding_history)
    out: list[tuple[bytes, bytes]] = []
    for cid, body in chunks:
        out.append((cid, body))
        if cid == b"fmt ":
            out.append((b"bext", new))
    payload = b"".join(cid + struct.pack("<I", len(body)) + body + (b"\0" if len(body) % 2
                                                                     else b"")
                       for cid, body in out)
    if len(payload) + 4 > 0xFFFFFFFF:
        raise FormatError(f"{p}: over 4 GiB; a bext chunk needs RF64, which is not written", p)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".part", dir=p.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(b"RIFF" + struct.pack("<I", len(payload) + 4) + b"WAVE" + payload)
        os.replace(tmp, p)
    finally:
        Path(tmp).unlink(missing_ok=True)


def _riff_chunks(p: Path) -> list[tuple[bytes, bytes]]:
    data = p.read_bytes()
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise FormatError(f"{p}: not a RIFF/WAVE file", p)
    chunks = []
    pos = 12
    while pos + 8 <= len(data):
        cid = data[pos:pos + 4]
        size = struct.unpack_from("<I", data, pos + 4)[0]
        body = data[pos + 8:pos + 8 + size]
        if len(body) != size:
            raise FormatError(f"{p}: chunk {cid!r} runs past the end of the file", p)
        chunks.append((cid, body))
        pos += 8 + size + (size % 2)
    return chunks
