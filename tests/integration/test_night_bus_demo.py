"""The composing demo ("Night Bus") uses chords, clip definitions, the arpeggiator, the key,
the filter and the lo-fi devices, and renders to its loudness target, measured."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

from mixdown.io.project import open_project
from mixdown.services.render import render_project

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "night-bus"


def test_night_bus_shows_the_composing_tools() -> None:
    p = open_project(EXAMPLE).project
    assert p.song.key == "D minor"
    assert p.clips["changes"].chords and p.clips["changes"].voicing is not None
    placed = [c for t in p.tracks for c in t.clips if c.use]
    assert {c.use for c in placed} == {"changes", "bassline", "beat", "melody"}
    assert any(c.loop for c in placed) and any(c.arp is not None for c in placed)
    assert any(c.transpose_degrees for c in placed) and p.clips["melody"].scale_quantize
    used = {d.type for t in p.tracks for d in t.devices}
    assert {"filter", "bitcrush", "tape", "vinyl"} <= used


def test_night_bus_renders_to_its_target(tmp_path: Path) -> None:
    out = tmp_path / "night-bus.wav"
    report = render_project(EXAMPLE, out, stems=True, stems_mode="tracks")
    qc = report.qc
    # 16 bars at 92 bpm = 41.74 s, plus the 2.5 s tail
    assert abs(report.duration_s - (16 * 4 * 60 / 92 + 2.5)) < 1e-3
    assert abs(qc["integrated_lufs"] - (-14.0)) < 0.5  # the spotify target
    assert qc["true_peak_dbtp"] <= -1.0 + 0.1
    assert qc["correlation"] is not None and 0.2 < qc["correlation"] < 0.99
    audio, sr = sf.read(out, always_2d=True)
    assert sr == 48_000
    # the intro (pad alone, filter closed) is quieter than the theme
    bar = int(4 * 60 / 92 * sr)

    def rms_db(x: np.ndarray) -> float:
        return float(20 * np.log10(np.sqrt(np.mean(x ** 2)) + 1e-12))

    assert rms_db(audio[: 3 * bar]) < rms_db(audio[5 * bar: 12 * bar]) - 6
    # every track sounds (stems, post-fader)
    stems = {p.stem: p for p in report.stems}
    for name in ("Drums", "Bass", "Pad", "Keys", "Lead", "Harmony"):
        stem = next(v for k, v in stems.items() if name in k)
        x, _ = sf.read(stem, always_2d=True)
        assert rms_db(x) > -50, name
