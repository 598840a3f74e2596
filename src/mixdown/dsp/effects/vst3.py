"""Host a VST3 plug-in through pedalboard (``pedalboard.load_plugin``).

The plug-in is loaded when the device is built, so a bad path fails when the
project loads, not half-way through a render. ``params`` maps the plug-in's
parameter names (pedalboard's Python-identifier spelling, e.g. ``"mix_percent"``)
to values; an unknown name is an error that lists the known ones. Blocks go
through ``plugin.process(..., reset=False)``, which keeps the plug-in's state
between blocks. Third-party plug-ins are not guaranteed to be block-invariant.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from mixdown.core.audio import AudioArray
from mixdown.core.errors import FormatError, ParameterError
from mixdown.dsp.base import Param, register_device
from mixdown.dsp.effects._common import EffectBase

_PARAMS = (
    Param("path", "", "path to the .vst3 bundle or file", kind="str", automatable=False),
    Param("preset", "", "path to a .vstpreset file to load after the plug-in ('' = none)",
          kind="str", automatable=False),
    Param("params", {}, "plug-in parameter values by name, passed through to the plug-in",
          kind="any", automatable=False),
)


def load_vst3(path: str) -> Any:
    """Load the VST3 at ``path`` with pedalboard.

    Raises
    ------
    ParameterError
        If ``path`` is empty.
    FormatError
        If the file is missing, is not a ``.vst3``, or the plug-in does not load.
    """
    if not path:
        raise ParameterError("vst3: path is empty; set path to a .vst3 bundle, e.g. "
                             "path = '/usr/lib/vst3/Plugin.vst3'")
    p = Path(path).expanduser()
    if not p.exists():
        raise FormatError(f"vst3: {p}: no such file or folder; check the path to the .vst3 "
                          "bundle", p)
    if p.suffix.lower() != ".vst3":
        raise FormatError(f"vst3: {p}: not a VST3 plug-in (expected a name ending in .vst3)", p)
    import pedalboard

    try:
        return pedalboard.load_plugin(str(p))
    except (ImportError, RuntimeError, ValueError) as exc:
        raise FormatError(f"vst3: {p}: the plug-in could not be loaded ({exc}); check that "
                          "it is a Linux VST3 build for this machine", p) from exc


@register_device(
    "vst3", kind="effect", params=_PARAMS,
    doc="A VST3 effect plug-in hosted through pedalboard.",
)
class VST3(EffectBase):
    """A hosted VST3 effect; see the module doc."""

    TYPE = "vst3"
    PARAMS = _PARAMS

    def __init__(self, *, path: str = "", preset: str = "",
                 params: Mapping[str, Any] | None = None) -> None:
        super().__init__({"path": path, "preset": preset, "params": dict(params or {})})
        if not isinstance(self._p["params"], dict):
            raise ParameterError(f"vst3: params must be a table of name = value, got "
                                 f"{self._p['params']!r}")
        self.plugin = load_vst3(path)
        if preset:
            pre = Path(preset).expanduser()
            if not pre.is_file():
                raise FormatError(f"vst3: preset {pre}: no such file", pre)
            try:
                self.plugin.load_preset(str(pre))
            except (RuntimeError, ValueError) as exc:
                raise FormatError(f"vst3: preset {pre} could not be loaded ({exc})",
                                  pre) from exc
        for name, value in self._p["params"].items():
            self._set_plugin_param(name, value)

    def _set_plugin_param(self, name: str, value: Any) -> None:
        known = self.plugin.parameters
        if name not in known:
            raise ParameterError(f"vst3: {self._p['path']} has no parameter {name!r}; known: "
                                 f"{', '.join(sorted(known))}")
        try:
            setattr(self.plugin, name, value)
        except (ValueError, TypeError) as exc:
            raise ParameterError(f"vst3: parameter {name!r} = {value!r} rejected by the "
                                 f"plug-in: {exc}") from exc

    def set_param(self, name: str, value: Any) -> None:
        """Set one of the plug-in's own parameters between blocks (no glide)."""
        if name in {p.name for p in self.PARAMS}:
            super().set_param(name, value)
        self._set_plugin_param(name, value)

    def _reset(self) -> None:
        self.plugin.reset()

    def _process(self, block: AudioArray, sidechain: AudioArray | None) -> AudioArray:
        out = self.plugin.process(block, float(self.sample_rate),
                                  buffer_size=self.max_block_frames, reset=False)
        if out.shape != block.shape:
            raise ParameterError(f"vst3: {self._p['path']} returned {out.shape[0]} channels "
                                 f"for {block.shape[0]}; use it on a matching track")
        np.copyto(block, out, casting="same_kind")
        return block
