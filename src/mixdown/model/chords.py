"""Chord symbols and voicings: ``Dm9``, ``G13``, ``Cmaj9``, ``A7b9``, ``F#m7b5``, ``C/E``.

A small parser of ours (no dependency): a root (``C``, ``F#``, ``Bb``), a quality
(``m``, ``dim``, ``aug``, ``sus2``/``sus4``, ``5``, ``maj``), an extension (``6``, ``7``, ``9``,
``11``, ``13``, ``6/9``), additions (``add9``) and alterations (``b5``, ``#5``, ``b9``, ``#9``,
``#11``, ``b13``), and an optional bass note after a slash. Chord tones are semitones above
the root, stacked as the symbol spells them (a 9 above the octave). Thirteenth chords leave
out the 11th, except minor ones (jazz practice: the 11th clashes with a major third).

Voicings (:class:`Voicing`) place those tones in a register: ``close`` stacks them from the
bottom note up, ``drop2``/``drop3`` move the second/third voice from the top down an octave,
``open`` spreads a triad (root, fifth, third above) and drops the 2nd and 4th voices of larger
chords. ``inversion`` puts that many of the lowest tones an octave up. With
``voice_leading`` each chord after the first takes the inversion and octave nearest to the
chord before it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from mixdown.core.errors import ModelError

PITCH_CLASSES = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}

_ROOT = re.compile(r"^([A-G])(#|b|♯|♭)?")


class Voicing(BaseModel):
    """How a chord clip places its chords' tones.

    Attributes
    ----------
    style : {"close", "open", "drop2", "drop3"}
        Spacing of the tones (see the module docstring).
    inversion : int
        How many of the lowest tones go up an octave (0 = root position); for the first
        chord only when ``voice_leading`` is on.
    octave : int
        Register: the root of a root-position chord sits in this octave (4: C4..B4, C4 = 60).
    voice_leading : bool
        Each chord after the first takes the inversion and octave (of the same style) whose
        tones move least from the chord before it.
    velocity : int
        Velocity of every chord tone, 1..127.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    style: Literal["close", "open", "drop2", "drop3"] = "close"
    inversion: int = Field(default=0, ge=0, le=6)
    octave: int = Field(default=4, ge=0, le=8)
    voice_leading: bool = False
    velocity: int = Field(default=90, ge=1, le=127)


@dataclass(frozen=True, slots=True)
class Chord:
    """A parsed chord symbol: ``root`` pitch class 0..11, ``intervals`` in semitones above
    the root (ascending, starting with 0), ``bass`` pitch class of a slash chord or None."""

    symbol: str
    root: int
    intervals: tuple[int, ...]
    bass: int | None = None


def _pitch_class(text: str) -> tuple[int, int] | None:
    """(pitch class, characters read) of a note name at the start of ``text``."""
    m = _ROOT.match(text)
    if not m:
        return None
    pc = PITCH_CLASSES[m.group(1)]
    acc = m.group(2) or ""
    pc += 1 if acc in ("#", "♯") else -1 if acc in ("b", "♭") else 0
    return pc % 12, m.end()


def _unknown(symbol: str, why: str) -> ModelError:
    return ModelError(f"unknown chord symbol {symbol!r} ({why}); write e.g. C, Cm, C7, Cmaj7, "
                      "Cm7b5, Cdim7, Csus4, C9, C13, C7b9, C/E")


# Suffix tokens; the longest one that matches is read ("maj" before "m").
_TOKENS = (
    "(", ")", ",", "mmaj", "mMaj", "minmaj", "minMaj", "maj", "Maj", "min", "dim", "aug",
    "sus2", "sus4", "sus",
    "add9", "add11", "add13", "add2", "add4", "add6", "6/9", "69", "13", "11", "9", "7", "6", "5",
    "b5", "#5", "b9", "#9", "#11", "b13", "+5", "-5", "alt", "no3", "no5",
    "M", "m", "-", "+", "°", "o", "ø", "Δ", "^",
)
_BY_LENGTH = sorted(_TOKENS, key=len, reverse=True)


