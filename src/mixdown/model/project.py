"""The project model: a song as frozen, validated data (no I/O, no DSP).

Positions are musical: a number is beats (quarter notes from the song start),
``"bar:beat"`` is 1-based (``"5:1"`` is the first beat of bar 5), ``"12.5s"`` is
seconds. The engine resolves them with :class:`mixdown.core.time.TempoMap`.
Cross-references (send and output targets, sidechains) are by unique name and are
checked when the project is built, so that the engine never meets a dangling name.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from mixdown.core.errors import ModelError
from mixdown.core.names import close_matches
from mixdown.core.time import is_position
from mixdown.core.units import note_name_to_midi
from mixdown.model.arp import Arp
from mixdown.model.chords import Voicing
from mixdown.model.clip_edit import EDIT_KEYS, FadeShape, check_stretch
from mixdown.model.keys import parse_key
from mixdown.model.modulators import Modulator
from mixdown.model.takes import CompRange, Take


def _not_bool(value: Any) -> Any:
    if isinstance(value, bool):  # pydantic would read true as 1.0 beats
        raise ValueError(
            f"must be beats (16), 'bar:beat' ('5:1') or seconds ('12.5s'), got {value!r}"
        )
    return value


Position = Annotated[float | str, BeforeValidator(_not_bool)]
"""Beats (float), ``"bar:beat"`` or ``"<seconds>s"``."""

SAMPLE_RATES = (44_100, 48_000, 88_200, 96_000)
MASTER = "master"

VOLUME_DB_RANGE = (-144.0, 24.0)
"""Faders and send levels in dB (fixed values and automation alike)."""

PAN_RANGE = (-1.0, 1.0)
"""Pan, hard left to hard right (fixed values and automation alike)."""

AUDIO_CLIP_KEYS = ("offset_s", "gain_db", "fade_in_s", "fade_out_s", "loop", *EDIT_KEYS)
NOTE_CLIP_KEYS = ("step", "swing", "transpose", "humanize", "transpose_degrees",
                  "scale_quantize", "arp", "voicing")


class Spec(BaseModel):
    """Base of every model class: frozen, no unknown fields, finite numbers only."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


def _check_position(value: Any) -> Any:
    if not is_position(value):
        raise ValueError(
            f"must be beats (16), 'bar:beat' ('5:1') or seconds ('12.5s'), got {value!r}"
        )
    return float(value) if isinstance(value, int) else value


class TempoPoint(Spec):
    """A tempo from ``at`` on; with ``ramp`` the tempo glides linearly (in beats) to it."""

    at: Position = 0.0
    bpm: float = Field(gt=0, le=999)
    ramp: bool = False

    _pos = field_validator("at")(classmethod(lambda cls, v: _check_position(v)))


class TimeSignatureChange(Spec):
    """A time signature starting at a bar (1-based)."""

    bar: int = Field(ge=1)
    signature: tuple[int, int]

    @field_validator("signature")
    @classmethod
    def _sig(cls, v: tuple[int, int]) -> tuple[int, int]:
        if v[0] < 1 or v[1] not in (1, 2, 4, 8, 16, 32):
            raise ValueError(f"must be [numerator >= 1, denominator 1/2/4/8/16/32], got {list(v)}")
        return v


class Marker(Spec):
    """A named position; a section runs from its marker to the next marker (or the end)."""

    name: str = Field(min_length=1)
    at: Position

    _pos = field_validator("at")(classmethod(lambda cls, v: _check_position(v)))


