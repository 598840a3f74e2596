"""Incremental re-render: a content key for every track and bus of a render graph.

A node's key is a hash of everything its post-insert signal (after the devices and the
phase switch, before the fader) depends on: its own settings, the files it plays, the
song's tempo and meter maps, the sample rate and render span, the code that renders it,
and, for buses and sidechained devices, the keys and mix settings of every node feeding
it. Two renders that give a node the same key give it the same bits (renders are
deterministic and independent of the block size), so the renderer may read the signal
back from the track cache instead of computing it: change one track's EQ and only that
track and what it feeds are rendered again.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path
from typing import Any

from mixdown.engine.graph import RenderGraph
from mixdown.model.project import Project

ASSET_PARAM = re.compile(r"^(file|\w+_file)$")
"""Device parameters whose string value names a project file."""

AssetId = Callable[[str], str]
"""Maps a project-relative asset path to an identity (size and modification time)."""


@cache
def code_fingerprint() -> str:
    """A hash of mixdown's own source files (names, sizes, modification times): a new
    version of the code never reads a signal an older one cached."""
    root = Path(__file__).resolve().parents[1]
    h = hashlib.sha256()
    for p in sorted(root.rglob("*.py")):
        st = p.stat()
        h.update(f"{p.relative_to(root)}|{st.st_size}|{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def _assets(spec: Any) -> Iterable[str]:
    """Every project file a track or bus refers to: clip audio and MIDI, device files."""
    for clip in getattr(spec, "clips", ()):
        for ref in (clip.file, clip.midi):
            if ref:
                yield ref
    for take in getattr(spec, "takes", ()):
        yield take.file
    devices = list(getattr(spec, "devices", ()))
    instrument = getattr(spec, "instrument", None)
    if instrument is not None:
        devices.append(instrument)

    def walk(value: Any) -> Iterable[str]:
        if isinstance(value, dict):
            for k, v in value.items():
                if isinstance(k, str) and ASSET_PARAM.match(k) and isinstance(v, str):
                    yield v
                else:
                    yield from walk(v)
        elif isinstance(value, list | tuple):
            for v in value:
                yield from walk(v)

    for d in devices:
        yield from walk(d.params)


UNCACHEABLE = frozenset({"vst3"})
"""Device types whose output depends on more than the project says (a plug-in binary that can
change on disk): their node, and every node it feeds, is never cached."""


def cacheable(spec: Any) -> bool:
    """Whether a track's or bus's signal depends only on what the project says."""
    devices = list(getattr(spec, "devices", ()))
    instrument = getattr(spec, "instrument", None)
    if instrument is not None:
        devices.append(instrument)
    return not any(d.type in UNCACHEABLE for d in devices)


MIX_FIELDS = frozenset({"name", "volume_db", "pan", "mute", "solo", "sends", "output"})
"""Channel settings applied after a node's signal (fader, pan, routing): they belong to the
keys of the nodes it feeds, not to its own."""


def _own(spec: Any) -> str:
    """What a node's own signal depends on: the spec less its mix settings and their lanes."""
    data = spec.model_dump(mode="json", exclude=set(MIX_FIELDS))
    data["automation"] = [
        lane for lane in data.get("automation", ())
        if lane["param"] not in ("volume_db", "pan") and not lane["param"].startswith("send.")
    ]
    # Modulators of the fader, pan or sends act after the signal, like their lanes. A
    # follower's source is one of the node's deps: its key and settings are in ``feeds``.
    data["modulators"] = [
        m for m in data.get("modulators", ())
        if m["target"] not in ("volume_db", "pan") and not m["target"].startswith("send.")
    ]
    return json.dumps(data, sort_keys=True)


