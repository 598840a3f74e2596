"""Checks of the composing tools, run by resolve: clip definitions and their placements
(``use``, ``loop``), chord clips (every symbol, the chart), the song's key where a clip needs
it, and the pitches a clip ends up playing. Each problem names the song.toml line."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mixdown.core.errors import MixdownError, ModelError
from mixdown.core.names import closest
from mixdown.core.time import MeterMap
from mixdown.model.chords import HOLD, REST, chart_bars, parse_chord
from mixdown.model.clip_edit import EDIT_KEYS
from mixdown.model.clips import PLACEMENT_ONLY, loop_period_beats, placed_clip
from mixdown.model.keys import Key, parse_key
from mixdown.model.notes import clip_length_beats, raw_notes
from mixdown.model.project import Clip, Project
from mixdown.resolve.problems import Problems

Path_ = tuple[str | int, ...]


class ClipChecks:
    """The definitions of a project checked once; placements checked and expanded."""

    def __init__(self, project: Project, problems: Problems) -> None:
        self.p = project
        self.problems = problems
        self.key: Key | None = parse_key(project.song.key) if project.song.key else None
        self.bad: set[str] = set()
        self.periods: dict[Path_, float] = {}
        for name, d in project.clips.items():
            if not self._definition(name, d):
                self.bad.add(name)

    # -- definitions ---------------------------------------------------------------------------

    def _definition(self, name: str, d: Clip) -> bool:
        path: Path_ = ("clips", name)
        ok = True
        for k in PLACEMENT_ONLY:
            if k in d.model_fields_set:
                hint = ("a definition is notes, a pattern, chords or a MIDI file; place audio "
                        "clips directly" if k in ("file", "offset_s", "gain_db", "fade_in_s",
                                                  "fade_out_s", *EDIT_KEYS)
                        else f"say it where the definition is placed "
                        f"({{ use = \"{name}\", {k} = ... }})")
                self.problems.add((*path, k), f"a clip definition has no {k}; {hint}")
                ok = False
        if d.kind == "empty":
            self.problems.add(path, "plays nothing; give it notes, pattern, chords or midi")
            ok = False
        return self.content(d, path) and ok

    def content(self, clip: Clip, path: Path_) -> bool:
        """Chords and key of a clip (inline or a definition); False when it cannot play."""
        ok = True
        if clip.chords is not None and not self._chords(clip, path):
            ok = False
        if (clip.transpose_degrees or clip.scale_quantize) and self.key is None:
            what = "transpose_degrees" if clip.transpose_degrees else "scale_quantize"
            self.problems.add((*path, what), 'needs the song\'s key; add key = "D minor" (or '
                              "yours) to [song]")
            ok = False
        if clip.pattern is not None and (clip.transpose_degrees or clip.scale_quantize
                                         or clip.arp is not None or clip.voicing is not None):
            self.problems.add(path, "transpose_degrees, scale_quantize, arp and voicing do "
                              "nothing on a drum pattern; remove them")
            ok = False
        elif clip.voicing is not None and clip.chords is None:
            self.problems.add((*path, "voicing"), "does nothing without chords; remove it "
                              'or add chords = "..."')
            ok = False
        return ok

    def _chords(self, clip: Clip, path: Path_) -> bool:
        cpath = (*path, "chords")
        chords = clip.chords
        symbols: list[str] = []
        try:
            if isinstance(chords, str):
                bars = chart_bars(chords)
                if not bars:
                    self.problems.add(cpath, 'has no chords; write e.g. "Dm9 | G13 | Cmaj9"')
                    return False
                symbols = [s for bar in bars for s in bar if s not in (HOLD, REST)]
                if bars[0][0] == HOLD:
                    self.problems.add(cpath, "the first slot holds no chord; start with a "
                                      "chord symbol or '-'")
                    return False
            else:
                assert chords is not None
                for i, (pos, sym) in enumerate(chords):
                    if isinstance(pos, str) and pos.strip().endswith("s"):
                        self.problems.add((*cpath, i), f"{pos!r}: chord positions are beats "
                                          "from the clip start or 'bar:beat' in the clip")
                        return False
                    symbols.append(sym)
                if clip.length is None and clip.bars is None:
                    self.problems.add(cpath, "a list of chords needs the clip's length; add "
                                      "length (beats) or bars")
                    return False
            for sym in symbols:
                parse_chord(sym)
        except ModelError as exc:
            self.problems.add(cpath, str(exc))
            return False
        return True

    # -- placements ----------------------------------------------------------------------------

    def place(self, clip: Clip, path: Path_, meter: MeterMap, start_b: float) -> Clip | None:
        """The clip a track's clip plays (its definition filled in), or None when it cannot
        play (the problem is recorded)."""
        if clip.use is None:
            return clip if self.content(clip, path) else None
        defs = self.p.clips
        if clip.use not in defs:
            known = sorted(defs)
            hint = closest(clip.use, known, list_known=False) or (
                f"; definitions: {', '.join(known)}" if known else
                f"; define it as [clips.{clip.use}] with its notes, pattern or chords")
            self.problems.add((*path, "use"), f"no clip definition {clip.use!r}{hint}")
            return None
        if clip.use in self.bad:
            return None  # reported at the definition
        placed = placed_clip(clip, defs)
        if placed.pattern is not None and placed.transpose:
            self.problems.add((*path, "transpose"), f"{clip.use!r} is a drum pattern; "
                              "transpose does nothing on it; remove it")
            return None
        if not self.content(placed, path):
            return None
        if clip.loop:
            period = loop_period_beats(clip, defs, meter, start_b)
            if period is None:
                self.problems.add((*path, "loop"), f"a loop repeats the definition's length, "
                                  f"and [clips.{clip.use}] has none; add length or bars to it")
                return None
            self.periods[path] = period
        return placed

    def check_pitches(self, clip: Clip, notes: Any, path: Path_, meter: MeterMap,
                      drums: Mapping[str, int]) -> None:
        """Chords, scale degrees, the arpeggiator and transposition must stay in 0..127."""
        if clip.pattern is not None or not (clip.chords or clip.use or clip.arp is not None
                                            or clip.transpose_degrees or clip.scale_quantize):
            return
        start_b = 0.0
        try:
            raw = raw_notes(clip, notes, dict(drums), start_b,
                            clip_length_beats(clip, meter, start_b), meter=meter, key=self.key)
        except (MixdownError, ValueError) as exc:
            self.problems.add(path, str(exc))
            return
        bad = sorted({p for _, _, p, _ in raw if not 0 <= p <= 127})
        if bad:
            self.problems.add(path, f"plays pitch {bad[0]}, outside MIDI 0..127; change "
                              "transpose, the voicing's octave or the arpeggiator's octaves")

    def period(self, path: Path_) -> float | None:
        """The loop period in beats of the placement at ``path`` (None: no loop)."""
        return self.periods.get(path)


__all__ = ["ClipChecks"]
