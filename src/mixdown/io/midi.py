"""MIDI files: read the notes of a Standard MIDI File (SMF) for a clip.

The notes come back in beats (quarter notes) from the start of the file, using the
file's ticks per quarter note. Tempo and time-signature events inside the file are
ignored: the song's tempo map decides where beats fall. All tracks and channels are
merged into one note list.

The parser is our own and checks every length against the bytes that are really
there before trusting it, so a truncated or hostile file gives one
:class:`~mixdown.core.errors.FormatError` naming the file, never a crash or a hang.
"""

from __future__ import annotations

import struct
from collections import defaultdict, deque
from pathlib import Path

from mixdown.core.errors import FormatError
from mixdown.model.project import Note

MAX_MIDI_BYTES = 32 * 1024 * 1024
"""Refuse files larger than this (a song's MIDI is kilobytes)."""

MAX_NOTES = 1_000_000
"""Refuse files with more notes than this."""

_DATA_BYTES = {0x80: 2, 0x90: 2, 0xA0: 2, 0xB0: 2, 0xC0: 1, 0xD0: 1, 0xE0: 2}


class _Bad(Exception):
    """A parse failure inside the file, with the byte offset it happened at."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


def read_midi_notes(path: str | Path) -> tuple[Note, ...]:
    """Read every note of a MIDI file.

    Parameters
    ----------
    path : Path
        A Standard MIDI File (format 0, 1 or 2) with ticks-per-quarter-note timing.

    Returns
    -------
    tuple of Note
        Sorted by start, then pitch. ``start`` and ``length`` are in beats from the
        file start (ticks / ticks per quarter note); velocity 1..127. A note-on with
        velocity 0 is a note-off. Overlapping notes of the same pitch and channel pair
        first-in, first-out. A note still held at the end of its track ends at the
        track's last event; a note that ends where it starts lasts one tick.

    Raises
    ------
    FormatError
        If the file is missing, not MIDI, truncated, uses SMPTE timing, or is corrupt.
    """
    p = Path(path)
    if not p.is_file():
        raise FormatError(f"{p}: MIDI file not found", p)
    size = p.stat().st_size
    if size > MAX_MIDI_BYTES:
        raise FormatError(
            f"{p}: {size} bytes is too large for a MIDI clip (limit {MAX_MIDI_BYTES})", p
        )
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise FormatError(f"{p}: cannot read the file ({exc.strerror or exc})", p) from exc
    try:
        return _parse(data)
    except _Bad as exc:
        raise FormatError(f"{p}: not a valid MIDI file ({exc}, at byte {exc.offset})", p) from None


def _parse(data: bytes) -> tuple[Note, ...]:
    if len(data) < 14 or data[:4] != b"MThd":
        raise _Bad("no MThd header; this is not a Standard MIDI File", 0)
    (header_len,) = struct.unpack_from(">I", data, 4)
    if header_len < 6 or 8 + header_len > len(data):
        raise _Bad(f"header length {header_len} does not fit the file", 4)
    fmt, ntracks, division = struct.unpack_from(">HHH", data, 8)
    if fmt > 2:
        raise _Bad(f"unknown SMF format {fmt}", 8)
    if division & 0x8000:
        raise _Bad("SMPTE time code has no beats; export with ticks per quarter note", 12)
    if division == 0:
        raise _Bad("ticks per quarter note is 0", 12)
    pos = 8 + header_len
    notes: list[Note] = []
    found = 0
    while pos < len(data):
        if len(data) - pos < 8:
            raise _Bad(f"{len(data) - pos} stray bytes after the last chunk (truncated?)", pos)
        chunk_id = data[pos:pos + 4]
        (length,) = struct.unpack_from(">I", data, pos + 4)
        start = pos + 8
        if start + length > len(data):
            raise _Bad(
                f"chunk {found + 1} says {length} bytes but only {len(data) - start} remain "
                "(truncated)", pos
            )
        if chunk_id == b"MTrk":
            found += 1
            _read_track(data, start, start + length, division, notes)
        pos = start + length
    if found < ntracks:
        raise _Bad(f"the header promises {ntracks} tracks but the file holds {found} "
                   "(truncated)", len(data))
    notes.sort(key=lambda n: (n.start, n.pitch, n.length))
    return tuple(notes)


def _vlq(data: bytes, pos: int, end: int) -> tuple[int, int]:
    """A variable-length quantity (at most 4 bytes) and the position after it."""
    value = 0
    for i in range(4):
        if pos + i >= end:
            raise _Bad("a length or delta time runs past the end of its track", pos)
        byte = data[pos + i]
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            return value, pos + i + 1
    raise _Bad("a variable-length number is longer than 4 bytes", pos)


def _read_track(data: bytes, pos: int, end: int, tpq: int, notes: list[Note]) -> None:
    tick = 0
    running = 0
    held: defaultdict[tuple[int, int], deque[tuple[int, int]]] = defaultdict(deque)
    pairs: list[tuple[int, int, int, int]] = []  # (start tick, end tick, pitch, velocity)
    while pos < end:
        delta, pos = _vlq(data, pos, end)
        tick += delta
        if pos >= end:
            raise _Bad("an event is missing after its delta time", pos)
        status = data[pos]
        if status & 0x80:
            pos += 1
        elif running:
            status = running
        else:
            raise _Bad(f"data byte 0x{status:02x} with no running status", pos)
        if status == 0xFF:
            if pos >= end:
                raise _Bad("a meta event is cut off", pos)
            meta_type = data[pos]
            length, pos = _vlq(data, pos + 1, end)
            if pos + length > end:
                raise _Bad("a meta event runs past the end of its track", pos)
            pos += length
            if meta_type == 0x2F:  # end of track
                break
            continue
        if status in (0xF0, 0xF7):
            length, pos = _vlq(data, pos, end)
            if pos + length > end:
                raise _Bad("a sysex event runs past the end of its track", pos)
            pos += length
            continue
        if status >= 0xF0:
            raise _Bad(f"status byte 0x{status:02x} is not allowed in a MIDI file", pos - 1)
        running = status
        kind = status & 0xF0
        n = _DATA_BYTES[kind]
        if pos + n > end:
            raise _Bad("a channel event is cut off", pos)
        args = data[pos:pos + n]
        if any(b & 0x80 for b in args):
            raise _Bad("a data byte is >= 128", pos)
        pos += n
        if kind not in (0x80, 0x90):
            continue
        key = (status & 0x0F, args[0])
        if kind == 0x90 and args[1] > 0:
            held[key].append((tick, args[1]))
        elif held[key]:
            on_tick, velocity = held[key].popleft()
            pairs.append((on_tick, tick, args[0], velocity))
    for (_, pitch), queue in held.items():
        for on_tick, velocity in queue:
            pairs.append((on_tick, tick, pitch, velocity))
    if len(notes) + len(pairs) > MAX_NOTES:
        raise _Bad(f"more than {MAX_NOTES} notes", pos)
    for on_tick, off_tick, pitch, velocity in pairs:
        ticks = max(off_tick - on_tick, 1)
        notes.append(Note(pitch=pitch, start=on_tick / tpq, length=ticks / tpq,
                          velocity=velocity))
