"""A stream of audio blocks kept for replay: in memory up to a bound, then in a temp file.

Mastering by measurement streams the same signal several times: the pre-master once per
limiter pass, and the limiter's output once more when the pass that measured on target is
the one kept (it is written out as it was, not limited again). :class:`SpillBuffer` keeps
such a stream: the first ``max_bytes`` in memory, the rest as raw float32 in an anonymous
temporary file (removed by the OS when closed, even if the process is killed), so memory
stays bounded however long the song. A replay gives back exactly the blocks pushed (or,
with ``chunk_frames``, the same frames re-cut into blocks of that size), bit for bit.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np

from mixdown.core.audio import AudioArray

DEFAULT_MAX_BYTES = 16 * 1024**2
"""In-memory part of a buffer, bytes (16 MiB: 44 s of 48 kHz stereo). The rest goes to the
temporary file, which costs next to nothing while the OS keeps it in its page cache (a
3-minute stream written and read back twice: 0.04 s of CPU), so the bound is kept small."""


class SpillBuffer:
    """float32 ``(channels, frames)`` blocks, replayable in order.

    Parameters
    ----------
    channels : int
        Channel count of every block.
    max_bytes : int
        How much is kept in memory (bytes); what comes after goes to a temporary file.
    folder : Path, optional
        Where the temporary file is made (default: the system's temporary folder); it has
        no name there and disappears when the buffer is closed.
    chunk_frames : int, optional
        Re-cut the stream into blocks of this many frames (the last one shorter); None
        keeps the blocks as pushed.
    max_file_bytes : int, optional
        A bound on the temporary file (bytes): a stream that would pass it is dropped and
        :attr:`overflowed` is set (the caller then streams its source again instead).

    Notes
    -----
    Calling the buffer returns a fresh iterator over its blocks, so it is a
    :data:`~mixdown.mastering.normalize.BlockSource`; :attr:`frames` is its length.
    """

    def __init__(self, channels: int, *, max_bytes: int = DEFAULT_MAX_BYTES,
                 folder: str | Path | None = None, chunk_frames: int | None = None,
                 max_file_bytes: int | None = None) -> None:
        self.channels = int(channels)
        self.max_file_bytes = max_file_bytes
        self.overflowed = False
        self.max_bytes = int(max_bytes)
        self.folder = Path(folder) if folder is not None else None
        self.chunk_frames = chunk_frames
        self.frames = 0
        self._memory: list[AudioArray] = []
        self._memory_bytes = 0
        self._spilled: list[int] = []  # frames of each block in the file, in order
        self._file: BinaryIO | None = None
        self._open: AudioArray | None = None  # the chunk being filled (chunk_frames)
        self._fill = 0

    def __call__(self) -> Iterator[AudioArray]:
        """The blocks, from the first (a fresh iterator on every call)."""
        return self._replay()

    def push(self, block: AudioArray, *, copy: bool = True) -> None:
        """Append a float32 ``(channels, n)`` block (copied; with ``copy=False`` a
        C-contiguous float32 block is kept as it is: the caller must not change it)."""
        if block.shape[0] != self.channels:
            raise ValueError(f"block has {block.shape[0]} channels, not {self.channels}")
        n = block.shape[1]
        self.frames += n
        if self.overflowed:
            return
        if self.chunk_frames is None:
            self._keep(np.array(block, dtype=np.float32, order="C", copy=copy or None))
            return
        done = 0
        while done < n and not self.overflowed:
            if self._open is None:
                self._open = np.empty((self.channels, self.chunk_frames), np.float32)
                self._fill = 0
            take = min(n - done, self.chunk_frames - self._fill)
            self._open[:, self._fill:self._fill + take] = block[:, done:done + take]
            self._fill += take
            done += take
            if self._fill == self.chunk_frames:
                self._keep(self._open)
                self._open = None

    def clear(self) -> None:
        """Drop everything (the buffer is empty again, its file truncated)."""
        self.frames = 0
        self.overflowed = False
        self._memory = []
        self._memory_bytes = 0
        self._spilled = []
        self._open = None
        if self._file is not None:
            self._file.seek(0)
            self._file.truncate()

    def close(self) -> None:
        """Drop everything and remove the temporary file."""
        self.clear()
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> SpillBuffer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def spilled_frames(self) -> int:
        """Frames kept in the temporary file rather than in memory."""
        return sum(self._spilled)

    def _keep(self, block: AudioArray) -> None:
        if self.overflowed:
            return
        if not self._spilled and self._memory_bytes + block.nbytes <= self.max_bytes:
            self._memory.append(block)
            self._memory_bytes += block.nbytes
            return
        if self.max_file_bytes is not None and (
                4 * self.channels * (self.spilled_frames + block.shape[1])
                > self.max_file_bytes):
            frames = self.frames
            self.clear()
            self.overflowed, self.frames = True, frames
            return
        if self._file is None:
            self._file = tempfile.TemporaryFile(  # noqa: SIM115 - closed by close()
                prefix=".mixdown-spill-", dir=self.folder)
        self._file.seek(0, 2)
        self._file.write(memoryview(block).cast("B"))
        self._spilled.append(block.shape[1])

    def _replay(self) -> Iterator[AudioArray]:
        if self.overflowed:
            raise RuntimeError("the stream passed the buffer's bound and was not kept")
        yield from self._memory
        if self._spilled:
            assert self._file is not None
            f = self._file
            offset = 0
            for n in self._spilled:
                block = np.empty((self.channels, n), np.float32)
                f.seek(offset)
                f.readinto(memoryview(block).cast("B"))
                offset += block.nbytes
                yield block
        if self._open is not None and self._fill:
            yield self._open[:, :self._fill]


__all__ = ["DEFAULT_MAX_BYTES", "SpillBuffer"]
