"""Convert an audio file: gain, soxr sample-rate conversion, dither, any supported format.

The output format comes from the extension. Float audio above 0 dBFS going to an
integer format (16/24-bit PCM, FLAC, MP3) is refused with a hint, never clipped
silently; so is a conversion whose resampled signal would clip. Writes are atomic
(nothing is left behind on error) and the output may not be the input file.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import soxr

from mixdown.analysis.truepeak import TruePeakMeter
from mixdown.core.audio import AudioArray
from mixdown.core.errors import ParameterError
from mixdown.core.units import db_to_gain
from mixdown.io.audio import AudioInfo, AudioWriter, audio_info, format_for_path, iter_blocks
from mixdown.mastering.dither import DITHER_MODES, Ditherer

BLOCK_FRAMES = 65_536
SOXR_QUALITY = "VHQ"
"""soxr's very-high-quality preset: 0.01 dB passband ripple, >= 175 dB rejection."""
SAMPLE_RATES = (8000, 11_025, 16_000, 22_050, 32_000, 44_100, 48_000, 88_200, 96_000,
                176_400, 192_000)
MP3_RATES = (32_000, 44_100, 48_000)


@dataclass(frozen=True, slots=True)
class ConvertResult:
    """What :func:`convert_file` wrote."""

    output: Path
    format: str
    sample_rate: int
    bit_depth: int | None
    channels: int
    frames: int
    gain_db: float
    dither: str

    def as_dict(self) -> dict[str, Any]:
        """Plain dict for JSON."""
        return {"output": str(self.output), "format": self.format,
                "sample_rate": self.sample_rate, "bit_depth": self.bit_depth,
                "channels": self.channels, "frames": self.frames, "gain_db": self.gain_db,
                "dither": self.dither}


def source_bit_depth(info: AudioInfo) -> int:
    """The PCM depth a file holds (32 for float, 24 for lossy sources)."""
    return {"PCM_16": 16, "PCM_S8": 16, "PCM_U8": 16, "PCM_24": 24}.get(
        info.subtype, 32 if info.subtype in ("FLOAT", "DOUBLE", "PCM_32") else 24)


def output_depth(fmt: str, requested: int | None, info: AudioInfo) -> int | None:
    """The output's bit depth: None for lossy formats, else requested or the source's."""
    if fmt in ("mp3", "ogg"):
        if requested is not None:
            raise ParameterError(f"{fmt.upper()} has no bit depth; drop --bit-depth")
        return None
    depth = requested if requested is not None else source_bit_depth(info)
    if fmt == "flac" and depth == 32:
        if requested is not None:
            raise ParameterError("FLAC holds 16 or 24 bits; use --bit-depth 24 or a WAV output")
        depth = 24
    if depth not in (16, 24, 32):
        raise ParameterError(f"bit depth must be 16, 24 or 32, got {depth}")
    return depth


def default_dither(bit_depth: int | None) -> str:
    """TPDF for 16-bit output, none for 24-bit, float and lossy output (issue 4)."""
    return "tpdf" if bit_depth == 16 else "none"


def check_not_same(src: Path, dst: Path) -> None:
    """Refuse an output that is the input file (nothing is written)."""
    same = src.resolve() == dst.resolve()
    if not same and dst.exists():
        try:
            same = src.samefile(dst)
        except OSError:
            same = False
    if same:
        raise ParameterError(f"{dst}: the output is the input file; choose another output "
                             "path (nothing was changed)")


def resampled(blocks: Iterable[AudioArray], in_rate: int, out_rate: int,
              channels: int) -> Iterator[AudioArray]:
    """Stream ``blocks`` through soxr (VHQ); the output has ``round(n * out / in)`` frames."""
    if in_rate == out_rate:
        yield from blocks
        return
    stream = soxr.ResampleStream(in_rate, out_rate, channels, dtype="float32",
                                 quality=SOXR_QUALITY)
    for block in blocks:
        out = stream.resample_chunk(np.ascontiguousarray(block.T))
        if out.shape[0]:
            yield np.ascontiguousarray(out.T)
    tail = stream.resample_chunk(np.zeros((0, channels), np.float32), last=True)
    if tail.shape[0]:
        yield np.ascontiguousarray(tail.T)


def scan_peaks(path: Path, gain: float = 1.0) -> tuple[float, float]:
    """(sample peak dBFS, true peak dBTP) of a file after a linear ``gain``."""
    info = audio_info(path)
    meter = TruePeakMeter(info.sample_rate, info.channels)
    g = np.float32(gain)
    for block in iter_blocks(path, BLOCK_FRAMES):
        meter.push(block * g if gain != 1.0 else block)
    return meter.sample_peak_dbfs(), meter.true_peak_dbtp()


