"""DAWproject clips: ``Clip`` + ``Notes`` -> note clips, ``Clip`` + ``Audio``/``Warps`` -> audio
clips (offset, fades, loop); nested ``Clips`` flattened, alias clips resolved.
"""

from __future__ import annotations

import bisect
from typing import Any

from mixdown.io.dawproject_common import _Chan, _ReaderBase, _round, finite, get_extras
from mixdown.model.project import Clip, Device, Humanize, Note

STRETCH_TOLERANCE = 1e-3
"""Relative difference between a warped clip's rate and the tempo's that counts as a stretch."""


class _ClipReader(_ReaderBase):
    """Places clips on channels."""

    def _clip(self, el: Any, chan: _Chan, base: float, window: tuple[float, float],
              unit: str, outer_name: str | None = None) -> None:
        """Place one Clip whose ``time`` is counted from ``base`` song beats (``unit`` says
        whether it is in beats or seconds), kept inside ``window`` (song beats)."""
        name = el.get("name") or outer_name
        label = name or "clip"
        if el.get("enable") == "false":
            self.drop(f"{chan.name}: the disabled clip {label!r} dropped")
            return
        t = finite(el.get("time"), 0.0) or 0.0
        start = base + t if unit == "beats" else self.tempo.seconds_to_beats(
            self.tempo.beats_to_seconds(base) + t)
        dur = finite(el.get("duration"))
        if dur is None:
            self.drop(f"{chan.name}: clip {label!r} has no duration; dropped")
            return
        end = start + dur if unit == "beats" else self.tempo.seconds_to_beats(
            self.tempo.beats_to_seconds(start) + dur)
        lo, hi = max(start, window[0]), min(end, window[1])
        if hi <= lo + 1e-12:
            return
        content = self._content(el)
        if content is None:
            self.drop(f"{chan.name}: clip {label!r} is empty; dropped")
            return
        cunit = el.get("contentTimeUnit") or ("seconds" if content.tag == "Audio" else "beats")
        play = finite(el.get("playStart"), 0.0) or 0.0
        cut = lo - start  # beats lost at the front to the window
        if content.tag == "Notes":
            if cunit != "beats":
                self.drop(f"{chan.name}: clip {label!r} has notes timed in seconds; dropped")
                return
            self._note_clip(el, content, chan, lo, hi, play + cut, name)
        elif content.tag in ("Audio", "Warps"):
            self._audio_clip(el, content, chan, lo, hi, start, play, cunit, name)
        elif content.tag == "Clips":
            inner_base = start - play if cunit == "beats" else start
            if cunit != "beats":
                self.drop(f"{chan.name}: clip {label!r} nests clips timed in seconds; "
                          "placed from the clip start")
            for inner in content:
                if inner.tag == "Clip":
                    self._clip(inner, chan, inner_base, (lo, hi), "beats", name)
        else:
            self.drop(f"{chan.name}: clip {label!r} holds {content.tag}; dropped")

    def _content(self, el: Any) -> Any | None:
        ref = el.get("reference")
        if ref:
            return self.ids.get(ref)
        for c in el:
            if isinstance(c.tag, str):
                return c
        return None

    def _note_clip(self, el: Any, notes_el: Any, chan: _Chan, lo: float, hi: float,
                   play: float, name: str | None) -> None:
        if chan.kind != "track":
            self.drop(f"{chan.name}: note clips on a bus or the master; dropped")
            return
        length = hi - lo
        loop_s, loop_e = finite(el.get("loopStart")), finite(el.get("loopEnd"))
        src: list[tuple[float, float, int, int]] = []
        for n in notes_el:
            if n.tag != "Note":
                continue
            t, d = finite(n.get("time")), finite(n.get("duration"))
            key = int(n.get("key"))
            if t is None or d is None or d <= 0 or not 0 <= key <= 127:
                self.drop(f"{chan.name}: a note with key {key} at {n.get('time')} dropped")
                continue
            vel = finite(n.get("vel"))
            v = 100 if vel is None else min(127, max(1, round(vel * 127)))
            src.append((t, d, key, v))
        out: list[Note] = []
        if loop_s is not None and loop_e is not None and loop_e > loop_s and (
                play + length > loop_e + 1e-9):
            period = loop_e - loop_s
            pos, content_pos = 0.0, play  # clip beats, content beats
            while pos < length - 1e-9:
                seg_end = loop_e if content_pos < loop_e else content_pos + period
                span = min(seg_end - content_pos, length - pos)
                for t, d, k, v in src:
                    if content_pos - 1e-9 <= t < content_pos + span - 1e-9:
                        out.append(Note(pitch=k, start=_round(pos + t - content_pos),
                                        length=d, velocity=v))
                pos += span
                content_pos = loop_s if content_pos + span >= loop_e - 1e-9 else \
                    content_pos + span
        else:
            skipped = 0
            for t, d, k, v in src:
                if t < play - 1e-9:
                    skipped += 1
                    continue
                if t - play < length - 1e-9:
                    out.append(Note(pitch=k, start=_round(t - play), length=d, velocity=v))
            if skipped:
                self.drop(f"{chan.name}: {skipped} notes before the clip's play start dropped")
        extras = get_extras(el)
        humanize = None
        if isinstance(extras.get("humanize"), dict):
            try:
                humanize = Humanize(**extras["humanize"])
            except ValueError:
                humanize = None
        if chan.instrument is None:
            chan.instrument = Device(type="synth")
            self.drop(f"{chan.name}: has notes but no instrument; plays the built-in synth")
        chan.clips.append(Clip(name=name, start=_round(lo), length=_round(length),
                               notes=tuple(out), humanize=humanize))
        chan.notes += len(out)
        self.clips += 1
        self.end = max(self.end, hi)

    def _audio_clip(self, el: Any, content: Any, chan: _Chan, lo: float, hi: float,
                    start: float, play: float, cunit: str, name: str | None) -> None:
        label = name or "clip"
        if content.tag == "Warps":
            audio = next((c for c in content if c.tag == "Audio"), None)
            warps = sorted((finite(w.get("time"), 0.0) or 0.0,
                             finite(w.get("contentTime"), 0.0) or 0.0)
                            for w in content if w.tag == "Warp")
            if audio is None or len(warps) < 2 or content.get("contentTimeUnit") != "seconds":
                self.drop(f"{chan.name}: clip {label!r}: warped content mixdown cannot read; "
                          "dropped")
                return
            # the content time (s) where the clip starts playing, from its beats
            wt = [w[0] for w in warps]
            wc = [w[1] for w in warps]
            play_b = play + (lo - start)
            offset = _interp(play_b, wt, wc)
            # rate of the warp against the song tempo at the clip's start
            beats_span = (warps[-1][0] - warps[0][0])
            secs_song = (self.tempo.beats_to_seconds(lo + beats_span)
                         - self.tempo.beats_to_seconds(lo))
            secs_file = warps[-1][1] - warps[0][1]
            if secs_song > 0 and abs(secs_file / secs_song - 1.0) > STRETCH_TOLERANCE:
                self.drop(f"{chan.name}: clip {label!r} is time-stretched "
                          f"({secs_file / secs_song:.3f}x); mixdown plays it at its own speed")
        else:
            audio = content
            if cunit == "beats":
                offset = self.tempo.beats_to_seconds(start + play) - self.tempo.beats_to_seconds(
                    start)
            else:
                offset = play
            offset += self.tempo.beats_to_seconds(lo) - self.tempo.beats_to_seconds(start)
        if chan.kind != "track":
            self.drop(f"{chan.name}: audio clips on a bus or the master; dropped")
            return
        file_ref = audio.find("File")
        path = self._member(file_ref, f"{chan.name}: clip {label!r}", "audio", audio=True)
        extras = get_extras(el)
        fade_unit = el.get("fadeTimeUnit") or "beats"
        fin = finite(el.get("fadeInTime"), 0.0) or 0.0
        fout = finite(el.get("fadeOutTime"), 0.0) or 0.0
        if fade_unit == "beats":
            fin = self.tempo.beats_to_seconds(lo + fin) - self.tempo.beats_to_seconds(lo)
            fout = self.tempo.beats_to_seconds(hi) - self.tempo.beats_to_seconds(hi - fout)
        loop = False
        ls, le = finite(el.get("loopStart")), finite(el.get("loopEnd"))
        file_s = finite(audio.get("duration"), 0.0) or 0.0
        clip_s = self.tempo.beats_to_seconds(hi) - self.tempo.beats_to_seconds(lo)
        if ls is not None and le is not None and le > ls and content.tag == "Audio" and (
                cunit == "seconds") and offset + clip_s > le + 1e-6:
            loop = True
            if abs(ls - offset) > 1e-6 or abs(le - file_s) > 1e-6:
                self.drop(f"{chan.name}: clip {label!r} loops {ls:g}..{le:g} s; mixdown loops "
                          "from the clip's offset to the end of the file")
        gain = extras.get("gain_db", 0.0)
        kwargs: dict[str, Any] = {
            "name": name, "start": _round(lo), "file": path,
            "offset_s": _round(max(offset, 0.0)), "fade_in_s": _round(max(fin, 0.0)),
            "fade_out_s": _round(max(fout, 0.0)), "loop": loop}
        if not extras.get("to_end"):
            kwargs["length"] = _round(hi - lo)
        if isinstance(gain, int | float) and gain != 0:
            kwargs["gain_db"] = float(gain)
        chan.clips.append(Clip(**kwargs))
        self.clips += 1
        self.end = max(self.end, hi)


def _interp(x: float, xs: list[float], ys: list[float]) -> float:
    i = min(max(bisect.bisect_right(xs, x) - 1, 0), len(xs) - 2)
    x0, x1, y0, y1 = xs[i], xs[i + 1], ys[i], ys[i + 1]
    return y0 if x1 == x0 else y0 + (y1 - y0) * (x - x0) / (x1 - x0)
