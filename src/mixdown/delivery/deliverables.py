"""Deliverables: from one master, each file a distributor asks for, verified after encoding.

Each deliverable is made as: master -> soxr resampling -> true-peak limiter at the
ceiling (less a safety margin on a re-make) -> dither (16/24-bit) -> encoder ->
tags -> decode and measure. A file whose decoded true peak is over the ceiling is
made again with a margin of ``overshoot + REMAKE_STEP_DB`` (lossy codecs
overshoot by a few tenths of a dB on loud masters); one that still fails after
:data:`MAX_ATTEMPTS` is not shipped (no file is left) and the result says why.

The file appears under its final name only once it has passed: it is written
and checked under a hidden temporary name in the destination folder, then renamed.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from mixdown.analysis.loudness import LoudnessMeter
from mixdown.core.audio import AudioArray
from mixdown.core.errors import MixdownError, ParameterError
from mixdown.core.names import closest
from mixdown.delivery.convert import BLOCK_FRAMES, MP3_RATES, resampled
from mixdown.delivery.tags import LoudnessFields, Metadata, write_tags
from mixdown.delivery.verify import Check, Measurement, check_measurement, measure_file
from mixdown.io.audio import AudioWriter, audio_info, iter_blocks
from mixdown.mastering.dither import DITHER_MODES, Ditherer
from mixdown.mastering.limiter import TruePeakLimiter, limit_stream
from mixdown.mastering.normalize import master_to_target

MAX_ATTEMPTS = 4
REMAKE_STEP_DB = 0.1
"""Extra margin on top of the measured overshoot when a deliverable is made again, in dB."""
REMAKE_ALLOWANCE_DB = 12.0
"""Peak gain reduction a re-make may add to keep the loudness under the lower ceiling."""


@dataclass(frozen=True, slots=True)
class DeliverableSpec:
    """One kind of file: format, rate (None = the master's), depth, dither, bitrate."""

    name: str
    format: str
    sample_rate: int | None = None
    bit_depth: int | None = None
    dither: str = "none"
    bitrate_kbps: int | None = None
    description: str = ""

    @property
    def lossy(self) -> bool:
        """True for MP3/AAC."""
        return self.format in ("mp3", "aac")

    @property
    def extension(self) -> str:
        """File extension with the dot."""
        return {"wav": ".wav", "flac": ".flac", "mp3": ".mp3", "aac": ".m4a"}[self.format]

    def label(self, master_rate: int) -> str:
        """Short human label: ``WAV 24-bit 48 kHz``, ``MP3 320 kbps``."""
        rate = self.sample_rate or master_rate
        if self.lossy:
            return f"{self.format.upper()} {self.bitrate_kbps} kbps {rate / 1000:g} kHz"
        return f"{self.format.upper()} {self.bit_depth}-bit {rate / 1000:g} kHz"


DELIVERABLES: dict[str, DeliverableSpec] = {s.name: s for s in (
    DeliverableSpec("wav-24-48k", "wav", 48_000, 24, "none",
                    description="studio master for distributors"),
    DeliverableSpec("wav-16-44k", "wav", 44_100, 16, "tpdf",
                    description="CD-quality PCM, TPDF dither"),
    DeliverableSpec("wav-16-44k-shaped", "wav", 44_100, 16, "shaped",
                    description="CD-quality PCM, noise-shaped dither"),
    DeliverableSpec("flac", "flac", None, 24, "none", description="lossless archive"),
    DeliverableSpec("flac-16-44k", "flac", 44_100, 16, "tpdf", description="lossless CD"),
    DeliverableSpec("mp3-320", "mp3", None, None, "none", 320,
                    description="MP3 320 kbps CBR for promos and previews"),
    DeliverableSpec("aac-256", "aac", None, None, "none", 256,
                    description="AAC-LC 256 kbps in M4A (FFmpeg's encoder, through PyAV)"),
)}
"""Every deliverable kind by name."""


def aac_encoder_available() -> bool:
    """Whether an AAC encoder can be used here (PyAV, a declared dependency)."""
    from mixdown.io.aac import aac_available

    return aac_available()


def get_deliverable(name: str) -> DeliverableSpec:
    """The spec called ``name``; suggests close names."""
    if name in DELIVERABLES:
        return DELIVERABLES[name]
    hint = closest(name, DELIVERABLES, cutoff=0.5, list_known=False)
    raise ParameterError(f"unknown deliverable {name!r}{hint} (known: "
                         f"{', '.join(DELIVERABLES)})")


@dataclass(slots=True)
class DeliverableResult:
    """What was made for one deliverable, and whether it passed."""

    spec: DeliverableSpec
    path: Path | None
    passed: bool
    attempts: int
    margin_db: float
    checks: list[Check] = field(default_factory=list)
    measurement: Measurement | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None

    @property
    def remade(self) -> bool:
        """True when the first encode failed its ceiling and the file was made again."""
        return self.attempts > 1

    def as_dict(self) -> dict[str, Any]:
        """Plain dict for JSON and the report."""
        return {
            "deliverable": self.spec.name, "path": str(self.path) if self.path else None,
            "passed": self.passed, "attempts": self.attempts, "remade": self.remade,
            "margin_db": self.margin_db, "checks": [c.as_dict() for c in self.checks],
            "measured": self.measurement.as_dict() if self.measurement else None,
            "history": self.history, "error": self.error,
        }


def make_deliverable(
    master: str | Path,
    spec: DeliverableSpec,
    dest: str | Path,
    *,
    ceiling_dbtp: float,
    target_lufs: float | None = None,
    metadata: Metadata | None = None,
    seed: int = 0,
    max_attempts: int = MAX_ATTEMPTS,
) -> DeliverableResult:
    """Write ``spec`` of ``master`` to ``dest``; verify it decoded; re-make if it overshoots.

    Parameters
    ----------
    master : Path
        The master (any rate; a float or 24-bit WAV).
    spec : DeliverableSpec
    dest : Path
        Final file name; its folder must exist. Written only if it passes.
    ceiling_dbtp : float
        True-peak ceiling the decoded file must respect.
    target_lufs : float, optional
        Loudness the file must keep (checked within 0.2 LU, 0.5 LU for lossy codecs).
    metadata : Metadata, optional
        Tags to write.
    seed : int
        Dither seed.
    max_attempts : int
        Encodes tried before giving up (each with a larger margin).

    Returns
    -------
    DeliverableResult
        ``passed`` False with ``path`` None if it never met its spec.
    """
    src = Path(master)
    out = Path(dest)
    info = audio_info(src)
    if spec.format == "aac" and not aac_encoder_available():
        return DeliverableResult(spec, None, False, 0, 0.0, error=(
            "no AAC encoder is available in this installation (PyAV is missing: "
            "pip install av); deliver WAV, FLAC or MP3"))
    if spec.dither not in DITHER_MODES:
        raise ParameterError(f"{spec.name}: unknown dither {spec.dither!r}")
    rate = spec.sample_rate or info.sample_rate
    if spec.format == "mp3" and rate not in MP3_RATES:
        rate = 48_000 if rate % 48_000 == 0 else 44_100
        spec = replace(spec, sample_rate=rate)
    frames = round(info.frames * rate / info.sample_rate)
    meta = metadata or Metadata()
    margin = 0.0
    result = DeliverableResult(spec, None, False, 0, 0.0)
    for attempt in range(1, max_attempts + 1):
        tmp = _temp_name(out)
        keep = None
        if attempt > 1:
            keep = target_lufs if target_lufs is not None else _loudness(src)
        try:
            _encode(src, info.sample_rate, rate, info.channels, spec, tmp,
                    ceiling_dbtp - margin, seed, keep)
            measured = measure_file(tmp)
            _tag(tmp, spec, meta, measured, rate)
            if audio_info(tmp).frames != measured.frames:  # tags must not touch the audio
                raise MixdownError(f"{out}: writing tags changed the decoded length")
            checks = check_measurement(
                measured, fmt="mp3" if spec.format == "mp3" else spec.format,
                sample_rate=rate, channels=info.channels, bit_depth=spec.bit_depth,
                frames=frames, ceiling_dbtp=ceiling_dbtp, target_lufs=target_lufs,
                lossy=spec.lossy)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        tp = measured.true_peak_dbtp
        result = DeliverableResult(spec, None, all(c.passed for c in checks), attempt, margin,
                                   checks, measured, result.history)
        result.history.append({"attempt": attempt, "margin_db": margin, "true_peak_dbtp": tp,
                               "integrated_lufs": measured.integrated_lufs})
        peak_ok = math.isfinite(tp) and tp <= ceiling_dbtp
        if result.passed:
            os.replace(tmp, out)
            result.path = out
            result.measurement = _relocated(measured, out)
            return result
        tmp.unlink(missing_ok=True)
        if peak_ok:  # failed on something a margin cannot fix (length, loudness...)
            break
        margin += (tp - ceiling_dbtp) + REMAKE_STEP_DB
    failed = [c.name for c in result.checks if not c.passed]
    result.error = (f"{spec.name}: still fails {', '.join(failed)} after {result.attempts} "
                    "attempt(s); not shipped")
    return result


def _loudness(path: Path) -> float:
    info = audio_info(path)
    meter = LoudnessMeter(info.sample_rate, info.channels)
    for block in iter_blocks(path, BLOCK_FRAMES):
        meter.push(block)
    return meter.integrated_lufs()


def _relocated(m: Measurement, path: Path) -> Measurement:
    return replace(m, path=path)


def _temp_name(out: Path) -> Path:
    if not out.parent.is_dir():
        raise MixdownError(f"{out}: the folder {out.parent} does not exist")
    fd, name = tempfile.mkstemp(prefix=f".{out.stem}.", suffix=out.suffix, dir=out.parent)
    os.close(fd)
    return Path(name)


def _master_blocks(src: Path, in_rate: int, out_rate: int, channels: int,
                   ceiling_dbtp: float) -> Iterator[AudioArray]:
    blocks = resampled(iter_blocks(src, BLOCK_FRAMES), in_rate, out_rate, channels)
    lim = TruePeakLimiter(ceiling_dbtp=ceiling_dbtp)
    lim.prepare(out_rate, channels, BLOCK_FRAMES)
    yield from limit_stream(lim, blocks)


class _DitherSink:
    """A :class:`~mixdown.mastering.normalize.BlockSink` that dithers into a writer."""

    def __init__(self, writer: AudioWriter, ditherer: Ditherer | None) -> None:
        self.writer = writer
        self.ditherer = ditherer

    def write(self, block: AudioArray) -> None:
        if self.ditherer is not None:
            block = self.ditherer.process(block)
        self.writer.write(np.ascontiguousarray(block, dtype=np.float32))

    def close(self) -> Path:
        return self.writer.close()

    def abort(self) -> None:
        self.writer.abort()


def _encode(src: Path, in_rate: int, rate: int, channels: int, spec: DeliverableSpec,
            tmp: Path, ceiling_dbtp: float, seed: int, keep_lufs: float | None) -> None:
    """Encode ``src`` into ``tmp``; with ``keep_lufs`` the limiter re-masters to it."""
    depth = spec.bit_depth if spec.bit_depth is not None else 24

    def new_sink() -> _DitherSink:
        writer = AudioWriter(tmp, rate, channels, fmt=spec.format, bit_depth=depth,
                             mp3_bitrate_kbps=spec.bitrate_kbps or 320)
        ditherer = (Ditherer(depth, mode=spec.dither, sample_rate=rate, channels=channels,
                             seed=seed)
                    if spec.bit_depth in (16, 24) and spec.dither != "none" else None)
        return _DitherSink(writer, ditherer)

    ceiling = max(ceiling_dbtp, -30.0)
    if keep_lufs is not None:
        # a re-make: a lower ceiling, and the gain that keeps the loudness (by measurement);
        # the sink is made once, for the pass that is kept, and moved into place
        def blocks() -> Iterator[AudioArray]:
            return resampled(iter_blocks(src, BLOCK_FRAMES), in_rate, rate, channels)

        master_to_target(blocks, new_sink, target_lufs=keep_lufs, ceiling_dbtp=ceiling,
                         sample_rate=rate, channels=channels, allowance_db=REMAKE_ALLOWANCE_DB)
        return
    sink = new_sink()
    try:
        for block in _master_blocks(src, in_rate, rate, channels, ceiling):
            sink.write(block)
        sink.close()
    except BaseException:
        sink.abort()
        raise


def _tag(path: Path, spec: DeliverableSpec, meta: Metadata, m: Measurement,
         rate: int) -> None:
    if not (meta.as_dict() or spec.format == "wav"):
        return
    qc = m.qc
    loudness = LoudnessFields(qc.integrated_lufs, qc.loudness_range_lu, qc.true_peak_dbtp,
                              qc.max_momentary_lufs, qc.max_short_term_lufs)
    mode = "mono" if m.channels == 1 else "stereo"
    history = (f"A=PCM,F={rate},W={spec.bit_depth},M={mode},T=mixdown; dither {spec.dither}"
               if spec.format == "wav" else "")
    write_tags(path, meta, loudness=loudness, coding_history=history)
