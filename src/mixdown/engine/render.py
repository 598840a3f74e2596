"""Render a :class:`RenderGraph` in blocks.

Memory is bounded by the block size and the node count. Nodes of one dependency
level run in parallel threads (numpy, scipy and numba release the GIL); their
outputs are summed on the calling thread in node order, so the result is
deterministic. Device automation is applied on a fixed grid of
:data:`~mixdown.engine.graph.CONTROL_FRAMES` counted from frame 0, and fader
and pan curves per frame, so the block size never changes the result.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numba import njit

from mixdown.core.audio import AudioArray
from mixdown.core.errors import RenderError
from mixdown.core.pipeline import inline
from mixdown.engine.automation import Curve
from mixdown.engine.graph import (
    CONTROL_FRAMES,
    DEFAULT_BLOCK_FRAMES,
    TEMPO,
    ChannelNode,
    DelayLine,
    DeviceSlot,
    RenderGraph,
)

Sink = Callable[[AudioArray], None]


class CachedSignal(Protocol):
    """A node signal read back from the track cache."""

    def read(self, pos: int, n: int) -> AudioArray: ...  # frames [pos, pos+n), float32

    def silent(self, pos: int, n: int) -> bool: ...  # frames [pos, pos+n) all +0.0

    def close(self) -> None: ...


class SignalWriter(Protocol):
    """A node signal being written to the track cache."""

    def write(self, block: AudioArray) -> None: ...

    def commit(self) -> None: ...

    def abort(self) -> None: ...


class TrackCache(Protocol):
    """Where node signals are kept between renders (:class:`mixdown.io.node_cache.NodeCache`)."""

    def open(self, key: str, channels: int, frames: int) -> CachedSignal | None: ...

    def create(self, key: str, channels: int) -> SignalWriter: ...


@dataclass(slots=True)
class CacheUse:
    """What one render took from and gave to the track cache (node names)."""

    read: list[str]
    written: list[str]
    skipped: list[str]


@dataclass(slots=True)
class _NodeOut:
    out: AudioArray | None
    sends: list[AudioArray | None]
    muted: bool = False
    send_gains: list[float | None] | None = None  # post-fader sends left to the summing


class _Window:
    """Pass on only rendered frames ``[first, last)`` of a stream to ``sink``."""

    def __init__(self, sink: Sink, first: int, last: int) -> None:
        self.sink, self.first, self.last = sink, first, last

    def push(self, block: AudioArray, block_start: int) -> None:
        a = max(self.first, block_start)
        b = min(self.last, block_start + block.shape[1])
        if a < b:
            self.sink(block[:, a - block_start:b - block_start])


def render(graph: RenderGraph, sink: Sink, *,
           block_frames: int = DEFAULT_BLOCK_FRAMES,
           stem_sinks: dict[int, Sink] | None = None,
           progress: Callable[[int], None] | None = None,
           workers: int | None = None,
           cache: TrackCache | None = None,
           keys: list[str | None] | None = None) -> CacheUse:
    """Stream the mix of ``graph`` into ``sink`` as float32 (channels, frames) blocks.

    Parameters
    ----------
    graph : RenderGraph
        From :func:`mixdown.engine.compile.compile_project`; consumed (processors keep state).
    sink : callable
        Receives consecutive output blocks covering ``[graph.start_frame, graph.end_frame)``.
    block_frames : int
        Frames per processing block; the output does not depend on it.
    stem_sinks : dict, optional
        Node index -> sink for the signal that node feeds into the master (aligned, so
        the stems sum to the master's input). A node feeding a bus gives its post-fader
        output, dry of the bus, aligned with the master's input.
    progress : callable, optional
        Called with the number of output frames done after each block.
    workers : int, optional
        Threads for parallel nodes (default: the CPU count).
    cache : TrackCache, optional
        The track cache: a node whose key (``keys``, from
        :func:`mixdown.engine.cache.node_keys`) is in it is read back instead of rendered,
        and what feeds only cached nodes is not rendered at all; the other keyed nodes are
        written to it when the whole render succeeds. The output is bit-identical.

    Returns
    -------
    CacheUse
        The nodes read from, written to and skipped thanks to the cache.
    """
    if block_frames < 1:
        raise RenderError(f"block_frames must be >= 1, got {block_frames}")
    nodes = graph.nodes
    master = graph.master
    lat = master.path_latency
    total = graph.end_frame + lat
    ch = graph.channels
    out_window = _Window(sink, graph.start_frame + lat, graph.end_frame + lat)
    stem_windows = {
        i: _Window(s, graph.start_frame + master.input_latency,
                   graph.end_frame + master.input_latency)
        for i, s in (stem_sinks or {}).items()
    }
    # A stem of a node feeding a bus (a track stem) is its post-fader output, dry of that
    # bus, delayed to line up with the signals arriving at the master.
    stem_delays = {
        i: DelayLine(ch, master.input_latency - nodes[nodes[i].output].input_latency)
        for i in (stem_sinks or {})
        if nodes[i].output is not None and nodes[i].output != master.index
    }
    out_delays = {n.index: DelayLine(ch, n.output_delay) for n in nodes if n.output is not None}
    send_delays = {(n.index, k): DelayLine(ch, s.delay) for n in nodes
                   for k, s in enumerate(n.sends)}
    hits: dict[int, CachedSignal] = {}
    writers: dict[int, SignalWriter] = {}
    skip: set[int] = set()
    if cache is not None and keys is not None:
        for n_ in nodes:
            key = keys[n_.index]
            if key is not None and n_.kind != "master":
                sig = cache.open(key, ch, total)
                if sig is not None:
                    hits[n_.index] = sig
        skip = set(range(len(nodes))) - _needed(graph, hits, set(stem_windows))
        for n_ in nodes:
            key = keys[n_.index]
            if (key is not None and n_.kind != "master" and n_.index not in hits
                    and n_.index not in skip):
                writers[n_.index] = cache.create(key, ch)
    use = CacheUse(read=[nodes[i].name for i in sorted(hits) if i not in skip],
                   written=[nodes[i].name for i in sorted(writers)],
                   skipped=[nodes[i].name for i in sorted(skip)])
    workers = workers or (1 if inline() else min(os.cpu_count() or 1, 8))
    pool = ThreadPoolExecutor(max_workers=workers) if workers > 1 else None
    # Tracks depend on nothing, so the pool renders block k+1's tracks while this thread
    # sums block k and runs its buses and master.
    ahead = [i for i in graph.levels[0] if nodes[i].kind == "track"]
    prefetch = pool is not None and len(ahead) > 1

    # Tracks whose silent blocks may be left out of the sums: nothing but their output
    # and sends reads their signal, through no delay line (no state to carry on).
    followed = {f.source for n_ in nodes for f in n_.followers}
    may_rest = {n_.index for n_ in nodes
                if n_.kind == "track" and n_.index not in stem_windows
                and n_.index not in followed and out_delays[n_.index].delay == 0
                and all(s.delay == 0 for s in n_.sends)}

    def run_group(group: list[int], pos: int, n: int, acc: dict[int, AudioArray],
                  outs: dict[int, _NodeOut]) -> list[_NodeOut]:
        return [_SKIPPED if i in skip else
                _process_node(nodes[i], pos, n, acc.get(i), outs, graph, hits.get(i),
                              writers.get(i), may_rest=i in may_rest)
                for i in group]

    def run_level(level: list[int], pos: int, n: int, acc: dict[int, AudioArray],
                  outs: dict[int, _NodeOut]) -> Callable[[], list[_NodeOut]]:
        """Start a level; the returned callable waits and gives results in level order."""
        if pool is None or len(level) < 2:
            results = run_group(level, pos, n, acc, outs)
            return lambda: results
        # One task per worker, nodes dealt round-robin: few hand-offs per block.
        groups = [level[k::workers] for k in range(min(workers, len(level)))]
        futures = [pool.submit(run_group, g, pos, n, acc, outs) for g in groups]

        def collect() -> list[_NodeOut]:
            by_node = {i: r for g, f in zip(groups, futures, strict=True)
                       for i, r in zip(g, f.result(), strict=True)}
            return [by_node[i] for i in level]

        return collect

    empty: dict[int, AudioArray] = {}
    ok = False
    try:
        pos = 0
        pending = run_level(ahead, 0, min(block_frames, total), empty, {}) if prefetch else None
        while pos < total:
            n = min(block_frames, total - pos)
            acc = {n_.index: np.zeros((ch, n), np.float32) for n_ in nodes if n_.kind != "track"}
            outs: dict[int, _NodeOut] = {}
            for depth, level in enumerate(graph.levels):
                if depth == 0 and pending is not None:
                    results = pending()
                    nxt = pos + n
                    pending = (run_level(ahead, nxt, min(block_frames, total - nxt), empty, {})
                               if nxt < total else None)
                    rest = [i for i in level if i not in ahead]
                    results += run_level(rest, pos, n, acc, outs)()
                    level = ahead + rest
                elif prefetch:
                    # The pool is busy with the next block's tracks: buses and the master
                    # run here, so they never queue behind that work.
                    results = run_group(level, pos, n, acc, outs)
                else:
                    results = run_level(level, pos, n, acc, outs)()
                for i in sorted(level):
                    res = results[level.index(i)]
                    outs[i] = res
                    node = nodes[i]
                    if node.output is None or res.out is None or res.muted:
                        continue
                    delayed = out_delays[i].process(res.out)
                    acc[node.output] += delayed
                    if i in stem_windows:
                        tap = stem_delays[i].process(delayed) if i in stem_delays else delayed
                        stem_windows[i].push(tap, pos)
                    for k, s in enumerate(node.sends):
                        sig = res.sends[k]
                        if sig is not None:
                            acc[s.target] += send_delays[(i, k)].process(sig)
                        elif res.send_gains is not None and res.send_gains[k] is not None:
                            _add_scaled(acc[s.target], res.out, np.float32(res.send_gains[k]))
            mix = outs[master.index].out
            assert mix is not None
            if not np.isfinite(mix).all():
                raise RenderError(
                    f"the mix became NaN or infinite at {pos / graph.sample_rate:.3f} s; "
                    "look for a device with extreme settings (feedback, resonance)"
                )
            out_window.push(mix, pos)
            pos += n
            if progress is not None:
                progress(n)
        ok = True
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        graph.close()
        for sig in hits.values():
            sig.close()
        for w in writers.values():
            if ok:
                w.commit()
            else:
                w.abort()
    return use


_SKIPPED = _NodeOut(None, [], muted=True)
"""The result of a node that only feeds cached nodes: nothing is rendered or summed."""

_SILENT = _NodeOut(None, [], muted=True)
"""The result of a track whose block is digital silence: adding its zeros (times any fader
or send gain) to a sum that starts at +0.0 would change no bit, so nothing is summed. A
sidechain keyed by it reads zeros."""


def _needed(graph: RenderGraph, hits: dict[int, CachedSignal], taps: set[int]) -> set[int]:
    """Nodes whose signal the render needs: the master, what feeds (output, send or
    sidechain) a needed node that is not read from the cache, and every tapped node."""
    nodes = graph.nodes
    consumers: dict[int, set[int]] = {n.index: set() for n in nodes}
    listeners: dict[int, set[int]] = {n.index: set() for n in nodes}  # envelope followers
    for n in nodes:
        for f in n.followers:  # a follower reads its source even when its node is cached
            listeners[f.source].add(n.index)
        if n.output is not None:
            consumers[n.index].add(n.output)
        for s in n.sends:
            consumers[n.index].add(s.target)
        for d in n.devices:
            if d.sidechain is not None:
                consumers[d.sidechain].add(n.index)
    needed = {graph.master.index}
    for level in reversed(graph.levels):
        for i in level:
            if i in taps or any(c in needed and c not in hits for c in consumers[i]) or any(
                    c in needed for c in listeners[i]):
                needed.add(i)
    return needed


def _may_change(curve: object, start: int, stop: int) -> bool:
    """False only when ``curve`` surely holds one value over frames ``[start, stop)``."""
    if getattr(curve, "is_constant", False):
        return False
    changes = getattr(curve, "changes_within", None)
    return True if changes is None else bool(changes(start, stop))


def _grid_segments(curves: list[tuple[str, object]], pos: int, n: int
                   ) -> list[tuple[int, int, dict[str, float]]]:
    """Split ``[pos, pos+n)`` at control-grid points where any curve's value changes."""
    first_grid = (pos // CONTROL_FRAMES) * CONTROL_FRAMES
    if not any(_may_change(c, first_grid, pos + n) for _, c in curves):
        # Every grid point of the block has the same values: one segment.
        at = np.array([float(first_grid)])
        return [(pos, pos + n, {name: float(c.values_at(at)[0])  # type: ignore[attr-defined]
                                for name, c in curves})]
    grid = np.arange(first_grid, pos + n, CONTROL_FRAMES, dtype=np.int64)
    values = [c.values_at(grid.astype(np.float64)) for _, c in curves]  # type: ignore[attr-defined]
    # A segment starts at the first grid point and wherever any value changes.
    changed = np.zeros(grid.shape[0], dtype=bool)
    changed[0] = True
    for v in values:
        changed[1:] |= v[1:] != v[:-1]
    starts = np.flatnonzero(changed).tolist()
    names = [name for name, _ in curves]
    segs: list[tuple[int, int, dict[str, float]]] = []
    for k, gi in enumerate(starts):
        a = max(int(grid[gi]), pos)
        b = (min(int(grid[starts[k + 1]]), pos + n) if k + 1 < len(starts) else pos + n)
        segs.append((a, b, {name: float(v[gi]) for name, v in zip(names, values, strict=True)}))
    return segs


@njit(cache=True, nogil=True, boundscheck=False)
def _add_scaled(acc: np.ndarray, x: np.ndarray, gain: np.float32) -> None:  # pragma: no cover
    """``acc += x * gain`` in one pass, float32 throughout (the same rounding as numpy's
    ``acc += x * gain``: the product is rounded, then the sum)."""
    for c in range(acc.shape[0]):
        for i in range(acc.shape[1]):
            acc[c, i] += np.float32(x[c, i] * gain)


def _set_changed(target: object, values: dict[str, float], last: dict[str, float]) -> None:
    """Call ``set_param`` only where a value changed since the last call.

    A segment that starts at a block boundary inside a grid cell repeats the cell's values;
    calling again would restart a processor's parameter glide, and the result would depend
    on where the blocks fall.
    """
    for name, v in values.items():
        if last.get(name) != v:
            if name == TEMPO:
                target.set_tempo(v)  # type: ignore[attr-defined]
            else:
                target.set_param(name, v)  # type: ignore[attr-defined]
            last[name] = v


def _run_device(slot: DeviceSlot, x: AudioArray, pos: int, sc: AudioArray | None) -> AudioArray:
    if not slot.automation:
        return slot.processor.process(x, sc) if sc is not None else slot.processor.process(x)
    parts = []
    for a, b, vals in _grid_segments(slot.automation, pos, x.shape[1]):
        _set_changed(slot.processor, vals, slot.last_values)
        seg = np.ascontiguousarray(x[:, a - pos:b - pos])
        scs = None if sc is None else np.ascontiguousarray(sc[:, a - pos:b - pos])
        out = (slot.processor.process(seg, scs) if scs is not None
               else slot.processor.process(seg))
        parts.append(out if out is seg else out.copy())  # never keep a reused buffer
    return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)


def _render_source(node: ChannelNode, pos: int, n: int) -> AudioArray:
    src = node.source
    assert src is not None
    if not node.instrument_automation:
        return src.render(pos, n)
    inst = src.instrument  # type: ignore[union-attr]
    parts = []
    for a, b, vals in _grid_segments(node.instrument_automation, pos, n):
        _set_changed(inst, vals, node.instrument_last_values)
        # Instruments may hand back a view of a buffer they reuse on the next call: copy.
        parts.append(src.render(a, b - a).copy())
    return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)


