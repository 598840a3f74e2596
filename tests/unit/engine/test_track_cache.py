"""Incremental re-render: renders through the track cache are bit-identical to clean ones
after every kind of edit, and only what an edit reaches is rendered again."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from mixdown import load
from mixdown.engine.cache import node_keys
from mixdown.engine.compile import RenderSpec, compile_project
from mixdown.engine.render import CacheUse, render
from mixdown.io.node_cache import PAGE_FRAMES, NodeCache, asset_identity
from mixdown.model.project import Bus, Clip, Device, Project, Send, Song, Track
from signals import sine, write_wav

DEMO = Path(__file__).resolve().parents[3] / "examples" / "demo"
SPEC = RenderSpec(end="7:1", tail_s=0.5)  # 6 bars of the demo: buses, sidechains, automation
TRACKS = ("Kick", "Kit", "Bass", "Pad", "Lead", "Keys")


def run(project: Project, root: Path, cache: NodeCache | None) -> tuple[np.ndarray, CacheUse]:
    graph = compile_project(project, SPEC, root=root)
    keys = node_keys(project, graph, asset_identity(root))
    blocks: list[np.ndarray] = []
    use = render(graph, lambda b: blocks.append(b.copy()), block_frames=8192, cache=cache,
                 keys=keys)
    return np.concatenate(blocks, axis=1), use


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Project, np.ndarray]:
    root = tmp_path_factory.mktemp("demo")
    shutil.copy(DEMO / "song.toml", root / "song.toml")
    project = load(root)
    clean, _ = run(project, root, None)
    return root, project, clean


def fresh_cache(root: Path, name: str) -> NodeCache:
    folder = root / ".mixdown" / name
    shutil.rmtree(folder, ignore_errors=True)
    return NodeCache(folder)


def test_second_render_reads_every_track_and_matches(demo: tuple[Path, Project, np.ndarray]
                                                    ) -> None:
    root, project, clean = demo
    assert {t.name for t in project.tracks} >= set(TRACKS)
    cache = fresh_cache(root, "again")
    first, use1 = run(project, root, cache)
    assert use1.read == [] and set(TRACKS) <= set(use1.written)
    second, use2 = run(project, root, cache)
    assert use2.written == []
    # Every bus feeding the master is read back; the tracks under them are not even rendered.
    assert set(TRACKS) <= set(use2.read) | set(use2.skipped)
    np.testing.assert_array_equal(first, clean)
    np.testing.assert_array_equal(second, clean)


def edit_track(project: Project, name: str, **update: object) -> Project:
    tracks = tuple(t.model_copy(update=update) if t.name == name else t
                   for t in project.tracks)
    return project.model_copy(update={"tracks": tracks})


def eq_change(p: Project) -> Project:
    kit = next(t for t in p.tracks if t.name == "Kit")
    dev = kit.devices[0].model_copy(update={"params": {**kit.devices[0].params,
                                                       "high_shelf_gain_db": -4.0}})
    return edit_track(p, "Kit", devices=(dev, *kit.devices[1:]))


def clip_move(p: Project) -> Project:
    kit = next(t for t in p.tracks if t.name == "Kit")
    moved = kit.clips[0].model_copy(update={"start": "5:2"})
    return edit_track(p, "Kit", clips=(moved, *kit.clips[1:]))


def fader_change(p: Project) -> Project:
    kit = next(t for t in p.tracks if t.name == "Kit")
    return edit_track(p, "Kit", volume_db=kit.volume_db - 2.5)


def tempo_change(p: Project) -> Project:
    return p.model_copy(update={"song": p.song.model_copy(update={"tempo": 104.0})})


@pytest.mark.parametrize(("edit", "rerendered"), [
    (eq_change, {"Kit"}), (clip_move, {"Kit"}), (fader_change, set()),
    (tempo_change, set(TRACKS)),
])
def test_edit_rerenders_only_what_it_reaches(demo: tuple[Path, Project, np.ndarray], edit: object,
                                             rerendered: set[str]) -> None:
    root, project, _ = demo
    cache = fresh_cache(root, f"edit-{edit.__name__}")  # type: ignore[attr-defined]
    run(project, root, cache)
    edited = edit(project)  # type: ignore[operator]
    clean_edited, _ = run(edited, root, None)
    again, use = run(edited, root, cache)
    np.testing.assert_array_equal(again, clean_edited)
    written_tracks = set(use.written) & set(TRACKS)
    assert written_tracks == rerendered
    # The Kit feeds the Drums bus: a change to its signal or fader renders that bus again.
    if edit is not tempo_change:
        assert "Drums" in use.written
        assert set(TRACKS) - rerendered <= set(use.read) | set(use.skipped)


def test_asset_replaced_on_disk_is_rendered_again(tmp_path: Path) -> None:
    write_wav(tmp_path / "audio" / "a.wav", sine(220, 1.0, amp=0.5))
    write_wav(tmp_path / "audio" / "b.wav", sine(330, 1.0, amp=0.5))
    project = Project(song=Song(tempo=120, tail_s=0.1), tracks=(
        Track(name="A", clips=(Clip(start=0, file="audio/a.wav"),)),
        Track(name="B", clips=(Clip(start=0, file="audio/b.wav"),)),
    ))
    cache = NodeCache.for_project(tmp_path)
    spec_run = run(project, tmp_path, cache)
    before = spec_run[0]
    write_wav(tmp_path / "audio" / "a.wav", sine(440, 1.0, amp=0.25))
    st = (tmp_path / "audio" / "a.wav").stat()
    os.utime(tmp_path / "audio" / "a.wav", ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    clean, _ = run(project, tmp_path, None)
    again, use = run(project, tmp_path, cache)
    assert use.written == ["A"] and use.read == ["B"]
    np.testing.assert_array_equal(again, clean)
    assert not np.array_equal(again, before)


def test_a_cached_track_between_its_parts_is_skipped_as_silence(tmp_path: Path) -> None:
    """A track that plays, rests three seconds and plays again: its rest is kept as silent
    pages (holes, never read), a re-render after another track's edit skips them as a full
    render skips the blocks where it played nothing, and the bits are the same."""
    write_wav(tmp_path / "audio" / "a.wav", sine(220, 1.0, amp=0.5))
    write_wav(tmp_path / "audio" / "b.wav", sine(330, 5.0, amp=0.3))

    def song(b_db: float) -> Project:
        return Project(song=Song(tempo=120, tail_s=0.5), tracks=(
            Track(name="A", clips=(Clip(start=0, file="audio/a.wav"),
                                   Clip(start=8, file="audio/a.wav")),  # beat 8 = 4 s
                  sends=(Send(to="Verb", level_db=-6.0),)),
            Track(name="B", volume_db=b_db, clips=(Clip(start=0, file="audio/b.wav"),),
                  sends=(Send(to="Verb", level_db=-6.0),)),
        ), buses=(Bus(name="Verb", devices=(Device(type="reverb"),)),))

    cache = NodeCache.for_project(tmp_path)
    run(song(0.0), tmp_path, cache)
    graph = compile_project(song(0.0), SPEC, root=tmp_path)
    keys = node_keys(song(0.0), graph, asset_identity(tmp_path))
    key_a = next(k for n, k in zip(graph.nodes, keys, strict=True) if n.name == "A")
    graph.close()
    entry = cache.folder / f"{key_a}.c2.f32"
    size = entry.stat().st_size  # 8 bytes a frame, then one byte a page
    frames = next(f for p in range(1, 100) if (f := (size - p) // 8) * 8 + p == size
                  and -(-f // PAGE_FRAMES) == p)
    pages = entry.read_bytes()[frames * 8:]
    assert 0 in pages and pages[0] == 1  # silent pages between the parts, data at the start
    sig = cache.open(key_a, 2, frames)
    assert sig is not None
    silent_blocks = sum(sig.silent(p, 8192) for p in range(0, frames, 8192))
    sig.close()
    assert silent_blocks >= 8  # at least two pages of 32768 frames
    clean, _ = run(song(-3.0), tmp_path, None)
    again, use = run(song(-3.0), tmp_path, cache)
    assert use.read == ["A", "B"] and use.written == ["Verb"]  # the cache is pre-fader
    np.testing.assert_array_equal(again, clean)


def test_a_failed_render_leaves_no_entry(demo: tuple[Path, Project, np.ndarray]) -> None:
    root, project, clean = demo
    cache = fresh_cache(root, "killed")
    graph = compile_project(project, SPEC, root=root)
    keys = node_keys(project, graph, asset_identity(root))
    seen = 0

    def sink(block: np.ndarray) -> None:
        nonlocal seen
        seen += 1
        if seen == 3:
            raise KeyboardInterrupt  # the user stops the render half-way

    with pytest.raises(KeyboardInterrupt):
        render(graph, sink, block_frames=8192, cache=cache, keys=keys)
    assert not cache.folder.exists() or list(cache.folder.iterdir()) == []
    again, use = run(project, root, cache)
    assert use.read == []
    np.testing.assert_array_equal(again, clean)


def test_cache_is_bounded_least_recently_used_first(tmp_path: Path) -> None:
    entry = 2 * 4 * 1000 + 1  # 1000 stereo float32 frames and a one-page map
    cache = NodeCache(tmp_path / "nodes", max_bytes=3 * entry)
    for i, key in enumerate(("old", "mid", "new", "newest")):
        w = cache.create(key, 2)
        w.write(np.full((2, 1000), i, np.float32))
        w.commit()
        path = cache.folder / f"{key}.c2.f32"
        os.utime(path, (1_000_000 + i, 1_000_000 + i))
    assert cache.prune() == 3 * entry
    assert cache.open("old", 2, 1000) is None
    sig = cache.open("newest", 2, 1000)
    assert sig is not None
    np.testing.assert_array_equal(sig.read(990, 20)[:, :10], np.full((2, 10), 3, np.float32))
    np.testing.assert_array_equal(sig.read(990, 20)[:, 10:], np.zeros((2, 10), np.float32))
    sig.close()


def test_an_entry_of_the_wrong_length_is_never_read(tmp_path: Path) -> None:
    cache = NodeCache(tmp_path / "nodes")
    w = cache.create("k", 2)
    w.write(np.ones((2, 100), np.float32))
    w.commit()
    assert cache.open("k", 2, 101) is None
    assert not (cache.folder / "k.c2.f32").exists()


def test_a_plugin_node_and_what_it_feeds_are_never_cached(
        demo: tuple[Path, Project, np.ndarray], monkeypatch: pytest.MonkeyPatch) -> None:
    """A VST3 plug-in can change on disk without the project changing: its track is rendered
    every time, and so is every bus it feeds (shown here with the Kick's EQ standing in for a
    plug-in, since no VST3 plug-in can be loaded on this machine)."""
    from mixdown.engine import cache as cache_mod
    from mixdown.model.project import Device

    root, project, _ = demo
    assert not cache_mod.cacheable(project.tracks[0].model_copy(
        update={"devices": (Device(type="vst3", params={"path": "x.vst3"}),)}))
    kick = next(t for t in project.tracks if t.name == "Kick")
    graph = compile_project(project, SPEC, root=root)
    names = [n.name for n in graph.nodes]
    monkeypatch.setattr(cache_mod, "cacheable", lambda spec: spec is not kick)
    keys = dict(zip(names, node_keys(project, graph, asset_identity(root)), strict=True))
    assert keys["Kick"] is None and keys["Drums"] is None  # the Kick feeds the Drums bus
    # what the Kick reaches (outputs, sends, the sidechains it keys) is never cached; the rest is
    reached = {names.index("Kick")}
    for level in graph.levels:
        for i in level:
            if graph.nodes[i].deps & reached:
                reached.add(i)
    for i, name in enumerate(names):
        if graph.nodes[i].kind != "master":
            assert (keys[name] is None) == (i in reached), name
    assert keys["Kit"] is not None