def parse_chord(symbol: str) -> Chord:
    """Parse a chord symbol.

    Parameters
    ----------
    symbol : str
        ``Dm9``, ``G13``, ``A7b9``, ``F#m7b5``, ``Bbsus4``, ``C/E``...

    Returns
    -------
    Chord

    Raises
    ------
    ModelError
        The symbol is not one this parser knows; the message names it.
    """
    text = symbol.strip()
    head = _pitch_class(text)
    if head is None:
        raise _unknown(symbol, "it must start with a note name A..G")
    root, i = head
    rest = text[i:]
    bass = None
    slash = rest.rfind("/")
    if slash >= 0 and rest[slash - 1:slash + 2] != "6/9":
        tail = rest[slash + 1:]
        found = _pitch_class(tail)
        if found is None or found[1] != len(tail):
            raise _unknown(symbol, f"the bass after '/' must be a note name, got {tail!r}")
        bass = found[0]
        rest = rest[:slash]
    tokens = []
    j = 0
    while j < len(rest):
        tok = next((t for t in _BY_LENGTH if rest.startswith(t, j)), None)
        if tok is None:
            raise _unknown(symbol, f"cannot read {rest[j:]!r}")
        tokens.append(tok)
        j += len(tok)
    return Chord(symbol, root, _intervals(symbol, tokens), bass)


def _intervals(symbol: str, tokens: list[str]) -> tuple[int, ...]:
    third, fifth = 4, 7
    seventh: int | None = None
    major7 = False
    ext = 0
    adds: set[int] = set()
    alter: dict[int, int] = {}  # degree -> semitones
    sus: int | None = None
    quality = ""
    no3 = no5 = False
    k = 0
    while k < len(tokens):
        t = tokens[k]
        nxt = tokens[k + 1] if k + 1 < len(tokens) else None
        if t in ("(", ")", ","):
            pass
        elif t in ("m", "min", "-") and not quality and k == 0:
            quality, third = "minor", 3
        elif t in ("mmaj", "mMaj", "minmaj", "minMaj"):
            quality, third, major7 = "minor", 3, True
        elif t in ("M", "maj", "Maj", "Δ", "^"):
            major7 = True
        elif t in ("dim", "°", "o"):
            quality, third, fifth = "dim", 3, 6
        elif t in ("aug", "+") and nxt not in ("5",):
            quality, fifth = "aug", 8
        elif t == "ø":
            quality, third, fifth, seventh = "half", 3, 6, 10
        elif t in ("sus", "sus4"):
            sus = 5
        elif t == "sus2":
            sus = 2
        elif t in ("6/9", "69"):
            adds |= {9, 14}
        elif t == "6":
            adds.add(9)
        elif t == "5" and k == 0:
            quality = "power"
        elif t in ("7", "9", "11", "13"):
            ext = max(ext, int(t))
        elif t.startswith("add"):
            adds.add({"add9": 14, "add2": 2, "add11": 17, "add4": 5, "add13": 21,
                      "add6": 9}[t])
        elif t in ("b5", "-5"):
            alter[5] = 6
        elif t in ("#5", "+5"):
            alter[5] = 8
        elif t == "b9":
            alter[9] = 13
        elif t == "#9":
            alter[9] = 15
        elif t == "#11":
            alter[11] = 18
        elif t == "b13":
            alter[13] = 20
        elif t == "alt":
            alter.update({5: 6, 9: 13, 13: 20})
        elif t == "no3":
            no3 = True
        elif t == "no5":
            no5 = True
        else:
            raise _unknown(symbol, f"{t!r} is out of place")
        k += 1
    if quality == "power":
        if ext or adds or alter or sus or major7:
            raise _unknown(symbol, "a power chord (5) takes nothing more")
        return (0, 7)
    if major7 and not ext:
        ext = 7  # "Cmaj", "CM" alone: a major seventh chord only when a number follows
        if quality == "" and not any(t in ("7", "9", "11", "13") for t in tokens):
            major7, ext = False, 0
    tones = {0, third if sus is None else sus, fifth}
    if alter.get(5) is not None:
        tones.discard(fifth)
        tones.add(alter.pop(5))
    if quality == "half" or alter.get(9) or alter.get(11) or alter.get(13):
        ext = max(ext, 7)
    if ext:
        if seventh is None:
            seventh = 11 if major7 else 9 if quality == "dim" else 10
        tones.add(seventh)
    if ext >= 9:
        tones.add(14)
    if ext >= 11 and (ext == 11 or quality in ("minor", "half")):
        tones.add(17)
    if ext >= 13:
        tones.add(21)
    for degree, semis in alter.items():
        tones.discard({9: 14, 11: 17, 13: 21}[degree])
        tones.add(semis)
    tones |= adds
    if sus is not None:
        tones -= {3, 4}
    if ext == 11 and quality == "" and sus is None:
        tones.discard(4)  # a dominant 11th chord has no major third (C11 = C G Bb D F)
    if no3:
        tones -= {3, 4}
    if no5:
        tones -= {6, 7, 8}
    return tuple(sorted(tones))


