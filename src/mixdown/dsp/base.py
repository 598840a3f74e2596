"""The processor protocol and the device registry.

Every built-in effect and instrument registers here, the same way a third party
would (``register_device``). A device's parameters are declared as data
(:class:`Param`), so that the project loader can validate a ``song.toml`` entry,
suggest the closest name for a typo and document every parameter, without
touching audio.

Processors are stateful and stream: the engine calls ``prepare`` once, then
``process`` on consecutive blocks. Our own processors give the same output
for any split of the signal into blocks (the block-size invariance rule), so
automation is applied on a fixed control grid by the engine via ``set_param``.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from mixdown.core.audio import AudioArray
from mixdown.core.errors import ParameterError
from mixdown.core.names import closest

ParamKind = Literal["float", "int", "bool", "choice", "str", "any"]
DeviceKind = Literal["effect", "instrument"]


@dataclass(frozen=True, slots=True)
class Param:
    """A device parameter: name with its unit suffix, default, range and a one-line doc."""

    name: str
    default: Any
    doc: str
    kind: ParamKind = "float"
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] = ()
    automatable: bool = True

    def check(self, value: Any, where: str) -> Any:
        """Return ``value`` coerced to this parameter's kind, or raise ParameterError."""
        label = f"{where}{self.name}"
        if self.kind == "any":  # structured values (sampler zones): the factory checks them
            return value
        if self.kind == "bool":
            if not isinstance(value, bool):
                raise ParameterError(f"{label}: must be true or false, got {value!r}")
            return value
        if self.kind == "str":
            if not isinstance(value, str):
                raise ParameterError(f"{label}: must be a string, got {value!r}")
            return value
        if self.kind == "choice":
            if value not in self.choices:
                hint = _closest(str(value), self.choices)
                raise ParameterError(
                    f"{label}: must be one of {', '.join(self.choices)}, got {value!r}{hint}"
                )
            return value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ParameterError(f"{label}: must be a number, got {value!r}")
        if not math.isfinite(value):
            raise ParameterError(f"{label}: must be a finite number, got {value!r}")
        if self.kind == "int":
            if float(value) != int(value):
                raise ParameterError(f"{label}: must be a whole number, got {value!r}")
            value = int(value)
        else:
            value = float(value)
        if self.min is not None and value < self.min:
            raise ParameterError(f"{label}: must be >= {self.min:g}, got {value:g}")
        if self.max is not None and value > self.max:
            raise ParameterError(f"{label}: must be <= {self.max:g}, got {value:g}")
        return value


@runtime_checkable
class Processor(Protocol):
    """A streaming audio effect. Arrays are float32 shaped (channels, frames)."""

    latency_frames: int

    def prepare(self, sample_rate: int, channels: int, max_block_frames: int) -> None:
        """Allocate state for a stream; called once before the first block."""

    def process(self, block: AudioArray, sidechain: AudioArray | None = None) -> AudioArray:
        """Process one block; may work in place and return ``block``."""

    def set_param(self, name: str, value: Any) -> None:
        """Change a parameter between blocks (the engine's automation grid)."""

    def reset(self) -> None:
        """Clear all state (delay lines, envelopes, filter memories)."""


# Optional on processors and instruments: ``set_tempo(bpm: float) -> None``. The engine calls
# it before the first block and again on the control grid whenever the tempo changes, so that
# tempo-synced devices (delay times like "1/8d", LFO rates) follow the song's tempo map.


@dataclass(frozen=True, slots=True)
class NoteEvent:
    """A note for an instrument, in absolute frames of the render."""

    start_frame: int
    end_frame: int
    pitch: float
    velocity: int = 100


@runtime_checkable
class Instrument(Protocol):
    """A streaming sound source driven by notes known in advance."""

    latency_frames: int

    def prepare(self, sample_rate: int, channels: int, max_block_frames: int) -> None:
        """Allocate state for a stream; called once before ``set_notes``."""

    def set_notes(self, notes: Sequence[NoteEvent]) -> None:
        """Give the whole note list (sorted by ``start_frame``) before rendering."""

    def render(self, start_frame: int, frames: int) -> AudioArray:
        """Render frames ``[start_frame, start_frame + frames)``; blocks arrive in order."""

    def set_param(self, name: str, value: Any) -> None:
        """Change a parameter between blocks."""

    def reset(self) -> None:
        """Clear all state."""


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """A registered device type."""

    type: str
    kind: DeviceKind
    factory: Callable[..., Any]
    params: tuple[Param, ...]
    doc: str
    sidechain: bool = False
    aliases: tuple[str, ...] = field(default=())

    def param(self, name: str) -> Param:
        """The parameter called ``name`` or a ParameterError suggesting the closest."""
        for p in self.params:
            if p.name == name:
                return p
        hint = _closest(name, [p.name for p in self.params])
        raise ParameterError(f"device {self.type!r} has no parameter {name!r}{hint}")


