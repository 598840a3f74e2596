"""Choosing the comp of an audio track: its takes' spans on the song's bar ruler and the
comp ranges that pick a take per range, saved as one undoable edit.

The checker refuses a bad comp (an unknown take, overlapping ranges, a range outside its
take) through :func:`mixdown.services.history.apply_edit`: nothing is written then.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mixdown.core.time import parse_position
from mixdown.model.project import Project
from mixdown.model.takes import CompRange
from mixdown.services.record.takes import RecordRefused, _audio_track, _resolved


def _bar_beat(meter: Any, beats: float) -> str:
    bar, beat = meter.beats_to_bar_beat(beats)
    return f"{bar}:{round(beat, 3):g}"


def set_comp(project: Project, track: str, ranges: Sequence[tuple[Any, Any, str]],
             crossfade_s: float | None = None) -> Project:
    """``project`` with ``track``'s comp set to ``ranges`` (``(start, end, take)``, song
    positions) and, when given, its ``comp_crossfade_s`` (seconds).

    Raises
    ------
    RecordRefused
        Unknown or instrument track, a malformed range (the checker judges the rest).
    """
    _audio_track(project, track)
    try:
        comp = tuple(CompRange(start=s, end=e, take=t) for s, e, t in ranges)
    except ValueError as exc:
        first = str(exc).splitlines()
        raise RecordRefused(f"comp of {track!r}: {first[-1].strip() if first else exc}"
                            ) from None
    update: dict[str, Any] = {"comp": comp}
    if crossfade_s is not None:
        update["comp_crossfade_s"] = float(crossfade_s)
    tracks = tuple(t.model_copy(update=update) if t.name == track else t
                   for t in project.tracks)
    return project.model_copy(update={"tracks": tracks})


def comp_state(folder: str | Path, track: str) -> dict[str, Any]:
    """What the comp panel shows for ``track``: its takes with their spans (``start``/``end``
    in bar:beat and ``start_s``/``end_s`` in seconds), the comp ranges, the crossfade (s)
    and the song's bars (``bars``: bar count, ``bar_s``: each bar's start in seconds)."""
    import soundfile as sf

    root = Path(folder)
    project, song = _resolved(root)
    t = _audio_track(project, track)
    meter, tempo = song.meter, song.tempo
    takes, end_s = [], song.song_end_frames / song.sample_rate
    for take in t.takes:
        start_b = parse_position(take.start, meter, tempo)
        start_s = tempo.beats_to_seconds(start_b)
        try:
            dur = sf.info(str(root / take.file)).duration - take.offset_s
        except (RuntimeError, OSError):
            dur = 0.0
        stop_s = start_s + max(dur, 0.0)
        end_s = max(end_s, stop_s)
        takes.append({"name": take.name, "start": _bar_beat(meter, start_b),
                      "end": _bar_beat(meter, tempo.seconds_to_beats(stop_s)),
                      "start_s": start_s, "end_s": stop_s})
    comp = []
    for r in t.comp:
        a = parse_position(r.start, meter, tempo)
        b = parse_position(r.end, meter, tempo)
        comp.append({"start": _bar_beat(meter, a), "end": _bar_beat(meter, b),
                     "start_s": tempo.beats_to_seconds(a),
                     "end_s": tempo.beats_to_seconds(b), "take": r.take})
    last_bar, _ = meter.beats_to_bar_beat(tempo.seconds_to_beats(end_s))
    bar_s = [tempo.beats_to_seconds(meter.bar_beat_to_beats(n)) for n in range(1,
                                                                                last_bar + 2)]
    return {"track": track, "takes": takes, "comp": comp,
            "crossfade_s": t.comp_crossfade_s, "bars": last_bar, "bar_s": bar_s,
            "length_s": end_s}


def save_comp(folder: str | Path, track: str, ranges: Sequence[tuple[Any, Any, str]], *,
              crossfade_s: float | None = None, base: str | None = None,
              author: str = "") -> Any:
    """Set ``track``'s comp (:func:`set_comp`) as one undoable edit of the project at
    ``folder``; the :class:`mixdown.services.history.EditResult`."""
    from mixdown.services.history import apply_edit

    return apply_edit(Path(folder), lambda p: set_comp(p, track, ranges, crossfade_s),
                      base=base, label=f"comp {track}", author=author)


__all__ = ["comp_state", "save_comp", "set_comp"]
