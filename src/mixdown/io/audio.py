"""Audio files: read, stream and write WAV, FLAC, MP3, AIFF and OGG.

Arrays are float32 shaped (channels, frames); soundfile's frames-first layout is
transposed here and nowhere else. Every write is atomic: the data goes to a
temporary file in the destination folder, which is renamed over the target only
when complete, so a failed write leaves no partial file.
"""

from __future__ import annotations

import contextlib
import math
import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Literal

import numpy as np
import soundfile as sf

from mixdown.core.audio import AudioArray
from mixdown.core.errors import FormatError, ParameterError
from mixdown.core.files import _temp_beside, atomic_path

__all__ = [
    "FORMATS", "AudioInfo", "AudioWriter", "atomic_path", "audio_info", "format_for_path",
    "iter_blocks", "peak_dbfs", "read_audio", "wav_declared_frames", "write_audio",
]

AudioFormat = Literal["wav", "flac", "mp3", "aiff", "ogg", "aac"]
FORMATS: dict[str, AudioFormat] = {
    ".wav": "wav", ".wave": "wav", ".flac": "flac", ".mp3": "mp3",
    ".aif": "aiff", ".aiff": "aiff", ".ogg": "ogg", ".m4a": "aac",
}
_SF_FORMAT = {"wav": "WAV", "flac": "FLAC", "mp3": "MP3", "aiff": "AIFF", "ogg": "OGG"}
_SUBTYPES = {
    ("wav", 16): "PCM_16", ("wav", 24): "PCM_24", ("wav", 32): "FLOAT",
    ("aiff", 16): "PCM_16", ("aiff", 24): "PCM_24", ("aiff", 32): "FLOAT",
    ("flac", 16): "PCM_16", ("flac", 24): "PCM_24",
}
MAX_SAMPLE_RATE = 768_000


@dataclass(frozen=True, slots=True)
class AudioInfo:
    """What a file header says: rate in Hz, channel count, length in frames."""

    path: Path
    sample_rate: int
    channels: int
    frames: int
    format: str
    subtype: str

    @property
    def duration_s(self) -> float:
        """Length in seconds."""
        return self.frames / self.sample_rate


def format_for_path(path: Path, fmt: str | None = None) -> AudioFormat:
    """The format named by ``fmt`` or, if None, by the file extension."""
    if fmt is not None:
        key = "." + fmt.lower().lstrip(".")
        key = ".m4a" if key == ".aac" else key
        if key not in FORMATS:
            raise ParameterError(
                f"unknown audio format {fmt!r}; use wav, flac, mp3, aiff, ogg or m4a (aac)")
        return FORMATS[key]
    ext = path.suffix.lower()
    if ext not in FORMATS:
        raise ParameterError(
            f"{path}: cannot tell the audio format from the extension {ext or '(none)'!r}; "
            "use .wav, .flac, .mp3, .aiff, .ogg or .m4a, or pass --format"
        )
    return FORMATS[ext]


def audio_info(path: str | Path) -> AudioInfo:
    """Read a file's header, checking it is a sane audio file."""
    p = Path(path)
    if not p.exists():
        raise FormatError(f"{p}: file not found", p)
    if p.is_dir():
        raise FormatError(f"{p}: is a folder, not an audio file", p)
    if p.stat().st_size == 0:
        raise FormatError(f"{p}: the file is empty (0 bytes); export or copy it again", p)
    if p.suffix.lower() == ".m4a":
        from mixdown.io.aac import aac_info

        rate, channels, frames = aac_info(p)
        return AudioInfo(p, rate, channels, frames, "AAC", "AAC")
    try:
        info = sf.info(str(p))
    except Exception as exc:  # soundfile raises several types for garbage input
        raise FormatError(f"{p}: not a readable audio file ({_short(exc)})", p) from exc
    if info.channels < 1 or info.channels > 64:
        raise FormatError(f"{p}: header says {info.channels} channels; expected 1..64", p)
    if not 1000 <= info.samplerate <= MAX_SAMPLE_RATE:
        raise FormatError(f"{p}: header says sample rate {info.samplerate} Hz; not plausible", p)
    frames = int(info.frames)
    if frames < 0 or frames > 2**40:
        raise FormatError(f"{p}: header says {frames} frames; the file is corrupt", p)
    return AudioInfo(p, int(info.samplerate), int(info.channels), frames, info.format,
                     info.subtype)


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]


