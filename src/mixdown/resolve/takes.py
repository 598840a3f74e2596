"""Takes and comping -> audio clips: a comp range becomes a clip of its take, cut from the
take's file at the range's place; adjacent ranges crossfade (the resolver's crossfade
machinery, equal power, over the track's ``comp_crossfade_s``, starting at the boundary).
Without a comp the last take plays whole."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from mixdown.core.names import closest
from mixdown.model.project import Clip, Track

Path_ = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class _Take:
    start_f: int  # song frame of the file's offset_s
    end_f: int  # song frame where the file ends
    start_b: float


def comp_clips(r: Any, path: Path_, track: Track) -> list[tuple[Clip, Path_]]:
    """The clips (and the places they come from: ``comp[i]``, or ``takes[j]`` without a comp)
    that ``track``'s takes and comp play; problems are recorded on ``r.problems``.

    ``r`` is the resolver: its ``tl`` (timeline), ``problems``, ``catalog``, ``_asset`` and
    ``_beats``.
    """
    if not track.takes and not track.comp:
        return []
    probs, tl = r.problems, r.tl
    sr = tl.sample_rate
    if track.instrument is not None:
        probs.add((*path, "takes"), "an instrument track cannot hold takes; put them on a "
                  "track without an instrument")
        return []
    takes: dict[str, _Take | None] = {}
    for j, take in enumerate(track.takes):
        tpath = (*path, "takes", j)
        if take.name in takes:
            probs.add((*tpath, "name"), f"a second take called {take.name!r}; take names must "
                      "be unique on a track")
            continue
        takes[take.name] = None
        start_b = r._beats(take.start, (*tpath, "start"))
        file = r._asset(take.file, (*tpath, "file"), audio=True)
        if start_b is None or file is None:
            continue
        info = r.catalog.audio(file)
        if info.channels > 2:
            probs.add((*tpath, "file"), f"{take.file} has {info.channels} channels; takes "
                      "must be mono or stereo")
            continue
        if take.offset_s >= info.duration_s:
            probs.add((*tpath, "offset_s"), f"{take.offset_s:g} s is past the end of "
                      f"{take.file} ({info.duration_s:.3f} s)")
            continue
        start_f = tl.frame_of_beats(start_b)
        frames = round(info.frames * sr / info.sample_rate) - round(take.offset_s * sr)
        takes[take.name] = _Take(start_f, start_f + frames, start_b)
    by_name = {t.name: t for t in track.takes}
    if not track.comp:
        if not track.takes or takes.get(track.takes[-1].name) is None:
            return []
        last = track.takes[-1]
        return [(_clip(last, last.start, None, last.offset_s), (*path, "takes",
                                                                 len(track.takes) - 1))]
    ranges: list[tuple[int, int, float, float, int]] = []  # start_f, end_f, start_b, end_b, i
    for i, rng in enumerate(track.comp):
        cpath = (*path, "comp", i)
        if rng.take not in by_name:
            probs.add((*cpath, "take"), f"no take {rng.take!r} on this track"
                      + closest(rng.take, list(by_name)))
            continue
        start_b = r._beats(rng.start, (*cpath, "start"))
        end_b = r._beats(rng.end, (*cpath, "end"))
        if start_b is None or end_b is None:
            continue
        start_f, end_f = tl.frame_of_beats(start_b), tl.frame_of_beats(end_b)
        if end_f <= start_f:
            probs.add((*cpath, "end"), f"{_show(rng.end)} is not after start = "
                      f"{_show(rng.start)}; a range ends after it starts")
            continue
        take = takes.get(rng.take)
        if take is None:
            continue  # the take's own problem is reported
        if start_f < take.start_f or end_f > take.end_f:
            probs.add(cpath, f"{_show(rng.start)} .. {_show(rng.end)} is outside take "
                      f"{rng.take!r}, which covers {take.start_f / sr:.3f} s .. "
                      f"{take.end_f / sr:.3f} s of the song; keep the range inside it")
            continue
        ranges.append((start_f, end_f, start_b, end_b, i))
    ranges.sort()
    for a, b in itertools.pairwise(ranges):
        if b[0] < a[1]:
            other = track.comp[a[4]]
            probs.add((*path, "comp", b[4]), f"overlaps comp[{a[4]}] ({_show(other.start)} .. "
                      f"{_show(other.end)}); comp ranges must not overlap")
    xf = track.comp_crossfade_s
    out = []
    for k, (start_f, end_f, start_b, end_b, i) in enumerate(ranges):
        rng = track.comp[i]
        take_def = by_name[rng.take]
        take = takes[rng.take]
        assert take is not None
        after = k > 0 and ranges[k - 1][1] == start_f
        before = k + 1 < len(ranges) and ranges[k + 1][0] == end_f
        offset_s = take_def.offset_s + (start_f - take.start_f) / sr
        clip = _clip(take_def, start_b, end_b - start_b, offset_s,
                     crossfade_s=xf if after else 0.0,
                     fade_in_s=0.0 if after else min(xf, (end_f - start_f) / sr),
                     fade_out_s=0.0 if before else min(xf, (end_f - start_f) / sr))
        out.append((clip, (*path, "comp", i)))
    return out


def _clip(take: Any, start: float | str, length: float | None, offset_s: float, *,
          crossfade_s: float = 0.0, fade_in_s: float = 0.0, fade_out_s: float = 0.0) -> Clip:
    data: dict[str, Any] = {"name": take.name, "file": take.file, "start": start,
                            "offset_s": offset_s, "gain_db": take.gain_db}
    if length is not None:
        data["length"] = length
    if crossfade_s > 0:
        data["crossfade_s"] = crossfade_s
    if fade_in_s > 0:
        data |= {"fade_in_s": fade_in_s, "fade_in_shape": "equal_power"}
    if fade_out_s > 0:
        data |= {"fade_out_s": fade_out_s, "fade_out_shape": "equal_power"}
    return Clip(**data)


def _show(position: float | str) -> str:
    return f"{position:g}" if isinstance(position, float) else str(position)


__all__ = ["comp_clips"]
