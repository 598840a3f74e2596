"""The arpeggiator: deterministic notes on a tempo-synced grid."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from mixdown.model.arp import Arp, arpeggiate, note_value_beats

CHORD = [(0.0, 2.0, 60, 100), (0.0, 2.0, 64, 90), (0.0, 2.0, 67, 80)]


def pitches(arp: Arp, notes: list[tuple[float, float, int, int]] = CHORD) -> list[int]:
    return [p for _, _, p, _ in arpeggiate(notes, arp)]


def test_note_values() -> None:
    assert note_value_beats("1/16") == 0.25
    assert note_value_beats("1/8d") == 0.75
    assert note_value_beats("1/8t") == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="note value"):
        note_value_beats("1/5")
    with pytest.raises(ValidationError):
        Arp(rate="fast")


def test_modes_and_octaves() -> None:
    assert pitches(Arp(mode="up")) == [60, 64, 67] * 2 + [60, 64]
    assert pitches(Arp(mode="down")) == [67, 64, 60] * 2 + [67, 64]
    assert pitches(Arp(mode="up-down")) == [60, 64, 67, 64] * 2
    assert pitches(Arp(mode="up", octaves=2)) == [60, 64, 67, 72, 76, 79, 60, 64]
    assert pitches(Arp(mode="up", rate="1/8")) == [60, 64, 67, 60]


def test_grid_gate_and_velocity() -> None:
    out = arpeggiate(CHORD, Arp(rate="1/16", gate=0.5))
    assert [s for s, _, _, _ in out] == [k * 0.25 for k in range(8)]
    assert {ln for _, ln, _, _ in out} == {0.125}
    assert [v for _, _, _, v in out[:3]] == [100, 90, 80]


def test_random_is_seeded_and_uses_held_notes() -> None:
    a = pitches(Arp(mode="random", seed=3))
    assert a == pitches(Arp(mode="random", seed=3))
    assert set(a) <= {60, 64, 67}
    assert any(pitches(Arp(mode="random", seed=s)) != a for s in range(4, 10))


def test_order_restarts_on_a_new_chord_and_rests_when_nothing_is_held() -> None:
    notes = [(0.0, 0.75, 60, 100), (0.0, 0.75, 64, 100), (1.0, 1.0, 65, 100),
             (1.0, 1.0, 69, 100)]
    out = arpeggiate(notes, Arp(mode="up"))
    assert [(s, p) for s, _, p, _ in out] == [(0.0, 60), (0.25, 64), (0.5, 60), (1.0, 65),
                                            (1.25, 69), (1.5, 65), (1.75, 69)]
