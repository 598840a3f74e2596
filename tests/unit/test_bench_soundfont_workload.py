"""The SoundFont benchmark's MIDI file is what the issue asks for: 3 minutes, 8 channels of
General MIDI with drums on channel 10, the same bytes every time."""

from __future__ import annotations

from pathlib import Path

import pretty_midi
from benchmarks.bench_soundfont import PROGRAMS, make_file


def test_three_minutes_eight_channels_drums_on_ten(tmp_path: Path) -> None:
    a = make_file(tmp_path / "a.mid")
    b = make_file(tmp_path / "b.mid")
    assert a.read_bytes() == b.read_bytes()  # deterministic
    pm = pretty_midi.PrettyMIDI(str(a))
    assert 179.0 < pm.get_end_time() < 181.0
    assert len(pm.instruments) == 8
    assert sorted(i.program for i in pm.instruments if not i.is_drum) == sorted(PROGRAMS)
    drums = [i for i in pm.instruments if i.is_drum]
    assert len(drums) == 1 and {n.pitch for n in drums[0].notes} >= {36, 38, 42}
    assert all(len(i.notes) > 100 for i in pm.instruments)  # every part plays throughout
    assert all(max(n.end for n in i.notes) > 170 for i in pm.instruments)
