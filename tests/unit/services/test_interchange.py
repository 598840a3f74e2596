"""MIDI import -> export -> import keeps every note to the tick, every tempo and program;
and bad input is refused with nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import mido
import numpy as np
import pretty_midi
import pytest

import mixdown
from midi_files import many_notes_file, write_mido
from mixdown.core.errors import FormatError, MixdownError
from mixdown.io.smf import Smf, read_smf
from mixdown.services.interchange import check_midi, export_midi, import_midi

Meta = mido.MetaMessage
Msg = mido.Message


def _song(path: Path, tpb: int = 384) -> Path:
    """Tempo steps, meter changes, markers, odd ticks, overlapping keys, 5 programs, drums."""
    conductor = [Meta("track_name", name="Round Trip"),
                 Meta("set_tempo", tempo=600_000), Meta("marker", text="A"),
                 Meta("time_signature", numerator=6, denominator=8),
                 Meta("set_tempo", tempo=333_333, time=tpb * 3),            # bar 2 of 6/8
                 Meta("time_signature", numerator=5, denominator=4, time=0),
                 Meta("marker", text="B", time=7),
                 Meta("set_tempo", tempo=1_234_567, time=tpb * 5 - 7)]      # bar 3 of 5/4
    tracks = [conductor]
    rng = np.random.default_rng(3)
    for k, (ch, program) in enumerate(((0, 5), (1, 100), (2, 33), (3, 57), (4, 74))):
        msgs = [Meta("track_name", name=f"Part {k}"),
                Msg("program_change", channel=ch, program=program)]
        events = []
        for _ in range(40 if k else 400):  # the first goes to a midi/ clip file
            start = int(rng.integers(0, tpb * 16))
            length = int(rng.integers(1, tpb * 2))
            pitch = int(rng.integers(40, 52))  # few keys: overlaps of one key happen
            events.append((start, 1, Msg("note_on", channel=ch, note=pitch,
                                         velocity=int(rng.integers(1, 128)))))
            events.append((start + length, 0, Msg("note_off", channel=ch, note=pitch)))
        prev = 0
        for tick, _, msg in sorted(events, key=lambda e: (e[0], e[1])):
            msgs.append(msg.copy(time=tick - prev))
            prev = tick
        tracks.append(msgs)
    drums = [Meta("track_name", name="Beat")]
    for i in range(32):
        drums += [Msg("note_on", channel=9, note=(36, 38, 42, 46)[i % 4], time=0),
                  Msg("note_off", channel=9, note=(36, 38, 42, 46)[i % 4], time=tpb // 2)]
    tracks.append(drums)
    return write_mido(path, tracks, ticks_per_beat=tpb)


def _with_defaults(smf: Smf) -> tuple[list, list]:
    """A file without tempo or meter events plays at 120 bpm in 4/4 (SMF 1.0)."""
    tempos = smf.tempos if smf.tempos and smf.tempos[0][0] == 0 else [(0, 500_000), *smf.tempos]
    sigs = smf.time_signatures
    if not sigs or sigs[0][0] != 0:
        sigs = [(0, 4, 4), *sigs]
    return tempos, sigs


def _same_music(a: Smf, b: Smf) -> None:
    assert a.ticks_per_beat == b.ticks_per_beat
    assert _with_defaults(a) == _with_defaults(b)
    assert a.markers == b.markers
    assert len(a.parts) == len(b.parts)
    for pa, pb in zip(a.parts, b.parts, strict=True):
        assert (pa.channel, pa.program) == (pb.channel, pb.program)
        assert pa.name in ("", pb.name)  # an unnamed track is named on import
        np.testing.assert_array_equal(pa.notes, pb.notes)


def test_round_trip_keeps_notes_tempi_meter_markers_programs(tmp_path: Path) -> None:
    src = _song(tmp_path / "in.mid")
    report = import_midi(src, tmp_path / "proj")
    assert [t.midi_file is not None for t in report.tracks] == [True] + [False] * 5
    out = export_midi(tmp_path / "proj", tmp_path / "out.mid")
    assert out.ticks_per_beat == 384  # the clip file's own resolution
    first, second = read_smf(src), read_smf(tmp_path / "out.mid")
    _same_music(first, second)
    again = mixdown.import_midi(tmp_path / "out.mid", tmp_path / "proj2")  # the top-level API
    assert again.notes == report.notes == sum(len(p.notes) for p in first.parts)
    assert mixdown.load(tmp_path / "proj2") == mixdown.load(tmp_path / "proj")


def test_round_trip_inline_only_with_a_given_resolution(tmp_path: Path) -> None:
    msgs = [Msg("program_change", program=24), Msg("note_on", note=60, time=1),
            Msg("note_on", note=60, time=3), Msg("note_off", note=60, time=5),
            Msg("note_off", note=60, time=90)]
    src = write_mido(tmp_path / "g.mid", [msgs], fmt=0, ticks_per_beat=96)
    imported = import_midi(src, tmp_path / "p")
    assert imported.notes == 2
    # small enough to stay inline in song.toml: no MIDI clip file is written
    assert "notes = [" in (tmp_path / "p" / "song.toml").read_text()
    assert not any((tmp_path / "p").rglob("*.mid"))
    exported = export_midi(tmp_path / "p", tmp_path / "g2.mid", ticks_per_beat=96)
    assert exported.ticks_per_beat == 96 and exported.notes == 2
    _same_music(read_smf(src), read_smf(tmp_path / "g2.mid"))


def test_export_expands_patterns_transpose_and_clip_starts(tmp_path: Path) -> None:
    project = mixdown.Project(
        song=mixdown.Song(tempo=100, tempo_map=(mixdown.TempoPoint(at=8, bpm=140, ramp=True),)),
        tracks=(
            mixdown.Track(name="Kit", instrument=mixdown.Device(type="drums"), clips=(
                mixdown.Clip(start="2:1", bars=1, pattern={"kick": "x...", "snare": "..x."},
                             step=0.5),)),
            mixdown.Track(name="Keys", instrument=mixdown.Device(type="synth"), clips=(
                mixdown.Clip(start=1.5, transpose=12, length=2, notes=(
                    mixdown.Note(pitch=60, start=0, length=1),
                    mixdown.Note(pitch=62, start=1.5, length=2),   # cut at the clip end
                    mixdown.Note(pitch=64, start=2, length=1))),)),  # starts at the end
        ))
    report = export_midi(project, tmp_path / "x.mid", root=tmp_path)
    pm = pretty_midi.PrettyMIDI(str(tmp_path / "x.mid"))
    kit, keys = pm.instruments
    assert kit.is_drum and not keys.is_drum
    # 2 cycles of 2 beats in a 4-beat bar: kick on 4 and 6, snare on 5 and 7 (beats)
    assert sorted((pm.time_to_tick(n.start) / 480, n.pitch) for n in kit.notes) == [
        (4.0, 36), (5.0, 38), (6.0, 36), (7.0, 38)]
    assert sorted((pm.time_to_tick(n.start) / 480, pm.time_to_tick(n.end) / 480, n.pitch)
                  for n in keys.notes) == [(1.5, 2.5, 72), (3.0, 3.5, 74)]
    # the ramp from 100 to 140 bpm over beats 0..8: pretty-midi times match ours
    tempo = mixdown.Project.model_validate(project.model_dump()).song
    assert tempo.tempo_map[0].ramp
    from mixdown.core.time import song_maps

    _, tmap = song_maps(100, (4, 4), [(8, 140, True)])
    for beat in (1.5, 3.0, 5.0, 8.0):
        assert pm.tick_to_time(round(beat * 480)) == pytest.approx(
            tmap.beats_to_seconds(beat), abs=1e-5)
    assert report.tempo_changes == 33  # 32 sixteenth-note steps, then 140 bpm


def test_check_writes_nothing_and_reports(tmp_path: Path) -> None:
    src = _song(tmp_path / "in.mid")
    before = sorted(tmp_path.iterdir())
    r = check_midi(src)
    assert r.project is None and r.notes == 400 + 4 * 40 + 32
    assert sorted(tmp_path.iterdir()) == before
    assert json.loads(json.dumps(r.as_dict()))["tracks"][0]["name"] == "Part 0"


def _bad_files(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    good = _song(tmp_path / "good.mid").read_bytes()
    out: dict[str, tuple[Path, str]] = {}
    (tmp_path / "cut.mid").write_bytes(good[: len(good) // 2])
    out["truncated"] = (tmp_path / "cut.mid", "truncated")
    # a data byte where a status byte must be, at the start of a track
    head = good[:14]
    bad = head + b"MTrk" + (4).to_bytes(4, "big") + bytes([0x00, 0x3C, 0x40, 0x00])
    (tmp_path / "rs.mid").write_bytes(bad)
    out["running status"] = (tmp_path / "rs.mid", "no running status")
    write_mido(tmp_path / "t0.mid", [[Meta("set_tempo", tempo=0)]])
    out["tempo 0"] = (tmp_path / "t0.mid", "tempo 0")
    (tmp_path / "text.mid").write_text("this is not music\n")
    out["text"] = (tmp_path / "text.mid", "not a Standard MIDI File")
    many_notes_file(tmp_path / "huge.mid", 1_000_000)
    out["huge"] = (tmp_path / "huge.mid", "more than 500000 notes")
    return out


def test_bad_files_are_refused_with_nothing_written(tmp_path: Path) -> None:
    for what, (path, why) in _bad_files(tmp_path).items():
        dest = tmp_path / f"out-{what.replace(' ', '-')}"
        with pytest.raises(FormatError, match=why) as info:
            import_midi(path, dest)
        assert str(info.value).startswith(f"{path}: "), what
        assert not dest.exists(), what
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp folders


def test_output_folder_rules(tmp_path: Path) -> None:
    src = _song(tmp_path / "in.mid")
    full = tmp_path / "full"
    full.mkdir()
    (full / "notes.txt").write_text("mine")
    with pytest.raises(MixdownError, match=r"exists and is not empty; .* --force"):
        import_midi(src, full)
    assert [p.name for p in full.iterdir()] == ["notes.txt"]
    import_midi(src, full, force=True)  # writes beside what is there
    assert (full / "notes.txt").read_text() == "mine"
    assert mixdown.load(full).song.title == "Round Trip"
    with pytest.raises(MixdownError, match="is not a folder"):
        import_midi(src, src)
    with pytest.raises(MixdownError, match=r"parent folder .* does not exist"):
        import_midi(src, tmp_path / "no" / "where")
    empty = tmp_path / "empty"
    empty.mkdir()
    import_midi(src, empty)
    assert (empty / "song.toml").is_file() and (empty / "midi").is_dir()


@pytest.mark.slow
def test_a_300k_note_file_imports_whole(tmp_path: Path) -> None:
    # the figure (about 2 s) is measured by benchmarks/bench_midi.py, not asserted here
    src = many_notes_file(tmp_path / "big.mid", 300_000)
    report = import_midi(src, tmp_path / "big")
    assert report.notes == 300_000 and len(report.tracks) == 8
    from mixdown.io.midi import read_midi_notes

    first = read_midi_notes(tmp_path / "big" / str(report.tracks[0].midi_file))
    source = read_smf(src).parts[0].notes
    assert [(n.start, n.length, n.pitch, n.velocity) for n in first[:1000]] == [
        (s / 480, (e - s) / 480, p, v) for s, e, p, v in source[:1000].tolist()]
    assert len(first) == 300_000 // 8


def test_export_plays_swing_on_note_clips_as_the_render_does(tmp_path: Path) -> None:
    project = mixdown.Project(song=mixdown.Song(tempo=120), tracks=(
        mixdown.Track(name="Keys", instrument=mixdown.Device(type="synth"), clips=(
            mixdown.Clip(start=0, step=0.5, swing=0.5, notes=(
                mixdown.Note(pitch=60, start=0, length=0.25),
                mixdown.Note(pitch=62, start=0.5, length=0.25))),)),))
    export_midi(project, tmp_path / "s.mid", root=tmp_path, ticks_per_beat=480)
    keys = pretty_midi.PrettyMIDI(str(tmp_path / "s.mid")).instruments[0]
    starts = sorted((round(n.start * 2 * 480), n.pitch) for n in keys.notes)  # ticks, 120 bpm
    assert starts == [(0, 60), (360, 62)]  # the odd step moves by swing * step = 0.25 beats
