"""The render benchmark's workload is what the README says (issue 8): distinct stems, not
loops, tracks entering and leaving, pan and automation, a project mixdown accepts."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from benchmarks.bench_render import automation, curve_correlation, write_project
from benchmarks.stems import NAMES, SR, TRACKS, make_stem, regions, write_stems

from mixdown.io.project import load_project

SECONDS = 12.0


@pytest.fixture(scope="module")
def stems() -> list[np.ndarray]:
    return [make_stem(k, SECONDS) for k in range(TRACKS)]


def test_sixteen_distinct_stems_full_length_and_deterministic(stems) -> None:
    assert len(stems) == 16 and len(set(NAMES)) == 16
    for x in stems:
        assert x.shape == (2, int(SECONDS * SR)) and x.dtype == np.float32
        assert 0.3 < np.abs(x).max() <= 0.51  # normalised to about -6 dBFS
    np.testing.assert_array_equal(make_stem(4, SECONDS), stems[4])
    mono = np.array([x[0] for x in stems], dtype=np.float64)
    r = np.corrcoef(mono)
    off = r[~np.eye(TRACKS, dtype=bool)]
    assert np.abs(off).max() < 0.9  # no two stems are the same signal


def test_stems_are_not_loops(stems) -> None:
    # a loop of one bar (2 s) or two repeats itself exactly; the stems vary bar to bar
    bar = 2 * SR
    for k, x in enumerate(stems):
        a, b, c = x[0, bar: 2 * bar], x[0, 3 * bar: 4 * bar], x[0, 5 * bar: 6 * bar]
        assert not np.allclose(a, b, atol=1e-3) or not np.allclose(a, c, atol=1e-3), NAMES[k]


def test_tracks_enter_and_leave() -> None:
    with_gaps = 0
    for k in range(TRACKS):
        clips = regions(k, 180.0)
        assert clips, NAMES[k]
        assert all(0 <= s < e <= 180.0 for s, e in clips)
        covered = sum(e - s for s, e in clips)
        with_gaps += covered < 180.0
        assert all(a[1] < b[0] for a, b in itertools.pairwise(clips))
    assert with_gaps >= 12


def test_the_project_loads_with_pan_clips_and_automation(tmp_path: Path) -> None:
    paths = write_stems(tmp_path / "stems", SECONDS)
    project = load_project(write_project(tmp_path / "session", SECONDS, paths))
    assert len(project.tracks) == TRACKS
    assert {b.name for b in project.buses} == {"Reverb", "Delay"}
    assert sum(len(t.clips) for t in project.tracks) > TRACKS  # gaps split tracks into clips
    assert len({t.pan for t in project.tracks}) > 4
    lanes = [lane for t in project.tracks for lane in t.automation]
    assert len(lanes) == sum(len(v) for v in automation(SECONDS).values()) == 4


def test_curve_correlation_is_pearson_over_full_windows() -> None:
    t = np.arange(0, 60, 0.1)
    a = list(zip(t, -20 + 5 * np.sin(t / 3), strict=True))
    b = list(zip(t, -18 + 10 * np.sin(t / 3), strict=True))  # same shape, other level
    c = list(zip(t, -20 + 5 * np.cos(t / 0.7), strict=True))
    assert curve_correlation(a, b) == pytest.approx(1.0)
    assert abs(curve_correlation(a, c)) < 0.3
