"""Silent blocks of tracks are left out of the sums without changing a bit of the mix."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

import mixdown.engine.render as engine_render
from mixdown.services.render import render_project
from signals import sine, write_wav

SONG = """
[song]
tempo = 120
length = "12s"
tail_s = 0.0

[[track]]
name = "Kick"
clips = [{ start = 0, file = "audio/a.wav", length = 4 },
         { start = 12, file = "audio/a.wav", length = 4 }]
devices = [{ type = "eq", highpass_hz = 40, bell1_hz = 300, bell1_gain_db = 4 },
           { type = "compressor", threshold_db = -20, ratio = 3 }]
sends = { Room = -6 }

[[track]]
name = "Pad"
volume_db = -3
pan = 0.4
clips = [{ start = 4, file = "audio/b.wav", length = 4 },
         { start = 16, file = "audio/b.wav", length = 6 }]
devices = [{ type = "compressor", threshold_db = -24, ratio = 4, sidechain = "Kick" }]
sends = { Room = -12 }
automation = [{ param = "volume_db", points = [[0, -12], [20, 0]] }]

[[bus]]
name = "Room"
devices = [{ type = "delay", sync = false, time_ms = 120.0, feedback = 0.3, mix = 1.0 }]
"""


def test_silent_blocks_change_no_bit_of_the_mix(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    write_wav(tmp_path / "audio" / "a.wav", sine(60.0, 2.0, amp=0.8, channels=2))
    write_wav(tmp_path / "audio" / "b.wav", sine(440.0, 3.0, amp=0.5, channels=2))
    (tmp_path / "song.toml").write_text(SONG)
    real = engine_render._process_node
    silent = []

    def spy(*args: object, **kwargs: object) -> object:
        res = real(*args, **kwargs)  # type: ignore[arg-type]
        silent.append(res is engine_render._SILENT)
        return res

    monkeypatch.setattr(engine_render, "_process_node", spy)
    plain = tmp_path / "plain.wav"
    render_project(tmp_path, plain, bit_depth=32, master=False, qc=False, cache=False,
                   block_frames=4096)
    skipped = sum(silent)
    silent.clear()
    # Tapped tracks (their stems) are always summed: the reference.
    tapped = tmp_path / "tapped.wav"
    render_project(tmp_path, tapped, bit_depth=32, master=False, qc=False, cache=False,
                   block_frames=4096, stems=True, stems_mode="tracks")
    assert skipped > 20 and not any(silent)
    a, b = sf.read(plain, dtype="float32")[0], sf.read(tapped, dtype="float32")[0]
    assert np.abs(a).max() > 0.1
    assert a.tobytes() == b.tobytes()
