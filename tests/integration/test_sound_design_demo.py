"""The sound-design example loads and uses the filter and every lo-fi device."""

from __future__ import annotations

from pathlib import Path

from mixdown.io.project import open_project

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sound-design"


def test_sound_design_example_shows_every_new_device() -> None:
    p = open_project(EXAMPLE).project
    used = {d.type for t in p.tracks for d in t.devices}
    assert {"filter", "bitcrush", "tape", "vinyl"} <= used
    lanes = {a.param for t in p.tracks for a in t.automation}
    assert "sweep.cutoff_hz" in lanes  # the filter sweep is automated
