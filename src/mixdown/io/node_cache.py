"""The track cache on disk: each track's and bus's rendered signal, keyed by a hash of
everything upstream of it (see :mod:`mixdown.engine.cache`).

A cached signal is a raw float32 file in pages of :data:`PAGE_FRAMES` frames, each page
planar (its channel 0 frames, then its channel 1 frames...; the last page shorter), named
``<key>.c<channels>.f32`` in the project's ``.mixdown/nodes/`` folder, followed by a page
map: one byte per page, 1 where the page holds data, 0 where every sample of it is +0.0
(digital silence, as a track is between its parts). A silent page is never written (the
file has a hole there, on file systems that keep them) and never read: a re-render skips
a cached track's silent blocks as a full render skips the blocks where it played nothing.
Planar pages let a read land straight in the renderer's ``(channels, frames)`` block and
a write go out without a transposing copy. A different layout comes with different code,
hence different keys (:func:`mixdown.engine.cache.code_fingerprint`): an older file is
never misread.

Entries are written under a temporary name and renamed only when the whole render
succeeded, so a render killed half-way leaves no entry that could be read back (its
temporary files are swept later). The folder is bounded in size (the disk space its
files take): the least recently used entries go first.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import numpy as np

from mixdown.core.audio import AudioArray

DEFAULT_MAX_BYTES = 4 * 1024**3
"""Size bound of a project's track cache on disk (4 GiB: the 16-track 3-minute bench session
takes 0.76 GiB, its silent pages none; 1.2 GiB if they were written)."""

STALE_TEMP_S = 3600.0
"""Temporary files older than this (seconds) are left by a killed render: swept."""

PAGE_FRAMES = 32_768
"""Frames per planar page of a cached signal (a quarter of the renderer's default block)."""

_SUFFIX = ".f32"
_BYTES = 4  # float32


class CachedSignal:
    """A cached node signal, read block by block (never all at once)."""

    def __init__(self, path: Path, channels: int, frames: int, pages: np.ndarray) -> None:
        self.path, self.channels, self.frames = path, channels, frames
        self._pages = pages  # bool per page: True where it holds data
        self._fd: int | None = os.open(path, os.O_RDONLY)

    def _page_span(self, pos: int, n: int) -> tuple[int, int]:
        """Pages holding frames ``[pos, pos+n)`` (those before the end of the signal)."""
        stop = min(pos + n, self.frames)
        if stop <= pos:
            return 0, 0
        return pos // PAGE_FRAMES, (stop - 1) // PAGE_FRAMES + 1

    def silent(self, pos: int, n: int) -> bool:
        """True if frames ``[pos, pos+n)`` are all +0.0 (known from the page map: no I/O)."""
        p0, p1 = self._page_span(pos, n)
        return not self._pages[p0:p1].any()

    def read(self, pos: int, n: int) -> AudioArray:
        """Frames ``[pos, pos+n)`` as float32 ``(channels, n)``; zeros past the end."""
        avail = max(0, min(n, self.frames - pos))
        p0, p1 = self._page_span(pos, n)
        whole = avail == n and bool(self._pages[p0:p1].all())
        out = (np.empty if whole else np.zeros)((self.channels, n), np.float32)
        if self._fd is None:
            return out
        ch, frames = self.channels, self.frames
        a = pos
        while a < pos + avail:
            page = a // PAGE_FRAMES
            first = page * PAGE_FRAMES
            length = min(PAGE_FRAMES, frames - first)  # the last page is shorter
            b = min(pos + avail, first + length)
            if self._pages[page]:  # a silent page stays zeros
                for c in range(ch):
                    offset = (first * ch + c * length + (a - first)) * _BYTES
                    dest = memoryview(out[c, a - pos:b - pos]).cast("B")
                    if os.preadv(self._fd, [dest], offset) != dest.nbytes:
                        raise OSError(f"{self.path}: the cached signal ended early")
            a = b
        return out

    def close(self) -> None:
        """Close the file."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _page_count(frames: int) -> int:
    return -(-frames // PAGE_FRAMES)


class SignalWriter:
    """Writes one node's signal under a temporary name; :meth:`commit` publishes it."""

    def __init__(self, final: Path, channels: int) -> None:
        self.final, self.channels, self.frames = final, channels, 0
        self.temp = final.with_name(f"{final.name}.tmp-{os.getpid()}-{id(self):x}")
        # Unbuffered: whole pages go out in one call each, and silent ones are skipped.
        self._f: BinaryIO | None = open(self.temp, "wb", buffering=0)  # noqa: SIM115
        self._page = np.empty((channels, PAGE_FRAMES), np.float32)
        self._fill = 0
        self._map = bytearray()  # per page: 1 data, 0 silent (a hole)

    def write(self, block: AudioArray) -> None:
        """Append a float32 ``(channels, frames)`` block."""
        if self._f is None:
            return
        if block.shape[0] != self.channels:  # not the shape this entry promises: no entry
            self.abort()
            return
        n = block.shape[1]
        done = 0
        while done < n:
            take = min(n - done, PAGE_FRAMES - self._fill)
            self._page[:, self._fill:self._fill + take] = block[:, done:done + take]
            self._fill += take
            done += take
            if self._fill == PAGE_FRAMES:
                self._put(self._page)
                self._fill = 0
        self.frames += n

    def _put(self, page: np.ndarray) -> None:
        """Write one page, or skip over it if every sample is +0.0 (all bits zero)."""
        assert self._f is not None
        if np.count_nonzero(page.view(np.uint32)):
            self._f.write(memoryview(page).cast("B"))
            self._map.append(1)
        else:
            self._f.seek(page.nbytes, os.SEEK_CUR)
            self._map.append(0)

    def commit(self) -> None:
        """Publish the entry (atomic rename); an aborted writer publishes nothing."""
        if self._f is None:
            return
        if self._fill:
            self._put(np.ascontiguousarray(self._page[:, :self._fill]))
            self._fill = 0
        self._f.write(bytes(self._map))  # after the data: also ends a trailing hole
        self._f.close()
        self._f = None
        os.replace(self.temp, self.final)

    def abort(self) -> None:
        """Drop the partial entry."""
        if self._f is not None:
            self._f.close()
            self._f = None
        self.temp.unlink(missing_ok=True)


class NodeCache:
    """A project's track cache: ``.mixdown/nodes/`` under the project folder.

    Parameters
    ----------
    folder : Path
        Where entries live (created on first write).
    max_bytes : int
        Size bound in bytes; :meth:`prune` removes least recently used entries past it.
    """

    def __init__(self, folder: str | Path, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.folder = Path(folder)
        self.max_bytes = max_bytes

    @classmethod
    def for_project(cls, root: str | Path, max_bytes: int = DEFAULT_MAX_BYTES) -> NodeCache:
        """The cache of the project in folder ``root``."""
        return cls(Path(root) / ".mixdown" / "nodes", max_bytes)

    def _path(self, key: str, channels: int) -> Path:
        return self.folder / f"{key}.c{channels}{_SUFFIX}"

    def open(self, key: str, channels: int, frames: int) -> CachedSignal | None:
        """The entry for ``key`` if it holds exactly ``frames`` frames, else None."""
        path = self._path(key, channels)
        try:
            size = path.stat().st_size
        except OSError:
            return None
        data, count = frames * channels * _BYTES, _page_count(frames)
        pages = None
        if size == data + count:
            with path.open("rb") as f:
                f.seek(data)
                raw = np.frombuffer(f.read(count), np.uint8)
            if raw.shape[0] == count and not (raw > 1).any():
                pages = raw.astype(bool)
        if pages is None:
            path.unlink(missing_ok=True)  # not what this key promises: never read it
            return None
        os.utime(path)  # recently used
        return CachedSignal(path, channels, frames, pages)

    def create(self, key: str, channels: int) -> SignalWriter:
        """A writer for a new entry (visible only after ``commit``)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        return SignalWriter(self._path(key, channels), channels)

    def prune(self) -> int:
        """Remove stale temporary files and the least recently used entries past the bound.

        Returns the number of bytes the cache holds afterwards.
        """
        if not self.folder.is_dir():
            return 0
        now = time.time()
        entries = []
        for p in self.folder.iterdir():
            try:
                st = p.stat()
            except OSError:
                continue
            if ".tmp-" in p.name:
                if now - st.st_mtime > STALE_TEMP_S:
                    p.unlink(missing_ok=True)
                continue
            if p.suffix == _SUFFIX:  # the space it takes: its silent pages take none
                entries.append((st.st_mtime, _disk_bytes(st), p))
        total = sum(size for _, size, _ in entries)
        for _, size, p in sorted(entries):  # oldest first
            if total <= self.max_bytes:
                break
            p.unlink(missing_ok=True)
            total -= size
        return total


def _disk_bytes(st: os.stat_result) -> int:
    """Bytes a file takes on disk (its blocks; its size where blocks are not reported)."""
    blocks = getattr(st, "st_blocks", None)
    return st.st_size if blocks is None else min(st.st_size, blocks * 512)


def asset_identity(root: str | Path) -> Callable[[str], str]:
    """Identity of a project file for cache keys: its size and modification time (ns), so
    a file replaced on disk changes every key that depends on it."""
    base = Path(root)

    def identity(rel: str) -> str:
        try:
            st = (base / rel).stat()
        except OSError:
            return "missing"
        return f"{st.st_size}:{st.st_mtime_ns}:{st.st_ino}"

    return identity
