"""Compile every numba kernel once, at install time: ``python -m mixdown.warmup``.

mixdown's per-sample loops are numba functions cached on disk (``cache=True``): the first
process to call one compiles it (seconds each, ~10 s for a render) and every later process
loads it from the cache (``__pycache__`` beside the source, or ``NUMBA_CACHE_DIR``). The
warm-up does the first calls for the user, at ``make install``, so that the first render
of a song is as fast as the second.

It finds the kernels by using the program, not from a list, so that it stays complete
when kernels move between modules: it

1. runs every registered effect, once in each of its ``choice`` modes, on whole blocks and
   on a shorter block view (numba compiles contiguous and strided arrays separately);
2. renders a small generated project (audio clips with gaps, every built-in instrument,
   automation, sends, buses, a master chain and loudness target) to 24-bit and 16-bit
   (dithered) WAV with stems;
3. masters the render (plain, to 16 bits, and with a reference), converts it (with
   resampling and shaped dither), and analyses it with the loudness series.

:func:`kernel_stats` lists every numba dispatcher loaded from ``mixdown`` with its cache
hits and misses in this process; a process that finds ``misses == 0`` compiled nothing.

Where the cache lives: numba writes it beside the sources when that folder is writable
(the editable install of ``make install``: ``src/mixdown/**/__pycache__``), else in the
user's cache folder; ``NUMBA_CACHE_DIR`` overrides both. A system-wide install that users
cannot write to should set ``NUMBA_CACHE_DIR`` to one shared folder for the warm-up and for
the users, or each user runs the warm-up once. A kernel whose source file changes (an
edit, an upgrade) is compiled again at its next use, or by running the warm-up again.
"""

from __future__ import annotations

import itertools
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

SAMPLE_RATE = 48_000
BLOCK = 1024


@dataclass(frozen=True, slots=True)
class KernelStat:
    """One numba dispatcher: where it lives and what this process did with it."""

    name: str
    """``module.function``."""
    signatures: int
    """Compiled signatures held in this process."""
    hits: int
    """Signatures loaded from the on-disk cache."""
    misses: int
    """Signatures compiled in this process (not found in the cache)."""


def kernel_stats() -> list[KernelStat]:
    """Every numba dispatcher in the loaded ``mixdown`` modules, sorted by name."""
    from numba.core.dispatcher import Dispatcher

    seen: dict[int, KernelStat] = {}
    for mod_name, mod in list(sys.modules.items()):
        if not mod_name.startswith("mixdown") or mod is None:
            continue
        for value in list(vars(mod).values()):
            if not isinstance(value, Dispatcher) or id(value) in seen:
                continue
            if getattr(value.py_func, "__module__", "") != mod_name:
                continue  # imported from elsewhere: counted where it is defined
            stats = value.stats
            seen[id(value)] = KernelStat(
                name=f"{mod_name}.{value.py_func.__name__}",
                signatures=len(value.signatures),
                hits=sum(stats.cache_hits.values()),
                misses=sum(stats.cache_misses.values()),
            )
    return sorted(seen.values(), key=lambda k: k.name)


def _noise(rng: np.random.Generator, channels: int, frames: int, level: float = 0.3) -> Any:
    return (rng.standard_normal((channels, frames)) * level).astype(np.float32)


def _shapes(rng: np.random.Generator, channels: int, frames: int) -> list[Any]:
    """``frames`` of noise, C-contiguous and as a strided view of a longer block."""
    return [_noise(rng, channels, frames), _noise(rng, channels, frames + 9)[:, :frames]]


def _device_variants(info: Any) -> list[dict[str, Any]]:
    """Defaults, then each ``choice`` parameter set to each of its other values."""
    variants: list[dict[str, Any]] = [{}]
    for p in info.params:
        if p.kind == "choice":
            variants += [{p.name: c} for c in p.choices if c != p.default]
        elif p.kind == "bool":
            variants.append({p.name: not p.default})
    return variants


