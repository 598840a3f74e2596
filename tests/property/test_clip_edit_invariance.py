"""Edited audio clips (fade shapes, crossfades, stretch, pitch, warp, reverse, normalise)
render the same bits whatever the block size."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mixdown import Clip, Project, Song, Track
from mixdown.services.render import render_audio
from signals import sine, write_wav

SR = 48_000


def build(root: Path) -> Project:
    write_wav(root / "s.wav", sine(220.0, 1.5, amp=0.5))
    write_wav(root / "t.wav", sine(330.0, 1.5, amp=0.4))
    return Project(
        song=Song(tempo=100, tail_s=0.1),
        tracks=(Track(name="E", clips=(
            Clip(start=0, file="s.wav", length=2.0, fade_in_s=0.2, fade_in_shape="s_curve"),
            Clip(start=2.0, file="t.wav", length=1.5, crossfade_s=0.3,
                 crossfade_shape="equal_power", fade_out_s=0.25,
                 fade_out_shape="equal_power"),
            Clip(start=3.5, file="s.wav", offset_s=0.1, crossfade_s=0.05,
                 crossfade_shape="linear", fade_out_s=0.1),
        )), Track(name="P", clips=(
            Clip(start=0, file="t.wav", stretch=1.3, pitch_semitones=-2.0, reverse=True,
                 normalize_db=-3.0, fade_in_s=0.1, fade_in_shape="equal_power"),
            Clip(start=4.0, file="s.wav", source_bpm=90, offset_s=0.2, loop=True, length=3.0,
                 preserve_formants=True, pitch_semitones=1.5),
        ))),
    )


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(block=st.integers(min_value=16, max_value=20_000))
def test_edited_clips_are_block_size_invariant(tmp_path: Path, block: int) -> None:
    p = build(tmp_path)
    ref, _ = render_audio(p, root=tmp_path, block_frames=4096)
    out, _ = render_audio(p, root=tmp_path, block_frames=block)
    np.testing.assert_array_equal(out, ref)
    assert np.abs(ref).max() > 0.1  # the clips play
