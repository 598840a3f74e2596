"""How many files go in one Dask task: short files in chunks, long ones alone."""

from __future__ import annotations

from mixdown.batch.runner import CHUNK_TARGET_S, MAX_CHUNK, chunk_size


def test_the_first_tasks_go_alone_until_times_are_known() -> None:
    assert chunk_size([], pending=200, slots=2) == 1


def test_short_files_are_chunked_to_the_target_duration() -> None:
    # 70 ms per file (an analysis of 30 s): about CHUNK_TARGET_S per task
    size = chunk_size([0.07, 0.07, 0.08, 0.06, 0.07], pending=200, slots=2)
    assert size > 1
    assert abs(size * 0.07 - CHUNK_TARGET_S) <= 0.07


def test_long_files_go_one_per_task() -> None:
    assert chunk_size([1.2, 0.9, 2.5], pending=200, slots=2) == 1


def test_chunks_are_bounded_and_the_tail_is_shared_out() -> None:
    assert chunk_size([0.001] * 10, pending=10_000, slots=4) == MAX_CHUNK
    # 5 files left for 4 slots: no slot gets more than its share
    assert chunk_size([0.01] * 10, pending=5, slots=4) == 2
    assert chunk_size([0.01] * 10, pending=1, slots=4) == 1


def test_the_median_resists_one_slow_outlier() -> None:
    assert chunk_size([0.05] * 9 + [30.0], pending=500, slots=2) == 10
