"""Recording into a project: a recorded take is stored as FLAC at the song's rate and placed
at its bar less the pre-roll and latency (measured in the render); bad recordings are refused
in one line with the project unchanged."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from mixdown import load
from mixdown.core.errors import MixdownError
from mixdown.services.record.takes import add_recorded_take, record_plan
from mixdown.services.render import render_audio

SONG = """\
[song]
tempo = 120
length = "9:1"   # 8 bars of 2 s
sample_rate = 48000
tail_s = 0

[[track]]
name = "Vocal"

[[track]]
name = "Keys"
instrument = { type = "synth" }
"""


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    (tmp_path / "song.toml").write_text(SONG)
    return tmp_path


def wav_bytes(audio: np.ndarray, rate: int) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, audio.T, rate, format="WAV", subtype="FLOAT")
    return buf.getvalue()


def test_plan_clicks_on_every_beat_with_a_count_in(project: Path) -> None:
    plan = record_plan(project, "Vocal", 3, count_in_bars=1, bars=2)
    assert plan.bar_s == 4.0 and plan.count_in_s == 2.0 and plan.length_s == 4.0
    assert [c.at_s for c in plan.clicks] == [-2.0, -1.5, -1.0, -0.5] + [
        0.5 * i for i in range(8)]
    assert [c.accent for c in plan.clicks] == [True, False, False, False] * 3


def test_recorded_take_is_stored_and_placed_at_the_bar_less_latency(project: Path) -> None:
    rate = 44_100  # the browser's rate: resampled to the song's 48 kHz
    rng = np.random.default_rng(5)
    source = (rng.standard_normal(6 * rate) * 0.1).astype(np.float32)[None]
    pre_roll, latency = 2.0, 0.0123
    took = add_recorded_take(project, "Vocal", 3, wav_bytes(source, rate),
                             pre_roll_s=pre_roll, latency_s=latency)
    assert took.take == "take 1" and took.file == "audio/vocal-take-1.flac"
    info = sf.info(str(project / took.file))
    assert (info.samplerate, info.format) == (48_000, "FLAC")
    take = load(project).track("Vocal").takes[0]
    assert take.start == "3:1"
    assert take.offset_s == pytest.approx(pre_roll + latency, abs=1e-12)
    # In the render, the source's sample at pre-roll + latency sounds at bar 3 (4.0 s):
    # found by cross-correlating the render with the source (resampled for comparison).
    import soxr

    audio, sr = render_audio(load(project), root=project)
    ref = soxr.resample(source[0], rate, sr, quality="VHQ")
    seg = audio[0, 4 * sr:7 * sr].astype(np.float64)
    n = 1 << 20
    corr = np.fft.irfft(np.fft.rfft(seg, n) * np.conj(np.fft.rfft(ref, n)), n)
    lag = int(np.argmax(corr)) - n if np.argmax(corr) > n // 2 else int(np.argmax(corr))
    # seg[i] = ref[i + k] with k = (pre_roll + latency) * sr: the correlation peaks at -k
    assert lag == -round((pre_roll + latency) * sr)
    k = -lag
    r = np.corrcoef(seg[:2 * sr], ref[k:k + 2 * sr])[0, 1]
    assert r > 0.999


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"track": "Voc"}, "no track 'Voc'; did you mean 'Vocal'?"),
    ({"track": "Keys"}, "track 'Keys' plays an instrument"),
    ({"bar": 9}, "bar 9 is outside the song (bars 1 .. 8)"),
    ({"bar": 0}, "bar 0 is outside the song"),
    ({"data": b"RIFF\x00\x00garbage" * 10}, "cannot be decoded as audio"),
    ({"data": b""}, "the recording is empty"),
    ({"max_bytes": 100}, "over the 100-byte limit"),
    ({"pre_roll_s": 5.0}, "no longer than its pre-roll and latency"),
    ({"latency_s": -0.1}, "latency_s must be 0 .. 2 s"),
])
def test_bad_recordings_are_refused_in_one_line_and_nothing_changes(
        project: Path, kwargs: dict, message: str) -> None:
    good = wav_bytes(np.zeros((1, 48_000), np.float32) + 0.1, 48_000)
    args = {"track": "Vocal", "bar": 2, "data": good, "pre_roll_s": 0.5, "latency_s": 0.01}
    args.update(kwargs)
    with pytest.raises(MixdownError) as err:
        add_recorded_take(project, args.pop("track"), args.pop("bar"), args.pop("data"),
                          **args)
    assert message in str(err.value) and "\n" not in str(err.value)
    assert (project / "song.toml").read_text() == SONG
    assert not (project / "audio").exists() or not any((project / "audio").iterdir())


def test_second_take_gets_the_next_name_and_the_last_take_plays(project: Path) -> None:
    one = wav_bytes(np.full((1, 3 * 48_000), 0.25, np.float32), 48_000)
    two = wav_bytes(np.full((1, 3 * 48_000), 0.5, np.float32), 48_000)
    add_recorded_take(project, "Vocal", 2, one, pre_roll_s=0.0)
    took = add_recorded_take(project, "Vocal", 2, two, pre_roll_s=0.0)
    assert took.take == "take 2"
    assert [t.name for t in load(project).track("Vocal").takes] == ["take 1", "take 2"]
    audio, sr = render_audio(load(project), root=project)
    assert audio[0, 2 * sr + sr] == pytest.approx(0.5, abs=1e-4)  # take 2 plays


def test_a_take_is_one_undoable_step_and_a_stale_base_writes_nothing(project: Path) -> None:
    from mixdown.services.history import EditConflict, current_revision, undo

    before = (project / "song.toml").read_bytes()
    rev = current_revision(project)
    data = wav_bytes(np.full((1, 48_000), 0.25, np.float32), 48_000)
    took = add_recorded_take(project, "Vocal", 2, data, pre_roll_s=0.0, base=rev)
    assert took.revision == current_revision(project) != rev
    undo(project, base=took.revision)
    assert (project / "song.toml").read_bytes() == before  # byte for byte
    # a base that is no longer current: a conflict, and the recorded file is not kept
    with pytest.raises(EditConflict):
        add_recorded_take(project, "Vocal", 2, data, pre_roll_s=0.0, base=took.revision)
    assert (project / "song.toml").read_bytes() == before
    assert sorted(p.name for p in (project / "audio").iterdir()) == ["vocal-take-1.flac"]


def test_an_empty_song_without_a_length_records_from_bar_one_and_grows(tmp_path: Path
                                                                       ) -> None:
    (tmp_path / "song.toml").write_text('[song]\ntempo = 120\n\n[[track]]\nname = "Vocal"\n')
    with pytest.raises(MixdownError, match=r"bar 2 is outside the song \(bars 1 \.\. 1\)"):
        record_plan(tmp_path, "Vocal", 2)
    data = wav_bytes(np.full((1, 5 * 48_000), 0.25, np.float32), 48_000)  # 2.5 bars
    add_recorded_take(tmp_path, "Vocal", 1, data, pre_roll_s=0.0)
    # the song now ends in bar 3: a take may start at bars 1 .. 4 (where it ends, on)
    assert record_plan(tmp_path, "Vocal", 4).bar_s == 6.0
    with pytest.raises(MixdownError, match=r"bar 5 is outside the song \(bars 1 \.\. 4\)"):
        record_plan(tmp_path, "Vocal", 5)
