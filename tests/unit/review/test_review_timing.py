"""bar:beat <-> seconds in a snapshot's tempo map."""

from __future__ import annotations

import pytest

from mixdown.core.errors import ParameterError
from mixdown.review.timing import check_bar_beat, parse_snapshot, timing_of
from review_songs import song_text


def test_bar_17_at_two_tempos() -> None:
    slow = timing_of(parse_snapshot(song_text(tempo=120)))
    fast = timing_of(parse_snapshot(song_text(tempo=150)))
    assert slow.seconds(17, 1) == pytest.approx(64 * 60 / 120)
    assert fast.seconds(17, 1) == pytest.approx(64 * 60 / 150)
    assert slow.seconds(17, 3) == pytest.approx(66 * 60 / 120)
    assert slow.bar_beat(32.0) == (17, pytest.approx(1.0))


def test_tempo_change_in_the_map_moves_later_bars_only() -> None:
    text = song_text(tempo=120).replace(
        "[[marker]]", '[[song.tempo_map]]\nat = "9:1"\nbpm = 60\n\n[[marker]]', 1)
    t = timing_of(parse_snapshot(text))
    assert t.seconds(9, 1) == pytest.approx(16.0)
    assert t.seconds(17, 1) == pytest.approx(16.0 + 32.0)
    chorus = next(s for s in t.sections if s.name == "Chorus 2")
    assert (chorus.bar, chorus.beat, chorus.seconds) == (9, 1.0, pytest.approx(16.0))


@pytest.mark.parametrize(("bar", "beat"), [(0, 1), (1, 0.5), (True, 1), (1.5, 1),
                                           (1, float("nan")), ("3", 1)])
def test_bad_positions_are_refused(bar: object, beat: object) -> None:
    with pytest.raises(ParameterError):
        check_bar_beat(bar, beat)
