"""What DAWproject reading and writing share: units, the built-in device tables, extras.

DAWproject has four built-in device types that other programs understand (Equalizer,
Compressor, NoiseGate, Limiter); mixdown's ``eq``, ``compressor``, ``gate`` and
``limiter`` are written as those, and read back from them. Every mixdown device also
carries its exact parameters as JSON in the device's ``State`` file (``deviceID``
``mixdown.<type>``), so mixdown -> DAWproject -> mixdown keeps them to the bit.

Values DAWproject has no field for (clip gain, automation curve shapes, the song's sample
rate and length...) travel in the ``comment`` attribute of the element they belong to, as
``mixdown: {json}``; other programs show it as a comment and otherwise ignore it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

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


__all__ = [
    "BUILTIN_MAPS",
    "DEVICE_ID_PREFIX",
    "EQ_BANDS",
    "EXTRAS_PREFIX",
    "HOLD_BEATS",
    "MIXDOWN_TO_BUILTIN",
    "SLOPES_DB",
    "Mapped",
    "finite",
    "fmt",
    "get_extras",
    "percent_from_ratio",
    "ratio_from_percent",
    "set_extras",
    "unit_for",
]
