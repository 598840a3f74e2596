"""The bundled demo song loads, and its chorus renders as music, measured."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mixdown.io.project import open_project
from mixdown.services.render import render_project

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo"


def test_demo_is_a_complete_song() -> None:
    pf = open_project(DEMO)
    p = pf.project
    assert [m.name for m in p.markers][:3] == ["Intro", "Verse", "Chorus"]
    instruments = {t.instrument.type for t in p.tracks if t.instrument}
    assert {"drums", "synth", "fm"} <= instruments
    assert any(d.params.get("sidechain") for t in p.tracks for d in t.devices)
    assert any(t.automation for t in p.tracks)
    assert any(d.type == "reverb" for b in p.buses for d in b.devices)


def test_demo_chorus_renders_as_music(tmp_path: Path) -> None:
    out = tmp_path / "chorus.wav"
    report = render_project(DEMO, out, section="Chorus", master=False)
    qc = report.qc
    # 8 bars at 100 bpm = 19.2 s, plus the 3 s tail.
    assert abs(report.duration_s - 22.2) < 1e-6
    assert -30.0 < qc["integrated_lufs"] < -8.0
    assert qc["true_peak_dbtp"] < 0.0
    assert qc["loudness_range_lu"] < 12.0  # a chorus, not a fade
    assert qc["correlation"] is not None and 0.2 < qc["correlation"] < 0.99  # stereo, not mono
    bands = dict(zip(qc["spectrum_third_octave"]["frequencies_hz"],
                     qc["spectrum_third_octave"]["levels_db"], strict=True))
    # Bass, mids and highs are all there (kick and bass, pads and lead, hats).
    assert bands[63.0] > -40 and bands[1000.0] > -50 and bands[8000.0] > -60
    # Not a steady tone: short-term loudness moves over time.
    assert np.isfinite(qc["max_momentary_lufs"])
    assert qc["max_momentary_lufs"] - qc["integrated_lufs"] > 1.0
