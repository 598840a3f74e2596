"""The track cache's planar pages: any read of a cached signal gives back exactly the frames
written, whatever the block sizes of the writes and the reads and however they straddle
pages."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mixdown.io.node_cache import PAGE_FRAMES, NodeCache


@pytest.mark.parametrize("channels", [1, 2, 3])
def test_reads_across_pages_give_back_the_written_frames(tmp_path: Path,
                                                         channels: int) -> None:
    rng = np.random.default_rng(channels)
    frames = 2 * PAGE_FRAMES + 1234  # two full pages and a short last one
    signal = rng.standard_normal((channels, frames)).astype(np.float32)
    cache = NodeCache(tmp_path / "nodes")
    writer = cache.create("k", channels)
    pos = 0
    for n in (1, 777, PAGE_FRAMES, 5000, 3 * PAGE_FRAMES):  # odd write sizes, then the rest
        writer.write(signal[:, pos:pos + n])
        pos = min(frames, pos + n)
    writer.commit()
    path = cache.folder / f"k.c{channels}.f32"
    assert path.stat().st_size == frames * channels * 4
    sig = cache.open("k", channels, frames)
    assert sig is not None
    for start, n in ((0, frames), (PAGE_FRAMES - 3, 7), (PAGE_FRAMES - 10, PAGE_FRAMES + 20),
                     (2 * PAGE_FRAMES + 1000, 234), (frames - 5, 50), (frames + 10, 16)):
        got = sig.read(start, n)
        assert got.shape == (channels, n) and got.dtype == np.float32
        want = np.zeros((channels, n), np.float32)
        avail = max(0, min(n, frames - start))
        want[:, :avail] = signal[:, start:start + avail]
        np.testing.assert_array_equal(got, want)  # bit for bit, zeros past the end
    sig.close()


def test_a_truncated_entry_is_refused_not_misread(tmp_path: Path) -> None:
    cache = NodeCache(tmp_path / "nodes")
    writer = cache.create("k", 2)
    writer.write(np.ones((2, PAGE_FRAMES + 10), np.float32))
    writer.commit()
    path = cache.folder / "k.c2.f32"
    with path.open("r+b") as f:
        f.truncate(path.stat().st_size - 8)
    assert cache.open("k", 2, PAGE_FRAMES + 10) is None
    assert not path.exists()
