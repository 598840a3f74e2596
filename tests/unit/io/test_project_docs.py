"""docs/song-format.md cannot drift from the code, and the `mixdown new` template is valid."""

from __future__ import annotations

import re
import shutil
from importlib import resources
from pathlib import Path

import pytest

from mixdown.dsp.base import DEVICES, load_builtin_devices
from mixdown.io.places import DEVICE_KEYS
from mixdown.io.project import TOP_KEYS, open_project
from mixdown.io.project_docs import device_reference_markdown, update_device_reference
from mixdown.model.modulators import Follower, Lfo
from mixdown.model.project import (
    AutomationLane,
    AutomationPoint,
    Bus,
    Clip,
    Marker,
    Master,
    Note,
    Send,
    Song,
    Spec,
    TempoPoint,
    TimeSignatureChange,
    Track,
)
from mixdown.model.takes import CompRange, Take

DOC = Path(__file__).resolve().parents[3] / "docs" / "song-format.md"
REGENERATE = ('.venv/bin/python -c "from mixdown.io.project_docs import update_device_reference '
              "as u; u('docs/song-format.md')\"")


def test_device_reference_in_the_docs_is_current() -> None:
    assert device_reference_markdown() in DOC.read_text(encoding="utf-8"), (
        f"docs/song-format.md is out of date with the device registry; run {REGENERATE}")


def test_every_registered_parameter_is_in_the_reference() -> None:
    load_builtin_devices()
    text = device_reference_markdown()
    for info in DEVICES.values():
        assert f"#### `{info.type}`" in text
        for p in info.params:
            assert re.search(rf"^\| `{re.escape(p.name)}` \|", text, re.M), (info.type, p.name)


# The TOML name of each model field where the layout renames or flattens it.
LAYOUT_NAMES = {"tracks": "track", "buses": "bus", "markers": "marker", "params": None,
                "to": None}


@pytest.mark.parametrize("cls", [Song, TempoPoint, TimeSignatureChange, Marker, Track, Bus,
                                 Master, Clip, Note, Send, AutomationLane, AutomationPoint,
                                 Lfo, Follower, Take, CompRange])
def test_every_model_key_is_documented(cls: type[Spec]) -> None:
    # A key is documented when it appears in a table row: | `key` | ...
    text = DOC.read_text(encoding="utf-8")
    for field in cls.model_fields:
        key = LAYOUT_NAMES.get(field, field)
        if key is None:
            continue
        assert re.search(rf"^\| `{re.escape(key)}` \|", text, re.M), f"{cls.__name__}.{field}"


def test_top_level_and_device_keys_are_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    for key in ("schema_version", *DEVICE_KEYS):
        assert re.search(rf"^\| `{key}` \|", text, re.M), key
    for key in TOP_KEYS[1:]:
        assert f"[{key}]" in text, key


def test_update_device_reference_rewrites_only_the_generated_block(tmp_path: Path) -> None:
    doc = tmp_path / "doc.md"
    begin, end = ("<!-- BEGIN GENERATED DEVICE REFERENCE: do not edit by hand -->",
                  "<!-- END GENERATED DEVICE REFERENCE -->")
    doc.write_text(f"# Intro\n\n{begin}\nstale\n{end}\n\n## After\n", encoding="utf-8")
    assert update_device_reference(doc) is True
    text = doc.read_text(encoding="utf-8")
    assert text == f"# Intro\n\n{device_reference_markdown()}\n## After\n"
    assert update_device_reference(doc) is False


# -- the template of `mixdown new` ---------------------------------------------------------------

TEMPLATE_DEVICES = {"drums", "synth", "eq", "compressor", "reverb", "delay"}


@pytest.fixture
def template(tmp_path: Path) -> Path:
    with resources.as_file(resources.files("mixdown") / "templates" / "new") as src:
        shutil.copytree(src, tmp_path / "song")
    return tmp_path / "song"


def test_template_loads_and_uses_only_the_starter_devices(template: Path) -> None:
    p = open_project(template).project
    used = {d.type for ch in (*p.tracks, *p.buses) for d in ch.devices}
    used |= {d.type for d in p.master.devices}
    used |= {t.instrument.type for t in p.tracks if t.instrument is not None}
    assert used == TEMPLATE_DEVICES
    assert [m.name for m in p.markers] == ["Intro", "Drop"]
    assert any(t.sends for t in p.tracks) and p.buses, "the starter shows a send to a bus"
    assert any(ch.automation for ch in p.tracks), "the starter shows automation"


def test_the_complete_example_in_the_docs_loads(tmp_path: Path) -> None:
    import mido
    import numpy as np
    import soundfile as sf

    text = DOC.read_text(encoding="utf-8")
    section = text[text.index("## A complete example"):]
    begin = section.index("```toml\n") + 8
    example = section[begin:section.index("\n```", begin)]
    (tmp_path / "audio").mkdir()
    (tmp_path / "midi").mkdir()
    sf.write(str(tmp_path / "audio" / "vocal_take3.wav"), np.zeros((4800, 2), np.float32), 48000)
    f = mido.MidiFile()
    f.tracks.append(mido.MidiTrack([mido.Message("note_on", note=45, time=0),
                                    mido.Message("note_off", note=45, time=480)]))
    f.save(str(tmp_path / "midi" / "bass_chorus.mid"))
    (tmp_path / "song.toml").write_text(example + "\n", encoding="utf-8")
    p = open_project(tmp_path).project
    assert [t.name for t in p.tracks] == ["Drums", "Bass", "Vocal"]
    assert p.tracks[1].devices[0].params["sidechain"] == "Drums"
