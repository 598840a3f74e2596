"""A project with soundfont instruments renders the same bits for any block size."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mixdown import AutomationLane, AutomationPoint, Clip, Device, Note, Project, Song, Track
from mixdown.services.render import render_audio
from soundfonts import GM_SF2


def build(root: Path) -> Project:
    (root / "sounds").mkdir(exist_ok=True)
    if not (root / "sounds" / "gm.sf2").exists():
        shutil.copyfile(GM_SF2, root / "sounds" / "gm.sf2")
    line = tuple(Note(pitch=60 + (i * 5) % 12, start=i * 0.37, length=0.6) for i in range(10))
    kit = tuple(Note(pitch=36 if i % 2 == 0 else 42, start=i * 0.5, length=0.1)
                for i in range(8))
    return Project(
        song=Song(tempo=117, tail_s=0.3),
        tracks=(
            Track(name="Keys", instrument=Device(type="soundfont", params={
                "file": "sounds/gm.sf2", "preset": 4}),
                clips=(Clip(start=0, notes=line),),
                automation=(AutomationLane(param="instrument.bend_semitones", points=(
                    AutomationPoint(at=0, value=0.0), AutomationPoint(at=3, value=2.0,
                                                                      curve=0.3))),)),
            Track(name="Kit", instrument=Device(type="soundfont", params={
                "file": "sounds/gm.sf2", "bank": 128, "preset": 0}),
                clips=(Clip(start=0.01, notes=kit),)),
        ),
    )


@settings(max_examples=8, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(block=st.integers(min_value=16, max_value=30_000))
def test_soundfont_tracks_are_block_size_invariant(tmp_path: Path, block: int) -> None:
    p = build(tmp_path)
    ref, _ = render_audio(p, root=tmp_path, block_frames=8192)
    out, _ = render_audio(p, root=tmp_path, block_frames=block)
    np.testing.assert_array_equal(out, ref)
    assert np.abs(ref).max() > 0.01
