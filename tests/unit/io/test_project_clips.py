"""song.toml: clip definitions ([clips.NAME]), chord and arpeggiator keys load, save with the
comments kept, and their mistakes are one line each."""

from __future__ import annotations

from pathlib import Path

import pytest

from mixdown.core.errors import ModelError
from mixdown.io.project import open_project
from mixdown.io.project_save import save_project
from mixdown.model.arp import Arp

SONG = '''[song]
tempo = 100
key = "D minor"

# the riff, written once
[clips.riff]
length = 4
notes = [["D4", 0, 1], ["F4", 1, 1]]   # two notes

[clips.keys]
chords = "Dm9 | G13"
voicing = { style = "drop2", octave = 4 }

[[track]]
name = "Keys"
instrument = { type = "synth" }
clips = [{ use = "riff", start = "1:1", bars = 4, loop = true }, { use = "keys", start = "5:1" }]
'''


def test_definitions_load_and_save_keeping_comments(tmp_path: Path) -> None:
    (tmp_path / "song.toml").write_text(SONG)
    p = open_project(tmp_path).project
    assert p.song.key == "D minor"
    assert sorted(p.clips) == ["keys", "riff"]
    assert p.clips["keys"].voicing is not None and p.clips["keys"].voicing.style == "drop2"
    clips = dict(p.clips)
    clips["riff"] = clips["riff"].model_copy(update={"arp": Arp(rate="1/8")})
    p2 = p.model_copy(update={"clips": clips})
    save_project(p2, tmp_path)
    text = (tmp_path / "song.toml").read_text()
    assert "# the riff, written once" in text and "# two notes" in text
    assert 'arp = { rate = "1/8" }' in text
    assert open_project(tmp_path).project == p2


@pytest.mark.parametrize(("change", "message"), [
    ('length = 4\n', "song.toml: clips.riff.length: must be a number, got '4'"),
    ('lenght = 4\n', "clips.riff.lenght: unknown key; did you mean 'length'?"),
    ('key = "D minor"\n', "song.toml: song.key: unknown key 'H minor'"),
    ('voicing = { style = "drop2", octave = 4 }\n',
     "clips.keys.voicing.style: must be 'close', 'open', 'drop2' or 'drop3'"),
])
def test_mistakes_are_one_line(tmp_path: Path, change: str, message: str) -> None:
    bad = {
        'length = 4\n': 'length = "4"\n',
        'lenght = 4\n': 'lenght = 4\n',
        'key = "D minor"\n': 'key = "H minor"\n',
        'voicing = { style = "drop2", octave = 4 }\n': 'voicing = { style = "drop4" }\n',
    }[change]
    text = SONG.replace(change, bad) if change in SONG else SONG.replace(
        "length = 4\n", bad)
    (tmp_path / "song.toml").write_text(text)
    with pytest.raises(ModelError) as info:
        open_project(tmp_path)
    assert message in str(info.value), str(info.value)
    assert "\n" not in str(info.value)
