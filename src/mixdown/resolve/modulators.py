"""Resolve a channel's modulators: targets bound like automation lanes, sources to indices.

Checked here, each problem naming song.toml's line: the target exists and is a continuous
automatable parameter, a tempo-synced rate is a note value, a follower's source is another
track or bus and following it makes no routing loop.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from mixdown.core.errors import MixdownError
from mixdown.core.names import closest
from mixdown.dsp.base import Param
from mixdown.dsp.effects.delay import note_value_beats
from mixdown.model.modulators import Follower, Lfo
from mixdown.model.project import MASTER, Channel, Master, Track
from mixdown.resolve.problems import StopBranch
from mixdown.resolve.song import DeviceParam, InstrumentParam, Lane, ResolvedDevice, Target

if TYPE_CHECKING:
    from mixdown.resolve.resolve import _Resolver

Path_ = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class ModTarget:
    """Where a modulator's offset goes and how it combines.

    ``base`` is the parameter's fixed value (NaN when it has none; automation, when
    present, replaces it in the engine); the result is clamped to ``[lo, hi]`` (None:
    unbounded on that side). With ``semitones`` the offset scales the value by
    ``2 ** (offset / 12)``; otherwise it adds.
    """

    target: Target
    base: float
    lo: float | None
    hi: float | None
    semitones: bool


@dataclass(frozen=True, slots=True)
class ResolvedLfo:
    """An LFO: ``cycle_beats`` (tempo-synced) or ``rate_hz``, the other None."""

    label: str
    target: ModTarget
    shape: str
    depth: float
    phase: float
    seed: int
    cycle_beats: float | None
    rate_hz: float | None
    kind: Literal["lfo"] = "lfo"


@dataclass(frozen=True, slots=True)
class ResolvedFollower:
    """An envelope follower of node ``source`` (times in seconds)."""

    label: str
    target: ModTarget
    source: int
    attack_s: float
    release_s: float
    depth: float
    kind: Literal["follower"] = "follower"


ResolvedModulator = ResolvedLfo | ResolvedFollower


def resolve_modulators(r: _Resolver, path: Path_, ch: Channel | Master,
                       devices: tuple[ResolvedDevice, ...], lanes: tuple[Lane, ...]
                       ) -> tuple[ResolvedModulator, ...]:
    """The channel's modulators, resolved; problems are added to ``r.problems``.

    ``lanes`` are the channel's automation lanes: a parameter with no fixed value (a
    synth's ``cutoff_hz`` left to follow the notes) can be modulated only around a lane.
    """
    out: list[ResolvedModulator] = []
    for i, m in enumerate(getattr(ch, "modulators", ())):
        mpath = (*path, "modulators", i)
        label = f"{r.where.place(mpath)} ({m.type} -> {m.target})"
        try:
            target = _mod_target(r, m.target, ch, mpath, devices)
            if math.isnan(target.base) and not any(la.target == target.target for la in lanes):
                raise r.problems.stop((*mpath, "target"), f"{m.target} is left to the "
                                      "instrument's preset; set it or automate it, to give "
                                      "the modulator a value to move")
            if isinstance(m, Lfo):
                out.append(_lfo(r, m, mpath, label, target))
            else:
                out.append(_follower(r, m, ch, mpath, label, target))
        except StopBranch:
            continue
    return tuple(out)


def _mod_target(r: _Resolver, name: str, ch: Channel | Master, mpath: Path_,
                devices: tuple[ResolvedDevice, ...]) -> ModTarget:
    target, limits = r._target(name, ch, mpath, key="target")
    if isinstance(limits, Param):
        if limits.kind != "float":
            raise r.problems.stop((*mpath, "target"), f"{name} is a whole number; modulators "
                                  "move continuous parameters only")
        lo, hi = limits.min, limits.max
        base = _param_base(target, limits, ch, devices)
        return ModTarget(target, base, lo, hi, semitones=limits.name.endswith("_hz"))
    lo, hi = limits
    if target.kind == "volume":
        base = ch.volume_db
    elif target.kind == "pan":
        base = ch.pan  # type: ignore[union-attr]
    else:
        base = ch.sends[target.send].level_db  # type: ignore[union-attr]
    return ModTarget(target, float(base), lo, hi, semitones=False)


def _param_base(target: Target, spec: Param, ch: Channel | Master,
                devices: tuple[ResolvedDevice, ...]) -> float:
    params: Any = {}
    if isinstance(target, InstrumentParam):
        params = ch.instrument.params if isinstance(ch, Track) and ch.instrument else {}
    elif isinstance(target, DeviceParam):
        params = next((d.params for d in devices if d.index == target.device), {})
    value = params.get(spec.name, spec.default)
    return math.nan if value is None else float(value)


def _lfo(r: _Resolver, m: Lfo, mpath: Path_, label: str, target: ModTarget) -> ResolvedLfo:
    cycle = None
    if m.rate is not None:
        try:
            cycle = note_value_beats(m.rate)
        except MixdownError:
            raise r.problems.stop((*mpath, "rate"), f"must be a note value like '1/4', '1/8d' "
                                  f"(dotted), '1/8t' (triplet) or '2/1' (two bars), got "
                                  f"{m.rate!r}; or give rate_hz") from None
        fastest = max(p.bpm for p in r.tl.tempo.points) / 60.0 / cycle
        if fastest > 50.0:
            raise r.problems.stop((*mpath, "rate"), f"{m.rate} is {fastest:.3g} Hz at the "
                                  "song's fastest tempo; LFOs run at 50 Hz at most")
    return ResolvedLfo(label, target, m.shape, m.depth, m.phase, m.seed, cycle, m.rate_hz)


def _follower(r: _Resolver, m: Follower, ch: Channel | Master, mpath: Path_, label: str,
              target: ModTarget) -> ResolvedFollower:
    spath = (*mpath, "source")
    own = MASTER if isinstance(ch, Master) else ch.name
    names = [n for n in r.index if n != MASTER]
    if m.source == own:
        raise r.problems.stop(spath, "a channel cannot follow itself")
    if m.source not in names:
        raise r.problems.stop(spath, f"no track or bus {m.source!r}{closest(m.source, names)}")
    loop = _loop_through(r, m.source, own)
    if loop:
        raise r.problems.stop(spath, f"following {m.source!r} makes a routing loop: "
                              + " -> ".join(loop))
    return ResolvedFollower(label, target, r.index[m.source], m.attack_ms / 1000.0,
                            m.release_ms / 1000.0, m.depth)


def _loop_through(r: _Resolver, source: str, own: str) -> list[str] | None:
    """The chain by which ``source`` already depends on ``own`` (outputs, sends, sidechains,
    followers), or None."""
    needs: dict[str, set[str]] = {}  # channel -> what its signal needs first
    for _, c in r.chans:
        name = MASTER if isinstance(c, Master) else c.name
        needs.setdefault(name, set())
        if not isinstance(c, Master):
            needs.setdefault(c.output, set()).add(name)
            for s in c.sends:
                needs.setdefault(s.to, set()).add(name)
        for d in c.devices:
            sc = d.params.get("sidechain")
            if isinstance(sc, str) and sc:
                needs[name].add(sc)
        for m in getattr(c, "modulators", ()):
            if isinstance(m, Follower) and m.source != name:
                needs[name].add(m.source)
    path = [source]
    seen: set[str] = set()

    def walk(n: str) -> bool:
        if n == own:
            return True
        seen.add(n)
        for k in sorted(needs.get(n, ())):
            if k not in seen:
                path.append(k)
                if walk(k):
                    return True
                path.pop()
        return False

    return [own, *path] if walk(source) else None


__all__ = ["ModTarget", "ResolvedFollower", "ResolvedLfo", "ResolvedModulator",
           "resolve_modulators"]
