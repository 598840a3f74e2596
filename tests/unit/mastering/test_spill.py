"""SpillBuffer: a stream kept for replay, in memory up to a bound and in an anonymous
temporary file beyond it, given back bit for bit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mixdown.mastering.spill import SpillBuffer


def _blocks(rng: np.random.Generator) -> list[np.ndarray]:
    return [rng.standard_normal((2, n)).astype(np.float32) for n in (1000, 1, 4096, 333, 9000)]


@pytest.mark.parametrize("max_bytes", [0, 8 * 5000, 10**9])
def test_replays_give_back_the_blocks_pushed(tmp_path: Path, max_bytes: int) -> None:
    blocks = _blocks(np.random.default_rng(1))
    with SpillBuffer(2, max_bytes=max_bytes, folder=tmp_path) as buf:
        for b in blocks:
            buf.push(b)
        assert buf.frames == sum(b.shape[1] for b in blocks)
        assert (buf.spilled_frames > 0) == (max_bytes < 8 * buf.frames)
        for _ in range(2):  # a buffer replays as often as asked
            got = list(buf())
            assert [g.shape for g in got] == [b.shape for b in blocks]
            for g, b in zip(got, blocks, strict=True):
                np.testing.assert_array_equal(g, b)
        assert list(tmp_path.iterdir()) == []  # the temporary file has no name
        buf.clear()
        assert buf.frames == 0 and list(buf()) == []
        buf.push(blocks[0])
        np.testing.assert_array_equal(np.concatenate(list(buf()), axis=1), blocks[0])


def test_chunked_replay_recuts_the_same_frames(tmp_path: Path) -> None:
    blocks = _blocks(np.random.default_rng(2))
    whole = np.concatenate(blocks, axis=1)
    with SpillBuffer(2, max_bytes=8 * 4096, folder=tmp_path, chunk_frames=4096) as buf:
        for b in blocks:
            buf.push(b)
        got = list(buf())
    assert [g.shape[1] for g in got[:-1]] == [4096] * (len(got) - 1)
    np.testing.assert_array_equal(np.concatenate(got, axis=1), whole)


def test_a_pushed_block_is_copied(tmp_path: Path) -> None:
    block = np.ones((2, 10), np.float32)
    with SpillBuffer(2, folder=tmp_path) as buf:
        buf.push(block)
        block[:] = 5.0
        np.testing.assert_array_equal(next(buf()), np.ones((2, 10), np.float32))
        with pytest.raises(ValueError, match="channels"):
            buf.push(np.ones((1, 10), np.float32))


def test_a_stream_past_the_file_bound_is_dropped(tmp_path: Path) -> None:
    with SpillBuffer(2, max_bytes=0, folder=tmp_path, max_file_bytes=8 * 5000) as buf:
        buf.push(np.ones((2, 4000), np.float32))
        assert not buf.overflowed
        buf.push(np.ones((2, 4000), np.float32))
        assert buf.overflowed and buf.frames == 8000
        with pytest.raises(RuntimeError, match="not kept"):
            list(buf())
        buf.clear()
        buf.push(np.ones((2, 10), np.float32))
        assert not buf.overflowed and buf.frames == 10


@pytest.mark.parametrize("qc", [False, True])
def test_a_master_too_long_to_keep_is_limited_again_to_the_same_bytes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, qc: bool) -> None:
    """Past ``KEPT_PASS_MAX_BYTES`` the kept pass is written by limiting again: the same
    master, the same QC figures."""
    from mixdown.analysis.qc import Analyzer
    from mixdown.mastering import normalize
    from signals import dense_clipped_loop

    sr = 48_000
    audio = dense_clipped_loop(6.0, sr) * np.float32(0.3)  # the limiter works, passes vary
    blocks = [audio[:, i:i + 10_000] for i in range(0, audio.shape[1], 10_000)]
    results = []
    for bound, name in ((normalize.KEPT_PASS_MAX_BYTES, "kept.wav"), (1000, "again.wav")):
        monkeypatch.setattr(normalize, "KEPT_PASS_MAX_BYTES", bound)
        result = normalize.master_to_target(
            lambda: iter(blocks), tmp_path / name, target_lufs=-14.0, sample_rate=sr,
            channels=audio.shape[0],
            analyzer_factory=(lambda: Analyzer(sr, audio.shape[0])) if qc else None)
        results.append(result)
    assert (tmp_path / "kept.wav").read_bytes() == (tmp_path / "again.wav").read_bytes()
    kept, again = results
    assert kept.output_true_peak_dbtp == again.output_true_peak_dbtp
    assert kept.output_lufs == again.output_lufs and kept.passes == again.passes
    if qc:
        assert kept.analyzer.result().as_dict() == again.analyzer.result().as_dict()
