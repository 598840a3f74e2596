"""What changed between two song.toml snapshots, in a musician's words.

``Vocal: volume -2 dB``, ``Chorus 2: tempo 120 -> 124``, ``Drums: track added``,
``Bass: compressor threshold_db -18 -> -20``, ``Vocal: clip take3.wav moved 5:1 -> 9:1``.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mixdown.model.project import Channel, Clip, Device, Project, Track
from mixdown.review.timing import SongTiming, timing_of


@dataclass(frozen=True, slots=True)
class Change:
    """One change.

    Attributes
    ----------
    subject : str
        What changed: a track, bus, section, ``Song`` or ``Master``.
    kind : str
        ``added``, ``removed``, ``changed``, ``moved``, ``tempo``, ``volume``...
    text : str
        The readable line (``"Vocal: volume -2 dB"``).
    old, new : object
        The values before and after (None for an addition or removal).
    """

    subject: str
    kind: str
    text: str
    old: Any = None
    new: Any = None

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {"subject": self.subject, "kind": self.kind, "text": self.text,
                "old": _plain(self.old), "new": _plain(self.new)}


def _plain(v: Any) -> Any:
    if isinstance(v, tuple | list):
        return [_plain(x) for x in v]
    if isinstance(v, int | float | str | bool) or v is None:
        return v
    return str(v)


def _num(v: float) -> str:
    return f"{v:g}"


def _signed(v: float) -> str:
    return f"{v:+g}"


def _bb(t: SongTiming, position: Any) -> str:
    from mixdown.core.time import parse_position

    try:
        beats = parse_position(position, t.meter, t.tempo)
    except Exception:
        return str(position)
    bar, beat = t.meter.beats_to_bar_beat(beats)
    return f"{bar}:{beat:g}"


def diff_projects(old: Project, new: Project) -> list[Change]:
    """The changes from ``old`` to ``new``, song first, then sections, channels, master."""
    t_old, t_new = timing_of(old), timing_of(new)
    out: list[Change] = []
    out += _song(old, new)
    out += _tempo(old, new, t_old, t_new)
    out += _sections(t_old, t_new)
    out += _channels(old.tracks, new.tracks, "track", t_old, t_new)
    out += _channels(old.buses, new.buses, "bus", t_old, t_new)
    out += _master(old, new)
    return out


def _song(old: Project, new: Project) -> list[Change]:
    out = []
    for key in ("title", "artist", "sample_rate", "time_signature", "length", "tail_s"):
        a, b = getattr(old.song, key), getattr(new.song, key)
        if a != b:
            label = key.replace("_", " ")
            if key == "time_signature":
                a, b = f"{a[0]}/{a[1]}", f"{b[0]}/{b[1]}"
            out.append(Change("Song", key, f"Song: {label} {a} -> {b}", a, b))
    return out


def _tempo(old: Project, new: Project, t_old: SongTiming, t_new: SongTiming) -> list[Change]:
    names = [s.name for s in t_old.sections if s.name in {x.name for x in t_new.sections}]
    moved: list[Change] = []
    for name in names:
        a = next(s for s in t_old.sections if s.name == name)
        b = next(s for s in t_new.sections if s.name == name)
        bpm_a, bpm_b = t_old.bpm_at(a.bar, a.beat), t_new.bpm_at(b.bar, b.beat)
        if abs(bpm_a - bpm_b) > 1e-9:
            moved.append(Change(name, "tempo", f"{name}: tempo {_num(bpm_a)} -> {_num(bpm_b)}",
                                bpm_a, bpm_b))
    start_a, start_b = t_old.tempo.bpm_at(0.0), t_new.tempo.bpm_at(0.0)
    same_everywhere = (len(moved) == len(names)
                       and len({(c.old, c.new) for c in moved}) <= 1)
    map_a = [(p.beat, p.bpm, p.ramp) for p in t_old.tempo.points]
    map_b = [(p.beat, p.bpm, p.ramp) for p in t_new.tempo.points]
    if map_a == map_b:
        return []
    if (not moved or same_everywhere) and len(map_a) == len(map_b) == 1:
        return [Change("Song", "tempo", f"Song: tempo {_num(start_a)} -> {_num(start_b)}",
                       start_a, start_b)]
    if not moved:
        return [Change("Song", "tempo", "Song: tempo map changed", map_a, map_b)]
    return moved


def _sections(t_old: SongTiming, t_new: SongTiming) -> list[Change]:
    out = []
    a = {s.name: s for s in t_old.sections}
    b = {s.name: s for s in t_new.sections}
    for name, s in b.items():
        if name not in a:
            out.append(Change(name, "added", f"{name}: section added at {s.bar}:{s.beat:g}",
                              None, f"{s.bar}:{s.beat:g}"))
        elif (a[name].bar, a[name].beat) != (s.bar, s.beat):
            was = f"{a[name].bar}:{a[name].beat:g}"
            now = f"{s.bar}:{s.beat:g}"
            out.append(Change(name, "moved", f"{name}: section moved {was} -> {now}", was, now))
    for name, s in a.items():
        if name not in b:
            out.append(Change(name, "removed", f"{name}: section removed",
                              f"{s.bar}:{s.beat:g}", None))
    return out


def _channels(old: Sequence[Channel], new: Sequence[Channel], what: str,
              t_old: SongTiming, t_new: SongTiming) -> list[Change]:
    out = []
    a = {c.name: c for c in old}
    b = {c.name: c for c in new}
    for name in b:
        if name not in a:
            out.append(Change(name, "added", f"{name}: {what} added"))
    for name in a:
        if name not in b:
            out.append(Change(name, "removed", f"{name}: {what} removed"))
    for name, c_new in b.items():
        if name in a:
            out += _channel(name, a[name], c_new, t_old, t_new)
    return out


def _channel(name: str, a: Channel, b: Channel, t_old: SongTiming,
             t_new: SongTiming) -> list[Change]:
    out = []
    if a.volume_db != b.volume_db:
        d = b.volume_db - a.volume_db
        out.append(Change(name, "volume", f"{name}: volume {_signed(round(d, 3))} dB "
                          f"({_num(a.volume_db)} -> {_num(b.volume_db)} dB)",
                          a.volume_db, b.volume_db))
    if a.pan != b.pan:
        out.append(Change(name, "pan", f"{name}: pan {_num(a.pan)} -> {_num(b.pan)}",
                          a.pan, b.pan))
    for key, label in (("mute", "muted"), ("solo", "soloed"), ("phase_invert", "phase inverted")):
        va, vb = getattr(a, key), getattr(b, key)
        if va != vb:
            out.append(Change(name, key, f"{name}: {'now ' if vb else 'no longer '}{label}",
                              va, vb))
    if a.output != b.output:
        out.append(Change(name, "output", f"{name}: output {a.output} -> {b.output}",
                          a.output, b.output))
    sa = {s.to: s for s in a.sends}
    sb = {s.to: s for s in b.sends}
    for to, s in sb.items():
        if to not in sa:
            out.append(Change(name, "send", f"{name}: send to {to} added ({_num(s.level_db)} dB)",
                              None, s.level_db))
        elif sa[to].level_db != s.level_db:
            out.append(Change(name, "send", f"{name}: send to {to} "
                              f"{_num(sa[to].level_db)} -> {_num(s.level_db)} dB",
                              sa[to].level_db, s.level_db))
    for to in sa:
        if to not in sb:
            out.append(Change(name, "send", f"{name}: send to {to} removed", sa[to].level_db))
    if isinstance(a, Track) and isinstance(b, Track):
        out += _instrument(name, a.instrument, b.instrument)
        out += _clips(name, a.clips, b.clips, t_old, t_new)
    out += _devices(name, a.devices, b.devices)
    la = {lane.param: lane for lane in a.automation}
    lb = {lane.param: lane for lane in b.automation}
    for param in sorted(set(la) | set(lb)):
        if param not in la:
            out.append(Change(name, "automation", f"{name}: {param} automation added"))
        elif param not in lb:
            out.append(Change(name, "automation", f"{name}: {param} automation removed"))
        elif la[param] != lb[param]:
            out.append(Change(name, "automation", f"{name}: {param} automation changed"))
    return out


def _instrument(name: str, a: Device | None, b: Device | None) -> list[Change]:
    if a == b:
        return []
    if a is None or b is None or a.type != b.type:
        was = a.type if a else "none"
        now = b.type if b else "none"
        return [Change(name, "instrument", f"{name}: instrument {was} -> {now}", was, now)]
    return _params(name, a.type, a, b)


def _device_key(d: Device) -> str:
    return d.name or d.type


def _devices(name: str, a: Sequence[Device], b: Sequence[Device]) -> list[Change]:
    out = []
    ka, kb = [_device_key(d) for d in a], [_device_key(d) for d in b]
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=ka, b=kb, autojunk=False).get_opcodes():
        if op == "equal":
            for da, db in zip(a[i1:i2], b[j1:j2], strict=True):
                out += _params(name, _device_key(db), da, db)
            continue
        for d in a[i1:i2]:
            out.append(Change(name, "device_removed", f"{name}: {_device_key(d)} removed",
                              _device_key(d), None))
        for d in b[j1:j2]:
            out.append(Change(name, "device_added", f"{name}: {_device_key(d)} added",
                              None, _device_key(d)))
    return out


def _params(name: str, label: str, a: Device, b: Device) -> list[Change]:
    out = []
    if a.bypass != b.bypass:
        out.append(Change(name, "bypass", f"{name}: {label} {'bypassed' if b.bypass else 'on'}",
                          a.bypass, b.bypass))
    for key in sorted(set(a.params) | set(b.params)):
        va, vb = a.params.get(key), b.params.get(key)
        if va != vb:
            out.append(Change(name, "parameter",
                              f"{name}: {label} {key} {_val(va)} -> {_val(vb)}", va, vb))
    return out


def _val(v: Any) -> str:
    if v is None:
        return "(default)"
    if isinstance(v, float):
        return _num(v)
    return str(v)


def _clip_key(c: Clip, i: int) -> str:
    return c.name or c.file or c.midi or f"#{i + 1}"


def _clips(name: str, a: Sequence[Clip], b: Sequence[Clip], t_old: SongTiming,
           t_new: SongTiming) -> list[Change]:
    out = []
    ka = [_clip_key(c, i) for i, c in enumerate(a)]
    kb = [_clip_key(c, i) for i, c in enumerate(b)]
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=ka, b=kb, autojunk=False).get_opcodes():
        if op == "equal":
            for ca, cb, key in zip(a[i1:i2], b[j1:j2], kb[j1:j2], strict=True):
                if ca == cb:
                    continue
                pa, pb = _bb(t_old, ca.start), _bb(t_new, cb.start)
                if pa != pb:
                    out.append(Change(name, "clip_moved", f"{name}: clip {key} moved "
                                      f"{pa} -> {pb}", pa, pb))
                rest_a = ca.model_copy(update={"start": 0.0})
                rest_b = cb.model_copy(update={"start": 0.0})
                if rest_a != rest_b:
                    what = [f for f in type(ca).model_fields
                            if f != "start" and getattr(ca, f) != getattr(cb, f)]
                    out.append(Change(name, "clip_changed", f"{name}: clip {key} changed "
                                      f"({', '.join(what)})", None, None))
            continue
        for c, key in zip(a[i1:i2], ka[i1:i2], strict=True):
            out.append(Change(name, "clip_removed", f"{name}: clip {key} removed "
                              f"(was at {_bb(t_old, c.start)})"))
        for c, key in zip(b[j1:j2], kb[j1:j2], strict=True):
            out.append(Change(name, "clip_added", f"{name}: clip {key} added at "
                              f"{_bb(t_new, c.start)}"))
    return out


def _master(old: Project, new: Project) -> list[Change]:
    a, b = old.master, new.master
    out = []
    if a.volume_db != b.volume_db:
        d = b.volume_db - a.volume_db
        out.append(Change("Master", "volume", f"Master: volume {_signed(round(d, 3))} dB "
                          f"({_num(a.volume_db)} -> {_num(b.volume_db)} dB)",
                          a.volume_db, b.volume_db))
    for key in ("target", "target_lufs", "ceiling_dbtp"):
        va, vb = getattr(a, key), getattr(b, key)
        if va != vb:
            out.append(Change("Master", key, f"Master: {key.replace('_', ' ')} "
                              f"{_val(va)} -> {_val(vb)}", va, vb))
    out += _devices("Master", a.devices, b.devices)
    if a.automation != b.automation:
        out.append(Change("Master", "automation", "Master: automation changed"))
    return out


__all__ = ["Change", "diff_projects"]
