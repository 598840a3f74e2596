"""SoundFonts as a user meets them: `mixdown render FILE.mid --soundfont`, `import --soundfont`,
a soundfont instrument in song.toml; everything checked by measuring the audio."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from pathlib import Path

import mido
import numpy as np
import pretty_midi
import pytest
import soundfile as sf

from midi_files import write_mido
from mixdown.core.errors import MixdownError
from mixdown.services.render import render_audio
from soundfonts import GM_SF2

MIXDOWN = str(Path(sys.executable).with_name("mixdown"))
ONSET_TOL_S = 0.001  # the acceptance: within one millisecond of pretty-midi
Meta = mido.MetaMessage
Msg = mido.Message
TPB = 480


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "120"}
    return subprocess.run([MIXDOWN, *args], capture_output=True, text=True, env=env,
                          timeout=300, cwd=cwd)


def render_mid(mid: Path, out: Path, *extra: str) -> tuple[np.ndarray, int]:
    r = run("render", str(mid), "--soundfont", str(GM_SF2), "-o", str(out), *extra)
    assert r.returncode == 0, r.stderr
    audio, rate = sf.read(out, always_2d=True)
    return audio, rate


def clicks_with_tempo_changes(path: Path) -> Path:
    """Hi wood blocks (GM 76, short) on channel 10, off the beat grid by 0..34 ticks, across
    four tempos (120, 90, 150, 64 bpm), and a melodic track that holds still."""
    conductor = [Meta("set_tempo", tempo=500_000),
                 Meta("set_tempo", tempo=666_667, time=TPB * 4),
                 Meta("set_tempo", tempo=400_000, time=TPB * 4),
                 Meta("set_tempo", tempo=937_500, time=TPB * 3 + 240)]
    hits: list[Msg | Meta] = [Meta("track_name", name="Blocks")]
    prev = 0
    for i in range(20):
        tick = i * TPB * 3 // 4 + (i % 3) * 17
        hits += [Msg("note_on", channel=9, note=76, velocity=110, time=tick - prev),
                 Msg("note_off", channel=9, note=76, time=40)]
        prev = tick + 40
    return write_mido(path, [conductor, hits], ticks_per_beat=TPB)


def onsets(audio: np.ndarray, rate: int) -> np.ndarray:
    """Seconds where the signal leaves silence (exact zeros between the clicks) after 20 ms."""
    above = np.flatnonzero(np.abs(audio).max(axis=1) > 1e-5)
    firsts = np.concatenate([above[:1], above[1:][np.diff(above) > 0.02 * rate]])
    return firsts / rate


def test_tempo_changes_render_onsets_within_a_millisecond_of_pretty_midi(tmp_path: Path
                                                                           ) -> None:
    mid = clicks_with_tempo_changes(tmp_path / "tempo.mid")
    audio, rate = render_mid(mid, tmp_path / "out.wav")
    expected = np.array(sorted(n.start for i in pretty_midi.PrettyMIDI(str(mid)).instruments
                               for n in i.notes))
    got = onsets(audio, rate)
    assert len(got) == len(expected) == 20
    assert np.abs(got - expected).max() < ONSET_TOL_S
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.wav", "out.wav.qc.json",
                                                          "tempo.mid"]  # no project left


def gm_song(path: Path, *, program: int = 0, reverb: int | None = None,
            drums: bool = True, bend: bool = False) -> Path:
    """A piano line (program, CC7/CC10, optional CC91 and pitch bend) and a drum track."""
    conductor = [Meta("set_tempo", tempo=500_000)]
    keys: list[Msg | Meta] = [Msg("program_change", channel=0, program=program),
                              Msg("control_change", channel=0, control=7, value=110),
                              Msg("control_change", channel=0, control=10, value=40)]
    if reverb is not None:
        keys.append(Msg("control_change", channel=0, control=91, value=reverb))
    for note in (60, 64, 67, 72):
        keys += [Msg("note_on", channel=0, note=note, velocity=100),
                 Msg("note_off", channel=0, note=note, time=TPB)]
    if bend:
        keys += [Msg("pitchwheel", channel=0, pitch=8191, time=0),
                 Msg("note_on", channel=0, note=69, velocity=100, time=0),
                 Msg("note_off", channel=0, note=69, time=TPB * 2)]
    tracks = [conductor, keys]
    if drums:
        kit: list[Msg | Meta] = []
        for i in range(8):  # kick on beats, hats between: 4 beats, 2 per beat
            note = 36 if i % 2 == 0 else 42
            kit += [Msg("note_on", channel=9, note=note, velocity=120,
                        time=0 if i == 0 else TPB // 2 - 30),
                    Msg("note_off", channel=9, note=note, time=30)]
        tracks.append(kit)
    return write_mido(path, tracks, ticks_per_beat=TPB)


def band_db(x: np.ndarray, rate: int, lo: float, hi: float) -> float:
    mono = x.mean(axis=1)
    spec = np.abs(np.fft.rfft(mono)) ** 2
    f = np.fft.rfftfreq(len(mono), 1 / rate)
    return float(10 * np.log10(spec[(f >= lo) & (f < hi)].sum() + 1e-30))


def test_drums_on_channel_10_sound_where_they_are_played(tmp_path: Path) -> None:
    with_kit, rate = render_mid(gm_song(tmp_path / "a.mid"), tmp_path / "a.wav")
    without, _ = render_mid(gm_song(tmp_path / "b.mid", drums=False), tmp_path / "b.wav")
    kit = with_kit[: len(without)] - without  # the drums alone (the renders are exact)
    beat = rate // 2  # 120 bpm
    for k in range(4):  # a kick on every beat: low energy in its first 60 ms
        hit = kit[k * beat: k * beat + int(0.06 * rate)]
        assert band_db(hit, rate, 30, 150) - band_db(hit, rate, 4_000, 12_000) > 6
    for k in range(4):  # a closed hat on every off-beat: high energy
        at = k * beat + beat // 2
        hit = kit[at: at + int(0.03 * rate)]
        assert band_db(hit, rate, 4_000, 16_000) - band_db(hit, rate, 30, 150) > 6
    assert np.abs(kit[: int(0.001 * rate)]).max() > 0  # the first kick starts at once
    assert np.abs(kit[4 * beat + int(1.0 * rate):]).max() < 1e-3  # nothing after the kit


def test_a_program_change_changes_the_spectrum(tmp_path: Path) -> None:
    piano, rate = render_mid(gm_song(tmp_path / "p.mid", drums=False), tmp_path / "p.wav")
    trumpet, _ = render_mid(gm_song(tmp_path / "t.mid", program=56, drums=False),
                            tmp_path / "t.wav")
    n = min(len(piano), len(trumpet), 2 * rate)

    def profile(x: np.ndarray) -> np.ndarray:
        edges = np.geomspace(100, 12_000, 13)
        return np.array([band_db(x[:n], rate, a, b) for a, b in itertools.pairwise(edges)])

    p, t = profile(piano), profile(trumpet)
    diff = (t - t.max()) - (p - p.max())
    assert np.abs(diff).max() > 10  # another instrument, not the same one louder


def test_cc91_raises_the_reverb_tail(tmp_path: Path) -> None:
    dry, rate = render_mid(gm_song(tmp_path / "d.mid", drums=False), tmp_path / "d.wav")
    wet, _ = render_mid(gm_song(tmp_path / "w.mid", drums=False, reverb=127),
                        tmp_path / "w.wav")
    end = 4 * rate // 2  # the last note ends at beat 4 (2 s)
    tail = slice(end + int(0.5 * rate), end + int(1.2 * rate))

    def level(x: np.ndarray) -> float:
        return float(10 * np.log10(np.mean(x[tail] ** 2) + 1e-30))

    assert level(wet) - level(dry) > 10


def test_pitch_bend_is_honoured(tmp_path: Path) -> None:
    audio, rate = render_mid(gm_song(tmp_path / "b.mid", drums=False, bend=True),
                             tmp_path / "b.wav")
    note = audio[int(2.1 * rate): int(2.9 * rate)].mean(axis=1)  # A4 with the wheel up 2
    spec = np.abs(np.fft.rfft(note * np.hanning(len(note))))
    f = np.fft.rfftfreq(len(note), 1 / rate)
    near = (f > 400) & (f < 560)
    peak = f[near][np.argmax(spec[near])]
    assert abs(peak - 440.0 * 2 ** (2 / 12)) < 6  # B4 (493.9 Hz), not A4


@pytest.mark.parametrize("spoil", ["text", "truncated"])
def test_a_bad_soundfont_is_one_line_and_nothing_is_written(tmp_path: Path, spoil: str
                                                             ) -> None:
    bad = tmp_path / "bad.sf2"
    bad.write_bytes(b"not a soundfont\n" * 100 if spoil == "text"
                    else GM_SF2.read_bytes()[:100_000])
    mid = gm_song(tmp_path / "s.mid")
    out = tmp_path / "out"
    out.mkdir()
    before = sorted(p.name for p in tmp_path.rglob("*"))
    r = run("render", str(mid), "--soundfont", str(bad), "-o", str(out / "x.wav"))
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and str(bad) in lines[0] and "not a usable SoundFont" in lines[0]
    assert "Traceback" not in r.stderr
    r = run("import", str(mid), "-o", str(out / "proj"), "--soundfont", str(bad))
    assert r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


def test_import_copies_the_soundfont_and_the_project_renders_the_same(tmp_path: Path) -> None:
    mid = gm_song(tmp_path / "s.mid", reverb=64, bend=True)
    r = run("import", str(mid), "-o", str(tmp_path / "proj"), "--soundfont", str(GM_SF2))
    assert r.returncode == 0, r.stderr
    proj = tmp_path / "proj"
    copy = proj / "sounds" / GM_SF2.name
    assert copy.read_bytes() == GM_SF2.read_bytes() and not copy.is_symlink()
    text = (proj / "song.toml").read_text()
    assert 'type = "soundfont"' in text and "bank = 128" in text
    assert 'name = "Reverb"' in text and "instrument.bend_semitones" in text
    assert str(GM_SF2.parent) not in text  # the project refers only to its own files
    r = run("render", str(proj), "-o", str(tmp_path / "p.wav"))
    assert r.returncode == 0, r.stderr
    direct, _ = render_mid(mid, tmp_path / "d.wav")
    project, _ = sf.read(tmp_path / "p.wav", always_2d=True)
    np.testing.assert_array_equal(project, direct)  # one path from a song to sound


def test_a_soundfont_outside_the_project_or_not_one_is_a_problem(tmp_path: Path) -> None:
    from mixdown import Clip, Device, Note, Project, Song, Track

    (tmp_path / "sounds").mkdir()
    (tmp_path / "sounds" / "fake.sf2").write_text("hello\n")

    def project(file: str) -> Project:
        return Project(song=Song(tempo=120), tracks=(Track(
            name="Keys", instrument=Device(type="soundfont", params={"file": file}),
            clips=(Clip(start=0, notes=(Note(pitch=60, start=0, length=1),)),)),))

    with pytest.raises(MixdownError, match=r"instrument.file: sounds/fake.sf2: is not a usable "
                       r"SoundFont \(only 6 bytes"):
        render_audio(project("sounds/fake.sf2"), root=tmp_path)
    with pytest.raises(MixdownError, match=r"outside|inside"):
        render_audio(project(str(GM_SF2)), root=tmp_path)
