"""Small real songs for the web studio's tests (a songs folder of short projects)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
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
name = "Chorus"
at = "9:1"

[[track]]
name = "Pad"
instrument = {{ type = "synth", preset = "pad" }}
volume_db = {volume_db}

[[track.clips]]
start = "1:1"
length = {beats}
notes = [{notes}]
"""


def song_text(*, title: str = "Test Song", tempo: float = 240, bars: int = 18,
              volume_db: float = -6.0) -> str:
    """``bars - 1`` bars of 4/4 with a pad chord on every bar (no [master] target, so a
    change of ``volume_db`` changes the version's loudness by as much)."""
    beats = 4 * (bars - 1)
    notes = ", ".join(f'["A3", {4 * i}, 4, 90], ["E4", {4 * i}, 4, 80]'
                      for i in range(bars - 1))
    return SONG.format(title=title, tempo=tempo, bars=bars, volume_db=volume_db,
                       beats=beats, notes=notes)


def make_song(songs: Path, name: str, **kw: object) -> Path:
    """Write ``songs/name/song.toml``; return the project folder."""
    folder = songs / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "song.toml").write_text(song_text(**kw))  # type: ignore[arg-type]
    return folder


MIXDOWN = str(Path(sys.executable).with_name("mixdown"))


@contextlib.contextmanager
def running_server(folder: Path, *args: str, env: dict[str, str] | None = None
                   ) -> Iterator[str]:
    """Run ``mixdown serve FOLDER --port 0 ARGS`` (a real uvicorn) and yield the URL it
    prints once it listens; stop it afterwards."""
    proc = subprocess.Popen([MIXDOWN, "serve", str(folder), "--port", "0", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})})
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()  # blocks until it listens (or dies)
        if not line.startswith("http"):
            proc.kill()
            raise AssertionError(f"serve did not start: {line!r} {proc.stderr.read()!r}")
        yield line
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
