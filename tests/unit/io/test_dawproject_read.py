"""Reading DAWproject constructs that mixdown itself never writes (as other programs do)."""

from __future__ import annotations

import pytest
from lxml import etree

from mixdown.core.units import gain_to_db
from mixdown.io.dawproject_archive import parse_xml, project_schema
from mixdown.io.dawproject_common import HOLD_BEATS, ratio_from_percent
from mixdown.io.dawproject_read import dawproject_to_project

OTHER = b"""<?xml version="1.0" encoding="UTF-8"?>
<Project version="1.0">
  <Application name="Other DAW" version="2"/>
  <Transport>
    <Tempo unit="bpm" value="100" id="tempo"/>
    <TimeSignature numerator="4" denominator="4" id="sig"/>
  </Transport>
  <Structure>
    <Track contentType="tracks" id="grp" name="Group">
      <Channel role="submix" id="grpch" destination="mst">
        <Devices>
          <Compressor deviceName="Comp" deviceRole="audioFX" id="comp">
            <Attack unit="seconds" value="0.01" id="catk"/>
            <Ratio unit="percent" value="75" id="crat"/>
            <Release unit="seconds" value="0.2" id="crel"/>
            <Threshold unit="decibel" value="-18" id="cthr"/>
          </Compressor>
        </Devices>
        <Volume unit="decibel" value="-3" id="grpvol"/>
      </Channel>
      <Track contentType="notes" id="t1" name="Keys">
        <Channel role="regular" id="t1ch">
          <Devices>
            <Vst3Plugin deviceName="Big Synth" deviceRole="instrument" deviceID="ABCD" id="syn">
              <Parameters>
                <RealParameter unit="normalized" value="0.5" id="synp" name="Cutoff"/>
              </Parameters>
              <State path="plugins/synth.vstpreset"/>
            </Vst3Plugin>
            <Equalizer deviceName="EQ" deviceRole="audioFX" id="eq">
              <Band type="highPass" order="4"><Freq unit="hertz" value="60" id="hpf"/></Band>
              <Band type="bell"><Freq unit="hertz" value="800" id="b1f"/>
                <Gain unit="decibel" value="-4" id="b1g"/>
                <Q unit="linear" value="2" id="b1q"/>
              </Band>
              <OutputGain unit="decibel" value="1.5" id="eqout"/>
            </Equalizer>
            <Equalizer deviceName="Notcher" deviceRole="audioFX" id="eq2">
              <Band type="notch"><Freq unit="hertz" value="50" id="n1"/></Band>
            </Equalizer>
          </Devices>
          <Mute value="false" id="t1m"/>
          <Pan unit="normalized" min="0" max="1" value="0.25" id="t1pan"/>
          <Sends>
            <Send destination="fxch" type="pre" id="s1">
              <Volume unit="linear" value="0.5" id="s1vol"/>
            </Send>
          </Sends>
          <Volume unit="linear" value="0.5" id="t1vol"/>
        </Channel>
      </Track>
    </Track>
    <Track contentType="audio" id="fx" name="Reverb">
      <Channel role="effect" id="fxch" destination="mst">
        <Volume unit="linear" value="1" id="fxvol"/>
      </Channel>
    </Track>
    <Track contentType="audio notes" id="mt" name="Master">
      <Channel role="master" id="mst"><Volume unit="linear" value="1" id="mvol"/></Channel>
    </Track>
  </Structure>
  <Arrangement id="arr">
    <Lanes timeUnit="beats" id="l0">
      <Lanes track="t1" id="l1">
        <Clips id="c1">
          <Clip time="4" duration="6" playStart="1" loopStart="1" loopEnd="3" name="Riff">
            <Notes id="riff">
              <Note time="0.5" duration="0.5" channel="0" key="60" vel="1.0"/>
              <Note time="1" duration="0.5" channel="0" key="62" vel="0.5"/>
              <Note time="2" duration="0.5" channel="0" key="64" vel="0.25"/>
            </Notes>
          </Clip>
          <Clip time="12" duration="2" playStart="1" reference="riff" name="Alias"/>
        </Clips>
        <Points unit="linear" id="p1"><Target parameter="t1vol"/>
          <RealPoint time="0" value="1" interpolation="hold"/>
          <RealPoint time="2" value="0.5" interpolation="linear"/>
          <RealPoint time="4" value="0.25" interpolation="linear"/>
        </Points>
        <Points id="p2"><Target parameter="b1g"/>
          <RealPoint time="0" value="-4" interpolation="linear"/>
          <RealPoint time="8" value="2" interpolation="linear"/>
        </Points>
        <Points id="p3"><Target parameter="synp"/>
          <RealPoint time="0" value="0.1" interpolation="linear"/>
        </Points>
      </Lanes>
      <Lanes track="grp" id="l2">
        <Points id="p4"><Target parameter="cthr"/>
          <RealPoint time="0" value="-18" interpolation="linear"/>
          <RealPoint time="4" value="-30" interpolation="linear"/>
        </Points>
      </Lanes>
    </Lanes>
    <Markers id="mk">
      <Marker time="0" name="Intro"/>
      <Marker time="8" name="Intro"/>
    </Markers>
    <TempoAutomation unit="bpm" id="ta"><Target parameter="tempo"/>
      <RealPoint time="0" value="100" interpolation="linear"/>
      <RealPoint time="8" value="120" interpolation="hold"/>
      <RealPoint time="16" value="90" interpolation="hold"/>
    </TempoAutomation>
    <TimeSignatureAutomation id="tsa"><Target parameter="sig"/>
      <TimeSignaturePoint time="0" numerator="4" denominator="4"/>
      <TimeSignaturePoint time="16" numerator="6" denominator="8"/>
    </TimeSignatureAutomation>
  </Arrangement>
</Project>
"""


