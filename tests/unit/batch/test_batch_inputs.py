"""Batch inputs: folders, globs, manifests with per-file options, and the checks made before
anything runs (collisions, an output folder inside an input folder)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mixdown.batch.inputs import expand_inputs, service_options
from mixdown.core.errors import FormatError, MixdownError, ParameterError


def touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    return path


def test_a_folder_is_searched_recursively_for_audio_and_keeps_its_layout(tmp_path: Path) -> None:
    src = tmp_path / "cat"
    touch(src / "a.wav")
    touch(src / "album" / "b.flac")
    touch(src / "notes.txt")
    touch(src / ".hidden" / "c.wav")
    out = tmp_path / "out"
    entries = expand_inputs("master", [src], out, {"target": "spotify"})
    assert [(e.input.name, e.output.relative_to(out.resolve()).as_posix()) for e in entries] == [
        ("a.wav", "a.wav"), ("b.flac", "album/b.wav")]
    assert all(e.options == {"target": "spotify"} for e in entries)


def test_glob_filters_files_found_in_folders(tmp_path: Path) -> None:
    src = tmp_path / "cat"
    touch(src / "a.wav")
    touch(src / "b.flac")
    touch(src / "sub" / "c.wav")
    names = [e.input.name for e in expand_inputs("analyze", [src], tmp_path / "o", {},
                                                 patterns=["*.wav"])]
    assert names == ["a.wav", "c.wav"]
    names = [e.input.name for e in expand_inputs("analyze", [src], tmp_path / "o", {},
                                                 patterns=["sub/*"])]
    assert names == ["c.wav"]


def test_analyze_outputs_keep_the_whole_name_so_formats_do_not_clash(tmp_path: Path) -> None:
    entries = expand_inputs("analyze", [touch(tmp_path / "in" / "s.wav"),
                                        touch(tmp_path / "in" / "s.flac")], tmp_path / "o", {})
    assert sorted(e.output.name for e in entries) == ["s.flac.json", "s.wav.json"]


def test_two_inputs_with_one_output_name_are_refused_before_anything_runs(tmp_path: Path) -> None:
    a = touch(tmp_path / "in" / "s.wav")
    b = touch(tmp_path / "in" / "s.flac")
    with pytest.raises(MixdownError, match=r"output name collision: .*s\.wav.*s\.flac|"
                                           r"output name collision: .*s\.flac.*s\.wav"):
        expand_inputs("master", [a, b], tmp_path / "o", {})
    assert not (tmp_path / "o").exists()


def test_an_output_folder_inside_an_input_folder_is_refused(tmp_path: Path) -> None:
    src = tmp_path / "cat"
    touch(src / "a.wav")
    with pytest.raises(ParameterError, match="inside the input folder"):
        expand_inputs("master", [src], src / "mastered", {})
    with pytest.raises(ParameterError, match="inside the input folder"):
        expand_inputs("master", [src], src, {})


def test_an_output_that_would_replace_an_input_is_refused(tmp_path: Path) -> None:
    wav = touch(tmp_path / "s.wav")
    with pytest.raises(ParameterError, match="would replace the input"):
        expand_inputs("convert", [wav], tmp_path, {})


def test_csv_manifest_gives_per_file_options_over_the_command_line(tmp_path: Path) -> None:
    touch(tmp_path / "a.wav")
    touch(tmp_path / "sub" / "b.wav")
    touch(tmp_path / "ref.wav")
    manifest = tmp_path / "jobs.csv"
    manifest.write_text("input,target,ceiling,output,reference\n"
                        "a.wav,apple-music,,,\n"
                        "sub/b.wav,-9.5,-2,loud/b.flac,ref.wav\n")
    out = tmp_path / "out"
    a, b = expand_inputs("master", [manifest], out, {"target": "spotify", "allowance_db": 4.0})
    assert a.input == (tmp_path / "a.wav").resolve()
    assert a.options == {"target": "apple-music", "allowance_db": 4.0}
    assert a.output == out.resolve() / "a.wav"
    assert b.options == {"target": -9.5, "ceiling_dbtp": -2.0, "allowance_db": 4.0,
                         "references": [str(tmp_path.resolve() / "ref.wav")]}
    assert b.output == out.resolve() / "loud" / "b.flac"


def test_json_manifest_and_its_errors(tmp_path: Path) -> None:
    touch(tmp_path / "a.wav")
    good = tmp_path / "jobs.json"
    good.write_text(json.dumps({"inputs": [{"input": "a.wav", "bit-depth": 16}]}))
    (entry,) = expand_inputs("convert", [good], tmp_path / "o", {})
    assert entry.options == {"bit_depth": 16}
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"input": "a.wav", "celing": -1}]))
    with pytest.raises(ParameterError, match=r"bad\.json: entry 1: unknown option 'celing'"):
        expand_inputs("master", [bad], tmp_path / "o", {})
    broken = tmp_path / "broken.json"
    broken.write_text("[{")
    with pytest.raises(FormatError, match=r"broken\.json: line 1: not valid JSON"):
        expand_inputs("master", [broken], tmp_path / "o", {})
    escape = tmp_path / "escape.csv"
    escape.write_text("input,output\na.wav,../x.wav\n")
    with pytest.raises(ParameterError, match="relative path inside the output folder"):
        expand_inputs("master", [escape], tmp_path / "o", {})


def test_projects_are_found_by_their_song_toml(tmp_path: Path) -> None:
    touch(tmp_path / "songs" / "one" / "song.toml")
    touch(tmp_path / "songs" / "two" / "song.toml")
    touch(tmp_path / "solo" / "song.toml")
    out = tmp_path / "out"
    entries = expand_inputs("render", [tmp_path / "songs", tmp_path / "solo" / "song.toml"],
                            out, {"format": "flac"})
    assert [(e.input.name, e.output.name) for e in entries] == [
        ("one", "one.flac"), ("two", "two.flac"), ("solo", "solo.flac")]
    (d,) = expand_inputs("deliver", [tmp_path / "solo"], out, {"targets": ["cd"]})
    assert d.output == out.resolve() / "solo"


def test_missing_inputs_and_empty_folders_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match=r"nope\.wav: no such file or folder"):
        expand_inputs("analyze", [tmp_path / "nope.wav"], tmp_path / "o", {})
    (tmp_path / "empty").mkdir()
    with pytest.raises(FormatError, match="empty: no audio files found"):
        expand_inputs("analyze", [tmp_path / "empty"], tmp_path / "o", {})


def test_service_options_translate_cli_names_and_parse_cells() -> None:
    assert service_options("render", {"no_cache": "true", "start": "9:1", "end": "12",
                                      "bit-depth": "16", "section": ""}) == {
        "cache": False, "start": "9:1", "end": 12.0, "bit_depth": 16}
    assert service_options("deliver", {"targets": "spotify;cd", "no_stems": False}) == {
        "targets": ["spotify", "cd"], "stems": True}
    with pytest.raises(ParameterError, match="option 'series': expected true or false"):
        service_options("analyze", {"series": "maybe"})
