"""AAC in an MP4 container (``.m4a``), through PyAV (FFmpeg's native AAC encoder).

libsndfile and pedalboard cannot write AAC on Linux; PyAV wheels bundle FFmpeg. Decoding
goes through the same library, so a delivered ``.m4a`` is measured after encoding like any
other deliverable. Arrays are float32 shaped (channels, frames).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from mixdown.core.audio import AudioArray
from mixdown.core.errors import FormatError, ParameterError

AAC_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000, 64000, 88200,
             96000)
"""Sample rates the AAC encoder takes, in Hz."""
_FRAME = 1024  # AAC frame length in samples
LENGTH_ATOM = "----:org.mixdown:frames"
"""Freeform MP4 atom holding the exact length in frames: AAC pads the last frame, and the
reader trims the padding back off (FFmpeg's edit list already removes the priming)."""


def aac_available() -> bool:
    """Whether PyAV (and so an AAC encoder) can be imported."""
    try:
        import av  # noqa: F401
    except ImportError:
        return False
    return True


def _av() -> Any:
    try:
        import av
    except ImportError as exc:  # pragma: no cover - av is a declared dependency
        raise FormatError("AAC needs PyAV (pip install av); it is not installed") from exc
    return av


_LAYOUTS = {1: "mono", 2: "stereo"}


class AacWriter:
    """Encode float32 (channels, frames) blocks to AAC-LC in an MP4 file at ``path``."""

    def __init__(self, path: Path, sample_rate: int, channels: int, bitrate_kbps: int) -> None:
        if sample_rate not in AAC_RATES:
            raise ParameterError(f"AAC takes sample rates {', '.join(map(str, AAC_RATES))} "
                                 f"Hz, got {sample_rate}")
        if channels not in _LAYOUTS:
            raise ParameterError(f"AAC output here is mono or stereo, got {channels} channels")
        if not 32 <= bitrate_kbps <= 512:
            raise ParameterError(f"AAC bitrate must be 32..512 kbps, got {bitrate_kbps}")
        av = _av()
        self.sample_rate = sample_rate
        self.channels = channels
        try:
            self._container = av.open(str(path), "w", format="mp4")
            self._stream = self._container.add_stream("aac", rate=sample_rate,
                                                      layout=_LAYOUTS[channels])
            self._stream.bit_rate = bitrate_kbps * 1000
        except Exception as exc:
            raise FormatError(f"{path}: cannot open an AAC encoder ({exc})", path) from exc
        self._pending = np.zeros((channels, 0), np.float32)
        self._pts = 0
        self._path = path
        self.frames = 0

    def _encode(self, chunk: np.ndarray | None) -> None:
        av = _av()
        frame = None
        if chunk is not None:
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(chunk, np.float32),
                                               format="fltp", layout=_LAYOUTS[self.channels])
            frame.sample_rate = self.sample_rate
            frame.pts = self._pts
            self._pts += chunk.shape[1]
        for packet in self._stream.encode(frame):
            self._container.mux(packet)

    def write(self, block: AudioArray) -> None:
        """Queue a block; whole AAC frames are encoded as they fill."""
        self.frames += block.shape[1]
        self._pending = np.concatenate([self._pending, block.astype(np.float32)], axis=1)
        whole = (self._pending.shape[1] // _FRAME) * _FRAME
        if whole:
            self._encode(self._pending[:, :whole])
            self._pending = self._pending[:, whole:]

    def close(self) -> None:
        """Encode what is left, flush the encoder and finish the file."""
        if self._pending.shape[1]:
            self._encode(self._pending)
        self._encode(None)
        self._container.close()
        from mutagen.mp4 import MP4, MP4FreeForm

        tagged = MP4(str(self._path))
        if tagged.tags is None:
            tagged.add_tags()
        assert tagged.tags is not None
        tagged.tags[LENGTH_ATOM] = [MP4FreeForm(str(self.frames).encode())]
        tagged.save()

    def abort(self) -> None:
        """Close without caring about the file (the caller deletes it)."""
        try:
            self._container.close()
        except Exception:  # already broken: nothing more to do
            return


def _open(path: Path) -> tuple[Any, Any]:
    av = _av()
    try:
        container = av.open(str(path), "r")
    except Exception as exc:
        raise FormatError(f"{path}: not a readable audio file ({exc})", path) from exc
    if not container.streams.audio:
        container.close()
        raise FormatError(f"{path}: holds no audio stream", path)
    return container, container.streams.audio[0]


def _declared_frames(path: Path) -> int | None:
    """The exact length mixdown stored when it wrote the file, if it did."""
    try:
        from mutagen.mp4 import MP4

        tags = MP4(str(path)).tags
        value = tags.get(LENGTH_ATOM) if tags is not None else None
        return int(bytes(value[0]).decode()) if value else None
    except Exception:  # another encoder's file: decode everything
        return None


def aac_blocks(path: Path, block_frames: int = 65536) -> Iterator[AudioArray]:
    """Decode an M4A/AAC file as float32 (channels, frames) blocks (encoder padding off)."""
    limit = _declared_frames(path)
    for block in _decoded_blocks(path, block_frames):
        if limit is not None:
            if limit <= 0:
                return
            block = block[:, :limit]
            limit -= block.shape[1]
        yield block


def _decoded_blocks(path: Path, block_frames: int) -> Iterator[AudioArray]:
    container, stream = _open(path)
    pending: list[np.ndarray] = []
    count = 0
    try:
        for frame in container.decode(stream):
            data = frame.to_ndarray()
            if frame.format.is_planar:
                x = data.astype(np.float32)
            else:
                x = data.reshape(-1, stream.channels).T.astype(np.float32)
            pending.append(x)
            count += x.shape[1]
            while count >= block_frames:
                joined = np.concatenate(pending, axis=1)
                yield np.ascontiguousarray(joined[:, :block_frames])
                pending = [joined[:, block_frames:]]
                count -= block_frames
        if count:
            yield np.ascontiguousarray(np.concatenate(pending, axis=1))
    except FormatError:
        raise
    except Exception as exc:
        raise FormatError(f"{path}: cannot decode audio ({exc})", path) from exc
    finally:
        container.close()


def aac_info(path: Path) -> tuple[int, int, int]:
    """``(sample_rate, channels, frames)`` of an M4A/AAC file (frames by decoding it)."""
    container, stream = _open(path)
    rate, channels = int(stream.rate), int(stream.channels)
    container.close()
    frames = sum(b.shape[1] for b in aac_blocks(path))
    return rate, channels, frames
