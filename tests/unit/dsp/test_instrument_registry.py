"""Every instrument is registered, documented, has defaults in range and sane presets."""

from __future__ import annotations

import numpy as np
import pytest

from mixdown.dsp.base import DEVICES, Instrument, NoteEvent, create_device, load_builtin_devices
from mixdown.dsp.instruments._voice import render_notes

BUILT_IN = ("synth", "fm", "drums", "sampler")
PRESET_PARAM = ("preset", "kit")


def instruments() -> list[str]:
    load_builtin_devices()
    return sorted(t for t, info in DEVICES.items() if info.kind == "instrument")


def preset_param(type_name: str) -> str | None:
    names = [p.name for p in DEVICES[type_name].params]
    return next((n for n in PRESET_PARAM if n in names), None)


def test_built_in_instruments_are_registered() -> None:
    assert set(BUILT_IN) <= set(instruments())


@pytest.mark.parametrize("type_name", instruments())
def test_every_parameter_has_a_doc_and_a_default_in_range(type_name: str) -> None:
    info = DEVICES[type_name]
    assert info.doc.strip()
    chooser = preset_param(type_name)
    for p in info.params:
        assert p.doc.strip(), p.name
        if p.default is None:  # "from the preset": every preset's value must be in range
            assert chooser is not None, f"{p.name} has no default and {type_name} no presets"
            for choice in info.param(chooser).choices:
                value = create_device(type_name, {chooser: choice}).params[p.name]
                assert p.check(value, f"{type_name}[{choice}].") == value
        else:
            assert p.check(p.default, f"{type_name}.") == p.default


def required(type_name: str) -> dict[str, object]:
    """Parameters with no usable default: the soundfont instrument needs a SoundFont."""
    if type_name == "soundfont":
        from soundfonts import gm_bytes

        return {"soundfont": gm_bytes()}
    return {}


@pytest.mark.parametrize("type_name", instruments())
def test_defaults_build_an_instrument(type_name: str) -> None:
    assert isinstance(create_device(type_name, required(type_name), kind="instrument"),
                      Instrument)


def preset_cases() -> list[tuple[str, str]]:
    cases = []
    for type_name in BUILT_IN:
        chooser = preset_param(type_name)
        if chooser:
            cases += [(type_name, c) for c in DEVICES[type_name].param(chooser).choices]
    return cases


CHORD = [NoteEvent(0, 24_000, p, 100) for p in (48, 55, 60, 64)]
DRUM_HITS = [NoteEvent(0, 1, p, 127) for p in (36, 38, 42, 49)]


@pytest.mark.parametrize(("type_name", "choice"), preset_cases())
def test_every_preset_leaves_headroom_for_a_chord(type_name: str, choice: str) -> None:
    notes = DRUM_HITS if type_name == "drums" else CHORD
    out = render_notes(create_device(type_name, {preset_param(type_name): choice}), notes,
                       48_000)
    peak = float(np.abs(out).max())
    assert 0.05 < peak < 1.0  # audible, and a 4-note chord (or 4 hits at once) does not clip