def read_audio(path: str | Path, *, check_finite: bool = True) -> tuple[AudioArray, int]:
    """Read a whole file as float32 (channels, frames) and its sample rate in Hz.

    Raises
    ------
    FormatError
        If the file is missing, unreadable, empty, or holds NaN/inf samples.
    """
    info = audio_info(path)
    if info.format == "AAC":
        blocks = list(iter_blocks(info.path, check_finite=False))
        audio = (np.concatenate(blocks, axis=1) if blocks
                 else np.zeros((info.channels, 0), np.float32))
        sr = info.sample_rate
    else:
        try:
            data, sr = sf.read(str(info.path), dtype="float32", always_2d=True)
        except Exception as exc:
            raise FormatError(f"{info.path}: cannot decode audio ({_short(exc)})",
                              info.path) from exc
        audio = np.ascontiguousarray(data.T)
    if audio.shape[1] == 0:
        raise FormatError(f"{info.path}: the file holds no audio (0 frames)", info.path)
    if check_finite and not np.isfinite(audio).all():
        bad = int(np.count_nonzero(~np.isfinite(audio)))
        raise FormatError(f"{info.path}: {bad} samples are NaN or infinite", info.path)
    return audio, int(sr)


def iter_blocks(path: str | Path, block_frames: int = 65536,
                *, check_finite: bool = True) -> Iterator[AudioArray]:
    """Yield consecutive float32 (channels, frames) blocks of a file; memory stays flat."""
    info = audio_info(path)
    if info.format == "AAC":
        from mixdown.io.aac import aac_blocks

        for block in aac_blocks(info.path, block_frames):
            if check_finite and not np.isfinite(block).all():
                raise FormatError(f"{info.path}: holds NaN or infinite samples", info.path)
            yield block
        return
    try:
        with sf.SoundFile(str(info.path)) as f:
            while True:
                data = f.read(block_frames, dtype="float32", always_2d=True)
                if data.shape[0] == 0:
                    break
                block = np.ascontiguousarray(data.T)
                if check_finite and not np.isfinite(block).all():
                    raise FormatError(f"{info.path}: holds NaN or infinite samples", info.path)
                yield block
    except FormatError:
        raise
    except Exception as exc:
        raise FormatError(f"{info.path}: cannot decode audio ({_short(exc)})", info.path) from exc


class _UnsyncedSoundFile(sf.SoundFile):
    """A SoundFile whose ``close`` does not fsync.

    soundfile's ``close`` calls ``flush``, which is libsndfile's ``sf_write_sync``: an
    ``fsync``. On ext4 an fsync commits the whole journal transaction, so closing one
    master waited for every other file written just before (the track cache's signals:
    0.2-0.5 s on a 3-minute song). Outputs are written under a temporary name and renamed
    into place, so a killed render still leaves the old file or the new one, never half a
    file; as for other audio tools, flushing to the disk is left to the OS.
    """

    def flush(self) -> None:
        """Nothing: the OS writes the file back (see the class docstring)."""


