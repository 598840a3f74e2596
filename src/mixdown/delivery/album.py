"""Album mode: one gain for every song, so the loudest hits the target and the rest keep
their relative levels; gaps, one album file and a CUE sheet.

The album gain is found on the loudest song (by measurement, as for a single
master). Every song then gets that same gain into its own true-peak limiter. The
allowance applies to each song: if a song would need more than ``allowance_db`` of
peak gain reduction at the album gain, the album gain is lowered for all (the
relative levels matter more than the target) and the result says the target was
not reached, by how much, because of which song.

Track starts in the album file fall on CD frame boundaries (1/75 s) so that the
CUE sheet's ``mm:ss:ff`` positions are exact.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mixdown.analysis.loudness import LoudnessMeter
from mixdown.core.errors import ParameterError
from mixdown.delivery.convert import check_not_same
from mixdown.io.audio import AudioWriter, atomic_path, audio_info, iter_blocks
from mixdown.mastering.limiter import TruePeakDetector
from mixdown.mastering.normalize import (
    DEFAULT_ALLOWANCE_DB,
    MASTER_MARGIN_DB,
    PROMISE_LU,
    gain_and_limit,
    master_to_target,
)

CD_FRAMES_PER_SECOND = 75
DEFAULT_GAP_S = 2.0


@dataclass(frozen=True, slots=True)
class AlbumSong:
    """One song of an album: its source mix and the tags for the CUE sheet."""

    source: Path
    title: str | None = None
    performer: str | None = None
    isrc: str | None = None


@dataclass(slots=True)
class AlbumTrackResult:
    """What happened to one song."""

    song: AlbumSong
    output: Path
    input_lufs: float
    output_lufs: float
    output_true_peak_dbtp: float
    max_gain_reduction_db: float
    start_frame: int
    frames: int

    def as_dict(self) -> dict[str, Any]:
        """Plain dict for JSON and the report."""
        return {"source": str(self.song.source), "title": self.song.title,
                "output": str(self.output), "input_lufs": self.input_lufs,
                "output_lufs": self.output_lufs,
                "output_true_peak_dbtp": self.output_true_peak_dbtp,
                "max_gain_reduction_db": self.max_gain_reduction_db,
                "start_frame": self.start_frame, "frames": self.frames}


@dataclass(slots=True)
class AlbumResult:
    """The album: per-song results, the shared gain, the album file and CUE sheet."""

    target_lufs: float
    ceiling_dbtp: float
    gain_db: float
    reached: bool
    shortfall_lu: float
    tracks: list[AlbumTrackResult]
    album_file: Path
    cue_file: Path
    sample_rate: int
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """Plain dict for JSON and the report."""
        return {"target_lufs": self.target_lufs, "ceiling_dbtp": self.ceiling_dbtp,
                "gain_db": self.gain_db, "reached": self.reached,
                "shortfall_lu": self.shortfall_lu,
                "album_file": str(self.album_file), "cue_file": str(self.cue_file),
                "tracks": [dict(t.as_dict(), start_s=t.start_frame / self.sample_rate)
                           for t in self.tracks],
                "warnings": list(self.warnings)}


def master_album(
    songs: Sequence[AlbumSong | str | Path],
    out_dir: str | Path,
    *,
    target_lufs: float,
    ceiling_dbtp: float = -1.0,
    allowance_db: float = DEFAULT_ALLOWANCE_DB,
    gap_s: float = DEFAULT_GAP_S,
    album_title: str | None = None,
    performer: str | None = None,
    bit_depth: int = 24,
    progress: Callable[[float], None] | None = None,
) -> AlbumResult:
    """Master ``songs`` together into ``out_dir`` (one file each, the album file, a CUE).

    Parameters
    ----------
    songs : sequence of AlbumSong or Path
        In album order; all at one sample rate and channel count.
    out_dir : Path
        Created if missing. Files: ``NN Title.wav``, ``album.wav``, ``album.cue``.
    target_lufs, ceiling_dbtp, allowance_db : float
        As for :func:`~mixdown.mastering.normalize.master_to_target`; the target applies to
        the loudest song.
    gap_s : float
        Silence between songs in the album file, seconds (0..10).
    bit_depth : {16, 24, 32}
        PCM depth of every file (16 gets TPDF dither).

    Returns
    -------
    AlbumResult
    """
    items = [s if isinstance(s, AlbumSong) else AlbumSong(Path(s)) for s in songs]
    if len(items) < 2:
        raise ParameterError("album mode needs at least two songs; for one, use "
                             "`mixdown master IN -o OUT`")
    if not 0.0 <= gap_s <= 10.0:
        raise ParameterError(f"gap must be 0..10 s, got {gap_s}")
    infos = [audio_info(s.source) for s in items]
    sr, ch = infos[0].sample_rate, infos[0].channels
    for s, info in zip(items, infos, strict=True):
        if (info.sample_rate, info.channels) != (sr, ch):
            raise ParameterError(
                f"{s.source}: {info.sample_rate} Hz, {info.channels} ch; the album is {sr} Hz, "
                f"{ch} ch. Convert it first (mixdown convert --sample-rate {sr})")
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    names = [_track_name(i, s) for i, s in enumerate(items)]
    outputs = [folder / f"{n}.wav" for n in names]
    for s, o in zip(items, outputs, strict=True):
        if o.exists():
            check_not_same(s.source, o)
    done = [0.0]
    steps = 2 * len(items) + 4

    def tick(amount: float = 1.0) -> None:
        done[0] += amount
        if progress is not None:
            progress(min(1.0, done[0] / steps))

    # 1. each song's loudness and its limiter detector's peak (the reduction at any gain)
    loudness, peaks = [], []
    for s in items:
        meter = LoudnessMeter(sr, ch)
        det = TruePeakDetector(sr, ch)
        for block in iter_blocks(s.source):
            meter.push(block)
            det.push(block)
        loudness.append(meter.integrated_lufs())
        peaks.append(det.true_peak_dbtp())
        tick()
        if not math.isfinite(loudness[-1]):
            raise ParameterError(f"{s.source}: silent or shorter than 0.4 s; nothing to master")
    loudest = int(np.argmax(loudness))

    # 2. the album gain: the loudest song to the target, capped by every song's allowance
    lead = master_to_target(items[loudest].source, target_lufs=target_lufs,
                            ceiling_dbtp=ceiling_dbtp, allowance_db=allowance_db)
    tick(3)
    threshold = ceiling_dbtp - MASTER_MARGIN_DB  # the mastering limiter's detector threshold
    caps = [allowance_db + threshold - p for p in peaks]
    gain = min(lead.gain_db, *caps)
    warnings: list[str] = []
    limiting = [i for i, c in enumerate(caps) if c < lead.gain_db - 1e-4 and i != loudest]
    if limiting:
        warnings.append(
            f"the album gain was lowered by {lead.gain_db - gain:.1f} dB so that "
            f"{', '.join(names[i] for i in limiting)} keep(s) within {allowance_db:g} dB of "
            "peak gain reduction; the relative levels are kept")

    # 3. every song with the same gain
    dither = "tpdf" if bit_depth == 16 else "none"
    tracks: list[AlbumTrackResult] = []
    written: list[Path] = []
    try:
        for i, (s, o) in enumerate(zip(items, outputs, strict=True)):
            lufs, gr, tp = gain_and_limit(s.source, o, gain_db=gain, ceiling_dbtp=ceiling_dbtp,
                                          bit_depth=bit_depth, dither=dither, dither_seed=i + 1)
            written.append(o)
            tracks.append(AlbumTrackResult(s, o, loudness[i], lufs, tp, gr, 0, infos[i].frames))
            tick()
        # 4. the album file with gaps, starts on CD frames, and its CUE sheet
        album = folder / "album.wav"
        cue = folder / "album.cue"
        cd_frame = sr // CD_FRAMES_PER_SECOND if sr % CD_FRAMES_PER_SECOND == 0 else 1
        gap = round(gap_s * sr)
        with AudioWriter(album, sr, ch, bit_depth=bit_depth) as w:
            pos = 0
            for k, t in enumerate(tracks):
                if k:
                    pad = gap + (-(pos + gap)) % cd_frame
                    w.write(np.zeros((ch, pad), np.float32))
                    pos += pad
                t.start_frame = pos
                for block in iter_blocks(t.output):
                    w.write(block)
                    pos += block.shape[1]
        written.append(album)
        with atomic_path(cue) as tmp:
            tmp.write_text(cue_sheet(album.name, tracks, sr, album_title=album_title,
                                     performer=performer), encoding="utf-8")
        tick()
    except BaseException:
        for p in written:
            p.unlink(missing_ok=True)
        raise
    out_loudest = tracks[loudest].output_lufs
    reached = abs(out_loudest - target_lufs) <= PROMISE_LU
    shortfall = max(0.0, target_lufs - out_loudest) if not reached else 0.0
    if not reached:
        warnings.insert(0, f"target not reached: the loudest song ({names[loudest]}) is at "
                           f"{out_loudest:.1f} LUFS, {shortfall:.1f} LU short of "
                           f"{target_lufs:g} LUFS")
    return AlbumResult(target_lufs, ceiling_dbtp, gain, reached, shortfall, tracks, album, cue,
                       sr, warnings)


def _track_name(index: int, song: AlbumSong) -> str:
    title = song.title or song.source.stem
    safe = re.sub(r"[^\w\- .]", "_", title).strip(" .") or "track"
    return f"{index + 1:02d} {safe}"


def _cue_time(frames: int, sr: int) -> str:
    total = frames * CD_FRAMES_PER_SECOND // sr
    m, rest = divmod(total, 60 * CD_FRAMES_PER_SECOND)
    s, f = divmod(rest, CD_FRAMES_PER_SECOND)
    return f"{m:02d}:{s:02d}:{f:02d}"


def _quote(text: str) -> str:
    return '"' + text.replace('"', "'") + '"'


def cue_sheet(album_file: str, tracks: Sequence[AlbumTrackResult], sample_rate: int, *,
              album_title: str | None = None, performer: str | None = None) -> str:
    """A CUE sheet for ``album_file`` with one ``TRACK`` per song at its start frame."""
    lines = []
    if performer:
        lines.append(f"PERFORMER {_quote(performer)}")
    if album_title:
        lines.append(f"TITLE {_quote(album_title)}")
    lines.append(f"FILE {_quote(album_file)} WAVE")
    for k, t in enumerate(tracks, start=1):
        lines.append(f"  TRACK {k:02d} AUDIO")
        lines.append(f"    TITLE {_quote(t.song.title or t.song.source.stem)}")
        if t.song.performer or performer:
            lines.append(f"    PERFORMER {_quote(t.song.performer or performer or '')}")
        if t.song.isrc:
            lines.append(f"    ISRC {re.sub(r'[^A-Z0-9]', '', t.song.isrc.upper())}")
        lines.append(f"    INDEX 01 {_cue_time(t.start_frame, sample_rate)}")
    return "\n".join(lines) + "\n"