@pytest.fixture(scope="module")
def imp():  # type: ignore[no-untyped-def]
    root = parse_xml(OTHER, "other.xml", project_schema())  # the fixture follows the schema
    names = {"plugins/synth.vstpreset"}
    return dawproject_to_project(root, None, lambda n: b"", names, where="other.dawproject",
                                 title="other")


def test_group_track_becomes_a_bus_that_its_children_feed(imp) -> None:  # type: ignore[no-untyped-def]
    p = imp.project
    assert [t.name for t in p.tracks] == ["Keys"]
    assert [b.name for b in p.buses] == ["Group", "Reverb"]
    assert p.track("Keys").output == "Group"  # no destination: the parent group
    assert p.bus("Group").output == "master"
    assert p.bus("Group").volume_db == -3.0


def test_mix_values_convert(imp) -> None:  # type: ignore[no-untyped-def]
    keys = imp.project.track("Keys")
    assert keys.volume_db == pytest.approx(gain_to_db(0.5), abs=1e-9)
    assert keys.pan == -0.5  # normalized 0.25 -> -0.5
    (send,) = keys.sends
    assert (send.to, send.pre_fader) == ("Reverb", True)
    assert send.level_db == pytest.approx(gain_to_db(0.5), abs=1e-9)


def test_builtin_devices_map_and_the_rest_is_kept(imp) -> None:  # type: ignore[no-untyped-def]
    keys = imp.project.track("Keys")
    assert keys.instrument is not None and keys.instrument.type == "foreign_instrument"
    assert keys.instrument.params["state_file"] == "dawproject/plugins/synth.vstpreset"
    eq, notch = keys.devices
    assert eq.type == "eq"
    assert eq.params == {"highpass_slope_db": 24, "highpass_hz": 60.0, "bell1_hz": 800.0,
                         "bell1_gain_db": -4.0, "bell1_q": 2.0, "output_gain_db": 1.5}
    assert notch.type == "foreign"  # a notch band has no place in mixdown's eq
    comp = imp.project.bus("Group").devices[0]
    assert comp.type == "compressor"
    assert comp.params["ratio"] == pytest.approx(ratio_from_percent(75.0)) == 4.0
    assert comp.params["attack_ms"] == pytest.approx(10.0)
    assert comp.params["release_ms"] == pytest.approx(200.0)
    assert imp.kept_devices == 2
    assert set(imp.members) == {"dawproject/plugins/synth.vstpreset"}
    assert len(imp.texts) == 2  # the two kept devices' XML


def test_automation_maps_units_hold_and_targets(imp) -> None:  # type: ignore[no-untyped-def]
    keys = imp.project.track("Keys")
    lanes = {lane.param: lane for lane in keys.automation}
    assert set(lanes) == {"volume_db", "eq.bell1_gain_db"}
    vol = lanes["volume_db"].points
    # hold from 0 to 2 becomes a step just before beat 2; linear gains become dB points
    assert [p.at for p in vol] == pytest.approx([0.0, 2 - HOLD_BEATS, 2.0, 4.0], abs=1e-12)
    assert [p.value for p in vol] == pytest.approx(
        [0.0, 0.0, gain_to_db(0.5), gain_to_db(0.25)], abs=1e-9)
    comp = imp.project.bus("Group").automation[0]
    assert comp.param == "compressor.threshold_db"
    assert any("Cutoff" in d for d in imp.dropped)  # a kept plug-in's parameter


def test_note_clip_loop_play_start_and_alias(imp) -> None:  # type: ignore[no-untyped-def]
    riff, alias = imp.project.track("Keys").clips
    assert (riff.start, riff.length) == (4.0, 6.0)
    # content 1..3 loops: plays 1..3 (notes at 1, 2), then 1..3 again twice
    got = [(n.start, n.pitch) for n in riff.notes]
    assert got == [(0.0, 62), (1.0, 64), (2.0, 62), (3.0, 64), (4.0, 62), (5.0, 64)]
    assert [n.velocity for n in riff.notes[:2]] == [64, 32]
    assert (alias.start, alias.length) == (12.0, 2.0)
    assert [(n.start, n.pitch) for n in alias.notes] == [(0.0, 62), (1.0, 64)]
    assert any("before the clip's play start" in d for d in imp.dropped)


def test_tempo_signature_and_markers(imp) -> None:  # type: ignore[no-untyped-def]
    song = imp.project.song
    assert song.tempo == 100
    assert [(p.at, p.bpm, p.ramp) for p in song.tempo_map] == [(8.0, 120.0, True),
                                                                (16.0, 90.0, False)]
    assert [(c.bar, c.signature) for c in song.time_signatures] == [(5, (6, 8))]
    assert [(m.name, m.at) for m in imp.project.markers] == [("Intro", 0.0), ("Intro 2", 8.0)]


def test_the_schema_rejects_what_the_reader_would_never_see() -> None:
    bad = OTHER.replace(b'<Band type="bell">', b'<Band type="wobble">')
    assert not project_schema().validate(etree.fromstring(bad))