class AudioWriter:
    """Stream blocks to an audio file atomically (temp file, then rename on success).

    Parameters
    ----------
    path : Path
        Destination; its folder must exist.
    sample_rate : int
        Hz.
    channels : int
        Channel count.
    fmt : {"wav", "flac", "mp3", "aiff", "ogg"}, optional
        Defaults to the extension's format.
    bit_depth : {16, 24, 32}
        PCM depth (32 means float for WAV/AIFF). Ignored for MP3/OGG.
    mp3_bitrate_kbps : int
        Bitrate of lossy output: MP3 (constant) and AAC (``.m4a``).
    """

    def __init__(self, path: str | Path, sample_rate: int, channels: int, *,
                 fmt: str | None = None, bit_depth: int = 24,
                 mp3_bitrate_kbps: int = 320, dither: Literal["tpdf", "none"] = "none",
                 dither_seed: int = 0) -> None:
        self.path = Path(path)
        self.format = format_for_path(self.path, fmt)
        folder = self.path.parent if str(self.path.parent) else Path(".")
        if not folder.is_dir():
            raise FormatError(f"{self.path}: the folder {folder} does not exist", self.path)
        if self.format in ("wav", "aiff", "flac"):
            key = (self.format, bit_depth)
            if key not in _SUBTYPES:
                allowed = sorted(b for f, b in _SUBTYPES if f == self.format)
                raise ParameterError(
                    f"{self.format} output supports bit depths {allowed}, got {bit_depth}"
                )
            subtype = _SUBTYPES[key]
        elif self.format == "mp3":
            subtype = "MPEG_LAYER_III"
        elif self.format == "aac":
            subtype = "AAC"
        else:
            subtype = "VORBIS"
        self.sample_rate = sample_rate
        self.channels = channels
        self.bit_depth = bit_depth
        self._tmp = _temp_beside(folder / self.path.name)
        extra: dict[str, object] = {}
        if self.format == "mp3":
            if not 32 <= mp3_bitrate_kbps <= 320:
                raise ParameterError(f"MP3 bitrate must be 32..320 kbps, got {mp3_bitrate_kbps}")
            # libsndfile (LAME): level 0 = 320 kbps, rising level lowers the bitrate linearly
            # to 32 kbps (snapped to the MPEG rates); these must be set when opening, since
            # setting them afterwards is silently ignored (the file came out ~150 kbps VBR).
            extra = {"compression_level": (320 - mp3_bitrate_kbps) / 288,
                     "bitrate_mode": "CONSTANT"}
        if self.format == "aac":
            from mixdown.io.aac import AacWriter

            try:
                self._file = AacWriter(self._tmp, sample_rate, channels, mp3_bitrate_kbps)
            except BaseException:
                self._tmp.unlink(missing_ok=True)
                raise
            self.frames_written = 0
            self.clipped_samples = 0
            self._int_bits = 0
            self._dither = "none"
            self._rng = np.random.default_rng(dither_seed)
            return
        try:
            self._file = _UnsyncedSoundFile(str(self._tmp), "w", samplerate=sample_rate,
                                      channels=channels, format=_SF_FORMAT[self.format],
                                      subtype=subtype, **extra)  # type: ignore[arg-type]
        except Exception as exc:
            self._tmp.unlink(missing_ok=True)
            raise FormatError(f"{self.path}: cannot write ({_short(exc)})", self.path) from exc
        self.frames_written = 0
        self.clipped_samples = 0
        self._int_bits = bit_depth if (self.format in ("wav", "aiff", "flac")
                                       and bit_depth in (16, 24)) else 0
        self._dither = dither if self._int_bits else "none"
        self._rng = np.random.default_rng(dither_seed)

    def write(self, block: AudioArray) -> None:
        """Append a float32 (channels, frames) block.

        Integer formats are quantised here (round to nearest, TPDF dither of ±1 LSB when
        asked, drawn frame by frame from a seeded generator so that the bytes do not depend
        on how the signal was split into blocks) and clipped at full scale (counted in
        ``clipped_samples``).
        """
        if block.ndim != 2 or block.shape[0] != self.channels:
            raise ParameterError(
                f"block has shape {block.shape}, writer has {self.channels} channels")
        if self.format == "aac":
            self._file.write(np.asarray(block, np.float32))
            self.frames_written += block.shape[1]
            return
        frames_first = np.ascontiguousarray(block.T, dtype=np.float32)
        if self._int_bits:
            # float32 is exact here: scaling by a power of two and rounding to integers
            # below 2^24 lose nothing.
            scale = np.float32(2 ** (self._int_bits - 1))
            x = frames_first * scale
            if self._dither == "tpdf":
                r = self._rng.random((x.shape[0], x.shape[1], 2), dtype=np.float32)
                x += r[..., 0] - r[..., 1]
            q = np.rint(x, out=x)
            hi, lo = scale - 1, -scale
            if q.max(initial=0) > hi or q.min(initial=0) < lo:
                self.clipped_samples += int(np.count_nonzero((q > hi) | (q < lo)))
                np.clip(q, lo, hi, out=q)
            if self._int_bits == 16:
                self._file.write(q.astype(np.int16))
            else:
                qi = q.astype(np.int32)
                qi <<= 8
                self._file.write(qi)
        else:
            self._file.write(frames_first)
        self.frames_written += block.shape[1]

    def close(self) -> Path:
        """Finish the file and move it into place; returns the final path."""
        self._file.close()
        os.replace(self._tmp, self.path)
        return self.path

    def abort(self) -> None:
        """Drop the partial file."""
        with contextlib.suppress(Exception):
            if self.format == "aac":
                self._file.abort()
            else:
                self._file.close()
        self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> AudioWriter:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None) -> None:
        if et is None:
            self.close()
        else:
            self.abort()


def write_audio(path: str | Path, audio: AudioArray, sample_rate: int, *,
                fmt: str | None = None, bit_depth: int = 24) -> Path:
    """Write a whole float32 (channels, frames) array atomically."""
    if not np.isfinite(audio).all():
        raise ParameterError(f"{path}: refusing to write NaN or infinite samples")
    with AudioWriter(path, sample_rate, audio.shape[0], fmt=fmt, bit_depth=bit_depth) as w:
        w.write(audio.astype(np.float32, copy=False))
    return Path(path)


def peak_dbfs(audio: np.ndarray) -> float:
    """Sample peak in dBFS (-inf for silence)."""
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    return -math.inf if peak == 0 else 20 * math.log10(peak)


def wav_declared_frames(path: str | Path) -> int | None:
    """Frames a RIFF/WAVE header declares in its data chunk.

    libsndfile reports the frames actually present, so a truncated WAV looks whole;
    comparing with this number finds the truncation.

    Returns
    -------
    int or None
        The data chunk's size over the block alignment, or None when ``path`` is not a
        readable RIFF/WAVE file with ``fmt `` before ``data``.
    """
    try:
        with open(path, "rb") as f:
            head = f.read(12)
            if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
                return None
            block_align = 0
            for _ in range(64):  # a WAV has a handful of chunks; never loop on garbage
                chunk = f.read(8)
                if len(chunk) < 8:
                    return None
                cid, size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
                if cid == b"fmt ":
                    fmt = f.read(size + (size & 1))
                    if len(fmt) >= 14:
                        block_align = struct.unpack("<H", fmt[12:14])[0]
                elif cid == b"data":
                    return size // block_align if block_align else None
                else:
                    f.seek(size + (size & 1), 1)
    except OSError:
        return None
    return None
