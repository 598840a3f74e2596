"""Stems null test, album mode with its CUE sheet, and the HTML delivery report."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from delivery_signals import loud_mix, read, true_peak_8x, write

from mixdown.analysis.loudness import integrated_loudness
from mixdown.core.errors import ParameterError
from mixdown.delivery.album import AlbumSong, master_album
from mixdown.delivery.report import render_delivery_html
from mixdown.delivery.stems import NULL_THRESHOLD_DBFS, null_test

LOUDNESS_TOL_LU = 0.2
RELATIVE_TOL_LU = 0.3  # limiting of the songs' peaks can move them by a few tenths


def test_stems_that_sum_to_the_mix_pass(tmp_path: Path, rng: np.random.Generator) -> None:
    stems = [rng.normal(0, 0.05, (2, 24_000)).astype(np.float32) for _ in range(3)]
    mix = np.sum(stems, axis=0, dtype=np.float32)
    paths = [write(tmp_path / f"s{i}.wav", s) for i, s in enumerate(stems)]
    res = null_test(write(tmp_path / "mix.wav", mix), paths)
    assert res.passed and res.residual_peak_dbfs < -120.0  # float32 summation only


def test_a_missing_stem_fails_with_its_level(tmp_path: Path, rng: np.random.Generator) -> None:
    stems = [rng.normal(0, 0.05, (2, 24_000)).astype(np.float32) for _ in range(3)]
    mix = np.sum(stems, axis=0, dtype=np.float32)
    paths = [write(tmp_path / f"s{i}.wav", s) for i, s in enumerate(stems[:2])]
    res = null_test(write(tmp_path / "mix.wav", mix), paths)
    missing_peak = 20 * np.log10(np.abs(stems[2]).max())
    assert not res.passed
    assert res.residual_peak_dbfs == pytest.approx(missing_peak, abs=0.01)
    assert res.residual_peak_dbfs > NULL_THRESHOLD_DBFS


def _songs(tmp_path: Path, rng: np.random.Generator,
           gains: tuple[float, ...] = (0.2, 1.0, 0.5)) -> list[AlbumSong]:
    # the second is the loudest
    return [AlbumSong(write(tmp_path / f"in{i}.wav", loud_mix(rng, seconds=4.0) * g),
                      title=f"Song {i + 1}", isrc=f"GBABC260000{i + 1}")
            for i, g in enumerate(gains)]


def test_album_loudest_on_target_others_keep_relative_levels(tmp_path: Path,
                                                             rng: np.random.Generator) -> None:
    songs = _songs(tmp_path, rng)
    res = master_album(songs, tmp_path / "album", target_lufs=-14.0, ceiling_dbtp=-1.0,
                       gap_s=1.5, album_title="First", performer="Ana")
    assert res.reached
    outs = [read(t.output)[0] for t in res.tracks]
    lufs = [integrated_loudness(o, 48_000) for o in outs]
    ins = [integrated_loudness(read(s.source)[0], 48_000) for s in songs]
    assert max(lufs) == pytest.approx(-14.0, abs=LOUDNESS_TOL_LU)
    assert int(np.argmax(lufs)) == int(np.argmax(ins)) == 1
    for i in (0, 2):
        assert lufs[i] - lufs[1] == pytest.approx(ins[i] - ins[1], abs=RELATIVE_TOL_LU)
    assert all(true_peak_8x(o) <= -1.0 for o in outs)
    # the album file: songs at CD-frame-aligned starts with 1.5 s (+ < 1 frame) gaps
    album, _ = read(res.album_file)
    cd_frame = 48_000 // 75
    for t, o in zip(res.tracks, outs, strict=True):
        assert t.start_frame % cd_frame == 0
        np.testing.assert_array_equal(album[:, t.start_frame:t.start_frame + o.shape[1]], o)
    gaps = [b.start_frame - (a.start_frame + a.frames) for a, b in
            zip(res.tracks, res.tracks[1:], strict=False)]
    assert all(72_000 <= g < 72_000 + cd_frame for g in gaps)
    # the CUE sheet points at those frames
    cue = res.cue_file.read_text()
    indexes = re.findall(r"INDEX 01 (\d\d):(\d\d):(\d\d)", cue)
    starts = [(int(m) * 60 + int(s)) * 75 + int(f) for m, s, f in indexes]
    assert starts == [t.start_frame // cd_frame for t in res.tracks]
    assert 'TITLE "Song 2"' in cue and "ISRC GBABC2600002" in cue
    assert 'FILE "album.wav" WAVE' in cue


def test_album_gain_is_capped_by_the_peakiest_song(tmp_path: Path,
                                                   rng: np.random.Generator) -> None:
    songs = _songs(tmp_path, rng, gains=(0.1, 0.5, 0.25))  # the loudest near -14.4 LUFS
    # a quiet, very peaky song: at the album gain it would need more than 6 dB
    n = np.arange(4 * 48_000)
    spikes = np.where(n % 24_000 == 0, 0.9, 0.0) + 0.003 * rng.normal(0, 1, n.size)
    peaky = np.repeat(spikes[None], 2, 0).astype(np.float32)
    songs.append(AlbumSong(write(tmp_path / "peaky.wav", peaky), title="Peaky"))
    res = master_album(songs, tmp_path / "album", target_lufs=-8.0, allowance_db=6.0)
    assert not res.reached and res.shortfall_lu > 0.3
    assert "target not reached" in res.warnings[0]
    assert "04 Peaky" in res.warnings[1]
    assert all(t.max_gain_reduction_db <= 6.0 + 1e-3 for t in res.tracks)


def test_album_needs_matching_rates(tmp_path: Path, rng: np.random.Generator) -> None:
    a = write(tmp_path / "a.wav", loud_mix(rng, 1.0))
    b = write(tmp_path / "b.wav", loud_mix(rng, 1.0, sr=44_100), sr=44_100)
    with pytest.raises(ParameterError, match="convert --sample-rate 48000"):
        master_album([a, b], tmp_path / "album", target_lufs=-14.0)


def test_html_report_lists_every_file_and_escapes(tmp_path: Path) -> None:
    report = {
        "title": "Night <Drive>", "artist": "Ana & Co", "passed": False,
        "warnings": ["cd: target not reached"],
        "stems": {"residual_peak_dbfs": -130.0, "residual_rms_dbfs": -150.0,
                  "threshold_dbfs": -60.0, "passed": True, "stems": [str(tmp_path / "s.wav")],
                  "notes": []},
        "targets": [{
            "target": {"name": "cd", "lufs": -10.0, "ceiling_dbtp": -0.3, "note": "Red Book"},
            "master": {"output_lufs": -12.0, "output_true_peak_dbtp": -0.35, "gain_db": 3.0,
                       "max_gain_reduction_db": 6.0, "reached": False, "shortfall_lu": 2.0,
                       "warnings": []},
            "deliverables": [
                {"deliverable": "wav-16-44k", "path": str(tmp_path / "cd" / "a.wav"),
                 "passed": True, "remade": False, "attempts": 1, "margin_db": 0.0,
                 "checks": [{"name": "true peak", "measured": "-0.35 dBTP",
                             "expected": "<= -0.3 dBTP", "passed": True}], "error": None},
                {"deliverable": "aac-256", "path": None, "passed": False, "remade": False,
                 "attempts": 0, "margin_db": 0.0, "checks": [], "error": "no AAC encoder"},
            ]}],
    }
    html = render_delivery_html(report, tmp_path)
    assert "Night &lt;Drive&gt; — Ana &amp; Co" in html
    assert "cd/a.wav" in html and "no AAC encoder" in html
    assert html.count('class="fail"') >= 2 and "not reached" in html
    assert "<script" not in html
