"""What DAWproject reading and writing share: units, the built-in device tables, extras.

DAWproject has four built-in device types that other programs understand (Equalizer,
Compressor, NoiseGate, Limiter); mixdown's ``eq``, ``compressor``, ``gate`` and
``limiter`` are written as those, and read back from them. Every mixdown device also
carries its exact parameters as JSON in the device's ``State`` file (``deviceID``
``mixdown.<type>``), so mixdown -> DAWproject -> mixdown keeps them to the bit.

Values DAWproject has no field for (clip gain, automation curve shapes, the song's sample
rate and length...) travel in the ``comment`` attribute of the element they belong to, as
``mixdown: {json}``; other programs show it as a comment and otherwise ignore it.

The reader's parts (``dawproject_timeline``, ``dawproject_clips``, ``dawproject_devices``,
put together in ``dawproject_read``) share the channel being built and the reader's state.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from mixdown.core.errors import FormatError
from mixdown.io.audio import FORMATS
from mixdown.io.dawproject_archive import check_relative
from mixdown.model.project import MASTER, AutomationLane, Clip, Device, Send

EXTRAS_PREFIX = "mixdown: "
"""Start of a ``comment`` attribute that carries mixdown's own values as JSON."""

DEVICE_ID_PREFIX = "mixdown."
"""``deviceID`` of a device written by mixdown: ``mixdown.<type>``."""

HOLD_BEATS = 1.0 / 960.0
"""A DAWproject ``hold`` segment becomes a ramp this short (one tick at 960 per beat)."""

SLOPES_DB = (6, 12, 18, 24, 36, 48)
"""The eq's filter slopes in dB/oct; a DAWproject band's ``order`` is slope / 6."""


def get_extras(element: Any) -> dict[str, Any]:
    """The mixdown values stored in ``element``'s comment (empty when there are none)."""
    text = element.get("comment") or ""
    if not text.startswith(EXTRAS_PREFIX):
        return {}
    try:
        data = json.loads(text[len(EXTRAS_PREFIX):])
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def set_extras(element: Any, extras: dict[str, Any]) -> None:
    """Store ``extras`` (when not empty) in ``element``'s comment."""
    if extras:
        element.set("comment", EXTRAS_PREFIX + json.dumps(extras, sort_keys=True,
                                                           separators=(",", ":")))


def fmt(value: float) -> str:
    """A float as the shortest text that reads back as the same float."""
    v = float(value)
    if v == 0:
        return "0.0"
    return repr(v)


def unit_for(param: str) -> str:
    """The DAWproject unit of a mixdown parameter, from its name's unit suffix."""
    if param.endswith("_db"):
        return "decibel"
    if param.endswith("_hz"):
        return "hertz"
    if param.endswith("_s"):
        return "seconds"
    if param.endswith("_st") or param.endswith("semitones"):
        return "semitones"
    return "linear"


def ratio_from_percent(percent: float) -> float:
    """A compressor ratio from DAWproject's ratio in percent (0 -> 1:1, 100 -> inf:1)."""
    p = min(max(percent, 0.0), 99.99)
    return 1.0 / (1.0 - p / 100.0)


def percent_from_ratio(ratio: float) -> float:
    """Inverse of :func:`ratio_from_percent`."""
    return 100.0 * (1.0 - 1.0 / ratio) if ratio > 0 else 0.0


def to_ms(value: float, unit: str) -> float:
    """A time parameter in ms from DAWproject (seconds unless the unit says otherwise)."""
    return value if unit not in ("seconds", "") else value * 1000.0


@dataclass(frozen=True, slots=True)
class Mapped:
    """One element of a DAWproject built-in device and the mixdown parameter it sets."""

    element: str
    param: str
    unit: str
    read: Callable[[float, str], float]
    write: Callable[[float], float]


def _same(v: float, unit: str) -> float:
    return v


def _ms_from(v: float, unit: str) -> float:
    return to_ms(v, unit)


def _ratio_from(v: float, unit: str) -> float:
    return ratio_from_percent(v) if unit == "percent" else max(1.0, v)


BUILTIN_MAPS: dict[str, tuple[str, tuple[Mapped, ...]]] = {
    "Compressor": ("compressor", (
        Mapped("Attack", "attack_ms", "seconds", _ms_from, lambda v: v / 1000.0),
        Mapped("OutputGain", "makeup_db", "decibel", _same, lambda v: v),
        Mapped("Ratio", "ratio", "percent", _ratio_from, percent_from_ratio),
        Mapped("Release", "release_ms", "seconds", _ms_from, lambda v: v / 1000.0),
        Mapped("Threshold", "threshold_db", "decibel", _same, lambda v: v),
    )),
    "NoiseGate": ("gate", (
        Mapped("Attack", "attack_ms", "seconds", _ms_from, lambda v: v / 1000.0),
        Mapped("Range", "range_db", "decibel", _same, lambda v: v),
        Mapped("Release", "release_ms", "seconds", _ms_from, lambda v: v / 1000.0),
        Mapped("Threshold", "threshold_db", "decibel", _same, lambda v: v),
    )),
    "Limiter": ("limiter", (
        Mapped("Attack", "lookahead_ms", "seconds", _ms_from, lambda v: v / 1000.0),
        Mapped("Release", "release_ms", "seconds", _ms_from, lambda v: v / 1000.0),
        Mapped("Threshold", "ceiling_db", "decibel", _same, lambda v: v),
    )),
}
"""DAWproject element -> (mixdown type, element/parameter pairs), in schema order."""