def _pan_gains(pan: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pan law: 0 dB on both sides at centre; the far side follows a cosine taper.

    ``pan`` is float64; the gains come back as float32.
    """
    left = np.cos(np.maximum(pan, 0.0) * (math.pi / 2)).astype(np.float32)
    right = np.cos(np.maximum(-pan, 0.0) * (math.pi / 2)).astype(np.float32)
    return left, right


def _db_gains(db: np.ndarray) -> np.ndarray:
    """dB (float64) to float32 gains; one compiled function for static and automated
    values, so that a block boundary never changes a single bit of the result."""
    out = np.empty(db.shape[0], np.float32)
    _db_to_gain32(db, out)
    return out


_LN10_OVER_20 = math.log(10.0) / 20.0


@njit(cache=True, nogil=True, boundscheck=False)
def _db_to_gain32(db: np.ndarray, out: np.ndarray) -> None:  # pragma: no cover - compiled
    """``out = float32(10 ** (db / 20))``, as ``exp(db * ln(10) / 20)``: within an ulp of
    ``pow`` in float64 (the same float32 but in rare ties) and three times faster (fader
    and send rides compute one gain per frame)."""
    for i in range(db.shape[0]):
        out[i] = np.float32(math.exp(db[i] * _LN10_OVER_20))


def _process_node(node: ChannelNode, pos: int, n: int, acc: AudioArray | None,
                  outs: dict[int, _NodeOut], graph: RenderGraph,
                  cached: CachedSignal | None = None,
                  record: SignalWriter | None = None, *, may_rest: bool = False) -> _NodeOut:
    for f in node.followers:
        f.advance(outs[f.source].out, pos, n)
    if cached is not None:
        if may_rest and cached.silent(pos, n):
            return _SILENT  # the cache kept it as digital silence: nothing to read or sum
        x = cached.read(pos, n)
    else:
        x = _inserts(node, pos, n, acc, outs)
        if record is not None:
            record.write(x)
        if may_rest and getattr(node.source, "silent", False) and not x.any():
            return _SILENT  # no clip played and the devices left digital silence
    pre = x
    factors = _static_factors(node)
    if factors is None:
        gain = _curve_values(node.volume_db, pos, n)
        if node.kind != "master":
            left, right = _pan_gains(_curve_values(node.pan, pos, n))
            g = _db_gains(gain)
            gl = g * left
            gr = g * right
        else:
            gl = gr = _db_gains(gain)
        if gl.shape[0] == 1:  # static over the block: one broadcast multiply
            factors = np.array([gl, gr], dtype=np.float32).reshape(2, 1)
    if factors is not None:
        out = x * factors if x.shape[0] == 2 else x * factors[:1]
    else:
        out = np.empty_like(x)
        np.multiply(x[0], gl, out=out[0])
        np.multiply(x[1], gr, out=out[1])
    sends: list[AudioArray | None] = []
    gains: list[float | None] = []
    for s in node.sends:
        level = _db_gains(_curve_values(s.level_db, pos, n))
        if not s.pre_fader and level.shape[0] == 1 and s.delay == 0:
            # A static post-fader send: the summing thread adds level * out in one pass.
            sends.append(None)
            gains.append(float(level[0]))
            continue
        src = pre if s.pre_fader else out
        sends.append(src * (level if level.shape[0] > 1 else level[0]))
        gains.append(None)
    # A muted channel still computes its output: it can key another's sidechain (ghost kick).
    return _NodeOut(out, sends, muted=node.muted, send_gains=gains)


def _inserts(node: ChannelNode, pos: int, n: int, acc: AudioArray | None,
             outs: dict[int, _NodeOut]) -> AudioArray:
    """A node's signal after its source (or summed inputs), inserts and phase switch."""
    if node.kind == "track":
        x = _render_source(node, pos, n)
    else:
        assert acc is not None
        x = acc
    for slot in node.devices:
        sc = None
        if slot.sidechain is not None:
            sc = outs[slot.sidechain].out
            if sc is None:
                sc = np.zeros_like(x)
        x = _run_device(slot, x, pos, sc)
        if x.dtype != np.float32:
            x = x.astype(np.float32)
    if node.invert:
        x = -x
    return x


def _static_factors(node: ChannelNode) -> np.ndarray | None:
    """The (2, 1) fader-and-pan gains of a node whose fader and pan never move, computed
    once with the same functions as the per-block path (so the bits are the same)."""
    if not (node.volume_db.is_constant and node.pan.is_constant):
        return None
    cached = node.static_factors
    if cached is None:
        gain = np.array(node.volume_db.values[:1], dtype=np.float64)
        if node.kind != "master":
            left, right = _pan_gains(np.array(node.pan.values[:1], dtype=np.float64))
            gl, gr = _db_gains(gain) * left, _db_gains(gain) * right
        else:
            gl = gr = _db_gains(gain)
        cached = np.array([gl, gr], dtype=np.float32).reshape(2, 1)
        node.static_factors = cached
    return cached


def _curve_values(curve: Curve, pos: int, n: int) -> np.ndarray:
    """A curve's float64 values over the block: shape (1,) when constant in it, else (n,)."""
    if curve.is_constant:
        return np.array(curve.values[:1], dtype=np.float64)
    if not curve.changes_within(pos, pos + n):
        return curve.values_at(np.array([float(pos)]))
    if isinstance(curve, Curve):
        return curve.values_over(pos, n)
    return curve.values_at(np.arange(pos, pos + n, dtype=np.float64))
