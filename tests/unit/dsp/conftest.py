"""Fixtures for the effect tests: run a processor over a stream split into blocks."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytest

SR = 48_000

Event = tuple[int, str, Any]  # (frame, parameter name or "__tempo__", value)
Stream = Callable[..., np.ndarray]


def run_stream(device: Any, audio: np.ndarray, cuts: Sequence[int] = (),
               events: Sequence[Event] = (), sidechain: np.ndarray | None = None,
               sample_rate: int = SR) -> np.ndarray:
    """Prepare ``device`` and process ``audio`` (channels, frames) split at ``cuts``.

    Events are applied just before their frame (the stream is also split there),
    the way the engine applies automation between blocks. Returns the output.
    """
    audio = np.asarray(audio, dtype=np.float32)
    n = audio.shape[1]
    device.prepare(sample_rate, audio.shape[0], max(n, 1))
    ev = sorted(events, key=lambda e: e[0])
    bounds = sorted({0, n, *(c for c in cuts if 0 < c < n), *(e[0] for e in ev if 0 < e[0] < n)})
    out = np.empty_like(audio)
    k = 0
    for a, b in itertools.pairwise(bounds):
        while k < len(ev) and ev[k][0] <= a:
            _, name, value = ev[k]
            if name == "__tempo__":
                device.set_tempo(value)
            else:
                device.set_param(name, value)
            k += 1
        block = audio[:, a:b].copy()  # processors may work in place
        sc = None if sidechain is None else np.ascontiguousarray(sidechain[:, a:b])
        res = device.process(block, sc) if sc is not None else device.process(block)
        out[:, a:b] = res
    return out


@pytest.fixture
def stream() -> Stream:
    """:func:`run_stream`."""
    return run_stream


def tone(freq_hz: float, seconds: float, amp: float = 1.0, channels: int = 1,
         sample_rate: int = SR) -> np.ndarray:
    """A sine of ``amp`` peak, float32 (channels, frames)."""
    t = np.arange(round(seconds * sample_rate)) / sample_rate
    x = (amp * np.sin(2 * np.pi * freq_hz * t)).astype(np.float32)
    return np.repeat(x[None, :], channels, axis=0)


@pytest.fixture
def sine() -> Callable[..., np.ndarray]:
    """:func:`tone`."""
    return tone
