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


def _chunks(data: bytes, a: int, b: int) -> list[tuple[bytes, int, int]]:
    out = []
    pos = a
    while pos < b:
        (n,) = struct.unpack_from("<I", data, pos + 4)
        out.append((data[pos:pos + 4], pos + 8, pos + 8 + n))
        pos += 8 + n + (n & 1)
    return out


def _ck(cid: bytes, body: bytes) -> bytes:
    return cid + struct.pack("<I", len(body)) + body + (b"\0" if len(body) & 1 else b"")


def _samples_of(data: bytes, pd: dict[bytes, tuple[int, int]], bank: int, preset: int
                ) -> set[int]:
    """The sample indices one preset plays (preset -> instruments -> samples)."""
    def recs(name: bytes, size: int, fmt: str, offset: int = 0) -> list[tuple[int, ...]]:
        a, b = pd[name]
        return [struct.unpack_from(fmt, data, k + offset) for k in range(a, b, size)]

    phdr = recs(b"phdr", 38, "<HHH", 20)
    pbag = recs(b"pbag", 4, "<HH")
    pgen = recs(b"pgen", 4, "<HH")
    inst = recs(b"inst", 22, "<H", 20)
    ibag = recs(b"ibag", 4, "<HH")
    igen = recs(b"igen", 4, "<HH")
    k = next(i for i, (p, b, _) in enumerate(phdr[:-1]) if (b, p) == (bank, preset))
    insts = {amount for bag in range(phdr[k][2], phdr[k + 1][2])
             for oper, amount in pgen[pbag[bag][0]:pbag[bag + 1][0]] if oper == 41}
    return {amount for i in insts for bag in range(inst[i][0], inst[i + 1][0])
            for oper, amount in igen[ibag[bag][0]:ibag[bag + 1][0]] if oper == 53}


def sf3_of(data: bytes, bank: int, preset: int) -> bytes:
    """An SF3 (Ogg Vorbis samples, version 3) made from an SF2: the samples of one preset
    encoded, every other sample pointing at one short silent stream (encoding all 520 of
    TimGM6mb's takes too long for a test)."""
    import io

    import numpy as np
    import soundfile as sf

    top = _chunks(data, 12, len(data))
    lists = {data[a:a + 4]: (a + 4, b) for cid, a, b in top if cid == b"LIST"}
    sd = {cid: (a, b) for cid, a, b in _chunks(data, *lists[b"sdta"])}
    smpl = np.frombuffer(data, "<i2", count=(sd[b"smpl"][1] - sd[b"smpl"][0]) // 2,
                         offset=sd[b"smpl"][0])
    pd_list = _chunks(data, *lists[b"pdta"])
    pd = {cid: (a, b) for cid, a, b in pd_list}
    used = _samples_of(data, pd, bank, preset)
    shdr = bytearray(data[pd[b"shdr"][0]:pd[b"shdr"][1]])

    def ogg(x: np.ndarray, rate: int) -> bytes:
        buf = io.BytesIO()
        sf.write(buf, x.astype(np.float32) / 32768, rate, format="OGG", subtype="VORBIS")
        return buf.getvalue()

    silent = ogg(np.zeros(64), 22050)
    blob = bytearray(silent + (b"\0" if len(silent) & 1 else b""))
    for i in range(len(shdr) // 46 - 1):
        o = i * 46
        start, end, ls, le, rate = struct.unpack_from("<IIIII", shdr, o + 20)
        if i in used:
            stream = ogg(smpl[start:end], rate)
            struct.pack_into("<IIII", shdr, o + 20, len(blob), len(blob) + len(stream),
                             ls - start, le - start)  # SF3 loops count from the sample start
            blob += stream + (b"\0" if len(stream) & 1 else b"")
        else:
            struct.pack_into("<IIII", shdr, o + 20, 0, len(silent), 0, 0)
        (kind,) = struct.unpack_from("<H", shdr, o + 44)
        struct.pack_into("<H", shdr, o + 44, kind | 0x10)
    info = bytearray(data[lists[b"INFO"][0]:lists[b"INFO"][1]])
    struct.pack_into("<HH", info, info.index(b"ifil") + 8, 3, 1)
    pdta = b"".join(_ck(cid, bytes(shdr) if cid == b"shdr" else data[a:b])
                    for cid, a, b in pd_list)
    body = (b"sfbk" + _ck(b"LIST", b"INFO" + bytes(info))
            + _ck(b"LIST", b"sdta" + _ck(b"smpl", bytes(blob))) + _ck(b"LIST", b"pdta" + pdta))
    return b"RIFF" + struct.pack("<I", len(body)) + body
