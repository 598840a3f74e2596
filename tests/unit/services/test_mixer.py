"""services.mixer and services.mixer_meters: strips described from the device registry,
changes read from the page's JSON, and meters measured from a real render (a fader move
moves the strip's meter by exactly that many dB, mute silences it, a low-pass lowers the
mix's spectral centroid)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from mixdown.core.errors import ParameterError
from mixdown.dsp.base import DEVICES, load_builtin_devices
from mixdown.io.project import load_project
from mixdown.services.history import apply_edit
from mixdown.services.mixer import mixer_change, mixer_view, param_unit
from mixdown.services.mixer_meters import (
    FLOOR_DB,
    last_meters,
    preview_path,
    render_meters,
)
from mixer_song import make_mixer_song


@pytest.fixture
def song(tmp_path: Path) -> Path:
    return make_mixer_song(tmp_path, "mix")


def _edit(song: Path, **body: object) -> None:
    change, label = mixer_change(body)
    apply_edit(song, change, base=None, label=label)


def _centroid_hz(path: Path) -> float:
    audio, sr = sf.read(path, always_2d=True)
    spectrum = np.abs(np.fft.rfft(audio.mean(axis=1)))
    freqs = np.fft.rfftfreq(audio.shape[0], 1 / sr)
    return float(np.sum(freqs * spectrum) / np.sum(spectrum))


def test_units_come_from_the_parameter_names() -> None:
    assert [param_unit(n) for n in ("cutoff_hz", "threshold_db", "attack_ms", "decay_s",
                                    "ratio", "ceiling_dbtp")] == [
        "Hz", "dB", "ms", "s", "", "dBTP"]


def test_every_registered_param_is_described(song: Path) -> None:
    load_builtin_devices()
    view = mixer_view(load_project(song))
    lowpass = next(d for d in view.strips[0].devices if d.type == "lowpass")
    declared = DEVICES["lowpass"].params
    assert [p.name for p in lowpass.params] == [p.name for p in declared]
    for shown, p in zip(lowpass.params, declared, strict=True):
        assert (shown.kind, shown.min, shown.max, shown.default, shown.choices) == (
            p.kind, p.min, p.max, p.default, p.choices)
    assert view.strips[-1].kind == "master" and view.buses == ("Space",)


@pytest.mark.parametrize(("body", "message"), [
    ({"op": "set", "field": "volume_db", "value": 1}, "'strip'"),
    ({"op": "set", "strip": {"kind": "group", "name": "x"}}, "track, bus or master"),
    ({"op": "set", "strip": {"kind": "track"}, "field": "mute"}, "'name'"),
    ({"op": "set", "strip": {"kind": "track", "name": "Pad"}, "field": "mute", "value": 1},
     "true or false"),
    ({"op": "set", "strip": {"kind": "track", "name": "Pad"}, "field": "volume_db",
      "value": float("nan")}, "must be a number"),
    ({"op": "param", "strip": {"kind": "track", "name": "Pad"}, "device": True,
      "param": "mix", "value": 1}, "'device'"),
    ({"op": "send", "strip": {"kind": "master"}, "to": "Space"}, "no sends"),
    ({"op": "bypass", "strip": {"kind": "track", "name": "Pad"}, "device": "instrument",
      "value": True}, "cannot be bypassed"),
])
def test_changes_it_cannot_read_are_refused(body: dict, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ParameterError, match=message):
        mixer_change(body)


def test_meters_follow_the_fader_and_are_kept_per_revision(song: Path) -> None:
    first = render_meters(song)
    wav = preview_path(song, first.revision)
    stamp = wav.stat().st_mtime_ns
    assert render_meters(song) == first and wav.stat().st_mtime_ns == stamp  # read back
    assert last_meters(song) == first
    _edit(song, op="set", strip={"kind": "track", "name": "Pad"}, field="volume_db",
          value=-3.0)  # +3 dB
    assert last_meters(song) == first  # the latest measured, for an older revision
    second = render_meters(song)
    assert second.revision != first.revision
    pad0, pad1 = first.strips["track:Pad"], second.strips["track:Pad"]
    assert pad1.peak_dbfs - pad0.peak_dbfs == pytest.approx(3.0, abs=0.01)
    assert pad1.rms_dbfs - pad0.rms_dbfs == pytest.approx(3.0, abs=0.01)
    assert pad1.integrated_lufs - pad0.integrated_lufs == pytest.approx(3.0, abs=0.05)
    assert second.strips["track:Keys"] == first.strips["track:Keys"]
    # the reverb bus hears the pad's post-fader send: 3 dB louder too
    assert (second.strips["bus:Space"].rms_dbfs - first.strips["bus:Space"].rms_dbfs
            == pytest.approx(3.0, abs=0.05))
    # the preview is the measured mix
    audio, _ = sf.read(preview_path(song, second.revision), always_2d=True)
    peak = 20 * math.log10(float(np.max(np.abs(audio))))
    assert peak == pytest.approx(second.strips["master:master"].peak_dbfs, abs=0.01)


def test_mute_takes_the_track_out_of_the_mix(song: Path) -> None:
    before = render_meters(song)
    _edit(song, op="set", strip={"kind": "track", "name": "Keys"}, field="mute", value=True)
    after = render_meters(song)
    assert after.strips["track:Keys"].peak_dbfs == FLOOR_DB
    # the mix loses the keys' energy (different notes: nearly uncorrelated with the rest)
    e = {k: 10 ** (m.rms_dbfs / 10) for k, m in before.strips.items()}
    expected = 10 * math.log10(e["master:master"] - e["track:Keys"])
    assert after.strips["master:master"].rms_dbfs == pytest.approx(expected, abs=0.3)
    assert after.strips["master:master"].rms_dbfs < before.strips["master:master"].rms_dbfs


def test_a_lower_cutoff_lowers_the_spectral_centroid(song: Path) -> None:
    _edit(song, op="set", strip={"kind": "track", "name": "Keys"}, field="mute", value=True)
    bright = render_meters(song)
    _edit(song, op="param", strip={"kind": "track", "name": "Pad"}, device=0,
          param="cutoff_hz", value=300.0)
    dark = render_meters(song)
    c0 = _centroid_hz(preview_path(song, bright.revision))
    c1 = _centroid_hz(preview_path(song, dark.revision))
    assert c1 < 0.7 * c0, (c0, c1)
    assert dark.strips["track:Pad"].rms_dbfs < bright.strips["track:Pad"].rms_dbfs


def test_a_section_is_a_quick_preview_of_its_bars(song: Path) -> None:
    whole = render_meters(song)
    chorus = render_meters(song, section="Chorus")
    assert chorus.section == "Chorus" and chorus.name != whole.name
    assert chorus.name.startswith(whole.revision)
    # bars 3-4 at 240 bpm: 2 s, and the song's 0.3 s tail
    assert chorus.duration_s == pytest.approx(2.3, abs=1e-3)
    info = sf.info(preview_path(song, chorus.name))
    assert info.frames == round(2.3 * 48000)
    assert last_meters(song) == chorus  # the latest measurement of this revision
    assert render_meters(song) == whole and last_meters(song) == whole
    with pytest.raises(Exception, match="Bridge"):
        render_meters(song, section="Bridge")
