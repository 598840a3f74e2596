"""The track cache with modulators: renders through the cache stay bit-identical to clean
ones after each edit of a modulator or of a follower's source, and only what an edit reaches
is rendered again."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from mixdown import Bus, Clip, Device, Project, Song, Track
from mixdown.engine.cache import node_keys
from mixdown.engine.compile import RenderSpec, compile_project
from mixdown.engine.render import CacheUse, render
from mixdown.io.node_cache import NodeCache, asset_identity
from mixdown.model.modulators import Follower, Lfo
from signals import sine, write_wav

SR = 48_000
SPEC = RenderSpec(tail_s=0.1)


def run(project: Project, root: Path, cache: NodeCache | None) -> tuple[np.ndarray, CacheUse]:
    graph = compile_project(project, SPEC, root=root)
    keys = node_keys(project, graph, asset_identity(root))
    blocks: list[np.ndarray] = []
    use = render(graph, lambda b: blocks.append(b.copy()), block_frames=3000, cache=cache,
                 keys=keys)
    return np.concatenate(blocks, axis=1), use


@pytest.fixture(scope="module")
def song(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Project]:
    root = tmp_path_factory.mktemp("mods")
    pulses = sine(55.0, 1.5, amp=0.9) * (np.arange(round(1.5 * SR)) % 12_000 < 4000)
    write_wav(root / "kick.wav", pulses.astype(np.float32))
    write_wav(root / "pad.wav", sine(330.0, 1.5, amp=0.4))
    write_wav(root / "hat.wav", sine(5000.0, 1.5, amp=0.2))
    project = Project(song=Song(tempo=120, tail_s=0.1), tracks=(
        Track(name="Kick", clips=(Clip(start=0, file="kick.wav"),)),
        Track(name="Pad", clips=(Clip(start=0, file="pad.wav"),), output="Group",
              devices=(Device(type="filter", params={"cutoff_hz": 1200.0}),),
              modulators=(Lfo(target="filter.cutoff_hz", rate="1/8", depth=12.0),
                          Follower(source="Kick", target="filter.resonance", depth=0.5),
                          Lfo(target="volume_db", rate_hz=3.0, depth=2.0))),
        Track(name="Hat", clips=(Clip(start=0, file="hat.wav"),), output="Group"),
    ), buses=(Bus(name="Group"),))
    return root, project


def edit(project: Project, name: str, **update: object) -> Project:
    tracks = tuple(t.model_copy(update=update) if t.name == name else t
                   for t in project.tracks)
    return project.model_copy(update={"tracks": tracks})


def lfo_rate(p: Project) -> Project:
    pad = p.track("Pad")
    return edit(p, "Pad", modulators=(pad.modulators[0].model_copy(update={"rate": "1/4"}),
                                      *pad.modulators[1:]))


def volume_lfo_depth(p: Project) -> Project:
    pad = p.track("Pad")
    return edit(p, "Pad", modulators=(*pad.modulators[:2],
                                      pad.modulators[2].model_copy(update={"depth": 6.0})))


def source_clip(p: Project) -> Project:
    kick = p.track("Kick")
    return edit(p, "Kick", clips=(kick.clips[0].model_copy(update={"gain_db": -4.0}),))


def source_fader(p: Project) -> Project:
    return edit(p, "Kick", volume_db=-6.0)


def follower_release(p: Project) -> Project:
    pad = p.track("Pad")
    return edit(p, "Pad", modulators=(pad.modulators[0], pad.modulators[1].model_copy(
        update={"release_ms": 400.0}), pad.modulators[2]))


@pytest.mark.parametrize(("change", "rerendered"), [
    (lfo_rate, {"Pad", "Group"}),
    # a fader LFO acts after the cached signal: the Pad is read back, the bus it feeds is not
    (volume_lfo_depth, {"Group"}),
    # the follower hears the Kick after its fader: a change there reaches the Pad's filter
    (source_clip, {"Kick", "Pad", "Group"}),
    (source_fader, {"Pad", "Group"}),
    (follower_release, {"Pad", "Group"}),
])
def test_modulator_edits_rerender_what_they_reach(song: tuple[Path, Project],
                                                  change: Callable[[Project], Project],
                                                  rerendered: set[str]) -> None:
    root, project = song
    folder = root / ".mixdown" / change.__name__
    shutil.rmtree(folder, ignore_errors=True)
    cache = NodeCache(folder)
    first, use1 = run(project, root, cache)
    assert {"Kick", "Pad", "Hat", "Group"} <= set(use1.written)
    edited = change(project)
    clean, _ = run(edited, root, None)
    again, use = run(edited, root, cache)
    np.testing.assert_array_equal(again, clean)
    assert not np.array_equal(clean, first)  # the edit is heard
    assert set(use.written) == rerendered
    assert "Hat" in set(use.read) | set(use.skipped)


def test_a_cached_follower_node_still_hears_its_source(song: tuple[Path, Project]) -> None:
    # Everything cached: the Kick feeds only the Group bus, which is read back, yet the
    # Pad's fader follower must still hear it for the mix to match.
    root, project = song
    p = edit(edit(project, "Pad", output="master", modulators=(
        Follower(source="Kick", target="volume_db", depth=-12.0),)), "Kick", output="Group")
    folder = root / ".mixdown" / "follower-cached"
    shutil.rmtree(folder, ignore_errors=True)
    cache = NodeCache(folder)
    clean, _ = run(p, root, None)
    run(p, root, cache)
    again, use = run(p, root, cache)
    assert use.written == []
    assert "Kick" in use.read and "Pad" in use.read
    np.testing.assert_array_equal(again, clean)
