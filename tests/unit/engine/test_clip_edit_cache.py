"""Clip edits reach the track cache: an edited clip's track renders again, the others are read
back, and the cached render is bit-identical to a clean one."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from mixdown.engine.cache import node_keys
from mixdown.engine.compile import RenderSpec, compile_project
from mixdown.engine.render import CacheUse, render
from mixdown.io.node_cache import NodeCache, asset_identity
from mixdown.model.project import Clip, Project, Song, Track
from signals import sine, write_wav

SPEC = RenderSpec(tail_s=0.1)


def run(project: Project, root: Path, cache: NodeCache | None) -> tuple[np.ndarray, CacheUse]:
    graph = compile_project(project, SPEC, root=root)
    keys = node_keys(project, graph, asset_identity(root))
    blocks: list[np.ndarray] = []
    use = render(graph, lambda b: blocks.append(b.copy()), block_frames=4096, cache=cache,
                 keys=keys)
    return np.concatenate(blocks, axis=1), use


def project() -> Project:
    return Project(song=Song(tempo=120, tail_s=0.1), tracks=(
        Track(name="Edit", clips=(
            Clip(start=0, file="a.wav", length=2.0, fade_in_s=0.1),
            Clip(start=2.0, file="b.wav", crossfade_s=0.1),
        )),
        # The longest track: the song's length stays put when an edit changes a clip's.
        Track(name="Other", clips=(Clip(start=0, file="b.wav", loop=True, length=12.0),)),
    ))


def edit(**update: object) -> Callable[[Project], Project]:
    def apply(p: Project) -> Project:
        t = p.tracks[0]
        clips = (t.clips[0], t.clips[1].model_copy(update=update))
        return p.model_copy(update={"tracks": (t.model_copy(update={"clips": clips}),
                                               *p.tracks[1:])})
    apply.__name__ = "_".join(f"{k}" for k in update)
    return apply


EDITS = [
    edit(fade_in_shape="s_curve", fade_in_s=0.2),  # replaced by the crossfade's: same bits
    edit(fade_out_s=0.3, fade_out_shape="equal_power"),
    edit(crossfade_s=0.2),
    edit(crossfade_shape="linear"),
    edit(stretch=1.2),
    edit(pitch_semitones=2.0, preserve_formants=True),
    edit(source_bpm=100),
    edit(reverse=True),
    edit(normalize_db=-2.0),
]


@pytest.mark.parametrize("change", EDITS, ids=lambda f: f.__name__)
def test_clip_edit_rerenders_its_track_only_and_matches_a_clean_render(
        tmp_path: Path, change: Callable[[Project], Project]) -> None:
    write_wav(tmp_path / "a.wav", sine(220.0, 1.5, amp=0.5))
    write_wav(tmp_path / "b.wav", sine(330.0, 1.5, amp=0.5))
    cache = NodeCache(tmp_path / ".mixdown" / "nodes")
    run(project(), tmp_path, cache)
    edited = change(project())
    clean, _ = run(edited, tmp_path, None)
    again, use = run(edited, tmp_path, cache)
    np.testing.assert_array_equal(again, clean)
    assert "Edit" in use.written and "Other" not in use.written
    assert "Other" in set(use.read) | set(use.skipped)
    shutil.rmtree(tmp_path / ".mixdown", ignore_errors=True)
