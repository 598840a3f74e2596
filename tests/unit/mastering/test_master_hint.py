"""A gain hint from a previous master: a re-render takes one limiter pass, lands on the
target, writes the same bytes as without a hint; a bad hint file is ignored."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from mixdown.analysis.loudness import integrated_loudness
from mixdown.analysis.truepeak import true_peak_dbtp
from mixdown.core.units import db_to_gain
from mixdown.io.audio import AudioWriter
from mixdown.mastering.hint import (
    HINT_VERSION,
    MasterHint,
    hint_path,
    read_master_hint,
    write_master_hint,
)
from mixdown.mastering.normalize import (
    MasterPlan,
    MasterResult,
    MemoryOutput,
    master_to_target,
    run_master_plan,
)
from signals import dense_clipped_loop

TARGET_LUFS = -14.0
CEILING_DBTP = -1.0
LOUDNESS_TOL_LU = 0.2  # the promise
SR = 48_000
PLAN = MasterPlan(target_lufs=TARGET_LUFS, ceiling_dbtp=CEILING_DBTP)


@pytest.fixture(scope="module")
def dense() -> tuple[np.ndarray, int]:
    # the dense-peak loop (bright, clipped): the limiter takes about 4 dB off its peaks,
    # so without a hint the first pass misses the target
    return dense_clipped_loop(8.0, SR), SR


def master(audio: np.ndarray, sr: int, hint: MasterHint | None = None
           ) -> tuple[np.ndarray, MasterResult, int]:
    """(master, result, limiter passes): every stream of the source after the one that
    measures its loudness is a gain + limiter pass."""
    output = MemoryOutput()
    streams = [0]

    def blocks() -> Iterator[np.ndarray]:
        streams[0] += 1
        return (audio[:, i:i + 30_000] for i in range(0, audio.shape[1], 30_000))

    result = run_master_plan(PLAN, blocks, output, sample_rate=sr,
                             channels=audio.shape[0], hint=hint)
    return output.audio(), result, streams[0] - 1


def test_without_a_hint_it_takes_more_than_one_pass(dense: tuple[np.ndarray, int]) -> None:
    out, result, passes = master(*dense)
    assert passes >= 2 and result.max_gain_reduction_db > 3.0
    assert integrated_loudness(out, dense[1]) == pytest.approx(TARGET_LUFS, abs=PLAN.tolerance_lu)


def test_a_hint_from_the_same_input_takes_one_pass_and_writes_the_same_bytes(
        dense: tuple[np.ndarray, int]) -> None:
    plain, first, _ = master(*dense)
    hinted, again, passes = master(*dense, hint=MasterHint.from_result(first))
    assert passes == 1 and again.passes == 1
    # the hinted pass is at exactly the gain the unhinted master kept: the same master
    assert again.gain_db == first.gain_db
    assert hinted.tobytes() == plain.tobytes()
    assert again.output_lufs == first.output_lufs


def test_a_hint_from_a_quieter_input_takes_one_pass_and_reaches_the_target(
        dense: tuple[np.ndarray, int]) -> None:
    audio, sr = dense
    quieter = (audio * np.float32(db_to_gain(-0.5))).astype(np.float32)
    _, before, _ = master(quieter, sr)  # the previous master, of a mix 0.5 dB quieter
    out, result, passes = master(audio, sr, hint=MasterHint.from_result(before))
    assert passes == 1 and result.reached
    assert result.gain_db == pytest.approx(before.gain_db - 0.5, abs=1e-3)
    assert integrated_loudness(out, sr) == pytest.approx(TARGET_LUFS, abs=PLAN.tolerance_lu)
    assert true_peak_dbtp(out, sr) <= CEILING_DBTP


def test_a_wrong_hint_costs_passes_not_the_target(dense: tuple[np.ndarray, int]) -> None:
    audio, sr = dense
    bad = MasterHint(input_lufs=integrated_loudness(audio, sr), gain_db=-6.0)
    out, result, passes = master(audio, sr, hint=bad)
    assert passes >= 2 and result.reached
    assert integrated_loudness(out, sr) == pytest.approx(TARGET_LUFS, abs=LOUDNESS_TOL_LU)


def test_a_hint_for_another_target_is_not_used(dense: tuple[np.ndarray, int]) -> None:
    _, first, _ = master(*dense)
    other = MasterHint(first.input_lufs, first.gain_db, target_lufs=-9.0,
                       ceiling_dbtp=CEILING_DBTP)
    _, _, unhinted = master(*dense)
    _, _, passes = master(*dense, hint=other)
    assert passes == unhinted >= 2  # as without a hint


def test_the_store_round_trips_exactly(tmp_path: Path) -> None:
    path = hint_path(tmp_path)
    assert path == tmp_path / ".mixdown" / "master-hint.json"
    hint = MasterHint(input_lufs=-17.123456789012345, gain_db=3.1415926535897931,
                      target_lufs=-14.0, ceiling_dbtp=-1.0)
    write_master_hint(path, hint)  # creates .mixdown/
    assert read_master_hint(path) == hint
    assert read_master_hint(path, target_lufs=-14.0, ceiling_dbtp=-1.0) == hint
    assert read_master_hint(path, target_lufs=-16.0) is None
    assert read_master_hint(path, ceiling_dbtp=-2.0) is None
    assert [p.name for p in path.parent.iterdir()] == ["master-hint.json"]  # no temp file


def test_a_file_master_writes_a_hint_that_saves_a_pass(tmp_path: Path,
                                                       dense: tuple[np.ndarray, int]) -> None:
    audio, sr = dense
    src = tmp_path / "in.wav"
    with AudioWriter(src, sr, 2, bit_depth=32) as w:
        w.write(audio)
    store = hint_path(tmp_path)
    kw = {"target_lufs": TARGET_LUFS, "ceiling_dbtp": CEILING_DBTP}
    ticks: list[float] = []  # one progress report per pass over the file
    assert read_master_hint(store, **kw) is None  # nothing stored yet
    first = master_to_target(src, tmp_path / "a.wav", progress=ticks.append, **kw)
    unhinted = len(ticks) - 1  # the first pass over the file measures its loudness
    write_master_hint(store, MasterHint.from_result(first))
    hint = read_master_hint(store, **kw)
    assert hint is not None
    ticks.clear()
    second = master_to_target(src, tmp_path / "b.wav", hint=hint, progress=ticks.append, **kw)
    assert unhinted >= 2 and len(ticks) - 1 == 1
    assert second.gain_db == first.gain_db
    assert (tmp_path / "a.wav").read_bytes() == (tmp_path / "b.wav").read_bytes()


@pytest.mark.parametrize("text", [
    "",
    "{not json",
    "[1, 2]",
    "null",
    json.dumps({"version": HINT_VERSION + 1, "input_lufs": -20.0, "gain_db": 6.0,
                "target_lufs": -14.0, "ceiling_dbtp": -1.0}),
    json.dumps({"version": HINT_VERSION, "input_lufs": -20.0, "gain_db": "6",
                "target_lufs": -14.0, "ceiling_dbtp": -1.0}),
    json.dumps({"version": HINT_VERSION, "input_lufs": -20.0, "gain_db": True,
                "target_lufs": -14.0, "ceiling_dbtp": -1.0}),
    json.dumps({"version": HINT_VERSION, "gain_db": 6.0, "target_lufs": -14.0,
                "ceiling_dbtp": -1.0}),
    '{"version": 1, "input_lufs": NaN, "gain_db": 6.0, "target_lufs": -14.0, '
    '"ceiling_dbtp": -1.0}',
    '{"version": 1, "input_lufs": -20.0, "gain_db": Infinity, "target_lufs": -14.0, '
    '"ceiling_dbtp": -1.0}',
])
def test_a_malformed_hint_file_is_ignored(tmp_path: Path, text: str) -> None:
    path = tmp_path / "master-hint.json"
    path.write_text(text)
    assert read_master_hint(path) is None


def test_a_missing_or_unreadable_hint_is_ignored(tmp_path: Path) -> None:
    assert read_master_hint(tmp_path / "none.json") is None
    assert read_master_hint(tmp_path) is None  # a folder
    (tmp_path / "bin.json").write_bytes(b"\xff\xfe\x00garbage")
    assert read_master_hint(tmp_path / "bin.json") is None


def test_a_non_finite_hint_is_not_stored_nor_used(tmp_path: Path,
                                                  dense: tuple[np.ndarray, int]) -> None:
    path = tmp_path / "h.json"
    write_master_hint(path, MasterHint(float("nan"), 3.0, -14.0, -1.0))
    assert not path.exists()
    _, _, unhinted = master(*dense)
    _, result, passes = master(*dense, hint=MasterHint(float("-inf"), 3.0))
    assert passes == unhinted >= 2 and result.reached