MIXDOWN_TO_BUILTIN = {v[0]: k for k, v in BUILTIN_MAPS.items()} | {"eq": "Equalizer"}
"""mixdown device type -> the DAWproject element it is written as."""

EQ_BANDS = (
    ("highPass", "highpass_hz", None, None, "highpass_slope_db"),
    ("lowPass", "lowpass_hz", None, None, "lowpass_slope_db"),
    ("lowShelf", "low_shelf_hz", "low_shelf_gain_db", "low_shelf_q", None),
    ("highShelf", "high_shelf_hz", "high_shelf_gain_db", "high_shelf_q", None),
    ("bell", "bell1_hz", "bell1_gain_db", "bell1_q", None),
    ("bell", "bell2_hz", "bell2_gain_db", "bell2_q", None),
    ("bell", "bell3_hz", "bell3_gain_db", "bell3_q", None),
)
"""The eq's bands as DAWproject bands: (type, frequency, gain, Q, slope parameter)."""


def finite(value: str | None, default: float | None = None) -> float | None:
    """A finite float from an attribute, or ``default``."""
    if value is None:
        return default
    try:
        v = float(value)
    except ValueError:
        return default
    return v if math.isfinite(v) else default


# -- reading: what the reader's parts (devices, clips, timeline) share ----------------------

Reader = Callable[[str], bytes]


@dataclass
class _Chan:
    """A channel being built."""

    el: Any
    name: str
    kind: str  # track | bus | master
    track_el: Any | None
    content: str = ""
    output: str = MASTER
    instrument: Device | None = None
    devices: list[Device] = field(default_factory=list)
    clips: list[Clip] = field(default_factory=list)
    lanes: list[AutomationLane] = field(default_factory=list)
    sends: list[Send] = field(default_factory=list)
    volume_db: float = 0.0
    pan: float = 0.0
    mute: bool = False
    solo: bool = False
    extras: dict[str, Any] = field(default_factory=dict)
    notes: int = 0
    kept: int = 0


@dataclass
class _Target:
    """What a parameter id moves: a channel and an automation param, with a converter."""

    chan: _Chan
    param: str
    convert: Callable[[float, str], float]
    unit: str


class _ReaderBase:
    """The reader's state and the helpers its parts share (file references, time units).

    ``tempo`` and ``meter`` (the song's maps) are set by the timeline part's ``song()``,
    which runs first.
    """

    def __init__(self, root: Any, read: Reader, names: set[str], where: str) -> None:
        self.root = root
        self.read = read
        self.names = names
        self.where = where
        self.dropped: list[str] = []
        self.ids: dict[str, Any] = {el.get("id"): el for el in root.iter()
                                    if isinstance(el.tag, str) and el.get("id")}
        self.members: dict[str, str] = {}
        self.texts: dict[str, bytes] = {}
        self.chans: list[_Chan] = []
        self.by_id: dict[str, _Chan] = {}  # channel and track ids
        self.targets: dict[str, _Target] = {}
        self.used: set[str] = set()
        self.master: _Chan | None = None
        self.clips = 0
        self.n_lanes = 0
        self.end = 0.0

    def drop(self, text: str) -> None:
        if text not in self.dropped:
            self.dropped.append(text)

    def _time_unit(self, el: Any) -> str:
        while el is not None:
            unit = el.get("timeUnit")
            if unit:
                return str(unit)
            el = el.getparent()
        return "beats"

    def _beats(self, t: float, unit: str) -> float:
        return self.tempo.seconds_to_beats(t) if unit == "seconds" else t

    def _member(self, file_ref: Any, what: str, folder: str, *, audio: bool) -> str:
        """Check a File/State reference; return the project path the entry is copied to."""
        path = file_ref.get("path") or ""
        if file_ref.get("external") == "true":
            raise FormatError(f"{self.where}: {what} refers to the external file {path!r}; "
                              "mixdown imports only files inside the DAWproject zip")
        path = check_relative(path, f"{self.where}: {what}")
        if path not in self.names:
            raise FormatError(f"{self.where}: {what} refers to {path!r}, which is not in "
                              "the zip")
        if audio and PurePosixPath(path).suffix.lower() not in FORMATS:
            raise FormatError(f"{self.where}: {what}: {path!r} is not an audio format mixdown "
                              f"reads ({', '.join(sorted(FORMATS))})")
        for dest, member in self.members.items():
            if member == path:
                return dest
        base = PurePosixPath(path).name
        dest, k = f"{folder}/{base}", 2
        while dest in self.members or dest in self.texts:
            stem, suffix = PurePosixPath(base).stem, PurePosixPath(base).suffix
            dest = f"{folder}/{stem}-{k}{suffix}"
            k += 1
        self.members[dest] = path
        return dest


def _round(v: float) -> float:
    """Round away float noise from unit conversions (15 significant digits)."""
    if v == 0 or not math.isfinite(v):
        return float(v)
    return float(f"{v:.15g}")


def _first_error(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        e = errors()[0]
        return f"{'.'.join(str(x) for x in e['loc'])}: {e['msg']}"
    return str(exc)


__all__ = [
    "BUILTIN_MAPS",
    "DEVICE_ID_PREFIX",
    "EQ_BANDS",
    "EXTRAS_PREFIX",
    "HOLD_BEATS",
    "MIXDOWN_TO_BUILTIN",
    "SLOPES_DB",
    "Mapped",
    "Reader",
    "finite",
    "fmt",
    "get_extras",
    "percent_from_ratio",
    "ratio_from_percent",
    "set_extras",
    "unit_for",
]