def chord_pitches(chord: Chord, voicing: Voicing, *, inversion: int | None = None,
                  shift: int = 0) -> list[int]:
    """MIDI pitches of ``chord`` voiced by ``voicing`` (bass note of a slash chord first).

    Parameters
    ----------
    chord : Chord
    voicing : Voicing
    inversion : int, optional
        Overrides ``voicing.inversion``.
    shift : int
        Semitones added to every upper tone (the voice-leading search moves whole octaves).
    """
    inv = voicing.inversion if inversion is None else inversion
    base = 12 * (voicing.octave + 1) + chord.root
    notes = sorted(base + i for i in chord.intervals)
    for _ in range(inv % max(len(notes), 1)):
        low = notes.pop(0)
        top = notes[-1] if notes else low
        while low <= top:
            low += 12
        notes.append(low)
    notes = _spread(notes, voicing.style)
    notes = sorted(n + shift for n in notes)
    if chord.bass is not None:
        bass = notes[0] - 1
        while bass % 12 != chord.bass:
            bass -= 1
        notes.insert(0, bass)
    return notes


def _spread(notes: list[int], style: str) -> list[int]:
    n = len(notes)
    out = list(notes)
    if style == "drop2" and n >= 3:
        out[n - 2] -= 12
    elif style == "drop3" and n >= 4:
        out[n - 3] -= 12
    elif style == "open":
        if n == 3:
            out[1] += 12
        elif n >= 4:
            out[n - 2] -= 12
            out[n - 4] -= 12
    return sorted(out)


def _distance(a: list[int], b: list[int]) -> float:
    """How far the voices move from ``a`` to ``b`` (semitones)."""
    if len(a) == len(b):
        return float(sum(abs(x - y) for x, y in zip(a, b, strict=True)))
    return float(sum(min(abs(x - y) for y in b) for x in a)
                 + sum(min(abs(x - y) for x in a) for y in b)) / 2


def voice_chords(chords: list[Chord], voicing: Voicing) -> list[list[int]]:
    """The pitches of each chord in order; with ``voice_leading``, each chord after the first
    takes the inversion and octave shift (-1, 0 or +1 octave) that moves its upper voices
    least (ties: the one nearest the first chord's register, then the lower inversion)."""
    out: list[list[int]] = []
    prev: list[int] | None = None
    first_mean = 0.0
    for chord in chords:
        if prev is None or not voicing.voice_leading:
            pitches = chord_pitches(chord, voicing)
        else:
            best: tuple[float, float, int, int] | None = None
            pitches = []
            for inv in range(len(chord.intervals)):
                for shift in (0, -12, 12):
                    cand = chord_pitches(chord, voicing, inversion=inv, shift=shift)
                    upper = cand[1:] if chord.bass is not None else cand
                    key = (_distance(prev, upper), abs(sum(upper) / len(upper) - first_mean),
                           inv, abs(shift))
                    if best is None or key < best:
                        best, pitches = key, cand
        upper = pitches[1:] if chord.bass is not None else pitches
        if prev is None:
            first_mean = sum(upper) / len(upper)
        prev = upper
        out.append(pitches)
    return out