def node_keys(project: Project, graph: RenderGraph, asset_id: AssetId) -> list[str | None]:
    """One key per graph node (None for the master, which is never cached).

    Parameters
    ----------
    project : Project
        The project the graph was compiled from (its tracks, then its buses, give the
        graph's nodes in order).
    graph : RenderGraph
        The compiled graph (latencies and wiring included in the keys).
    asset_id : callable
        Identity of a project file, e.g. ``"<size>:<mtime_ns>"``.

    Returns
    -------
    list of str or None
        Hex keys; all None when the graph's nodes do not match the project's channels.
    """
    specs = [*project.tracks, *project.buses]
    nodes = graph.nodes
    if len(specs) != len(nodes) - 1 or any(s.name != n.name for s, n in zip(specs, nodes,
                                                                              strict=False)):
        return [None] * len(nodes)
    total = graph.end_frame + graph.master.path_latency
    song = project.song.model_dump(mode="json", exclude={"title", "artist"})
    common = json.dumps({
        "code": code_fingerprint(), "song": song,
        "rate": graph.sample_rate, "channels": graph.channels, "stop": graph.source_stop,
        "frames": total,
    }, sort_keys=True)
    dumps = [json.dumps(s.model_dump(mode="json"), sort_keys=True) for s in specs]
    keys: list[str | None] = [None] * len(nodes)
    for level in graph.levels:
        for i in level:
            node = nodes[i]
            if node.kind == "master" or not cacheable(specs[i]) or any(
                    keys[d] is None for d in node.deps):
                continue  # keys[i] stays None: rendered every time
            feeds = []
            for d in sorted(node.deps):
                dep = nodes[d]
                feeds.append({
                    "key": keys[d], "spec": dumps[d], "muted": dep.muted,
                    "output": dep.output, "output_delay": dep.output_delay,
                    "sends": [(s.target, s.pre_fader, s.delay) for s in dep.sends],
                })
            h = hashlib.sha256()
            h.update(common.encode())
            h.update(_own(specs[i]).encode())
            h.update(json.dumps({
                "kind": node.kind, "latency": node.latency,
                "input_latency": node.input_latency, "invert": node.invert,
                "assets": [(a, asset_id(a)) for a in sorted(set(_assets(specs[i])))],
                "feeds": feeds,
            }, sort_keys=True).encode())
            keys[i] = h.hexdigest()[:40]
    return keys


def mix_key(project: Project, graph: RenderGraph, keys: list[str | None], asset_id: AssetId,
            options: dict[str, Any]) -> str | None:
    """A key for a whole render's output: every node's key and mix settings, the master's
    settings and the files its devices read, the graph's wiring and the render ``options``
    (format, depth, loudness target...). None when a node has no key (a plug-in).

    Two renders with the same mix key write the same bytes, so the second may copy the first
    one's output (:mod:`mixdown.io.render_cache`) instead of mixing and mastering again.
    """
    specs = [*project.tracks, *project.buses]
    nodes = graph.nodes
    if not cacheable(project.master) or any(
            keys[n.index] is None for n in nodes if n.kind != "master"):
        return None
    wiring = [{
        "name": n.name, "kind": n.kind, "key": keys[n.index], "muted": n.muted,
        "output": n.output, "output_delay": n.output_delay, "latency": n.latency,
        "input_latency": n.input_latency, "invert": n.invert,
        "sends": [(s.target, s.pre_fader, s.delay) for s in n.sends],
    } for n in nodes]
    h = hashlib.sha256()
    h.update(json.dumps({
        "code": code_fingerprint(), "song": project.song.model_dump(mode="json"),
        "rate": graph.sample_rate, "channels": graph.channels,
        "span": [graph.start_frame, graph.end_frame], "stop": graph.source_stop,
        "specs": [s.model_dump(mode="json") for s in specs],
        "master": project.master.model_dump(mode="json"),
        "master_assets": [(a, asset_id(a)) for a in sorted(set(_assets(project.master)))],
        "wiring": wiring, "options": options,
    }, sort_keys=True, default=str).encode())
    return h.hexdigest()[:40]
