"""MIDI files for the interchange tests: small ones written with mido, huge ones by bytes."""

from __future__ import annotations

import struct
from pathlib import Path

import mido


def write_mido(path: Path, tracks: list[list[mido.Message | mido.MetaMessage]], *,
               fmt: int = 1, ticks_per_beat: int = 480) -> Path:
    """Write ``tracks`` (messages with delta times) as a MIDI file with mido."""
    mf = mido.MidiFile(type=fmt, ticks_per_beat=ticks_per_beat)
    for msgs in tracks:
        mf.tracks.append(mido.MidiTrack(msgs))
    path.parent.mkdir(parents=True, exist_ok=True)
    mf.save(path)
    return path


def many_notes_file(path: Path, notes: int, *, tracks: int = 8,
                    ticks_per_beat: int = 480) -> Path:
    """A format-1 file with ``notes`` sixteenth notes spread over ``tracks`` tracks.

    Written as repeated running-status bytes (mido needs ~50 s for a million notes); each
    track cycles through 48 pitches and many velocities, on its own channel and program.
    """
    step = ticks_per_beat // 4
    chunks = []
    tempo = b"\x00\xff\x51\x03\x07\xa1\x20"  # 120 bpm
    chunks.append(tempo + b"\x00\xff\x2f\x00")
    per = notes // tracks
    for k in range(tracks):
        ch = k if k != 9 else 10
        head = bytes([0x00, 0xC0 | ch, (k * 8) % 128])
        body = bytearray()
        for i in range(48 * 5):  # one cycle of pitch x velocity, repeated below
            pitch = 36 + (i * 7) % 48
            vel = 40 + i % 80
            body += bytes([0x00 if i == 0 else step // 2, 0x90 | ch, pitch, vel])
            body += bytes([step // 2, pitch, 0])  # running status, velocity 0 = off
        reps, rest = divmod(per, 48 * 5)
        # later cycles start step // 2 after the previous note-off, like every other note
        cycle = bytes(body)
        later = bytes([step // 2]) + cycle[1:]
        data = head + cycle + later * (reps - 1) if reps else head
        data += later[: rest * 7]
        chunks.append(data + b"\x00\xff\x2f\x00")
    out = b"MThd" + struct.pack(">IHHH", 6, 1, len(chunks), ticks_per_beat)
    for c in chunks:
        out += b"MTrk" + struct.pack(">I", len(c)) + c
    path.write_bytes(out)
    return path