# -- a chord clip's timeline ---------------------------------------------------------------------

HOLD, REST, REPEAT_BAR = ".", "-", "%"


def chart_bars(text: str) -> list[list[str]]:
    """A bar chart (``"Dm9 . G13 . | Cmaj9 | % | A7b9"``) as its bars of slots.

    Bars are separated by ``|`` or line breaks (empty bars between them are skipped); the
    slots of a bar share it evenly. A slot is a chord symbol, ``.`` (the chord before goes
    on), ``-`` (silence); a bar that is only ``%`` repeats the bar before.
    """
    bars: list[list[str]] = []
    for line in text.splitlines():
        for part in line.split("|"):
            slots = part.split()
            if not slots:
                continue
            if slots == [REPEAT_BAR]:
                if not bars:
                    raise ModelError("'%' repeats the bar before; the first bar has none")
                slots = list(bars[-1])
            bars.append(slots)
    return bars


def chord_timeline(chords: str | tuple[tuple[float | str, str], ...],
                   bar_beats: list[float] | None, bar_of: object = None,
                   length: float | None = None) -> list[tuple[float, float, str]]:
    """(start, end, symbol) of each chord, in beats from the clip start.

    Parameters
    ----------
    chords : str or sequence of (position, symbol)
        A bar chart (:func:`chart_bars`), or chords at positions in the clip: beats from
        its start, or ``"bar:beat"`` counted from the clip's first bar (``"1:1"``).
    bar_beats : list of float
        For a chart: the length in beats of each of its bars.
    bar_of : callable, optional
        For positions: ``bar_of(bar, beat)`` -> beats from the clip start.
    length : float, optional
        The clip's length in beats (the last chord of a list lasts until it).
    """
    out: list[tuple[float, float, str]] = []
    if isinstance(chords, str):
        t = 0.0
        current: tuple[float, str] | None = None
        assert bar_beats is not None
        for slots, beats in zip(chart_bars(chords), bar_beats, strict=False):
            size = beats / len(slots)
            for k, slot in enumerate(slots):
                at = t + k * size
                if slot == HOLD:
                    continue
                if current is not None:
                    out.append((current[0], at, current[1]))
                current = None if slot == REST else (at, slot)
            t += beats
        if current is not None:
            out.append((current[0], t, current[1]))
        return out
    points = []
    for pos, symbol in chords:
        if isinstance(pos, str):
            m = re.fullmatch(r"\s*(\d+)\s*:\s*(\d+(?:\.\d+)?)\s*", pos)
            if not m or bar_of is None:
                raise ModelError(f"chord position {pos!r} must be beats from the clip start "
                                 "or 'bar:beat' in the clip ('1:1' is its start)")
            at = bar_of(int(m.group(1)), float(m.group(2)))  # type: ignore[operator]
        else:
            at = float(pos)
        points.append((at, symbol))
    points.sort(key=lambda p: p[0])
    for i, (at, symbol) in enumerate(points):
        end = points[i + 1][0] if i + 1 < len(points) else length
        if end is None:
            raise ModelError("a chord list needs the clip's length (length or bars) for its "
                             "last chord")
        if end > at and symbol not in (REST, HOLD):
            out.append((at, end, symbol))
    return out


__all__ = ["Chord", "Voicing", "chart_bars", "chord_pitches", "chord_timeline", "parse_chord",
           "voice_chords"]
