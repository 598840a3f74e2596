"""Modulated renders (LFOs under a tempo ramp, a follower on a device parameter and on a
fader) do not depend on the block size."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mixdown import Clip, Device, Project, Song, TempoPoint, Track
from mixdown.model.modulators import Follower, Lfo
from mixdown.services.render import render_audio
from signals import sine, write_wav

SR = 48_000


def build(root: Path) -> Project:
    pulses = sine(70.0, 0.8, amp=0.9) * (np.arange(round(0.8 * SR)) % 9000 < 2500)
    write_wav(root / "k.wav", pulses.astype(np.float32))
    write_wav(root / "s.wav", sine(440.0, 0.8, amp=0.5, channels=2))
    return Project(
        song=Song(tempo=140, tempo_map=(TempoPoint(at=1, bpm=200, ramp=True),), tail_s=0.05),
        tracks=(
            Track(name="K", clips=(Clip(start=0, file="k.wav"),), mute=True),
            Track(name="S", clips=(Clip(start=0, file="s.wav"),),
                  devices=(Device(type="filter", params={"cutoff_hz": 2000.0,
                                                         "resonance": 0.5}),),
                  modulators=(Lfo(target="filter.cutoff_hz", rate="1/16", depth=12.0,
                                  shape="saw"),
                              Follower(source="K", target="filter.resonance", depth=0.4),
                              Follower(source="K", target="volume_db", depth=-10.0,
                                       attack_ms=1, release_ms=40),
                              Lfo(target="pan", rate="1/8t", depth=0.5, phase=0.3))),
        ),
    )


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(block=st.integers(min_value=1, max_value=12_000))
def test_block_size_does_not_change_a_modulated_render(tmp_path: Path, block: int) -> None:
    p = build(tmp_path)
    ref, _ = render_audio(p, root=tmp_path, block_frames=4096)
    out, _ = render_audio(p, root=tmp_path, block_frames=max(block, 16))
    np.testing.assert_array_equal(out, ref)