DEVICES: dict[str, DeviceInfo] = {}


def register_device(
    type_name: str,
    *,
    kind: DeviceKind,
    params: Sequence[Param],
    doc: str,
    sidechain: bool = False,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Class decorator: make ``type_name`` available in ``song.toml`` and the Python API.

    The decorated callable is called with every parameter as a keyword argument
    (defaults filled in, values checked) and must return a Processor or Instrument.
    """

    def deco(factory: Callable[..., Any]) -> Callable[..., Any]:
        if type_name in DEVICES:
            raise ParameterError(f"device type {type_name!r} is registered twice")
        names = [p.name for p in params]
        if len(set(names)) != len(names):
            raise ParameterError(f"device {type_name!r} declares a parameter twice")
        DEVICES[type_name] = DeviceInfo(type_name, kind, factory, tuple(params), doc, sidechain)
        return factory

    return deco


def _closest(name: str, options: Sequence[str]) -> str:
    return closest(name, options, cutoff=0.5, list_known=False)


def device_info(type_name: str, *, kind: DeviceKind | None = None) -> DeviceInfo:
    """Look up a registered device, suggesting the closest type for a typo."""
    load_builtin_devices()
    info = DEVICES.get(type_name)
    if info is None or (kind is not None and info.kind != kind):
        pool = [t for t, i in DEVICES.items() if kind is None or i.kind == kind]
        what = "instrument" if kind == "instrument" else "device"
        hint = _closest(type_name, pool) or f"; known: {', '.join(sorted(pool))}"
        raise ParameterError(f"unknown {what} type {type_name!r}{hint}")
    return info


def validate_params(type_name: str, params: Mapping[str, Any], *, where: str = "",
                    kind: DeviceKind | None = None) -> dict[str, Any]:
    """Check ``params`` against the device's declaration and fill in defaults."""
    info = device_info(type_name, kind=kind)
    out: dict[str, Any] = {}
    for key, value in params.items():
        out[key] = info.param(key).check(value, where) if key in {
            p.name for p in info.params
        } else info.param(key)
    for p in info.params:
        out.setdefault(p.name, p.default)
    return out


def create_device(type_name: str, params: Mapping[str, Any] | None = None, *,
                  kind: DeviceKind | None = None) -> Any:
    """Build a processor or instrument from its type name and (partial) parameters."""
    info = device_info(type_name, kind=kind)
    return info.factory(**validate_params(type_name, params or {}, kind=kind))


_LOADED = False
_LOADING = threading.RLock()


def load_builtin_devices() -> None:
    """Import the built-in device modules so that they register (idempotent, thread-safe:
    no caller sees the registry half filled while another thread imports them)."""
    global _LOADED
    if _LOADED:
        return
    with _LOADING:
        if _LOADED:
            return
        import importlib

        for mod in BUILTIN_MODULES:
            importlib.import_module(mod)
        _LOADED = True


BUILTIN_MODULES: list[str] = [
    "mixdown.dsp.effects.eq",
    "mixdown.dsp.effects.dynamics",
    "mixdown.dsp.effects.saturation",
    "mixdown.dsp.effects.reverb",
    "mixdown.dsp.effects.delay",
    "mixdown.dsp.effects.modulation",
    "mixdown.dsp.effects.utility",
    "mixdown.dsp.effects.vst3",
    "mixdown.dsp.effects.filter",
    "mixdown.dsp.effects.lofi",
    "mixdown.dsp.effects.foreign",
    "mixdown.dsp.instruments.synth",
    "mixdown.dsp.instruments.fm",
    "mixdown.dsp.instruments.drums",
    "mixdown.dsp.instruments.sampler",
    "mixdown.dsp.instruments.soundfont",
    "mixdown.dsp.true_peak",
]
"""Modules that register the built-in devices (imported lazily, once)."""
