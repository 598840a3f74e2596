"""The overwrite rule's building blocks: sidecar names, created folders, replaced folders."""

from __future__ import annotations

from pathlib import Path

import pytest

from mixdown.core.errors import MixdownError
from mixdown.services.outputs import (
    claim_folder,
    output_folder,
    qc_path_for,
    replaced_folder,
    stems_folder,
)


def test_sidecar_and_stems_names() -> None:
    assert qc_path_for(Path("out/mix.wav")) == Path("out/mix.wav.qc.json")
    assert qc_path_for("mix.mp3") != qc_path_for("mix.wav")
    assert stems_folder(Path("out/mix.wav")) == Path("out/mix.stems")


def test_output_folder_is_made_and_removed_again_on_failure(tmp_path: Path) -> None:
    with output_folder(tmp_path / "a" / "b") as made:
        assert made.is_dir()
    assert (tmp_path / "a" / "b").is_dir()
    with pytest.raises(RuntimeError), output_folder(tmp_path / "x" / "y"):
        raise RuntimeError("the command failed")
    assert not (tmp_path / "x").exists()
    with pytest.raises(RuntimeError), output_folder(tmp_path / "a" / "b"):
        raise RuntimeError("an existing folder stays")
    assert (tmp_path / "a" / "b").is_dir()


def test_replaced_folder_swaps_only_on_success(tmp_path: Path) -> None:
    dest = tmp_path / "mix.stems"
    dest.mkdir()
    (dest / "old.wav").write_text("old")
    with pytest.raises(RuntimeError), replaced_folder(dest) as new:
        (new / "new.wav").write_text("new")
        raise RuntimeError("failed half way")
    assert [p.name for p in dest.iterdir()] == ["old.wav"]
    with replaced_folder(dest) as new:
        (new / "new.wav").write_text("new")
    assert [p.name for p in dest.iterdir()] == ["new.wav"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mix.stems"]  # nothing left over


def test_claim_folder_needs_force_for_a_used_folder(tmp_path: Path) -> None:
    claim_folder(tmp_path / "new", force=False, what="delivery")
    used = tmp_path / "used"
    used.mkdir()
    (used / "theirs.txt").write_text("x")
    with pytest.raises(MixdownError, match="--force"):
        claim_folder(used, force=False, what="delivery")
    claim_folder(used, force=True, what="delivery")
