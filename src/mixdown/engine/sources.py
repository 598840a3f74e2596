"""Signal sources of tracks: audio clips streamed from files, instruments playing notes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numba import njit

from mixdown.core.audio import AudioArray
from mixdown.core.errors import FormatError, RenderError
from mixdown.engine.fades import fade_gain

CACHE_SAMPLES = 4 * 1024 * 1024
"""Audio files up to this many samples (16 MB as float32) are decoded once and kept."""


@njit(cache=True, nogil=True, boundscheck=False)
def _place(cache: np.ndarray, offset: int, file_frames: int, loop: bool, p0: int, count: int,
           gain: np.float32, out: np.ndarray, dst: int, assign: bool) -> None:  # pragma: no cover
    """Write or add clip positions ``p0 .. p0+count`` of a cached file into ``out``.

    Position ``p`` plays file frame ``offset + p`` (past the end: silence), or, looping,
    ``offset + p % (file_frames - offset)``; a mono file feeds every output channel.
    Contiguous runs are copied in plain loops (no per-sample wrap test).
    """
    period = file_frames - offset
    channels = cache.shape[0]
    done = 0
    while done < count:
        p = p0 + done
        if loop:
            idx = offset + p % period
            run = min(count - done, file_frames - idx)
        else:
            idx = offset + p
            run = count - done if idx >= file_frames else min(count - done, file_frames - idx)
        for c in range(out.shape[0]):
            row = out[c, dst + done:dst + done + run]
            if idx >= file_frames:  # past the end of a one-shot: silence
                if assign:
                    row[:] = 0.0
                continue
            src = cache[c if c < channels else channels - 1, idx:idx + run]
            if assign:
                for i in range(run):
                    row[i] = src[i] * gain
            else:
                for i in range(run):
                    row[i] += src[i] * gain
        done += run


@dataclass(slots=True)
class ClipPlacement:
    """An audio clip resolved to frames at the render rate.

    The clip plays file frames ``offset_frames + p`` for clip positions ``p`` in
    ``[0, length_frames)`` (wrapping inside ``[offset_frames, file_frames)`` when looping).
    Fades go over ``fade_in_frames``/``fade_out_frames`` at the clip's edges, shaped by
    ``fade_in_shape``/``fade_out_shape`` (:func:`mixdown.engine.fades.fade_gain`).
    """

    reader: Any  # the asset catalog's reader of the file (read_all, open)
    start_frames: int
    length_frames: int
    offset_frames: int
    file_frames: int
    file_channels: int
    gain: float
    fade_in_frames: int
    fade_out_frames: int
    loop: bool
    label: str
    fade_in_shape: str = "linear"
    fade_out_shape: str = "linear"
    _file: Any = field(default=None, repr=False)
    _cache: np.ndarray | None = field(default=None, repr=False)

    @property
    def end(self) -> int:
        """First frame after the clip."""
        return self.start_frames + self.length_frames

    def _fits_cache(self) -> bool:
        return self.file_frames * self.file_channels <= CACHE_SAMPLES

    def _cached(self) -> np.ndarray:
        if self._cache is None:
            self._read(0, 0)
        assert self._cache is not None
        return self._cache

    def _read(self, first: int, count: int) -> np.ndarray:
        if self._cache is not None:
            return self._cache[:, first:first + count]
        if self._file is None:
            if self._fits_cache():
                # Small files (loops, one-shots) are decoded once and kept: memory is bounded
                # by the asset's size, never by the song's length.
                try:
                    data = self.reader.read_all()  # decoded and checked once per process
                except FormatError as exc:
                    raise FormatError(f"{self.label}: {exc}", exc.path) from exc
                if data.shape[1] < self.file_frames:
                    data = np.pad(data, ((0, 0), (0, self.file_frames - data.shape[1])))
                self._cache = np.ascontiguousarray(data)
                return self._cache[:, first:first + count]
            try:
                self._file = self.reader.open()
            except FormatError as exc:
                raise FormatError(f"{self.label}: {exc}", exc.path) from exc
        self._file.seek(first)
        data = self._file.read(count, dtype="float32", always_2d=True)
        if data.shape[0] < count:  # a file shorter than its header said
            data = np.concatenate([data, np.zeros((count - data.shape[0], data.shape[1]),
                                                  np.float32)])
        return data.T

    def render_into(self, out: AudioArray, block_start: int, *, assign: bool = False) -> None:
        """Add this clip's frames that fall in the block into ``out`` (channels, frames).

        With ``assign`` the frames are written instead of added (the caller knows the clip
        covers the whole block and ``out`` holds nothing yet).
        """
        n = out.shape[1]
        a = max(block_start, self.start_frames)
        b = min(block_start + n, self.end)
        if a >= b:
            return
        p0 = a - self.start_frames
        count = b - a
        in_fade = (self.fade_in_frames > 0 and p0 < self.fade_in_frames) or (
            self.fade_out_frames > 0 and p0 + count > self.length_frames - self.fade_out_frames)
        if not in_fade and (self._cache is not None or self._fits_cache()):
            # The common case, compiled: kept samples copied (looping, gain, mono to stereo)
            # straight into the block without holding the GIL.
            cache = self._cached()
            _place(cache, self.offset_frames, self.file_frames, self.loop, p0, count,
                   np.float32(self.gain), out, a - block_start, assign)
            return
        if self.loop:
            period = self.file_frames - self.offset_frames
            pieces = []
            p = p0
            remaining = count
            while remaining > 0:
                idx = p % period
                take = min(remaining, period - idx)
                pieces.append(self._read(self.offset_frames + idx, take))
                p += take
                remaining -= take
            data = np.concatenate(pieces, axis=1) if len(pieces) > 1 else pieces[0]
        else:
            first = self.offset_frames + p0
            avail = max(0, min(count, self.file_frames - first))
            data = np.zeros((self.file_channels, count), np.float32)
            if avail > 0:
                data[:, :avail] = self._read(first, avail)
        if (self._cache is None and not getattr(self._file, "finite", False)
                and not np.isfinite(data).all()):  # integer PCM streams are always finite
            raise RenderError(f"{self.label}: {self.reader.path.name} holds NaN or infinite "
                              "samples")
        if in_fade:
            env = np.full(count, self.gain, dtype=np.float64)
            pos = np.arange(p0, p0 + count, dtype=np.float64)
            if self.fade_in_frames > 0:
                env *= fade_gain(pos / self.fade_in_frames, self.fade_in_shape)
            if self.fade_out_frames > 0:
                env *= fade_gain((self.length_frames - pos) / self.fade_out_frames,
                                 self.fade_out_shape)
            block = data * env.astype(np.float32)
        elif self.gain != 1.0:
            block = data * np.float32(self.gain)
        else:
            block = data
        dst = out[:, a - block_start:b - block_start]
        src = block[0] if block.shape[0] == 1 else block[: dst.shape[0]]
        if assign:
            dst[...] = src
        else:
            dst += src

    def close(self) -> None:
        """Close the file handle."""
        if self._file is not None:
            self._file.close()
            self._file = None


class AudioSource:
    """The clips of an audio track, streamed block by block."""

    def __init__(self, clips: list[ClipPlacement], channels: int) -> None:
        self.clips = sorted(clips, key=lambda c: c.start_frames)
        self.channels = channels
        self.silent = False  # True after a block where no clip played (all zeros)

    def render(self, start: int, frames: int) -> AudioArray:
        """Frames ``[start, start + frames)`` of the track's clips."""
        playing = [c for c in self.clips if c.start_frames < start + frames and c.end > start]
        self.silent = not playing
        if (len(playing) == 1 and playing[0].start_frames <= start
                and playing[0].end >= start + frames):
            out = np.empty((self.channels, frames), np.float32)  # one clip fills the block
            playing[0].render_into(out, start, assign=True)
            return out
        out = np.zeros((self.channels, frames), np.float32)
        for clip in playing:
            clip.render_into(out, start)
        return out

    def close(self) -> None:
        """Release file handles."""
        for c in self.clips:
            c.close()


class InstrumentSource:
    """An instrument playing the notes of a track's clips."""

    def __init__(self, instrument: Any, channels: int) -> None:
        self.instrument = instrument
        self.channels = channels

    def render(self, start: int, frames: int) -> AudioArray:
        """Frames ``[start, start + frames)`` of the instrument."""
        out = self.instrument.render(start, frames)
        if out.shape != (self.channels, frames):
            if out.shape == (1, frames):
                out = np.repeat(out, self.channels, axis=0)
            else:
                raise RenderError(
                    f"instrument returned shape {out.shape}, expected {(self.channels, frames)}"
                )
        return out.astype(np.float32, copy=False)

    def close(self) -> None:
        """Let the instrument release what it holds (a render-ahead process)."""
        close = getattr(self.instrument, "close", None)
        if close is not None:
            close()
