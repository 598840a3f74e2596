"""Song names from outside never lead out of the songs folder; store paths stay inside."""

from __future__ import annotations

from pathlib import Path

import pytest

from mixdown.review.errors import NotFound
from mixdown.review.places import inside, song_folder, song_names, valid_song_name

BAD_NAMES = ["..", ".", "../x", "a/../../etc", "/etc", "a\\b", "%2e%2e", "..%2f",
             ".hidden", "", " x", "x\x00", "a/b", "ok/", "\n"]


@pytest.fixture
def songs(tmp_path: Path) -> Path:
    root = tmp_path / "songs"
    (root / "good").mkdir(parents=True)
    (root / "good" / "song.toml").write_text("[song]\n")
    (root / "no-project").mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "song.toml").write_text("[song]\n")
    (root / "link").symlink_to(outside)
    (root / "alias").symlink_to(root / "good")
    (root / "linked-toml").mkdir()
    (root / "linked-toml" / "song.toml").symlink_to(outside / "song.toml")
    (root / "file.txt").write_text("x")
    return root


def test_good_name_is_the_resolved_folder(songs: Path) -> None:
    assert song_folder(songs, "good") == (songs / "good").resolve()


@pytest.mark.parametrize("name", BAD_NAMES)
def test_traversal_and_odd_names_are_not_found(songs: Path, name: str) -> None:
    assert not valid_song_name(name) or name == "%2e%2e" or name == "..%2f"
    with pytest.raises(NotFound) as err:
        song_folder(songs, name)
    assert err.value.http_status == 404


@pytest.mark.parametrize("name", ["no-project", "link", "alias", "linked-toml", "file.txt",
                                  "missing"])
def test_not_a_project_directly_inside_is_not_found(songs: Path, name: str) -> None:
    with pytest.raises(NotFound):
        song_folder(songs, name)


def test_song_names_lists_projects_only(songs: Path) -> None:
    assert song_names(songs) == ["good"]


def test_store_paths_stay_inside(tmp_path: Path) -> None:
    store = tmp_path / "store"
    (store / "versions").mkdir(parents=True)
    assert inside(store, "versions/a/b.wav") == (store / "versions/a/b.wav").resolve()
    for rel in ("../x", "versions/../../x", "/etc/passwd", "", "."):
        with pytest.raises(NotFound):
            inside(store, rel)
