"""A task's output is on the disk before the journal says it is done."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mixdown.batch.jobs import sync_output


@pytest.fixture
def synced(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Inodes of what ``os.fsync`` flushed (the real fsync still runs)."""
    seen: list[int] = []
    real = os.fsync

    def fsync(fd: int) -> None:
        seen.append(os.fstat(fd).st_ino)
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    return seen


def test_a_file_its_sidecar_and_its_folder_are_flushed(tmp_path: Path,
                                                       synced: list[int]) -> None:
    out = tmp_path / "song.wav"
    out.write_bytes(b"RIFF")
    qc = tmp_path / "song.wav.qc.json"
    qc.write_text("{}")
    other = tmp_path / "other.wav"
    other.write_bytes(b"RIFF")
    sync_output(out)
    assert {out.stat().st_ino, qc.stat().st_ino, tmp_path.stat().st_ino} <= set(synced)
    assert other.stat().st_ino not in synced  # only this task's files


def test_every_file_of_a_delivery_folder_is_flushed(tmp_path: Path,
                                                    synced: list[int]) -> None:
    out = tmp_path / "album-song"
    (out / "spotify").mkdir(parents=True)
    files = [out / "spotify" / "master.wav", out / "manifest.json"]
    for f in files:
        f.write_bytes(b"x")
    sync_output(out)
    wanted = {f.stat().st_ino for f in files} | {out.stat().st_ino,
                                                 (out / "spotify").stat().st_ino,
                                                 tmp_path.stat().st_ino}
    assert wanted <= set(synced)


def test_a_render_with_stems_flushes_the_stems(tmp_path: Path, synced: list[int]) -> None:
    out = tmp_path / "mix.wav"
    out.write_bytes(b"RIFF")
    stem = tmp_path / "mix.stems" / "Kick.wav"
    stem.parent.mkdir()
    stem.write_bytes(b"RIFF")
    sync_output(out)
    assert stem.stat().st_ino in synced
