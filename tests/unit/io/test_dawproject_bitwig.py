"""The real Bitwig Studio export: what the XML says is what the project gets.

The expected figures are read from the XML here with plain XPath (no mixdown code), then
compared with the imported project.
"""

from __future__ import annotations

import math
import zipfile
from pathlib import Path

import numpy as np
import pytest
from lxml import etree

from dawproject_files import BITWIG_AUDIO, BITWIG_STATE, BITWIG_XML, bitwig_entries, write_zip
from mixdown.core.units import gain_to_db
from mixdown.io.dawproject_archive import project_schema
from mixdown.io.project import open_project
from mixdown.services.dawproject import (
    check_dawproject,
    export_dawproject,
    import_dawproject,
)

XML = etree.parse(str(BITWIG_XML))


@pytest.fixture
def imported(tmp_path: Path, rng: np.random.Generator) -> Path:
    src = write_zip(tmp_path / "bitwig.dawproject", bitwig_entries(rng))
    import_dawproject(src, tmp_path / "song")
    return tmp_path / "song"


def test_the_example_follows_the_schema() -> None:
    assert project_schema().validate(XML)


def test_tracks_match_the_xml(imported: Path) -> None:
    project = open_project(imported).project
    regular = XML.xpath("//Track[Channel/@role='regular']/@name")
    assert [t.name for t in project.tracks] == regular
    assert XML.xpath("count(//Channel[@role='master'])") == 1
    for t in project.tracks:
        gain = float(XML.xpath(f"//Track[@name='{t.name}']/Channel/Volume/@value")[0])
        assert t.volume_db == pytest.approx(gain_to_db(gain), abs=1e-9)
        pan = float(XML.xpath(f"//Track[@name='{t.name}']/Channel/Pan/@value")[0])
        assert t.pan == pytest.approx(2 * pan - 1, abs=1e-12)
        assert t.output == "master"  # destination id15 is the master channel


def test_tempo_and_signature_match_the_xml(imported: Path) -> None:
    song = open_project(imported).project.song
    assert song.tempo == float(XML.xpath("/Project/Transport/Tempo/@value")[0])
    sig = XML.xpath("/Project/Transport/TimeSignature")[0]
    assert song.time_signature == (int(sig.get("numerator")), int(sig.get("denominator")))
    assert song.tempo_map == ()


def test_clips_and_notes_match_the_xml(imported: Path) -> None:
    project = open_project(imported).project
    lanes = XML.xpath("/Project/Arrangement/Lanes/Lanes")
    for lane in lanes:
        name = XML.xpath(f"//Track[@id='{lane.get('track')}']/@name")[0]
        top = lane.xpath("Clips/Clip")
        if name == "Master":
            assert not top
            continue
        track = project.track(name)
        assert len(track.clips) == len(top)
        for clip, el in zip(track.clips, top, strict=True):
            assert clip.start == float(el.get("time"))
            assert clip.length == pytest.approx(float(el.get("duration")), abs=1e-9)
    bass = project.track("Bass")
    xml_notes = sorted(
        (float(n.get("time")), float(n.get("duration")), int(n.get("key")),
         round(float(n.get("vel")) * 127))
        for n in XML.xpath("//Lanes[@track=//Track[@name='Bass']/@id]//Note"))
    assert len(xml_notes) == int(XML.xpath("count(//Lanes[@track='id2']//Note)")) == 9
    got = sorted((n.start, n.length, n.pitch, n.velocity) for n in bass.clips[0].notes)
    assert got == xml_notes


def test_audio_clip_keeps_its_file_and_reports_the_stretch(tmp_path: Path,
                                                           rng: np.random.Generator) -> None:
    src = write_zip(tmp_path / "bitwig.dawproject", bitwig_entries(rng))
    report = import_dawproject(src, tmp_path / "song")
    clip = open_project(tmp_path / "song").project.track("Drumloop").clips[0]
    assert clip.file == BITWIG_AUDIO
    assert clip.name == XML.xpath("//Lanes[@track='id9']/Clips/Clip/@name")[0]
    with zipfile.ZipFile(src) as z:
        assert (tmp_path / "song" / BITWIG_AUDIO).read_bytes() == z.read(BITWIG_AUDIO)
    # 8 beats at 149 bpm are 3.22 s; the warp maps them onto 2.82 s of the file
    warp = XML.xpath("//Warp[last()]")[0]
    rate = float(warp.get("contentTime")) / (float(warp.get("time")) * 60 / 149)
    assert any(f"time-stretched ({rate:.3f}x)" in d for d in report.dropped)


def test_plugin_is_kept_with_its_state_and_written_back(tmp_path: Path,
                                                        rng: np.random.Generator) -> None:
    src = write_zip(tmp_path / "bitwig.dawproject", bitwig_entries(rng))
    import_dawproject(src, tmp_path / "song")
    inst = open_project(tmp_path / "song").project.track("Bass").instrument
    assert inst is not None
    assert inst.type == "foreign_instrument"
    assert inst.params["device_id"] == XML.xpath("//ClapPlugin/@deviceID")[0]
    state = tmp_path / "song" / inst.params["state_file"]
    assert state.read_bytes() == bitwig_entries(rng)[BITWIG_STATE]
    out = tmp_path / "again.dawproject"
    export_dawproject(tmp_path / "song", out)
    with zipfile.ZipFile(out) as z:
        doc = etree.fromstring(z.read("project.xml"))
        assert project_schema().validate(doc)
        plug = doc.xpath("//ClapPlugin")[0]
        orig = XML.xpath("//ClapPlugin")[0]
        for attr in ("deviceID", "deviceName", "deviceRole", "name"):
            assert plug.get(attr) == orig.get(attr)
        assert z.read(plug.find("State").get("path")) == state.read_bytes()


def test_check_reports_and_writes_nothing(tmp_path: Path, rng: np.random.Generator) -> None:
    src = write_zip(tmp_path / "bitwig.dawproject", bitwig_entries(rng))
    before = sorted(tmp_path.rglob("*"))
    report = check_dawproject(src)
    assert sorted(tmp_path.rglob("*")) == before
    assert report.application == "Bitwig Studio 5.0"
    assert report.tracks == 2
    assert report.notes == int(XML.xpath("count(//Note)"))
    assert report.clips == 2
    assert report.kept_devices == int(XML.xpath("count(//ClapPlugin)"))
    # the song runs to the end of the longest clip: 8.00003 beats at 149 bpm
    assert report.duration_s == pytest.approx(8.00003433227539 * 60 / 149, abs=1e-9)
    assert math.isfinite(report.duration_s)
