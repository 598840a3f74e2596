"""The track cache as a user meets it: a second render reads what did not change, gives the
same bytes, and ``--no-cache`` neither reads nor writes it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

MIXDOWN = str(Path(sys.executable).with_name("mixdown"))


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([MIXDOWN, *map(str, args)], capture_output=True, text=True,
                          timeout=600)


def test_second_render_reads_the_cache_and_matches(tmp_path: Path) -> None:
    song = tmp_path / "song"
    assert run("new", song).returncode == 0
    first = run("render", song, "-o", tmp_path / "a.wav")
    assert first.returncode == 0, first.stderr
    assert "unchanged" not in first.stdout
    nodes = song / ".mixdown" / "nodes"
    assert any(nodes.iterdir())
    second = run("render", song, "-o", tmp_path / "b.wav", "--json")
    assert second.returncode == 0, second.stderr
    cache = json.loads(second.stdout)["cache"]
    assert cache["written"] == [] and cache["read"]
    assert (tmp_path / "a.wav").read_bytes() == (tmp_path / "b.wav").read_bytes()


def test_no_cache_neither_reads_nor_writes(tmp_path: Path) -> None:
    song = tmp_path / "song"
    assert run("new", song).returncode == 0
    done = run("render", song, "-o", tmp_path / "a.wav", "--no-cache", "--json")
    assert done.returncode == 0, done.stderr
    assert not (song / ".mixdown" / "nodes").exists()
    assert json.loads(done.stdout)["cache"] is None
