"""The song's key: parsing, scale degrees and quantising."""

from __future__ import annotations

import pytest

from mixdown.core.errors import ModelError
from mixdown.model.keys import parse_key


def test_parse_keys() -> None:
    d = parse_key("D minor")
    assert d.pitch_classes == (2, 4, 5, 7, 9, 10, 0)
    assert parse_key("Am").pitch_classes == parse_key("C").pitch_classes[5:] + \
        parse_key("C").pitch_classes[:5]
    assert parse_key("F# major").tonic == 6
    assert parse_key("Bb dorian").pitch_classes == (10, 0, 1, 3, 5, 7, 8)
    with pytest.raises(ModelError, match="unknown key 'D blues'"):
        parse_key("D blues")
    with pytest.raises(ModelError, match="unknown key"):
        parse_key("H minor")


def test_transpose_by_scale_degrees() -> None:
    d = parse_key("D minor")
    # D4 up a third in D minor is F4, up a fifth is A4; C4 down two degrees is A3
    assert d.transpose_degrees(62, 2) == 65
    assert d.transpose_degrees(62, 4) == 69
    assert d.transpose_degrees(60, -2) == 57
    assert d.transpose_degrees(62, 7) == 74  # an octave
    # a tone outside the scale keeps its distance above the scale tone below it
    assert d.transpose_degrees(63, 1) == 65  # D#4 = D4 + 1 -> E4 + 1 = F4


def test_quantize_to_the_scale() -> None:
    c = parse_key("C major")
    assert [c.quantize(p) for p in range(60, 72)] == [60, 60, 62, 62, 64, 65, 65, 67, 67, 69,
                                                       69, 71]
