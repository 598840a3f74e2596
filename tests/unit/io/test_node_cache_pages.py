"""The track cache's planar pages: any read of a cached signal gives back exactly the frames
written, whatever the block sizes of the writes and the reads and however they straddle
pages; pages of digital silence are neither written nor read, and say so."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mixdown.io.node_cache import PAGE_FRAMES, CachedSignal, NodeCache


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
    assert path.stat().st_size == frames * channels * 4 + 3  # the data, then a page map
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


def write_entry(cache: NodeCache, key: str, signal: np.ndarray, block: int = 5000) -> None:
    writer = cache.create(key, signal.shape[0])
    for pos in range(0, signal.shape[1], block):
        writer.write(signal[:, pos:pos + block])
    writer.commit()


def open_entry(cache: NodeCache, key: str, signal: np.ndarray) -> CachedSignal:
    sig = cache.open(key, signal.shape[0], signal.shape[1])
    assert sig is not None
    return sig


def test_silent_pages_are_holes_that_read_back_as_zeros(tmp_path: Path) -> None:
    """A track between its parts: pages 1 and 3 (the last, short) are +0.0 throughout."""
    rng = np.random.default_rng(7)
    frames = 3 * PAGE_FRAMES + 999
    signal = rng.standard_normal((2, frames)).astype(np.float32)
    signal[:, PAGE_FRAMES:2 * PAGE_FRAMES] = 0.0
    signal[:, 3 * PAGE_FRAMES:] = 0.0
    cache = NodeCache(tmp_path / "nodes")
    write_entry(cache, "gaps", signal)
    write_entry(cache, "full", rng.standard_normal((2, frames)).astype(np.float32))
    gaps = cache.folder / "gaps.c2.f32"
    assert gaps.stat().st_size == frames * 2 * 4 + 4
    assert gaps.read_bytes()[-4:] == bytes([1, 0, 1, 0])
    # The silent pages take no disk space (ext4, tmpfs and most others keep holes).
    used = gaps.stat().st_blocks * 512
    assert used < (cache.folder / "full.c2.f32").stat().st_blocks * 512 - PAGE_FRAMES * 8
    sig = open_entry(cache, "gaps", signal)
    np.testing.assert_array_equal(sig.read(0, frames), signal)
    for start, n in ((PAGE_FRAMES - 1, 2), (2 * PAGE_FRAMES - 5, 10), (100, 3 * PAGE_FRAMES)):
        np.testing.assert_array_equal(sig.read(start, n), signal[:, start:start + n])
    assert sig.silent(PAGE_FRAMES, PAGE_FRAMES)
    assert sig.silent(PAGE_FRAMES + 10, 100)
    assert sig.silent(3 * PAGE_FRAMES, 5000)  # the short last page and past the end
    assert sig.silent(frames + 10, 50)
    assert not sig.silent(PAGE_FRAMES - 1, 2)  # touches a page with data
    assert not sig.silent(2 * PAGE_FRAMES - 1, 2)
    sig.close()


def test_a_page_of_negative_zeros_is_kept_bit_for_bit(tmp_path: Path) -> None:
    """-0.0 equals 0.0 but is not the same bits: such a page is data, not a hole."""
    signal = np.full((2, PAGE_FRAMES + 10), -0.0, np.float32)
    cache = NodeCache(tmp_path / "nodes")
    write_entry(cache, "neg", signal)
    sig = open_entry(cache, "neg", signal)
    assert not sig.silent(0, PAGE_FRAMES)
    assert np.signbit(sig.read(0, PAGE_FRAMES + 10)).all()
    sig.close()


def test_a_damaged_page_map_is_refused_not_misread(tmp_path: Path) -> None:
    signal = np.ones((2, PAGE_FRAMES + 10), np.float32)
    cache = NodeCache(tmp_path / "nodes")
    write_entry(cache, "k", signal)
    path = cache.folder / "k.c2.f32"
    data = bytearray(path.read_bytes())
    data[-1] = 7  # neither "data" nor "silent"
    path.write_bytes(bytes(data))
    assert cache.open("k", 2, PAGE_FRAMES + 10) is None
    assert not path.exists()
