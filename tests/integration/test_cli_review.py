"""``mixdown render PROJECT --version NOTE``, ``render(..., version=)`` and ``mixdown info``
showing the approved version: the studio of the project's parent folder, as a user meets it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import mixdown
from mixdown.db import ENV_VAR
from mixdown.services import review as rv
from review_songs import make_song

MIXDOWN = str(Path(sys.executable).with_name("mixdown"))


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([MIXDOWN, *map(str, args)], capture_output=True, text=True,
                          timeout=600)


@pytest.fixture(autouse=True)
def _no_env_database(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)


def test_versions_from_the_cli_and_python_and_the_approved_one_in_info(tmp_path: Path) -> None:
    songs = tmp_path / "songs"
    song = make_song(songs, "alpha", bars=6)
    info = run("info", song, "--json")
    assert info.returncode == 0, info.stderr
    assert json.loads(info.stdout)["approved_version"] is None
    assert not (songs / "mixdown.db").exists()  # info creates no database

    first = run("render", song, "--version", "rough mix", "--json")
    assert first.returncode == 0, first.stderr
    v1 = json.loads(first.stdout)["version"]
    assert (v1["number"], v1["note"], v1["song"]) == (1, "rough mix", "alpha")
    assert (songs / "mixdown.db").is_file()
    assert Path(json.loads(first.stdout)["output"]).is_relative_to(songs / ".mixdown-studio")

    out = tmp_path / "out.wav"
    second = run("render", song, "-o", out, "--version", "vocal up")
    assert second.returncode == 0, second.stderr
    assert "kept v2 of alpha in the studio (vocal up)" in second.stdout

    report = mixdown.render(song, tmp_path / "py.wav", version="from python")
    assert report.version.number == 3 and report.as_dict()["version"]["note"] == "from python"

    with rv.open_studio(songs) as studio:
        versions = rv.list_versions(studio, "alpha")
        assert [v.note for v in versions] == ["rough mix", "vocal up", "from python"]
        assert rv.version_audio_path(studio, versions[1]).read_bytes() == out.read_bytes()
        assert versions[1].integrated_lufs == pytest.approx(
            json.loads((tmp_path / "out.wav.qc.json").read_text())["integrated_lufs"])
        rv.set_status(studio, versions[1], "approved", by="label")

    shown = run("info", song)
    assert shown.returncode == 0, shown.stderr
    assert "approved: v2 by label" in shown.stdout
    assert json.loads(run("info", song, "--json").stdout)["approved_version"]["number"] == 2


def test_version_of_a_section_is_refused(tmp_path: Path) -> None:
    song = make_song(tmp_path / "songs", "alpha", bars=6)
    proc = run("render", song, "-o", tmp_path / "x.wav", "--section", "Verse",
               "--version", "part")
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and "whole song" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "songs" / "mixdown.db").exists()
    assert not (tmp_path / "x.wav").exists()


def test_no_output_and_no_version_is_a_usage_error(tmp_path: Path) -> None:
    song = make_song(tmp_path / "songs", "alpha", bars=6)
    proc = run("render", song)
    assert proc.returncode == 2 and "-o" in proc.stderr
