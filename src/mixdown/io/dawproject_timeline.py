"""DAWproject time: the song's tempo and signature (``Transport``, ``TempoAutomation``,
``TimeSignatureAutomation``) and automation ``Points`` aimed at mapped parameters.

Linear tempo segments become ramps; signature changes move to bar lines; a ``hold`` point
becomes a ramp :data:`~mixdown.io.dawproject_common.HOLD_BEATS` long.
"""

from __future__ import annotations

import itertools
from typing import Any

from mixdown.core.errors import FormatError
from mixdown.core.time import MeterMap, song_maps
from mixdown.io.dawproject_common import (
    HOLD_BEATS,
    _Chan,
    _first_error,
    _ReaderBase,
    _round,
    finite,
    get_extras,
)
from mixdown.model.project import (
    PAN_RANGE,
    VOLUME_DB_RANGE,
    AutomationLane,
    AutomationPoint,
    Song,
    TempoPoint,
    TimeSignatureChange,
)


class _TimelineReader(_ReaderBase):
    """Reads the song's tempo, signatures and title, and automation points."""

    # -- song ----------------------------------------------------------------------------------

    def song(self, metadata: Any | None, title: str) -> tuple[Song, int, int]:
        transport = self.root.find("Transport")
        bpm, sig = 120.0, (4, 4)
        if transport is not None:
            t = transport.find("Tempo")
            if t is not None:
                v = finite(t.get("value"))
                if v is not None and 0 < v <= 999:
                    bpm = v
                elif v is not None:
                    raise FormatError(f"{self.where}: Transport/Tempo = {v:g} bpm; mixdown "
                                      "takes 0 < bpm <= 999")
            s = transport.find("TimeSignature")
            if s is not None:
                sig = self._signature(s)
        arrangement = self.root.find("Arrangement")
        tempo_points: list[TempoPoint] = []
        sig_changes: list[TimeSignatureChange] = []
        extras: dict[str, Any] = {}
        if arrangement is not None:
            extras = get_extras(arrangement)
            ta = arrangement.find("TempoAutomation")
            if ta is not None:
                bpm, tempo_points = self._tempo_automation(ta, bpm)
            sa = arrangement.find("TimeSignatureAutomation")
            if sa is not None:
                sig, sig_changes = self._signature_automation(sa, sig)
        meta = {}
        if metadata is not None:
            meta = {c.tag: (c.text or "").strip() for c in metadata if isinstance(c.tag, str)}
        kwargs: dict[str, Any] = {
            "title": meta.get("Title") or title, "artist": meta.get("Artist", ""),
            "tempo": bpm, "time_signature": sig, "tempo_map": tuple(tempo_points),
            "time_signatures": tuple(sig_changes)}
        for key in ("sample_rate", "length", "tail_s"):
            if key in extras:
                kwargs[key] = extras[key]
        try:
            song = Song(**kwargs)
        except ValueError as exc:
            raise FormatError(f"{self.where}: the song's settings do not fit a mixdown project "
                              f"({_first_error(exc)})") from None
        self.meter, self.tempo = song_maps(
            song.tempo, song.time_signature, [(p.at, p.bpm, p.ramp) for p in song.tempo_map],
            [(c.bar, *c.signature) for c in song.time_signatures])
        return song, max(0, len(self.tempo.points) - 1), len(sig_changes)

    def _signature(self, el: Any) -> tuple[int, int]:
        num, den = int(el.get("numerator")), int(el.get("denominator"))
        if num < 1 or den not in (1, 2, 4, 8, 16, 32):
            raise FormatError(f"{self.where}: time signature {num}/{den} is not one mixdown "
                              "can use (numerator >= 1, denominator 1..32, a power of 2)")
        return num, den

    def _tempo_automation(self, ta: Any, bpm: float) -> tuple[float, list[TempoPoint]]:
        if self._time_unit(ta) != "beats":
            raise FormatError(f"{self.where}: TempoAutomation is timed in seconds; mixdown reads "
                              "tempo changes placed in beats")
        raw = []
        for p in ta:
            if p.tag != "RealPoint":
                continue
            t, v = finite(p.get("time")), finite(p.get("value"))
            if t is None or v is None or t < 0 or not 0 < v <= 999:
                raise FormatError(f"{self.where}: TempoAutomation point at "
                                  f"{p.get('time')} = {p.get('value')} bpm is out of range "
                                  "(0 < bpm <= 999, time >= 0)")
            raw.append((t, v, p.get("interpolation", "hold")))
        raw.sort(key=lambda r: r[0])
        dedup: list[tuple[float, float, str]] = []
        for r in raw:
            if dedup and dedup[-1][0] == r[0]:
                dedup[-1] = r
            else:
                dedup.append(r)
        if not dedup:
            return bpm, []
        if dedup[0][0] > 0:
            dedup.insert(0, (0.0, bpm, "hold"))
        first = dedup[0][1]
        points = [TempoPoint(at=t, bpm=v, ramp=prev[2] == "linear")
                  for prev, (t, v, _) in itertools.pairwise(dedup)]
        return first, points

    def _signature_automation(self, sa: Any, sig: tuple[int, int]
                              ) -> tuple[tuple[int, int], list[TimeSignatureChange]]:
        from mixdown.core.time import TimeSignature

        pts = sorted(((finite(p.get("time"), 0.0) or 0.0, self._signature(p))
                      for p in sa if p.tag == "TimeSignaturePoint"), key=lambda r: r[0])
        changes: list[TimeSignatureChange] = []
        first = sig
        for t, s in pts:
            if t <= 0:
                first = s
                continue
            meter = MeterMap([TimeSignature(1, *first)]
                             + [TimeSignature(c.bar, *c.signature) for c in changes])
            bar, beat = meter.beats_to_bar_beat(t)
            if abs(beat - 1.0) > 1e-6:
                bar += 1
                self.drop(f"time signature {s[0]}/{s[1]} at beat {t:g} is not on a bar line; "
                          f"moved to bar {bar}")
            if changes and changes[-1].bar == bar:
                changes[-1] = TimeSignatureChange(bar=bar, signature=s)
            elif (changes[-1].signature if changes else first) != s:
                changes.append(TimeSignatureChange(bar=bar, signature=s))
        return first, changes

    # -- automation ----------------------------------------------------------------------------

    def _points(self, el: Any, chan: _Chan | None) -> None:
        target_el = el.find("Target")
        pid = target_el.get("parameter") if target_el is not None else None
        if pid is None:
            what = target_el.get("expression") if target_el is not None else None
            self.drop(f"{chan.name if chan else 'song'}: automation of "
                      f"{what or 'a MIDI expression'} has no mixdown form; dropped")
            return
        target = self.targets.get(pid)
        if target is None or not target.param:
            el2 = self.ids.get(pid)
            what = el2.get("name") if el2 is not None else pid
            self.drop(f"automation of {what!r} has no mixdown parameter; dropped")
            return
        unit_default = target.unit
        unit = el.get("unit") or unit_default
        tu = self._time_unit(el)
        raw = []
        for p in el:
            if p.tag not in ("RealPoint", "BoolPoint", "IntegerPoint", "EnumPoint"):
                continue
            t = finite(p.get("time"))
            if t is None:
                continue
            v = p.get("value")
            value = (1.0 if v == "true" else 0.0) if p.tag == "BoolPoint" else finite(v)
            if value is None:
                continue
            raw.append((self._beats(t, tu), target.convert(value, unit),
                        "hold" if p.tag != "RealPoint" else p.get("interpolation", "linear")))
        if not raw:
            return
        raw.sort(key=lambda r: r[0])
        curves = get_extras(el).get("curves")
        points: list[AutomationPoint] = []
        for i, (t, v, interp) in enumerate(raw):
            if points and float(points[-1].at) >= t - 1e-12:
                points[-1] = AutomationPoint(at=points[-1].at, value=v)
                continue
            c = 0.0
            if isinstance(curves, list) and len(curves) == len(raw):
                c = float(curves[i]) if isinstance(curves[i], int | float) else 0.0
            points.append(AutomationPoint(at=_round(max(t, 0.0)), value=_clamp(target.param, v),
                                          curve=min(max(c, -1.0), 1.0)))
            if interp == "hold" and i + 1 < len(raw) and raw[i + 1][1] != v:
                nxt = raw[i + 1][0]
                if nxt - HOLD_BEATS > t + 1e-12:
                    points.append(AutomationPoint(at=_round(nxt - HOLD_BEATS),
                                                  value=_clamp(target.param, v)))
        target.chan.lanes.append(AutomationLane(param=target.param, points=tuple(points)))
        self.n_lanes += 1


def _clamp(param: str, v: float) -> float:
    if param == "volume_db" or param.startswith("send."):
        return min(max(v, VOLUME_DB_RANGE[0]), VOLUME_DB_RANGE[1])
    if param == "pan":
        return min(max(v, PAN_RANGE[0]), PAN_RANGE[1])
    return v
