"""The General MIDI SoundFont the pretty-midi wheel ships (GPL: used in place, never copied
into the repository), and ways to spoil it for the bad-input tests."""

from __future__ import annotations

import struct
from pathlib import Path

import pretty_midi

GM_SF2 = Path(pretty_midi.__file__).with_name("TimGM6mb.sf2")


def gm_bytes() -> bytes:
    """The whole TimGM6mb.sf2."""
    return GM_SF2.read_bytes()


def chunk_offset(data: bytes, name: bytes) -> int:
    """Where the body of the first chunk called ``name`` starts."""
    i = data.index(name)
    return i + 8


def with_bad_sample_index(data: bytes) -> bytes:
    """The file with its first instrument zone pointing at a sample that does not exist."""
    out = bytearray(data)
    a = chunk_offset(data, b"igen")
    (size,) = struct.unpack_from("<I", data, a - 4)
    for k in range(a, a + size, 4):
        oper, _ = struct.unpack_from("<HH", data, k)
        if oper == 53:  # sampleID
            struct.pack_into("<H", out, k + 2, 60000)
            return bytes(out)
    raise AssertionError("no sampleID generator")
