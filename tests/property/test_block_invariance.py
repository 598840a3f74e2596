"""The render does not depend on the block size, and re-renders are byte-identical."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mixdown import AutomationLane, AutomationPoint, Bus, Clip, Project, Send, Song, Track
from mixdown.services.render import render_audio, render_project
from signals import constant, sine, write_wav

SR = 48_000


def build(root: Path) -> Project:
    write_wav(root / "s.wav", sine(220.0, 1.0, amp=0.5))
    write_wav(root / "c.wav", constant(0.1, SR // 2, channels=2))
    return Project(
        song=Song(tempo=100, tail_s=0.1),
        tracks=(
            Track(name="S", clips=(Clip(start=0, file="s.wav", fade_in_s=0.05,
                                        fade_out_s=0.2),),
                  sends=(Send(to="B", level_db=-6),),
                  automation=(AutomationLane(param="volume_db", points=(
                      AutomationPoint(at=0, value=-10), AutomationPoint(at=1.2, value=0,
                                                                        curve=0.3))),)),
            Track(name="C", pan=-0.4, clips=(Clip(start="1:2", file="c.wav", loop=True,
                                                  length=1.5),),
                  automation=(AutomationLane(param="pan", points=(
                      AutomationPoint(at=0, value=-1), AutomationPoint(at=2, value=1))),)),
        ),
        buses=(Bus(name="B", volume_db=-3),),
    )


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(block=st.integers(min_value=16, max_value=20_000))
def test_block_size_does_not_change_the_render(tmp_path: Path, block: int) -> None:
    p = build(tmp_path)
    ref, _ = render_audio(p, root=tmp_path, block_frames=4096)
    out, _ = render_audio(p, root=tmp_path, block_frames=block)
    np.testing.assert_array_equal(out, ref)


def test_rerender_is_byte_identical(tmp_path: Path) -> None:
    p = build(tmp_path)
    digests = []
    for k, block in enumerate((8192, 1000)):
        out = tmp_path / f"mix{k}.wav"
        render_project(p, out, root=tmp_path, bit_depth=16, block_frames=block, qc=False)
        digests.append(hashlib.sha256(out.read_bytes()).hexdigest())
    assert digests[0] == digests[1]  # 16-bit: dither is seeded and drawn frame by frame
