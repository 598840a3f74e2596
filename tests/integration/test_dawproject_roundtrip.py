"""mixdown -> DAWproject -> mixdown renders the same audio, and the file follows the XSD.

The null tests render the original and the re-imported project and subtract them; the
residual must stay below :data:`NULL_DBFS`. The exported project.xml is validated with
lxml's XMLSchema against the Project.xsd shipped with mixdown (a copy of Bitwig's).
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from lxml import etree

import mixdown
from mixdown.core.time import song_maps
from mixdown.io.project import open_project
from mixdown.model.notes import clip_length_beats
from mixdown.services.dawproject import export_dawproject, import_dawproject
from signals import sine, write_wav

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "examples" / "demo"
XSD = ROOT / "src" / "mixdown" / "io" / "dawproject_schema" / "Project.xsd"
MIXDOWN = str(Path(sys.executable).with_name("mixdown"))
NULL_DBFS = -90.0  # the residual of a round trip: far below audibility


def run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "120"}
    return subprocess.run([MIXDOWN, *args], capture_output=True, text=True, env=env,
                          timeout=300)


def _residual_dbfs(a: np.ndarray, b: np.ndarray) -> float:
    assert a.shape == b.shape
    peak = float(np.max(np.abs(a - b))) if a.size else 0.0
    return 20 * np.log10(peak) if peak > 0 else -np.inf


def _validate(dawproject: Path) -> etree._Element:
    schema = etree.XMLSchema(etree.parse(str(XSD)))
    with zipfile.ZipFile(dawproject) as z:
        doc = etree.fromstring(z.read("project.xml"))
        assert "metadata.xml" in z.namelist()
    assert schema.validate(doc), schema.error_log
    return doc


FEATURES = """
schema_version = 1

[song]
title = "Round trip"
artist = "tests"
tempo = 110
time_signature = [4, 4]
tempo_map = [{ at = "3:1", bpm = 140, ramp = true }, { at = "5:1", bpm = 96 }]
time_signatures = [{ bar = 4, signature = [3, 4] }]
sample_rate = 44100
tail_s = 1.0

[[marker]]
name = "A"
at = "1:1"

[[marker]]
name = "B"
at = "3:1"

[[track]]
name = "Loop"
volume_db = -4
pan = -0.3
output = "Group"
sends = { Verb = -12.0 }
devices = [{ type = "eq", highpass_hz = 80, bell1_hz = 900, bell1_gain_db = 3 }]
automation = [
    { param = "pan", points = [[0, -0.3], [6, 0.5, 0.4], [10, 0.0]] },
    { param = "eq.bell1_gain_db", points = [[0, 3.0], [8, -6.0, -0.5]] },
]

[[track.clips]]
start = 0
length = 7
file = "audio/tone.wav"
offset_s = 0.1
gain_db = -3
fade_in_s = 0.05
fade_out_s = 0.1
loop = true

[[track.clips]]
start = "4:1"
file = "audio/noise.wav"
fade_out_s = 0.2

[[track]]
name = "Keys"
instrument = { type = "synth", preset = "pad" }
volume_db = -8
pan = 0.2
sends = { Verb = { level_db = -10, pre_fader = true } }
phase_invert = true

[[track.clips]]
start = 2
length = 6
swing = 0.2
transpose = -2
humanize = { timing_ms = 8, velocity = 10, seed = 3 }
notes = [["C4", 0, 1, 90], ["E4", 0.5, 1, 80], ["G4", 1, 2, 100], ["B4", 3, 4, 70]]

[[track.automation]]
param = "volume_db"
points = [[0, -20.0], [4, -6.0, 0.6], [9, -12.0]]

[[track.automation]]
param = "send.Verb"
points = [[2, -10.0], [8, -4.0]]

[[track.automation]]
param = "instrument.cutoff_hz"
points = [[2, 400.0], [6, 3000.0, -0.3]]

[[track]]
name = "Drums"
instrument = { type = "drums", kit = "909" }
output = "Group"
mute = false

[[track.clips]]
start = 0
bars = 4
swing = 0.1
pattern = { kick = "x...x...x...x...", hat = "..x...x...x.o.x." }