def warm_effects() -> int:
    """Run every registered effect in each mode; return how many device runs were made."""
    from mixdown.core.errors import MixdownError
    from mixdown.dsp.base import DEVICES, create_device, load_builtin_devices

    load_builtin_devices()
    rng = np.random.default_rng(0)
    runs = 0
    for type_name, info in sorted(DEVICES.items()):
        if info.kind != "effect":
            continue
        for params, channels in itertools.product(_device_variants(info), (2, 1)):
            try:
                dev = create_device(type_name, params)
                dev.prepare(SAMPLE_RATE, channels, BLOCK)
            except (MixdownError, ValueError, TypeError):
                continue  # needs something the warm-up cannot give (a VST3 path ...)
            if hasattr(dev, "set_tempo"):
                dev.set_tempo(120.0)
            # numba compiles contiguous blocks and views (the last, shorter block of a
            # render) separately, for the signal and for a sidechain key alike
            for frames in (BLOCK, BLOCK // 2 + 7):
                keys = [None, *(_shapes(rng, channels, frames) if info.sidechain else [])]
                for x, key in itertools.product(_shapes(rng, channels, frames), keys):
                    dev.process(x, key)
                    dev.process(x, key)
            runs += 1
    return runs


_SONG = """\
[song]
title = "warm-up"
tempo = 120
sample_rate = {sr}
length = "5:1"
tail_s = 0.5

[[track]]
name = "Audio"
pan = -0.3
clips = [{{ start = 0, file = "audio/a.wav", fade_in_s = 0.01, fade_out_s = 0.01 }},
         {{ start = 6, file = "audio/a.wav", loop = true, length = 4, gain_db = -3 }},
         {{ start = 12, file = "audio/mono.wav" }}]
devices = [{{ type = "eq", highpass_hz = 40, bell1_hz = 900, bell1_gain_db = -3 }},
           {{ type = "compressor", threshold_db = -20, ratio = 3 }}]
sends = {{ Space = -12.0, Echo = -18.0 }}
automation = [{{ param = "volume_db", points = [[0, -12.0], [8, 0.0]] }},
              {{ param = "pan", points = [[0, -0.5], [16, 0.5]] }},
              {{ param = "send.Space", points = [[0, -30], [12, -6]] }}]

[[track]]
name = "Kick"
instrument = {{ type = "drums", kit = "909" }}
clips = [{{ start = 0, bars = 4, pattern = {{ kick = "x...x...", snare = "....x..." }} }},
         {{ start = 0, bars = 4, pattern = {{ hat = "x.x.x.x.x.x.x.xo", clap = "....x......." }} }}]

[[track]]
name = "Bass"
instrument = {{ type = "synth" }}
clips = [{{ start = 0, notes = [["A1", 0, 1], ["C2", 2, 2, 90], ["E2", 5, 3]] }}]
devices = [{{ type = "compressor", sidechain = "Kick", ratio = 6 }}]
automation = [{{ param = "instrument.cutoff_hz", points = [[0, 400], [8, 4000]] }}]

[[track]]
name = "Keys"
instrument = {{ type = "fm" }}
clips = [{{ start = 0, notes = [["C4", 0, 2], ["E4", 0, 2], ["G4", 4, 4, 80]] }}]
devices = [{{ type = "chorus" }}, {{ type = "saturation" }}]
sends = {{ Echo = -12.0 }}
modulators = [{{ type = "follower", source = "Kick", target = "volume_db", depth = -6 }}]

[[track]]
name = "Sampler"
instrument = {{ type = "sampler", zones = [{{ file = "audio/mono.wav", root = 60 }}] }}
clips = [{{ start = 0, notes = [["C4", 0, 1], ["G4", 2, 6]] }}]

[[bus]]
name = "Space"
devices = [{{ type = "reverb", room_size = 0.7, wet = 1.0, dry = 0.0 }}]

[[bus]]
name = "Echo"
devices = [{{ type = "delay", time_ms = 375.0, feedback = 0.4, mix = 1.0 }}]

[master]
devices = [{{ type = "compressor", threshold_db = -12, ratio = 2 }}]
target_lufs = -14.0
ceiling_dbtp = -1.0
"""


def _write_project(folder: Path) -> Path:
    import soundfile as sf

    audio = folder / "audio"
    audio.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    t = np.arange(2 * SAMPLE_RATE) / SAMPLE_RATE
    tone = 0.3 * np.sin(2 * np.pi * 220 * t) * np.exp(-t)
    stereo = np.stack([tone + 0.05 * rng.standard_normal(t.size),
                       tone + 0.05 * rng.standard_normal(t.size)])
    sf.write(str(audio / "a.wav"), stereo.T.astype(np.float32), SAMPLE_RATE, subtype="PCM_24")
    sf.write(str(audio / "mono.wav"), tone[: SAMPLE_RATE // 2].astype(np.float32), SAMPLE_RATE,
             subtype="PCM_16")
    (folder / "song.toml").write_text(_SONG.format(sr=SAMPLE_RATE))
    return folder


def warm_services(folder: Path) -> None:
    """Render, master, convert and analyse a small generated project in ``folder``."""
    from mixdown.analysis import oversample_4x, true_peak_dbtp
    from mixdown.io.measure import analyze_file
    from mixdown.io.wav_stream import open_pcm_wav
    from mixdown.services.master import convert, master_file
    from mixdown.services.render import render_project

    project = _write_project(folder)
    out = folder / "renders"
    out.mkdir()
    render_project(project, out / "mix.wav", stems=True)
    render_project(project, out / "mix16.wav", bit_depth=16, master=False)
    render_project(project, out / "mix.flac", block_frames=777)
    master_file(out / "mix16.wav", out / "master.wav", target=-14.0)
    master_file(out / "mix16.wav", out / "master16.wav", target=-16.0, bit_depth=16)
    master_file(out / "mix16.wav", out / "matched.wav", references=[out / "master.wav"])
    convert(out / "mix.wav", out / "mix44.wav", sample_rate=44_100, bit_depth=16)
    analyze_file(out / "mix.wav", series=True)
    convert(out / "mix.wav", out / "shaped.flac", bit_depth=16, dither="shaped")
    analyze_file(project / "audio" / "mono.wav")
    for wav in ("a.wav", "mono.wav"):  # 24- and 16-bit: the long clips' streaming reader
        stream = open_pcm_wav(project / "audio" / wav)
        if stream is not None:
            with stream:
                stream.read(BLOCK)
    block = _noise(np.random.default_rng(2), 2, BLOCK)
    true_peak_dbtp(block, SAMPLE_RATE)
    oversample_4x(block)


def warm_up() -> tuple[list[KernelStat], list[str]]:
    """Compile (or load) every kernel a render, master, convert or analysis uses.

    Returns
    -------
    stats : list of KernelStat
        Every numba dispatcher of the loaded mixdown modules.
    problems : list of str
        The steps that failed, one line each (a failed step leaves its kernels to be
        compiled at first use; it never breaks the install).
    """
    problems: list[str] = []
    try:
        warm_effects()
    except Exception as exc:  # a warm-up must not break the install
        problems.append(f"effects: {type(exc).__name__}: {exc}")
    with tempfile.TemporaryDirectory(prefix="mixdown-warmup-") as tmp:
        try:
            warm_services(Path(tmp))
        except Exception as exc:
            problems.append(f"render/master/analyze: {type(exc).__name__}: {exc}")
    return kernel_stats(), problems


def main() -> None:
    """``python -m mixdown.warmup``: warm the cache and say what was compiled."""
    from numba.core.config import CACHE_DIR

    start = time.perf_counter()
    stats, problems = warm_up()
    compiled = sum(k.misses for k in stats)
    loaded = sum(k.hits for k in stats)
    where = CACHE_DIR or "__pycache__ beside the sources"
    print(f"mixdown warm-up: {len(stats)} kernels, {compiled} signatures compiled, "
          f"{loaded} loaded from the cache ({where}), {time.perf_counter() - start:.1f} s")
    for line in problems:
        sys.stderr.write(f"mixdown warm-up: step skipped, its kernels compile at first use: "
                         f"{' '.join(line.split())}\n")


if __name__ == "__main__":
    main()
