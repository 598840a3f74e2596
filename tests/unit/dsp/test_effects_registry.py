"""Every built-in effect: documented parameters, sane defaults, a working processor."""

from __future__ import annotations

import importlib
import inspect

import numpy as np
import pytest

from mixdown.core.errors import ParameterError
from mixdown.dsp.base import BUILTIN_MODULES, DEVICES, Processor

EFFECT_MODULES = [m for m in BUILTIN_MODULES if m.startswith("mixdown.dsp.effects.")]
for _mod in EFFECT_MODULES:  # import ours directly: other built-ins may be mid-change
    importlib.import_module(_mod)

EXPECTED = {"eq", "highpass", "lowpass", "compressor", "gate", "limiter", "saturation",
            "reverb", "delay", "chorus", "flanger", "phaser", "utility", "vst3",
            "filter", "bitcrush", "tape", "vinyl", "foreign"}
EFFECTS = sorted(t for t, i in DEVICES.items()
                 if i.kind == "effect" and i.factory.__module__ in EFFECT_MODULES)
BUILDABLE = [t for t in EFFECTS if t != "vst3"]  # vst3 needs a plug-in path


def test_every_builtin_effect_is_registered():
    assert set(EFFECTS) == EXPECTED


@pytest.mark.parametrize("type_name", EFFECTS)
def test_every_parameter_is_documented_with_a_sane_default(type_name):
    info = DEVICES[type_name]
    assert info.doc.strip() and "\n" not in info.doc
    for p in info.params:
        assert p.doc.strip() and "\n" not in p.doc, f"{type_name}.{p.name} has no one-line doc"
        assert p.check(p.default, "") == p.default, f"{type_name}.{p.name} default rejected"
        if p.kind in ("float", "int"):
            assert p.min is not None and p.max is not None, f"{type_name}.{p.name}: no range"
            assert p.min <= p.default <= p.max
        if p.kind == "choice":
            assert p.default in p.choices


@pytest.mark.parametrize("type_name", EFFECTS)
def test_constructor_takes_every_parameter_by_keyword_with_the_same_default(type_name):
    info = DEVICES[type_name]
    sig = inspect.signature(info.factory)
    kw = {n: q for n, q in sig.parameters.items() if q.kind is q.KEYWORD_ONLY}
    assert set(kw) == {p.name for p in info.params}
    for p in info.params:
        default = kw[p.name].default
        assert default == p.default or (default is None and p.default == {}), p.name


@pytest.mark.parametrize("type_name", BUILDABLE)
def test_defaults_build_a_streaming_processor(type_name):
    info = DEVICES[type_name]
    dev = info.factory(**{p.name: p.default for p in info.params})
    assert isinstance(dev, Processor)
    dev.prepare(48_000, 2, 256)
    if hasattr(dev, "set_tempo"):
        dev.set_tempo(120.0)
    assert isinstance(dev.latency_frames, int) and dev.latency_frames >= 0
    rng = np.random.default_rng(1)
    x = (rng.standard_normal((2, 256)) * 0.1).astype(np.float32)
    y = dev.process(x.copy())
    assert y.shape == (2, 256) and y.dtype == np.float32 and np.isfinite(y).all()
    dev.reset()
    np.testing.assert_array_equal(dev.process(x.copy()), y)  # reset restores the start state


@pytest.mark.parametrize("type_name", BUILDABLE)
def test_set_param_checks_name_range_and_automatability(type_name):
    info = DEVICES[type_name]
    dev = info.factory(**{p.name: p.default for p in info.params})
    dev.prepare(48_000, 2, 64)
    with pytest.raises(ParameterError, match="no parameter 'nonsense'"):
        dev.set_param("nonsense", 1.0)
    for p in info.params:
        if not p.automatable:
            with pytest.raises(ParameterError, match="cannot be automated"):
                dev.set_param(p.name, p.default)
        elif p.kind == "float" and p.max is not None:
            with pytest.raises(ParameterError, match=rf"{p.name}: must be <="):
                dev.set_param(p.name, p.max + 1.0)
