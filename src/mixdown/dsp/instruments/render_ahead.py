"""Render an instrument's stream ahead in a forked child process.

TinySoundFont's Python binding holds the GIL while it synthesizes, so the engine's threads
cannot overlap SoundFont tracks. A :class:`RenderAhead` forks the process once the
instrument has its notes; the child makes the stream from a start frame onwards, chunk by
chunk, into a ring of :data:`RING_BYTES` shared with the parent, while the parent copies
out the frames it needs. Two pipes carry one byte per chunk: "made" (child to parent) and
"free again" (parent to child). The ring's size bounds how far the child runs ahead (and
the memory: a constant, whatever the song's length); the parent waits (without the GIL)
only when the child is behind.

The child runs the instrument's own code on a copy of its state, so the frames are the
same bits as rendering in the parent would give. It closes every inherited file but its
two pipe ends, never returns into the parent's code (``os._exit``), and stops as soon as
the parent closes its ends (or dies): it never outlives its reader.
"""

from __future__ import annotations

import contextlib
import gc
import mmap
import os
import signal
import struct
import sys
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

RING_BYTES = 4 << 20
"""Bytes of the ring each child fills ahead of the parent (4 MiB: 11 s of stereo float32
at 48 kHz)."""


def available() -> bool:
    """True where a render-ahead child can help: Linux (fork) with two or more CPUs."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        return len(os.sched_getaffinity(0)) > 1
    except OSError:  # pragma: no cover - sched_getaffinity exists on Linux
        return (os.cpu_count() or 1) > 1


Produce = Callable[[int, int], NDArray[np.float32]]
"""``produce(start, frames)``: frames ``[start, start + frames)`` as float32 (frames,
channels); called in the child only, consecutively."""


class RenderAhead:
    """A child process streaming ``produce``'s frames from the start frame it is given.

    Parameters
    ----------
    produce : callable
        See :data:`Produce`.
    channels : int
        Channels per frame.
    chunk_frames : int
        Frames per ``produce`` call in the child (one slot of the ring).
    """

    def __init__(self, produce: Produce, channels: int, chunk_frames: int) -> None:
        self.channels = channels
        self.chunk = chunk_frames
        self.started = False
        self.position = 0  # the next frame read() hands out
        self.slots = max(2, RING_BYTES // (chunk_frames * channels * 4))
        self._mem = mmap.mmap(-1, self.slots * chunk_frames * channels * 4)  # shared
        self._ring = np.frombuffer(self._mem, np.float32).reshape(
            self.slots, chunk_frames, channels)
        self._owner = os.getpid()
        self._pid: int | None = None
        fds: list[int] = []
        try:
            for _ in range(3):
                fds += os.pipe()
            pid = os.fork()
        except OSError:
            for fd in fds:
                os.close(fd)
            raise
        made_r, made_w, free_r, free_w, ctrl_r, ctrl_w = fds
        if pid == 0:  # pragma: no cover - the child's coverage is not collected
            _child(produce, self._ring, ctrl_r, made_w, free_r)
        for fd in (ctrl_r, made_w, free_r):
            os.close(fd)
        self._pid = pid
        self._ctrl, self._made, self._free = ctrl_w, made_r, free_w
        self._ready = 0  # chunks made and not yet handed back
        self._slot = 0  # the ring slot being read
        self._offset = 0  # frames of it already read

    def start(self, frame: int) -> None:
        """Tell the child to stream from ``frame`` on."""
        os.write(self._ctrl, struct.pack("<q", frame))
        self.started = True
        self.position = frame

    def read(self, frames: int) -> NDArray[np.float32] | None:
        """The next ``frames`` frames, float32 (channels, frames); None if the child stopped
        early (the caller renders in-process instead)."""
        out = np.empty((self.channels, frames), np.float32)
        done = 0
        while done < frames:
            if self._ready == 0:
                got = os.read(self._made, 4096)
                if not got:
                    return None
                self._ready += len(got)
            take = min(frames - done, self.chunk - self._offset)
            out[:, done:done + take] = self._ring[self._slot,
                                                  self._offset:self._offset + take].T
            done += take
            self._offset += take
            if self._offset == self.chunk:
                with contextlib.suppress(BrokenPipeError):  # a dead child: read what it made
                    os.write(self._free, b"\x01")
                self._ready -= 1
                self._slot = (self._slot + 1) % self.slots
                self._offset = 0
        self.position += frames
        return out

    def close(self) -> None:
        """Stop the child and release the pipes (safe to call twice)."""
        if os.getpid() != self._owner:  # a copy inherited by another child: not ours
            return
        pid, self._pid = self._pid, None
        if pid is None:
            return
        for fd in (self._ctrl, self._made, self._free):
            with contextlib.suppress(OSError):
                os.close(fd)
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
        del self._ring  # the mapping goes with the last view of it

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()


def _read_exactly(fd: int, n: int) -> bytes:  # pragma: no cover - runs in the child
    raw = b""
    while len(raw) < n:
        part = os.read(fd, n - len(raw))
        if not part:
            raise EOFError
        raw += part
    return raw


def _child(produce: Produce, ring: NDArray[np.float32], ctrl: int, made: int,
           free: int) -> None:  # pragma: no cover - the child's coverage is not collected
    """The child's whole life: wait for the start frame, fill the ring, exit."""
    try:
        # The cyclic collector would visit every object inherited from the parent and so
        # copy the parent's whole heap into the child; the loop below makes no cycles.
        gc.disable()
        keep = sorted((ctrl, made, free))
        os.closerange(3, keep[0])
        os.closerange(keep[0] + 1, keep[1])
        os.closerange(keep[1] + 1, keep[2])
        os.closerange(keep[2] + 1, os.sysconf("SC_OPEN_MAX"))
        pos = struct.unpack("<q", _read_exactly(ctrl, 8))[0]
        slots, chunk = ring.shape[0], ring.shape[1]
        empty = slots
        k = 0
        while True:
            while empty == 0:  # wait for the parent to hand slots back
                got = os.read(free, 4096)
                if not got:
                    return
                empty += len(got)
            ring[k] = produce(pos, chunk)
            os.write(made, b"\x01")
            empty -= 1
            k = (k + 1) % slots
            pos += chunk
    except BaseException:  # a closed pipe (the parent is done) or anything else: stop
        pass
    finally:
        os._exit(0)


__all__ = ["RING_BYTES", "Produce", "RenderAhead", "available"]