[[track]]
name = "Muted"
instrument = { type = "fm", preset = "epiano" }
mute = true
clips = [{ start = 0, length = 4, notes = [["A3", 0, 4, 100]] }]

[[track]]
name = "Sampler"
instrument = { type = "sampler", zones = [{ file = "samples/pluck.wav", root = 69 }] }
clips = [{ start = 1, length = 4, notes = [["A4", 0, 1, 100], ["C5", 1.5, 1, 90]] }]

[[bus]]
name = "Group"
devices = [{ type = "compressor", threshold_db = -20, ratio = 3, attack_ms = 5, release_ms = 80 }]
sends = { Verb = -18.0 }
automation = [{ param = "compressor.threshold_db", points = [[0, -20.0], [8, -10.0]] }]

[[bus]]
name = "Verb"
devices = [{ type = "reverb", room_size = 0.6, wet = 1.0, dry = 0.0 }]

[master]
volume_db = -1
devices = [
    { type = "eq", high_shelf_hz = 9000, high_shelf_gain_db = 1.0 },
    { type = "limiter", ceiling_db = -1.0 },
]
automation = [{ param = "volume_db", points = [[8, -1.0], [12, -8.0, -0.4]] }]
"""


@pytest.fixture
def features(tmp_path: Path, rng: np.random.Generator) -> Path:
    """A project with audio clips (loop, offset, gain, fades, to the end), note clips
    (swing, transpose, humanize, a pattern), a sampler playing a project file, buses,
    sends (pre and post), automation of volume, pan, sends, an effect and an instrument
    parameter (with curves), a tempo ramp and step, a signature change, markers and master
    devices."""
    folder = tmp_path / "features"
    write_wav(folder / "audio" / "tone.wav", sine(330, 1.3, sample_rate=44_100, amp=0.5),
              44_100)
    write_wav(folder / "audio" / "noise.wav",
              rng.uniform(-0.3, 0.3, (2, 30_000)).astype(np.float32), 48_000)
    write_wav(folder / "samples" / "pluck.wav", sine(440, 0.4, amp=0.4))
    (folder / "song.toml").write_text(FEATURES)
    return folder


@pytest.mark.slow
def test_feature_project_round_trip_nulls(tmp_path: Path, features: Path) -> None:
    out = tmp_path / "features.dawproject"
    report = export_dawproject(features, out)
    assert report.skipped == ()
    doc = _validate(out)
    # what the XML holds, counted independently of mixdown's reader
    assert len(doc.xpath("/Project/Structure/Track")) == 5 + 2 + 1
    assert len(doc.xpath("//Channel[@role='master']")) == 1
    assert len(doc.xpath("//Arrangement/Lanes/Lanes/Points")) == 2 + 3 + 1 + 1
    assert len(doc.xpath("//Arrangement/TempoAutomation/RealPoint")) == 3
    assert len(doc.xpath("//Arrangement/Markers/Marker")) == 2
    assert len(doc.xpath("//Send[@type='pre']")) == 1
    back = tmp_path / "back"
    imp = import_dawproject(out, back)
    assert imp.dropped == ()

    a, sr_a = mixdown.render_audio(features)
    b, sr_b = mixdown.render_audio(back)
    assert sr_a == sr_b == 44_100
    assert np.max(np.abs(a)) > 0.05  # the song is not silent
    assert _residual_dbfs(a, b) < NULL_DBFS


def test_feature_project_keeps_notes_tempo_and_routing(tmp_path: Path, features: Path) -> None:
    out = tmp_path / "features.dawproject"
    mixdown.export_dawproject(mixdown.load(features), out)  # the top-level API
    mixdown.import_dawproject(out, tmp_path / "back")
    p0 = open_project(features).project
    p1 = open_project(tmp_path / "back").project

    def maps(p: mixdown.Project) -> tuple[object, object]:
        s = p.song
        return song_maps(s.tempo, s.time_signature, [(t.at, t.bpm, t.ramp) for t in s.tempo_map],
                         [(c.bar, *c.signature) for c in s.time_signatures])

    (m0, t0), (m1, t1) = maps(p0), maps(p1)
    assert t0.points == t1.points  # type: ignore[attr-defined]
    assert m0.signatures == m1.signatures  # type: ignore[attr-defined]
    assert [(m.name) for m in p0.markers] == [m.name for m in p1.markers]
    assert [t.name for t in p0.tracks] == [t.name for t in p1.tracks]
    assert [b.name for b in p0.buses] == [b.name for b in p1.buses]
    for a, b in zip(p0.tracks, p1.tracks, strict=True):
        assert (a.output, a.mute, a.phase_invert, a.sends) == (b.output, b.mute,
                                                               b.phase_invert, b.sends)
        assert a.volume_db == pytest.approx(b.volume_db, abs=1e-9)
        assert a.devices == b.devices
        assert (a.instrument is None) == (b.instrument is None)
    keys0, keys1 = p0.track("Keys").clips[0], p1.track("Keys").clips[0]
    # swing and transposition are baked into the notes: the pitches move by -2
    assert sorted(n.pitch for n in keys1.notes) == sorted(n.pitch - 2 for n in keys0.notes)
    assert keys1.humanize == keys0.humanize
    start = 0.0
    assert clip_length_beats(keys1, m1, start) == keys0.length  # type: ignore[arg-type]


@pytest.mark.slow
@pytest.mark.parametrize("section", ["Intro", "Chorus 2"])
def test_demo_round_trip_nulls(tmp_path: Path, section: str) -> None:
    out = tmp_path / "demo.dawproject"
    r = run("export", str(DEMO), "--format", "dawproject", "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""  # nothing skipped
    _validate(out)
    r = run("import", str(out), "-o", str(tmp_path / "demo"))
    assert r.returncode == 0, r.stderr
    assert "dropped" not in r.stderr
    a, _ = mixdown.render_audio(DEMO, section=section)
    b, _ = mixdown.render_audio(tmp_path / "demo", section=section)
    assert np.max(np.abs(a)) > 0.05
    assert _residual_dbfs(a, b) < NULL_DBFS


def test_cli_check_writes_nothing(tmp_path: Path, features: Path) -> None:
    out = tmp_path / "features.dawproject"
    export_dawproject(features, out)
    before = sorted(tmp_path.rglob("*"))
    r = run("check", str(out))
    assert r.returncode == 0, r.stderr
    assert "ok from mixdown" in r.stdout
    assert sorted(tmp_path.rglob("*")) == before


def test_cli_refuses_a_zip_slip_in_one_line(tmp_path: Path) -> None:
    src = tmp_path / "slip.dawproject"
    with zipfile.ZipFile(src, "w") as z:
        z.writestr("project.xml", "<Project version='1'/>")
        z.writestr(zipfile.ZipInfo("../../escape.txt"), "x")
    for args in (("import", str(src), "-o", str(tmp_path / "song")), ("check", str(src))):
        r = run(*args)
        assert r.returncode == 1
        assert r.stderr.count("\n") == 1, r.stderr
        assert r.stderr.startswith(f"mixdown: error: {src}: entry '../../escape.txt'")
        assert "Traceback" not in r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["slip.dawproject"]


def test_cli_unknown_export_format(tmp_path: Path) -> None:
    r = run("export", str(DEMO), "--format", "aaf", "-o", str(tmp_path / "x.aaf"))
    assert r.returncode == 1
    assert "use midi or dawproject" in r.stderr


@pytest.mark.slow
def test_composed_song_round_trip_nulls(tmp_path: Path) -> None:
    """Clip definitions, chord charts, the key and the arpeggiator travel as the notes they
    play (DAWproject has none of them), so the imported song renders the same audio."""
    song = ROOT / "examples" / "night-bus"
    out = tmp_path / "night-bus.dawproject"
    report = export_dawproject(song, out)
    assert not report.skipped
    _validate(out)
    r = run("import", str(out), "-o", str(tmp_path / "night-bus"))
    assert r.returncode == 0, r.stderr
    assert "dropped" not in r.stderr
    a, _ = mixdown.render_audio(song, section="Theme")
    b, _ = mixdown.render_audio(tmp_path / "night-bus", section="Theme")
    assert np.max(np.abs(a)) > 0.05
    assert _residual_dbfs(a, b) < NULL_DBFS
