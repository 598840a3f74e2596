"""A compiled reader of plain 16- and 24-bit PCM WAV files, for the engine's clip streams.

The engine streams long clips block by block from their files. libsndfile converts
24-bit samples to float32 one byte at a time and hands them back frames first; this
reader reads the raw bytes of a block into a reused buffer (the read releases the GIL)
and converts them in one compiled pass, without the GIL, straight into a channels-first
float32 block. The values are the same bits as libsndfile's: a 16-bit sample ``v`` is
``v / 2**15`` and a 24-bit one ``v / 2**23``, both exact in float32.

Only little-endian RIFF/WAVE files with integer PCM of 16 or 24 bits (format tag 1, or
WAVE_FORMAT_EXTENSIBLE with the PCM sub-format and all bits valid) are read here;
:func:`open_pcm_wav` returns None for anything else and the caller uses libsndfile.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
from numba import njit

from mixdown.core.audio import AudioArray

_PCM_GUID_TAIL = bytes.fromhex("000000001000800000aa00389b71")
"""The KSDATAFORMAT_SUBTYPE_PCM GUID after its first two bytes (the format tag)."""


@njit(cache=True, nogil=True, boundscheck=False)
def _pcm_to_float(raw: np.ndarray, width: int, out: np.ndarray,
                  frames: int) -> None:  # pragma: no cover - compiled
    """Interleaved little-endian PCM bytes (``width`` 2 or 3 per sample) into the first
    ``frames`` frames of ``out`` (channels, n) float32, scaled to [-1, 1) exactly as
    libsndfile does.

    ``raw`` must start 4-byte aligned. Mono and stereo 24-bit samples are read four at a
    time from three 32-bit words, each sample shifted to the top of an int32 (which
    sign-extends it) and scaled by 2**-31: the same exact value."""
    channels = out.shape[0]
    if width == 3 and channels <= 2:
        scale = np.float32(1.0 / 2147483648.0)  # (v << 8) is the sample times 2**8
        total = frames * channels
        groups = total // 4
        words = raw[:groups * 12].view(np.uint32)
        for q in range(groups):
            w0 = np.int64(words[3 * q])
            w1 = np.int64(words[3 * q + 1])
            w2 = np.int64(words[3 * q + 2])
            s0 = np.float32(np.int32(np.uint32((w0 << 8) & 0xFFFFFFFF))) * scale
            s1 = np.float32(np.int32(np.uint32(((w0 >> 16) & 0xFF00)
                                               | ((w1 << 16) & 0xFFFFFFFF)))) * scale
            s2 = np.float32(np.int32(np.uint32(((w1 >> 8) & 0xFFFF00)
                                               | ((w2 << 24) & 0xFFFFFFFF)))) * scale
            s3 = np.float32(np.int32(np.uint32(w2 & 0xFFFFFF00))) * scale
            if channels == 2:
                out[0, 2 * q] = s0
                out[1, 2 * q] = s1
                out[0, 2 * q + 1] = s2
                out[1, 2 * q + 1] = s3
            else:
                out[0, 4 * q] = s0
                out[0, 4 * q + 1] = s1
                out[0, 4 * q + 2] = s2
                out[0, 4 * q + 3] = s3
        for j in range(groups * 4, total):  # the last 0-3 samples
            k = 3 * j
            v = np.int32(raw[k]) | (np.int32(raw[k + 1]) << 8) | (np.int32(raw[k + 2]) << 16)
            if v >= 8388608:
                v -= 16777216
            out[j % channels, j // channels] = np.float32(v) * np.float32(1.0 / 8388608.0)
    elif width == 3:
        scale = np.float32(1.0 / 8388608.0)
        for i in range(frames):
            base = i * channels * 3
            for c in range(channels):
                k = base + 3 * c
                v = np.int32(raw[k]) | (np.int32(raw[k + 1]) << 8) | (np.int32(raw[k + 2]) << 16)
                if v >= 8388608:
                    v -= 16777216
                out[c, i] = np.float32(v) * scale
    else:
        scale = np.float32(1.0 / 32768.0)
        for i in range(frames):
            base = i * channels * 2
            for c in range(channels):
                k = base + 2 * c
                v = np.int32(raw[k]) | (np.int32(raw[k + 1]) << 8)
                if v >= 32768:
                    v -= 65536
                out[c, i] = np.float32(v) * scale


class PcmWavStream:
    """An open PCM WAV file: ``seek(frame)``, ``read(frames, ...)`` (frames first, like
    ``soundfile.SoundFile.read``) and :meth:`read_channels` (channels first).

    Samples are always finite (``finite`` is True): the caller needs no NaN check.
    """

    finite = True

    def __init__(self, path: Path, data_offset: int, frames: int, channels: int,
                 width: int) -> None:
        self.path = path
        self.frames = frames
        self.channels = channels
        self._offset = data_offset
        self._width = width
        self._align = width * channels
        self._pos = 0
        self._buf = np.empty(0, np.uint8)
        self._f = open(path, "rb", buffering=0)  # noqa: SIM115 - closed by close()

    def seek(self, frame: int) -> int:
        """Move to ``frame`` (from the start); returns it."""
        self._pos = max(0, int(frame))
        return self._pos

    def read_channels(self, count: int) -> AudioArray:
        """The next ``count`` frames as float32 (channels, count); frames past the end of
        the file are zeros."""
        out = np.zeros((self.channels, count), np.float32)
        avail = max(0, min(count, self.frames - self._pos))
        if avail > 0:
            nbytes = avail * self._align
            if self._buf.size < nbytes:
                self._buf = np.empty(nbytes, np.uint8)
            raw = self._buf[:nbytes]
            self._f.seek(self._offset + self._pos * self._align)
            got = self._f.readinto(memoryview(raw))
            got = (got or 0) // self._align
            if got > 0:
                _pcm_to_float(raw, self._width, out, got)
        self._pos += count
        return out

    def read(self, frames: int, dtype: str = "float32", always_2d: bool = True) -> AudioArray:
        """The next ``frames`` frames, frames first (a transposed view), float32."""
        if dtype != "float32":
            raise ValueError("PcmWavStream reads float32 only")
        return self.read_channels(frames).T

    def close(self) -> None:
        """Close the file."""
        self._f.close()

    def __enter__(self) -> PcmWavStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_pcm_wav(path: Path) -> PcmWavStream | None:
    """A :class:`PcmWavStream` of ``path`` if it is a plain 16/24-bit PCM WAV, else None
    (also when the header is unusual: the caller then reads the file with libsndfile)."""
    try:
        with open(path, "rb") as f:
            head = f.read(12)
            if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
                return None
            size = path.stat().st_size
            fmt: tuple[int, int, int] | None = None  # channels, width, block align
            pos = 12
            while pos + 8 <= size:
                f.seek(pos)
                chunk = f.read(8)
                cid, clen = chunk[:4], struct.unpack("<I", chunk[4:])[0]
                if cid == b"fmt ":
                    fmt = _parse_fmt(f.read(min(clen, 64)))
                    if fmt is None:
                        return None
                elif cid == b"data":
                    if fmt is None or clen in (0, 0xFFFFFFFF):
                        return None
                    channels, width, align = fmt
                    body = min(clen, size - (pos + 8))
                    return PcmWavStream(path, pos + 8, body // align, channels, width)
                pos += 8 + clen + (clen & 1)
    except OSError:
        return None
    return None


def _parse_fmt(body: bytes) -> tuple[int, int, int] | None:
    if len(body) < 16:
        return None
    tag, channels, _rate, _byte_rate, align, bits = struct.unpack("<HHIIHH", body[:16])
    if tag == 0xFFFE:  # WAVE_FORMAT_EXTENSIBLE: the PCM sub-format, every bit valid
        if len(body) < 40:
            return None
        valid = struct.unpack("<H", body[18:20])[0]
        sub_tag = struct.unpack("<H", body[24:26])[0]
        if sub_tag != 1 or body[26:40] != _PCM_GUID_TAIL or valid != bits:
            return None
    elif tag != 1:
        return None
    if bits not in (16, 24) or channels < 1 or align != channels * bits // 8:
        return None
    return channels, bits // 8, align
