"""Versions kept at the same time from several threads get distinct numbers and folders."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from mixdown.db import ENV_VAR
from mixdown.services import review as rv
from review_songs import make_song


def test_parallel_versions_are_numbered_once_each(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    songs = tmp_path / "songs"
    song = make_song(songs, "alpha", bars=4)
    wav = tmp_path / "mix.wav"
    t = np.arange(48000 * 2) / 48000
    tone = (0.1 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    sf.write(wav, np.stack([tone, tone], axis=1), 48000, subtype="PCM_24")
    with rv.open_studio(songs):
        pass  # the database exists before the threads start
    with ThreadPoolExecutor(6) as pool:
        kept = list(pool.map(lambda i: rv.keep_version(song, wav, f"take {i}"), range(6)))
    assert sorted(v.number for v in kept) == [1, 2, 3, 4, 5, 6]
    with rv.open_studio(songs) as studio:
        listed = rv.list_versions(studio, "alpha")
        assert len({v.folder for v in listed}) == 6
        for v in listed:
            assert rv.version_audio_path(studio, v).read_bytes() == wav.read_bytes()
        assert not list((studio.store / "tmp").iterdir())
