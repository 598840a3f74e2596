"""The batch journal: keys by content, fsync'd lines, a torn last line, one batch at a time,
stale temp files of a killed run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mixdown.batch.journal import JOURNAL_NAME, Journal, clean_stale_temps, task_key
from mixdown.core.errors import MixdownError


def test_the_key_follows_content_options_version_and_output_not_the_path(tmp_path: Path
                                                                         ) -> None:
    a = tmp_path / "a.wav"
    a.write_bytes(b"one")
    b = tmp_path / "copy-of-a.wav"
    b.write_bytes(b"one")
    key = task_key("master", a, {"target": "spotify"}, "1.0")
    assert task_key("master", b, {"target": "spotify"}, "1.0") == key
    assert task_key("master", a, {"target": "cd"}, "1.0") != key
    assert task_key("master", a, {"target": "spotify"}, "1.1") != key
    assert task_key("convert", a, {"target": "spotify"}, "1.0") != key
    assert task_key("master", a, {"target": "spotify"}, "1.0", output="x.wav") != key
    a.write_bytes(b"two")
    assert task_key("master", a, {"target": "spotify"}, "1.0") != key


def test_a_named_reference_file_is_part_of_the_key(tmp_path: Path) -> None:
    a = tmp_path / "a.wav"
    a.write_bytes(b"mix")
    ref = tmp_path / "ref.wav"
    ref.write_bytes(b"ref 1")
    opts = {"references": [str(ref)]}
    key = task_key("master", a, opts, "1", {"references"})
    ref.write_bytes(b"ref 2")
    assert task_key("master", a, opts, "1", {"references"}) != key


def test_a_project_key_ignores_its_renders_and_caches(tmp_path: Path) -> None:
    song = tmp_path / "p"
    (song / "audio").mkdir(parents=True)
    (song / "song.toml").write_text("[song]\n")
    (song / "audio" / "v.wav").write_bytes(b"take")
    key = task_key("render", song, {}, "1")
    (song / "renders").mkdir()
    (song / "renders" / "mix.wav").write_bytes(b"render")
    (song / ".mixdown").mkdir()
    (song / ".mixdown" / "cache").write_bytes(b"cache")
    assert task_key("render", song, {}, "1") == key
    (song / "audio" / "v.wav").write_bytes(b"take 2")
    assert task_key("render", song, {}, "1") != key


def test_entries_survive_reopening_and_a_torn_last_line_is_cut(tmp_path: Path) -> None:
    out = tmp_path / "o"
    (out).mkdir()
    done = out / "a.wav"
    done.write_bytes(b"x")
    with Journal(out) as j:
        j.append({"key": "k1", "status": "done", "input": "a"})
        j.append({"key": "k2", "status": "failed", "failures": 1})
    with (out / JOURNAL_NAME).open("ab") as f:
        f.write(b'{"key": "k3", "status": "do')  # SIGKILL in the middle of a write
    with Journal(out) as j:
        assert j.done("k1", done) is not None
        assert j.done("k1", out / "gone.wav") is None  # an output deleted since: redo it
        assert j.done("k2", done) is None
        assert j.failures("k2") == 1
        assert "k3" not in j.entries
        j.append({"key": "k3", "status": "done"})
    lines = (out / JOURNAL_NAME).read_text().splitlines()
    assert [json.loads(line)["key"] for line in lines] == ["k1", "k2", "k3"]


def test_a_second_batch_on_the_same_folder_is_refused(tmp_path: Path) -> None:
    with Journal(tmp_path), pytest.raises(MixdownError, match="another batch is writing"), \
            Journal(tmp_path):
        pass
    with Journal(tmp_path):  # the lock went with the first batch
        pass


def test_stale_temps_of_a_killed_run_are_cleaned_and_nothing_else(tmp_path: Path) -> None:
    outputs = [tmp_path / "a.wav", tmp_path / "sub" / "b.mp3", tmp_path / "sub" / "c.wav.json"]
    keep = [*outputs, tmp_path / JOURNAL_NAME, tmp_path / ".config.settings",
            tmp_path / "sub" / ".d.wav.k2j4_x9q.part", tmp_path / "elsewhere" / ".a.wav.abcdefgh"]
    stale = [tmp_path / ".a.wav.k2j4_x9q.part", tmp_path / "sub" / ".b.4hq0zzt1.mp3",
             tmp_path / "sub" / ".c.wav.json.abcdefgh.part"]
    for p in keep + stale:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"x")
    stale_dir = tmp_path / "sub" / ".mixdown-master-a1b2c3"
    (stale_dir / "inner").mkdir(parents=True)
    (stale_dir / "inner" / "master.wav").write_bytes(b"half")
    removed = clean_stale_temps(outputs)
    assert sorted(removed) == sorted([*stale, stale_dir])
    assert all(p.exists() for p in keep)
    assert not any(p.exists() for p in [*stale, stale_dir])
