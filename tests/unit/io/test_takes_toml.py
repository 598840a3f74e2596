"""Takes and comp in song.toml: read, checked with one-line errors naming the line, and saved
with comments kept."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mixdown import load, save
from mixdown.core.errors import MixdownError
from mixdown.model.takes import CompRange, Take
from mixdown.services.project import check_project
from signals import sine, write_wav

SONG = '''# a vocal comp
[song]
tempo = 120

[[track]]
name = "Vox"
comp_crossfade_s = 0.02   # short

[[track.takes]]   # the first pass
name = "take 1"
file = "audio/t1.wav"
start = "1:1"

[[track.takes]]
name = "take 2"
file = "audio/t2.wav"
start = "1:1"
offset_s = 0.01   # latency

[[track.comp]]
start = "1:1"
end = "2:1"
take = "take 2"   # the better verse

[[track.comp]]
start = "2:1"
end = "3:1"
take = "take 1"
'''


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    write_wav(tmp_path / "audio/t1.wav", sine(440.0, 8.0, amp=0.3))
    write_wav(tmp_path / "audio/t2.wav", sine(550.0, 8.0, amp=0.3))
    (tmp_path / "song.toml").write_text(SONG)
    return tmp_path


def test_takes_and_comp_load_and_check(project: Path) -> None:
    p = load(project)
    vox = p.track("Vox")
    assert [t.name for t in vox.takes] == ["take 1", "take 2"]
    assert vox.takes[1].offset_s == 0.01
    assert vox.comp == (CompRange(start="1:1", end="2:1", take="take 2"),
                        CompRange(start="2:1", end="3:1", take="take 1"))
    assert vox.comp_crossfade_s == 0.02
    check_project(project)


def test_saving_a_new_comp_range_keeps_every_comment(project: Path) -> None:
    p = load(project)
    vox = p.track("Vox")
    new = vox.model_copy(update={
        "takes": (*vox.takes, Take(name="take 3", file="audio/t1.wav", start="3:1")),
        "comp": (*vox.comp, CompRange(start="3:1", end="4:1", take="take 3"))})
    p2 = p.model_copy(update={"tracks": (new,)})
    save(p2, project)
    text = (project / "song.toml").read_text()
    for comment in ("# a vocal comp", "# short", "# the first pass", "# latency",
                    "# the better verse"):
        assert comment in text
    # the old text is untouched; each new table joins its own array of tables
    assert text == SONG.replace(
        '[[track.comp]]\nstart = "1:1"',
        '[[track.takes]]\nname = "take 3"\nfile = "audio/t1.wav"\nstart = "3:1"\n\n'
        '[[track.comp]]\nstart = "1:1"') + '\n[[track.comp]]\nstart = "3:1"\nend = "4:1"\n' \
        'take = "take 3"\n'
    again = load(project)
    assert again == p2
    check_project(project)


@pytest.mark.parametrize(("old", "new", "message"), [
    ('take = "take 2"   # the better verse', 'take = "take 9"',
     "song.toml:23: track \"Vox\", comp[0].take: no take 'take 9' on this track"),
    ('end = "3:1"', 'end = "9:1"',
     "song.toml:25: track \"Vox\", comp[1]: 2:1 .. 9:1 is outside take 'take 1'"),
    ('start = "2:1"\nend = "3:1"', 'start = "1:3"\nend = "3:1"',
     "song.toml:25: track \"Vox\", comp[1]: overlaps comp[0] (1:1 .. 2:1)"),
    ('name = "take 2"', 'name = "take 1"',
     "track \"Vox\", takes[1].name: a second take called 'take 1'"),
    ('file = "audio/t2.wav"', 'file = "audio/none.wav"', "takes[1].file"),
])
def test_bad_takes_are_one_line_errors_and_the_file_is_unchanged(
        project: Path, old: str, new: str, message: str) -> None:
    text = SONG.replace(old, new)
    assert text != SONG
    (project / "song.toml").write_text(text)
    with pytest.raises(MixdownError) as err:
        check_project(project)
    line = str(err.value)
    assert message in line, line
    assert (project / "song.toml").read_text() == text


def test_takes_render_through_the_cli_render_path(project: Path) -> None:
    from mixdown.services.render import render_audio

    audio, sr = render_audio(load(project), root=project)
    # bar 1 plays take 2 (550 Hz), bar 2 take 1 (440 Hz): the strongest frequency says
    def freq(x: np.ndarray) -> float:
        spec = np.abs(np.fft.rfft(x * np.hanning(len(x))))
        return float(np.argmax(spec) * sr / len(x))
    assert freq(audio[0, 10_000:90_000]) == pytest.approx(550.0, abs=1.0)
    assert freq(audio[0, 110_000:190_000]) == pytest.approx(440.0, abs=1.0)
