"""Checking a SoundFont's bytes (SF2, SF3) before the C synthesizer sees them.

The synthesizer's parser trusts chunk sizes and record indices; a hostile or truncated
file could make it read out of bounds. :func:`check_soundfont` walks the RIFF ``sfbk``
structure in Python and checks every size, every record count and every index between
the preset, instrument and sample tables, so that only a well-formed file reaches it.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

from mixdown.core.errors import FormatError

_PDTA = (("phdr", 38), ("pbag", 4), ("pmod", 10), ("pgen", 4), ("inst", 22), ("ibag", 4),
         ("imod", 10), ("igen", 4), ("shdr", 46))
"""The preset-data sub-chunks, in the order the format requires, with their record sizes."""

_GEN_INSTRUMENT = 41
_GEN_SAMPLE_ID = 53
_COMPRESSED = 0x10  # sfSampleType bit of an SF3 (Ogg Vorbis) sample
_ROM = 0x8000


@dataclass(frozen=True, slots=True)
class SoundFontInfo:
    """What a checked SoundFont holds: version, presets as (bank, preset, name), samples."""

    version: tuple[int, int]
    presets: tuple[tuple[int, int, str], ...]
    samples: int

    def has_preset(self, bank: int, preset: int) -> bool:
        """Whether ``bank``/``preset`` is in the file."""
        return any(b == bank and p == preset for b, p, _ in self.presets)


class _Bad(Exception):
    pass


def _chunks(data: bytes, start: int, end: int, where: str) -> list[tuple[bytes, int, int]]:
    """The (id, body start, body end) of the chunks in ``data[start:end]``."""
    out = []
    pos = start
    while pos < end:
        if pos + 8 > end:
            raise _Bad(f"{where}: a chunk header is cut off at byte {pos}")
        cid = data[pos:pos + 4]
        (size,) = struct.unpack_from("<I", data, pos + 4)
        body = pos + 8
        if body + size > end:
            raise _Bad(f"{where}: chunk {cid.decode('latin-1')!r} at byte {pos} says {size} "
                       f"bytes but only {end - body} remain (truncated?)")
        out.append((cid, body, body + size))
        pos = body + size + (size & 1)  # RIFF pads odd chunks to an even size
    return out


def _lists(data: bytes, start: int, end: int) -> dict[bytes, tuple[int, int]]:
    found: dict[bytes, tuple[int, int]] = {}
    for cid, a, b in _chunks(data, start, end, "sfbk"):
        if cid != b"LIST":
            continue
        if b - a < 4:
            raise _Bad(f"a LIST chunk at byte {a - 8} is too short")
        found[data[a:a + 4]] = (a + 4, b)
    for name in (b"INFO", b"sdta", b"pdta"):
        if name not in found:
            raise _Bad(f"the {name.decode()} list is missing")
    return found


def _records(data: bytes, a: int, b: int, name: str, size: int, fmt: str) -> np.ndarray:
    if (b - a) % size:
        raise _Bad(f"pdta {name}: {b - a} bytes is not a whole number of {size}-byte records")
    n = (b - a) // size
    if n < 1:
        raise _Bad(f"pdta {name}: no records (a terminal record is required)")
    return np.frombuffer(data, dtype=np.dtype(fmt), count=n, offset=a)


def _indices(values: np.ndarray, limit: int, what: str) -> None:
    """``values`` must not decrease and must stay below ``limit``."""
    v = values.astype(np.int64)
    if len(v) and (np.any(np.diff(v) < 0) or int(v.max()) >= limit):
        raise _Bad(f"{what} indices are out of order or point past the end")


def _inspect(data: bytes) -> SoundFontInfo:
    if len(data) < 12:
        raise _Bad(f"only {len(data)} bytes; a SoundFont starts with a 12-byte RIFF header")
    if data[:4] != b"RIFF" or data[8:12] != b"sfbk":
        raise _Bad("not a SoundFont (no RIFF 'sfbk' header)")
    (riff,) = struct.unpack_from("<I", data, 4)
    if riff + 8 > len(data):
        raise _Bad(f"truncated: the header says {riff + 8} bytes, the file has {len(data)}")
    lists = _lists(data, 12, 8 + riff)
    info = {cid: (a, b) for cid, a, b in _chunks(data, *lists[b"INFO"], "INFO")}
    if b"ifil" not in info or info[b"ifil"][1] - info[b"ifil"][0] < 4:
        raise _Bad("INFO: the version chunk 'ifil' is missing")
    major, minor = struct.unpack_from("<HH", data, info[b"ifil"][0])
    if major not in (2, 3):
        raise _Bad(f"version {major}.{minor} is not SoundFont 2 or 3")
    sdta = {cid: (a, b) for cid, a, b in _chunks(data, *lists[b"sdta"], "sdta")}
    smpl_a, smpl_b = sdta.get(b"smpl", (0, 0))
    pdta = _chunks(data, *lists[b"pdta"], "pdta")
    names = [cid.decode("latin-1") for cid, _, _ in pdta]
    if names[:9] != [n for n, _ in _PDTA]:
        raise _Bad(f"pdta: sub-chunks {', '.join(names) or 'none'}; expected "
                   f"{', '.join(n for n, _ in _PDTA)} in that order")
    at = {cid.decode("latin-1"): (a, b) for cid, a, b in pdta[:9]}
    phdr = _records(data, *at["phdr"], "phdr", 38, "V20,<u2,<u2,<u2,<u4,<u4,<u4")
    pbag = _records(data, *at["pbag"], "pbag", 4, "<u2,<u2")
    pmod = _records(data, *at["pmod"], "pmod", 10, "V10")
    pgen = _records(data, *at["pgen"], "pgen", 4, "<u2,<u2")
    inst = _records(data, *at["inst"], "inst", 22, "V20,<u2")
    ibag = _records(data, *at["ibag"], "ibag", 4, "<u2,<u2")
    imod = _records(data, *at["imod"], "imod", 10, "V10")
    igen = _records(data, *at["igen"], "igen", 4, "<u2,<u2")
    shdr = _records(data, *at["shdr"], "shdr", 46, "V20,<u4,<u4,<u4,<u4,<u4,u1,i1,<u2,<u2")
    if len(phdr) < 2:
        raise _Bad("holds no presets")
    _indices(phdr["f3"], len(pbag), "preset bag")
    _indices(pbag["f0"], len(pgen), "preset generator")
    _indices(pbag["f1"], len(pmod), "preset modulator")
    _indices(inst["f1"], len(ibag), "instrument bag")
    _indices(ibag["f0"], len(igen), "instrument generator")
    _indices(ibag["f1"], len(imod), "instrument modulator")
    uses = pgen["f1"][pgen["f0"] == _GEN_INSTRUMENT]
    if len(uses) and int(uses.max()) >= len(inst) - 1:
        raise _Bad("a preset refers to an instrument that does not exist")
    refs = igen["f1"][igen["f0"] == _GEN_SAMPLE_ID]
    if len(refs) and int(refs.max()) >= len(shdr) - 1:
        raise _Bad("an instrument refers to a sample that does not exist")
    samples = shdr[:-1]
    kind = samples["f9"].astype(np.int64)
    rom = (kind & _ROM) != 0
    packed = (kind & _COMPRESSED) != 0
    if np.any(packed) and major != 3:
        raise _Bad("compressed (SF3) samples in a version 2 file")
    start, end = samples["f1"].astype(np.int64), samples["f2"].astype(np.int64)
    loop_a, loop_b = samples["f3"].astype(np.int64), samples["f4"].astype(np.int64)
    bytes_ = smpl_b - smpl_a
    limit = np.where(packed, bytes_, bytes_ // 2)  # SF3 offsets count bytes, SF2 16-bit words
    ok = rom | ((start <= end) & (end <= limit))
    ok &= rom | packed | ((loop_a <= loop_b) & (loop_b <= limit))
    if not np.all(ok):
        bad = int(np.flatnonzero(~ok)[0])
        raise _Bad(f"sample {bad} points outside the sample data (truncated?)")
    if np.any((samples["f5"] == 0) & ~rom & (end > start)):
        raise _Bad("a sample has a sample rate of 0 Hz")
    for i in np.flatnonzero(packed & ~rom & (end > start)).tolist():
        a = smpl_a + int(start[i])
        if data[a:a + 4] != b"OggS":
            raise _Bad(f"compressed sample {i} is not Ogg Vorbis data")
    presets = tuple(
        (int(r["f2"]), int(r["f1"]), bytes(r["f0"]).split(b"\0", 1)[0].decode("latin-1"))
        for r in phdr[:-1])
    return SoundFontInfo((int(major), int(minor)), presets, len(samples))


def check_soundfont(data: bytes, name: str = "SoundFont") -> SoundFontInfo:
    """Check the structure of a SoundFont's bytes.

    Parameters
    ----------
    data : bytes
        The whole file.
    name : str
        How the message names the file.

    Returns
    -------
    SoundFontInfo

    Raises
    ------
    FormatError
        ``"<name>: is not a usable SoundFont (<what is wrong>)"``.
    """
    try:
        return _inspect(data)
    except _Bad as exc:
        raise FormatError(f"{name}: is not a usable SoundFont ({exc})", None) from None
    except (struct.error, ValueError) as exc:  # a record read past a bound we did not foresee
        raise FormatError(f"{name}: is not a usable SoundFont ({exc})", None) from None


__all__ = ["SoundFontInfo", "check_soundfont"]