class Song(Spec):
    """Song-wide settings."""

    title: str = "Untitled"
    artist: str = ""
    sample_rate: int = 48_000
    tempo: float = Field(default=120.0, gt=0, le=999)
    time_signature: tuple[int, int] = (4, 4)
    tempo_map: tuple[TempoPoint, ...] = ()
    time_signatures: tuple[TimeSignatureChange, ...] = ()
    length: Position | None = None
    tail_s: float = Field(default=2.0, ge=0, le=60)
    key: str | None = None

    @field_validator("key")
    @classmethod
    def _key(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                parse_key(v)
            except ModelError as exc:
                raise ValueError(str(exc)) from None
        return v

    @field_validator("sample_rate")
    @classmethod
    def _rate(cls, v: int) -> int:
        if v not in SAMPLE_RATES:
            raise ValueError(f"must be one of {', '.join(map(str, SAMPLE_RATES))} Hz, got {v}")
        return v

    @field_validator("time_signature")
    @classmethod
    def _sig(cls, v: tuple[int, int]) -> tuple[int, int]:
        return TimeSignatureChange._sig(v)  # type: ignore[operator]

    @field_validator("length")
    @classmethod
    def _len(cls, v: Any) -> Any:
        return None if v is None else _check_position(v)


class Device(Spec):
    """An insert device or instrument: a registered ``type`` and its parameters.

    Parameters are checked against the device registry by
    :func:`mixdown.resolve.resolve_project`, not here: the model knows no DSP.
    """

    type: str = Field(min_length=1)
    name: str | None = None
    bypass: bool = False
    params: dict[str, Any] = Field(default_factory=dict)


class Note(Spec):
    """A note inside a clip: pitch (MIDI number or name), start and length in beats from the
    clip start, velocity 1..127."""

    pitch: int
    start: float = Field(ge=0)
    length: float = Field(gt=0)
    velocity: int = Field(default=100, ge=1, le=127)

    @field_validator("pitch", mode="before")
    @classmethod
    def _pitch(cls, v: Any) -> Any:
        if isinstance(v, str):
            try:
                return note_name_to_midi(v)
            except ModelError as exc:
                raise ValueError(str(exc)) from None
        return v

    @field_validator("pitch")
    @classmethod
    def _range(cls, v: int) -> int:
        if not 0 <= v <= 127:
            raise ValueError(f"must be a MIDI note 0..127 or a name like 'C4', got {v}")
        return v


class Humanize(Spec):
    """Seeded random variation of a note clip's notes (the same seed renders the same bytes).

    Each note moves by up to ``timing_ms`` milliseconds either way and its velocity by up to
    ``velocity`` either way (kept in 1..127).
    """

    timing_ms: float = Field(default=0.0, ge=0, le=100)
    velocity: int = Field(default=0, ge=0, le=64)
    seed: int = Field(default=0, ge=0)


class Clip(Spec):
    """A region on a track: audio from a file, or notes (inline, a drum pattern or a MIDI file).

    ``start`` is where the clip begins in the song. Its length is ``length`` (beats),
    ``bars``, or for audio the rest of the file.
    """

    name: str | None = None
    start: Position = 0.0
    length: float | None = Field(default=None, gt=0)
    bars: float | None = Field(default=None, gt=0)
    # audio clips
    file: str | None = None
    offset_s: float = Field(default=0.0, ge=0)
    gain_db: float = Field(default=0.0, ge=-96, le=48)
    fade_in_s: float = Field(default=0.0, ge=0)
    fade_out_s: float = Field(default=0.0, ge=0)
    loop: bool = False
    # audio clip editing (model.clip_edit)
    fade_in_shape: FadeShape = "linear"
    fade_out_shape: FadeShape = "linear"
    crossfade_s: float = Field(default=0.0, ge=0, le=60)
    crossfade_shape: FadeShape = "equal_power"
    stretch: float | Literal["fit"] | None = None
    pitch_semitones: float = Field(default=0.0, ge=-24, le=24)
    preserve_formants: bool = False
    source_bpm: float | None = Field(default=None, ge=20, le=400)
    reverse: bool = False
    normalize_db: float | None = Field(default=None, ge=-60, le=0)
    # note clips
    notes: tuple[Note, ...] = ()
    pattern: dict[str, str] | None = None
    step: float = Field(default=0.25, gt=0)
    swing: float = Field(default=0.0, ge=0, le=0.75)
    midi: str | None = None
    transpose: int = Field(default=0, ge=-48, le=48)
    humanize: Humanize | None = None
    # reusable clips, chords, keys and the arpeggiator (model.chords, model.keys, model.arp)
    use: str | None = Field(default=None, min_length=1)
    chords: str | tuple[tuple[Position, str], ...] | None = None
    voicing: Voicing | None = None
    transpose_degrees: int = Field(default=0, ge=-28, le=28)
    scale_quantize: bool = False
    arp: Arp | None = None

    _pos = field_validator("start")(classmethod(lambda cls, v: _check_position(v)))
    _stretch = field_validator("stretch", mode="before")(
        classmethod(lambda cls, v: check_stretch(v)))

    @model_validator(mode="after")
    def _one_source(self) -> Clip:
        sources = [
            k for k, v in (("file", self.file), ("notes", self.notes),
                           ("pattern", self.pattern), ("midi", self.midi),
                           ("chords", self.chords), ("use", self.use)) if v
        ]
        if len(sources) > 1:
            raise ValueError(f"a clip has one source; this one has {' and '.join(sources)}")
        if self.length is not None and self.bars is not None:
            raise ValueError("give either length (beats) or bars, not both")
        if self.stretch is not None and self.source_bpm is not None:
            raise ValueError("give either stretch or source_bpm (which sets the stretch from "
                             "the song's tempo), not both")
        kind = self.kind
        wrong = (NOTE_CLIP_KEYS if kind == "audio" else AUDIO_CLIP_KEYS if kind == "notes"
                 else ())
        # A key counts when set to something other than its default (a dumped and
        # re-validated clip carries every key at its default: that is no mistake).
        fields = type(self).model_fields
        given = [k for k in wrong
                 if k in self.model_fields_set and getattr(self, k) != fields[k].default
                 and not (k == "loop" and self.use)]  # a placed definition may loop
        if self.pattern is not None and self.transpose != 0:
            given.append("transpose")
        if given:
            what = ("an audio clip" if kind == "audio" else
                    "a drum pattern" if given == ["transpose"] else "a note clip")
            raise ValueError(f"{', '.join(given)}: {'does' if len(given) == 1 else 'do'} "
                             f"nothing on {what}; remove {'it' if len(given) == 1 else 'them'}")
        if self.pattern is not None:
            for voice, steps in self.pattern.items():
                bad = sorted(set(steps) - set(PATTERN_CHARS) - {" ", "|"})
                if bad:
                    raise ValueError(
                        f"pattern {voice!r}: unknown step characters {''.join(bad)!r}; "
                        f"use {PATTERN_HELP}"
                    )
        return self

    @property
    def kind(self) -> Literal["audio", "notes", "empty"]:
        """What the clip plays."""
        if self.file:
            return "audio"
        if self.notes or self.pattern or self.midi or self.chords or self.use:
            return "notes"
        return "empty"


PATTERN_CHARS = {".": 0, "-": 0, "x": 100, "X": 127, "o": 64}
PATTERN_HELP = "'x' hit (velocity 100), 'X' accent (127), 'o' ghost (64), '.' or '-' rest"


class Send(Spec):
    """A send from a track or bus to a bus, at ``level_db``, tapped pre- or post-fader."""

    to: str = Field(min_length=1)
    level_db: float = Field(default=0.0, ge=VOLUME_DB_RANGE[0], le=VOLUME_DB_RANGE[1])
    pre_fader: bool = False


class AutomationPoint(Spec):
    """A value at a position; ``curve`` shapes the segment to the next point
    (0 linear, > 0 slow start then fast, < 0 fast start then slow; -1..1)."""

    at: Position
    value: float
    curve: float = Field(default=0.0, ge=-1, le=1)

    _pos = field_validator("at")(classmethod(lambda cls, v: _check_position(v)))


class AutomationLane(Spec):
    """Automation of one parameter.

    ``param`` is ``volume_db``, ``pan``, ``send.<bus>`` (send level in dB),
    ``<device>.<parameter>`` where ``<device>`` is a device's ``name``, its ``type`` if
    unique on the track, or ``devices[i]``, or ``instrument.<parameter>``.
    """

    param: str = Field(min_length=1)
    points: tuple[AutomationPoint, ...] = Field(min_length=1)


class Channel(Spec):
    """What tracks and buses share: fader, pan, inserts, sends, routing, automation."""

    name: str = Field(min_length=1)
    volume_db: float = Field(default=0.0, ge=VOLUME_DB_RANGE[0], le=VOLUME_DB_RANGE[1])
    pan: float = Field(default=0.0, ge=PAN_RANGE[0], le=PAN_RANGE[1])
    mute: bool = False
    solo: bool = False
    phase_invert: bool = False
    devices: tuple[Device, ...] = ()
    sends: tuple[Send, ...] = ()
    output: str = MASTER
    automation: tuple[AutomationLane, ...] = ()
    modulators: tuple[Modulator, ...] = ()

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if v.strip() != v or v.lower() == MASTER:
            raise ValueError(f"must not be 'master' or have surrounding spaces, got {v!r}")
        return v


class Track(Channel):
    """A track: audio clips, or an instrument played by note clips."""

    instrument: Device | None = None
    clips: tuple[Clip, ...] = ()
    takes: tuple[Take, ...] = ()
    comp: tuple[CompRange, ...] = ()
    comp_crossfade_s: float = Field(default=0.01, ge=0, le=1)

    @model_validator(mode="after")
    def _clips_fit(self) -> Track:
        for i, clip in enumerate(self.clips):
            if clip.kind == "notes" and self.instrument is None:
                raise ValueError(
                    f"clips[{i}] has notes but the track has no instrument; add "
                    'instrument = { type = "synth" } (or drums, fm, sampler)'
                )
        return self


class Bus(Channel):
    """A bus: sums tracks and sends, runs inserts, feeds another bus or the master."""


class Master(Spec):
    """The master: inserts, fader, and an optional loudness target.

    ``target`` names a platform (``spotify``...) or is omitted; ``target_lufs`` and
    ``ceiling_dbtp`` set or override the numbers.
    """

    volume_db: float = Field(default=0.0, ge=VOLUME_DB_RANGE[0], le=VOLUME_DB_RANGE[1])
    devices: tuple[Device, ...] = ()
    automation: tuple[AutomationLane, ...] = ()
    target: str | None = None
    target_lufs: float | None = Field(default=None, ge=-70, le=0)
    ceiling_dbtp: float | None = Field(default=None, ge=-20, le=0)


class Project(Spec):
    """A whole song."""

    schema_version: Literal[1] = 1
    song: Song = Field(default_factory=Song)
    tracks: tuple[Track, ...] = ()
    buses: tuple[Bus, ...] = ()
    markers: tuple[Marker, ...] = ()
    master: Master = Field(default_factory=Master)
    clips: dict[str, Clip] = Field(default_factory=dict)
    """Clip definitions by name (``[clips.bassline]``), placed on tracks with ``use``."""

    @model_validator(mode="after")
    def _references(self) -> Project:
        check_references(self)
        return self

    def track(self, name: str) -> Track:
        """The track called ``name`` (ModelError listing the names if none)."""
        for t in self.tracks:
            if t.name == name:
                return t
        raise ModelError(f"no track {name!r}; tracks: {', '.join(t.name for t in self.tracks)}")

    def bus(self, name: str) -> Bus:
        """The bus called ``name``."""
        for b in self.buses:
            if b.name == name:
                return b
        raise ModelError(f"no bus {name!r}; buses: {', '.join(b.name for b in self.buses)}")

    def channel(self, name: str) -> Track | Bus:
        """A track or bus by name."""
        for c in (*self.tracks, *self.buses):
            if c.name == name:
                return c
        raise ModelError(f"no track or bus {name!r}")

    def marker(self, name: str) -> Marker:
        """The marker (section) called ``name``."""
        for m in self.markers:
            if m.name == name:
                return m
        known = ", ".join(m.name for m in self.markers) or "none defined"
        raise ModelError(f"no section {name!r}; sections: {known}")


def check_references(project: Project) -> None:
    """Raise ValueError if names clash, a send/output names no bus, or buses form a cycle."""
    names: dict[str, str] = {}
    for kind, chans in (("track", project.tracks), ("bus", project.buses)):
        for c in chans:
            if c.name in names:
                raise ValueError(f'{kind} "{c.name}", name: already used by a {names[c.name]}; '
                                 "track and bus names must be unique")
            names[c.name] = kind
    bus_names = [b.name for b in project.buses]
    marker_names = [m.name for m in project.markers]
    if len(set(marker_names)) != len(marker_names):
        raise ValueError("markers: each marker needs a unique name")
    graph: dict[str, set[str]] = {}
    for kind, chans in (("track", project.tracks), ("bus", project.buses)):
        for c in chans:
            label = f'{kind} "{c.name}"'
            targets: set[str] = set()
            if c.output != MASTER:
                if c.output not in bus_names:
                    raise ValueError(f"{label}, output: no bus {c.output!r}; "
                                     f"{_known(c.output, bus_names)}")
                targets.add(c.output)
            seen = set()
            for s in c.sends:
                if s.to not in bus_names:
                    raise ValueError(f"{label}, sends.{s.to}: no bus {s.to!r}; "
                                     f"{_known(s.to, bus_names)}")
                if s.to in seen:
                    raise ValueError(f"{label}, sends.{s.to}: sent to twice")
                seen.add(s.to)
                targets.add(s.to)
            if kind == "bus" and c.name in targets:
                raise ValueError(f"{label}: a bus cannot feed itself")
            _check_sidechains(c.devices, label, names)
            graph[c.name] = targets
    _check_sidechains(project.master.devices, MASTER, names)
    cycle = _find_cycle(graph)
    if cycle:
        raise ValueError(f"buses form a loop: {' -> '.join(cycle)}; "
                         "break it by routing one of them to master")


def _check_sidechains(devices: tuple[Device, ...], label: str, names: dict[str, str]) -> None:
    for j, d in enumerate(devices):
        sc = d.params.get("sidechain")
        if sc in (None, ""):
            continue
        if not isinstance(sc, str) or sc not in names:
            hint = close_matches(str(sc), names, n=1)
            fix = f"did you mean {hint[0]!r}?" if hint else (
                f"tracks and buses: {', '.join(names)}" if names else "there are none")
            sep = "." if label == MASTER else ", "
            raise ValueError(f"{label}{sep}devices[{j}].sidechain: no track or bus {sc!r}; {fix}")


def _known(name: str, names: list[str]) -> str:
    if not names:
        return "there are no buses; add a [[bus]]"
    hint = close_matches(name, names, n=1)
    return f"did you mean {hint[0]!r}?" if hint else f"buses: {', '.join(names)}"


def _find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(n: str) -> list[str] | None:
        state[n] = 1
        stack.append(n)
        for m in sorted(graph.get(n, ())):
            if state.get(m) == 1:
                return [*stack[stack.index(m):], m]
            if state.get(m) is None:
                found = visit(m)
                if found:
                    return found
        stack.pop()
        state[n] = 2
        return None

    for n in graph:
        if state.get(n) is None:
            found = visit(n)
            if found:
                return found
    return None