def convert_file(
    source: str | Path,
    output: str | Path,
    *,
    bit_depth: int | None = None,
    sample_rate: int | None = None,
    dither: str | None = None,
    gain_db: float = 0.0,
    normalize_dbtp: float | None = None,
    mp3_bitrate_kbps: int = 320,
    seed: int = 0,
    progress: Callable[[float], None] | None = None,
) -> ConvertResult:
    """Convert ``source`` to ``output`` (format from the extension).

    Parameters
    ----------
    bit_depth : {16, 24, 32}, optional
        PCM depth (32 = float WAV/AIFF); default the source's (24 for FLAC from float).
    sample_rate : int, optional
        Output rate in Hz via soxr VHQ; default the source's.
    dither : {"tpdf", "shaped", "none"}, optional
        Requantisation to 16/24 bits; default TPDF at 16 bits, none otherwise.
    gain_db : float
        Gain applied first, in dB.
    normalize_dbtp : float, optional
        Scale so that the true peak lands here (dBTP), after ``gain_db``.
    mp3_bitrate_kbps : int
        Constant MP3 bitrate.
    seed : int
        Dither seed (same seed, same bytes).

    Returns
    -------
    ConvertResult

    Raises
    ------
    ParameterError
        Samples above 0 dBFS would be clipped by an integer format (the message gives the
        --gain or --normalize that fixes it), the output is the input, a bad option.
    FormatError
        Unreadable input, missing output folder, unsupported format.
    """
    src = Path(source)
    dst = Path(output)
    info = audio_info(src)
    check_not_same(src, dst)
    fmt = format_for_path(dst)
    depth = output_depth(fmt, bit_depth, info)
    out_rate = info.sample_rate if sample_rate is None else int(sample_rate)
    if out_rate not in SAMPLE_RATES:
        raise ParameterError(f"sample rate {out_rate} Hz is not supported; use one of "
                             f"{', '.join(map(str, SAMPLE_RATES))}")
    if fmt == "mp3" and out_rate not in MP3_RATES:
        raise ParameterError(f"MP3 needs 32000, 44100 or 48000 Hz, got {out_rate}; add "
                             "--sample-rate 44100")
    mode = default_dither(depth) if dither is None else dither
    if mode not in DITHER_MODES:
        raise ParameterError(f"--dither must be one of {', '.join(DITHER_MODES)}, got {mode!r}")
    if mode != "none" and depth not in (16, 24):
        raise ParameterError(f"dither applies to 16- or 24-bit output, not {fmt} "
                             f"{depth or 'lossy'}; use --dither none")
    if not math.isfinite(gain_db):
        raise ParameterError(f"--gain must be a finite number of dB, got {gain_db}")
    integer_out = depth in (16, 24) or fmt in ("mp3", "ogg")
    total_gain_db = float(gain_db)
    resampling = out_rate != info.sample_rate
    if normalize_dbtp is not None or integer_out:
        sample_peak, true_peak = scan_peaks(src, db_to_gain(gain_db))
        if normalize_dbtp is not None:
            if normalize_dbtp > 0 or not math.isfinite(normalize_dbtp):
                raise ParameterError(f"--normalize takes a true-peak level <= 0 dBTP, got "
                                     f"{normalize_dbtp}")
            if not math.isfinite(true_peak):
                raise ParameterError(f"{src}: is digital silence; nothing to normalize")
            total_gain_db += normalize_dbtp - true_peak
            sample_peak += normalize_dbtp - true_peak
            true_peak = normalize_dbtp
        over = true_peak if resampling else sample_peak
        if integer_out and over > 0.0:
            what = f"{depth}-bit" if depth else fmt.upper()
            raise ParameterError(
                f"{src}: {'true' if resampling else 'sample'} peak is {over:+.2f} dB above "
                f"full scale; {what} output would clip it. Lower it with --gain "
                f"{-math.ceil((over + 0.1) * 10) / 10:g} or --normalize -1 (nothing was written)"
            )
    gain = np.float32(db_to_gain(total_gain_db))
    ditherer = (Ditherer(depth, mode=mode, sample_rate=out_rate, channels=info.channels,
                         seed=seed) if depth in (16, 24) and mode != "none" else None)
    writer = AudioWriter(dst, out_rate, info.channels, fmt=fmt,
                         bit_depth=depth if depth is not None else 24,
                         mp3_bitrate_kbps=mp3_bitrate_kbps)
    frames = 0
    try:
        blocks = (b * gain if total_gain_db != 0.0 else b for b in iter_blocks(src, BLOCK_FRAMES))
        for block in resampled(blocks, info.sample_rate, out_rate, info.channels):
            if integer_out and float(np.max(np.abs(block), initial=0.0)) > 1.0:
                raise ParameterError(
                    f"{src}: after resampling to {out_rate} Hz some samples exceed full scale; "
                    "lower the level with --gain -1 or --normalize -1 (nothing was written)")
            if ditherer is not None:
                block = ditherer.process(block)
            writer.write(block)
            frames += block.shape[1]
            if progress is not None:
                progress(min(1.0, frames / max(1, round(info.frames * out_rate
                                                        / info.sample_rate))))
    except BaseException:
        writer.abort()
        raise
    writer.close()
    return ConvertResult(dst, fmt, out_rate, depth, info.channels, frames, total_gain_db, mode)
