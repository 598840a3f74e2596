"""Small real projects for the review studio's tests: a songs folder of short songs."""

from __future__ import annotations

from pathlib import Path

SONG = """\
schema_version = 1

[song]
title = "{title}"
tempo = {tempo}
time_signature = [4, 4]
sample_rate = 48000
length = "{bars}:1"
tail_s = 0.5

[[marker]]
name = "Verse"
at = "1:1"

[[marker]]
name = "Chorus 2"
at = "9:1"

[[track]]
name = "Vocal"
instrument = {{ type = "synth", preset = "pad" }}
volume_db = {vocal_db}
devices = [{{ type = "compressor", threshold_db = {threshold}, ratio = 3 }}]

[[track.clips]]
start = "1:1"
length = {beats}
notes = [{notes}]
"""


def song_text(*, title: str = "Test Song", tempo: float = 180, bars: int = 18,
              vocal_db: float = -6.0, threshold: float = -18.0) -> str:
    """A song of ``bars - 1`` bars of 4/4: a pad chord on every bar."""
    beats = 4 * (bars - 1)
    notes = ", ".join(f'["A3", {4 * i}, 4, 90], ["E4", {4 * i}, 4, 80]'
                      for i in range(bars - 1))
    return SONG.format(title=title, tempo=tempo, bars=bars, vocal_db=vocal_db,
                       threshold=threshold, beats=beats, notes=notes)


def make_song(songs: Path, name: str, **kw: object) -> Path:
    """Write ``songs/name/song.toml`` and return the project folder."""
    folder = songs / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "song.toml").write_text(song_text(**kw))  # type: ignore[arg-type]
    return folder
