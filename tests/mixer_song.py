"""A small song with comments, devices, a bus and sends, for the mixer's tests."""

from __future__ import annotations

from pathlib import Path

SONG = """\
# A mix to edit from the studio: every comment must survive.
schema_version = 1

[song]
title = "Mixer Test"   # the title
tempo = 240
time_signature = [4, 4]
sample_rate = 48000
length = "5:1"
tail_s = 0.3

[[marker]]
name = "Verse"
at = "1:1"

[[marker]]
name = "Chorus"
at = "3:1"

# the pad, bright, through a low-pass
[[track]]
name = "Pad"          # the pad
instrument = { type = "synth", preset = "pad" }
volume_db = -6.0      # the fader
pan = -0.25
devices = [{ type = "lowpass", cutoff_hz = 12000.0 }]   # open filter
sends = { Space = -12.0 }

[[track.clips]]
start = "1:1"
length = 16
notes = [["A3", 0, 4, 90], ["E5", 0, 4, 80], ["A3", 4, 4, 90], ["E5", 4, 4, 80],
         ["A3", 8, 4, 90], ["E5", 8, 4, 80], ["A3", 12, 4, 90], ["E5", 12, 4, 80]]

# the keys
[[track]]
name = "Keys"
instrument = { type = "synth", preset = "pluck" }
volume_db = -9.0

[[track.clips]]
start = "1:1"
length = 16
notes = [["C5", 0, 1, 90], ["E5", 2, 1, 90], ["G5", 4, 1, 90], ["C6", 6, 1, 90],
         ["C5", 8, 1, 90], ["E5", 10, 1, 90], ["G5", 12, 1, 90], ["C6", 14, 1, 90]]

# a room for the pad
[[bus]]
name = "Space"
devices = [{ type = "reverb", room_size = 0.5, wet = 1.0 }]

[master]
volume_db = 0.0   # master fader
"""


def make_mixer_song(songs: Path, name: str = "mix") -> Path:
    """Write ``songs/name/song.toml`` (the song above); return the project folder."""
    folder = songs / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "song.toml").write_text(SONG)
    return folder
