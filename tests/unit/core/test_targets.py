"""The one platform table: the issue's numbers, notes on sources, numbers, overrides, typos,
the pass/fail check against a target."""

from __future__ import annotations

from pathlib import Path

import pytest

from mixdown.core.errors import FormatError, ParameterError
from mixdown.core.targets import TARGETS, Target, TargetTable, evaluate, get_target, resolve_target

ISSUE_4_TABLE = {  # name: (LUFS, dBTP), as the issue lists them
    "spotify": (-14, -1), "apple-music": (-16, -1), "youtube": (-14, -1),
    "amazon-music": (-14, -2), "tidal": (-14, -1), "deezer": (-15, -1),
    "ebu-r128": (-23, -1), "atsc-a85": (-24, -2), "cd": (-10, -0.3),
}


def test_table_matches_the_issue_and_says_where_numbers_come_from() -> None:
    assert {t.name: (t.lufs, t.ceiling_dbtp) for t in TARGETS} == ISSUE_4_TABLE
    assert all(len(t.note) > 40 for t in TARGETS)
    cd = resolve_target("cd")
    assert (cd.sample_rate, cd.bit_depth) == (44_100, 16)


@pytest.mark.parametrize(("given", "lufs", "ceiling"), [
    ("-14", -14.0, -1.0), (-9.5, -9.5, -1.0), ("-16 LUFS", -16.0, -1.0), ("Spotify", -14.0, -1.0),
    (-20, -20.0, -1.0), ("-9.5 lufs", -9.5, -1.0),
])
def test_names_and_numbers(given: str | float, lufs: float, ceiling: float) -> None:
    target = resolve_target(given)
    assert (target.lufs, target.ceiling_dbtp) == (lufs, ceiling)


def test_ceiling_overrides_a_preset() -> None:
    assert resolve_target("apple-music", ceiling_dbtp=-2.0).ceiling_dbtp == -2.0
    with pytest.raises(ParameterError, match="above 0 dBTP"):
        resolve_target("spotify", ceiling_dbtp=0.5)


def test_a_target_passes_through_with_its_tolerance() -> None:
    ebu = get_target("ebu-r128")
    assert ebu.tolerance_lu == 0.5  # R 128: +-0.5 LU in production
    assert get_target("atsc-a85").tolerance_lu == 2.0  # A/85: +-2 dB
    assert resolve_target(ebu) is ebu
    assert resolve_target(ebu, ceiling_dbtp=-2.0).ceiling_dbtp == -2.0


@pytest.mark.parametrize("spec", ["spotfy", "+3", "nan", "-71"])
def test_unknown_or_out_of_range_names_a_preset(spec: str) -> None:
    with pytest.raises(ParameterError, match="spotify"):
        resolve_target(spec)


def test_evaluate_pass_and_fail_at_the_limits() -> None:
    t = get_target("spotify")  # -14 LUFS +-1 LU, -1 dBTP
    ok = evaluate(-14.9, -1.0, t)
    assert [c.passed for c in ok] == [True, True]
    bad = evaluate(-15.2, -0.9, t)
    assert [c.passed for c in bad] == [False, False]
    assert not evaluate(float("-inf"), float("-inf"), t)[0].passed
    strict = Target("strict", -23.0, -1.0, tolerance_lu=0.5)
    assert [c.passed for c in evaluate(-23.5, -1.0, strict)] == [True, True]
    assert not evaluate(-23.6, -1.0, strict)[0].passed


def test_unknown_name_suggests_close_ones() -> None:
    with pytest.raises(ParameterError, match=r"unknown target 'spotfy'; did you mean 'spotify'"):
        resolve_target("spotfy")
    with pytest.raises(ParameterError, match="presets: spotify, apple-music"):
        resolve_target("vinyl")


def test_project_overrides(tmp_path: Path) -> None:
    (tmp_path / "targets.toml").write_text(
        '[targets.spotify]\nceiling_dbtp = -2.0\n\n'
        '[targets.label-loud]\nlufs = -9.0\nceiling_dbtp = -1.0\ntolerance_lu = 0.5\n'
        'note = "the label asked"\n')
    table = TargetTable.from_project(tmp_path)
    assert table.get("spotify").ceiling_dbtp == -2.0
    assert table.get("spotify").lufs == -14.0  # unchanged fields stay
    loud = resolve_target("label-loud", project_dir=tmp_path)
    assert (loud.lufs, loud.tolerance_lu) == (-9.0, 0.5)
    assert resolve_target("spotify").ceiling_dbtp == -1.0  # the shipped table is untouched


@pytest.mark.parametrize(("text", "error", "message"), [
    ("[targets.x]\nlufs = -9\n", ParameterError, "needs ceiling_dbtp"),
    ("[targets.spotify]\nlufs = 5\n", ParameterError, r"\[targets.spotify\]: .*outside"),
    ("[targets.spotify]\nloudness = -9\n", ParameterError, "unknown field"),
    ("[targets.spotify]\ntolerance_lu = 0\n", ParameterError, "tolerance_lu must be"),
    ("[targets\n", FormatError, "not valid TOML"),
])
def test_bad_overrides_name_the_file_and_field(tmp_path: Path, text: str,
                                               error: type[Exception], message: str) -> None:
    (tmp_path / "targets.toml").write_text(text)
    with pytest.raises(error, match=message):
        TargetTable.from_project(tmp_path)
