"""Render an instrument's stream ahead in a forked child process.

TinySoundFont's Python binding holds the GIL while it synthesizes, so the engine's threads
cannot overlap SoundFont tracks. A :class:`RenderAhead` forks the process once the
instrument has its notes; the child makes the stream from a start frame onwards in chunks
and writes it into a pipe, while the parent reads the frames it needs. The pipe's capacity
bounds how far the child runs ahead (and its memory); the parent's reads wait (without the
GIL) only when the child is behind.

The child runs the instrument's own code on a copy of its state, so the frames are the
same bits as rendering in the parent would give. It closes every inherited file but its
two pipe ends, never returns into the parent's code (``os._exit``), and stops as soon as
the parent closes its end (or dies): it never outlives its reader.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import struct
import sys
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

PIPE_BYTES = 1 << 20
"""Pipe capacity asked for (Linux's default ceiling for unprivileged processes)."""

_F_SETPIPE_SZ = 1031  # fcntl.F_SETPIPE_SZ from Python 3.10 on Linux


def available() -> bool:
    """True where a render-ahead child can help: Linux (fork) with two or more CPUs."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        return len(os.sched_getaffinity(0)) > 1
    except OSError:  # pragma: no cover - sched_getaffinity exists on Linux
        return (os.cpu_count() or 1) > 1


Produce = Callable[[int, int], NDArray[np.float32]]
"""``produce(start, frames)``: frames ``[start, start + frames)`` as contiguous float32
(frames, channels); called in the child only, consecutively."""


class RenderAhead:
    """A child process streaming ``produce``'s frames from the start frame it is given.

    Parameters
    ----------
    produce : callable
        See :data:`Produce`.
    channels : int
        Interleaved channels per frame.
    chunk_frames : int
        Frames per ``produce`` call in the child.
    """

    def __init__(self, produce: Produce, channels: int, chunk_frames: int) -> None:
        self.channels = channels
        self.started = False
        self.position = 0  # the next frame read() hands out
        data_r, data_w = os.pipe()
        ctrl_r, ctrl_w = os.pipe()
        with contextlib.suppress(OSError):
            fcntl.fcntl(data_w, _F_SETPIPE_SZ, PIPE_BYTES)
        self._owner = os.getpid()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child's coverage is not collected
            _child(produce, ctrl_r, data_w, chunk_frames)
        os.close(ctrl_r)
        os.close(data_w)
        self._pid: int | None = pid
        self._ctrl = ctrl_w
        self._data = open(data_r, "rb", buffering=0)  # noqa: SIM115 - closed in close()

    def start(self, frame: int) -> None:
        """Tell the child to stream from ``frame`` on."""
        os.write(self._ctrl, struct.pack("<q", frame))
        self.started = True
        self.position = frame

    def read(self, frames: int) -> NDArray[np.float32] | None:
        """The next ``frames`` frames, (frames, channels) float32; None if the child stopped
        early (the caller renders in-process instead)."""
        out = np.empty((frames, self.channels), np.float32)
        view = memoryview(out).cast("B")
        got = 0
        while got < len(view):
            n = self._data.readinto(view[got:])
            if not n:
                return None
            got += n
        self.position += frames
        return out

    def close(self) -> None:
        """Stop the child and release the pipes (safe to call twice)."""
        if os.getpid() != self._owner:  # a copy inherited by another child: not ours
            return
        pid, self._pid = self._pid, None
        if pid is None:
            return
        self._data.close()
        with contextlib.suppress(OSError):
            os.close(self._ctrl)
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()


def _child(produce: Produce, ctrl: int, data: int, chunk: int) -> None:  # pragma: no cover
    """The child's whole life: wait for the start frame, stream chunks, exit."""
    try:
        keep = sorted((ctrl, data))
        os.closerange(3, keep[0])
        os.closerange(keep[0] + 1, keep[1])
        os.closerange(keep[1] + 1, os.sysconf("SC_OPEN_MAX"))
        raw = b""
        while len(raw) < 8:
            part = os.read(ctrl, 8 - len(raw))
            if not part:
                return
            raw += part
        pos = struct.unpack("<q", raw)[0]
        while True:
            block = memoryview(produce(pos, chunk)).cast("B")
            sent = 0
            while sent < len(block):
                sent += os.write(data, block[sent:])
            pos += chunk
    except BaseException:  # a closed pipe (the parent is done) or anything else: stop
        pass
    finally:
        os._exit(0)


__all__ = ["PIPE_BYTES", "Produce", "RenderAhead", "available"]
