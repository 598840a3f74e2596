"""``[master] target`` and a project's targets.toml: the loader and the render service read
the same table (mixdown.core.targets), so a row the loader accepts is the row that masters."""

from __future__ import annotations

from pathlib import Path

import pytest

from mixdown.core.errors import ModelError
from mixdown.resolve import open_project
from mixdown.services.premaster import LoudnessTarget
from mixdown.services.render import master_target

SONG = '[song]\ntempo = 120\n\n[master]\ntarget = "{target}"\n'


def _project(root: Path, target: str, overrides: str | None = None) -> Path:
    (root / "song.toml").write_text(SONG.format(target=target))
    if overrides is not None:
        (root / "targets.toml").write_text(overrides)
    return root


def test_a_project_row_is_accepted_and_masters_with_its_numbers(tmp_path: Path) -> None:
    root = _project(tmp_path, "label-loud",
                    "[targets.label-loud]\nlufs = -9.0\nceiling_dbtp = -0.5\n")
    project = open_project(root).project
    assert master_target(project, root) == LoudnessTarget(-9.0, -0.5)


def test_a_project_override_of_a_preset_reaches_the_master(tmp_path: Path) -> None:
    root = _project(tmp_path, "spotify", "[targets.spotify]\nceiling_dbtp = -2.0\n")
    project = open_project(root).project
    assert master_target(project, root) == LoudnessTarget(-14.0, -2.0)
    # without the project: the shipped row
    assert master_target(project) == LoudnessTarget(-14.0, -1.0)


def test_the_loader_refuses_a_name_no_table_has(tmp_path: Path) -> None:
    root = _project(tmp_path, "label-loud")
    with pytest.raises(ModelError, match=r"master.*target.*unknown target 'label-loud'"):
        open_project(root)
