"""Reach a loudness target by measurement: gain, true-peak limiter, measure, correct.

The loudness of a limited master is not the input loudness plus the gain: the
limiter takes some away, more the harder it works. So the gain is found by
measuring the limiter's output (ITU-R BS.1770-4, :class:`LoudnessMeter`) and
correcting it: a first pass at ``target - input``, then secant steps, until the
integrated loudness is within ``tolerance_lu`` (0.05 LU by default, well inside
the ±0.2 LU promise). Two or three passes are usual.

The peak gain-reduction allowance: the limiter's largest gain reduction is
exactly ``gain_db + P - threshold`` where ``P`` is its detector's largest reading
of the input (the gain path reaches the required gain at the peak). If reaching
the target would need more than ``allowance_db`` of it, the gain stops where the
reduction equals the allowance, and the result says "target not reached" with
the shortfall in LU instead of crushing the master. A mix louder than the target
is turned down.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from mixdown.analysis.loudness import LoudnessMeter
from mixdown.analysis.truepeak import TruePeakMeter
from mixdown.core.audio import AudioArray
from mixdown.core.errors import ParameterError
from mixdown.core.pipeline import Consumer
from mixdown.core.targets import check_target_lufs
from mixdown.core.units import db_to_gain
from mixdown.dsp.true_peak import SUSTAIN_MS
from mixdown.io.audio import AudioWriter, audio_info, iter_blocks
from mixdown.mastering.hint import MasterHint
from mixdown.mastering.limiter import TruePeakLimiter, check_ceiling, limit_stream
from mixdown.mastering.spill import SpillBuffer

BlockSource = Callable[[], Iterable[AudioArray]]
"""A callable that returns a fresh iterator over float32 (channels, frames) blocks."""

DEFAULT_ALLOWANCE_DB = 6.0
"""Peak gain reduction the limiter may apply to reach a target (issue 4)."""
DEFAULT_TOLERANCE_LU = 0.05
"""How close the iteration gets to the target (the promise is ±0.2 LU)."""
PROMISE_LU = 0.2
"""Integrated loudness lands within this of the target when the target is reachable."""
_CAP_TOL_DB = 1e-4  # the limiter's reduction is exact to ~1e-7 dB (float32 gain)


class BlockSink(Protocol):
    """Where the final pass writes: :class:`mixdown.io.audio.AudioWriter` fits."""

    def write(self, block: AudioArray) -> None:
        """Append a float32 (channels, frames) block."""

    def close(self) -> Any:
        """Finish the output."""

    def abort(self) -> None:
        """Drop a partial output."""


class MemoryOutput:
    """A master kept in memory (tests, benchmarks, notebooks): pass it where an output path or
    sink factory goes; each pass it is asked for starts it afresh, so :meth:`audio` is the
    pass that was written last, the one kept."""

    def __init__(self) -> None:
        self._blocks: list[AudioArray] = []

    def __call__(self) -> MemoryOutput:
        """A fresh sink for the next pass (this object, emptied)."""
        self._blocks = []
        return self

    def write(self, block: AudioArray) -> None:
        """Keep a copy of a float32 (channels, frames) block."""
        self._blocks.append(block.copy())

    def close(self) -> None:
        """Nothing to finish: the blocks are already in memory."""

    def abort(self) -> None:
        """Drop what the pass wrote."""
        self._blocks.clear()

    def audio(self) -> AudioArray:
        """The master, float32 (channels, frames)."""
        return np.concatenate(self._blocks, axis=1)


@dataclass(frozen=True, slots=True)
class MasterResult:
    """What :func:`master_to_target` did and measured.

    Loudness in LUFS, levels in dB/dBTP, lengths in frames.
    """

    target_lufs: float
    ceiling_dbtp: float
    allowance_db: float
    gain_db: float
    input_lufs: float
    input_true_peak_dbtp: float
    output_lufs: float
    output_true_peak_dbtp: float
    max_gain_reduction_db: float
    reached: bool
    shortfall_lu: float
    passes: int
    frames: int
    sample_rate: int
    channels: int
    warnings: tuple[str, ...] = field(default=())
    analyzer: Any = field(default=None, repr=False, compare=False)
    """The analyzer (from ``analyzer_factory``) that watched the master that was kept."""

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-able summary (non-finite values become None in the CLI)."""
        return {
            "target_lufs": self.target_lufs,
            "ceiling_dbtp": self.ceiling_dbtp,
            "allowance_db": self.allowance_db,
            "gain_db": self.gain_db,
            "input_lufs": self.input_lufs,
            "input_true_peak_dbtp": self.input_true_peak_dbtp,
            "output_lufs": self.output_lufs,
            "output_true_peak_dbtp": self.output_true_peak_dbtp,
            "max_gain_reduction_db": self.max_gain_reduction_db,
            "reached": self.reached,
            "shortfall_lu": self.shortfall_lu,
            "passes": self.passes,
            "warnings": list(self.warnings),
        }


def file_source(path: str | Path, block_frames: int = 65_536) -> BlockSource:
    """A :data:`BlockSource` that streams an audio file (re-opened on every call)."""
    p = Path(path)
    return lambda: iter_blocks(p, block_frames)


MASTER_LOOKAHEAD_MS = 1.0
"""Limiter lookahead (and attack ramp) when mastering, in ms: short, so that dense peaks
(a bright, clipped mix) cost little loudness."""
MASTER_TRANSIENT_RELEASE_MS = 3.0
"""Fast release of the mastering limiter's auto release, in ms (see
:class:`~mixdown.dsp.true_peak.TruePeakLimiter`)."""
MASTER_RELEASE_MS = 100.0
"""Slow (sustained) release of the mastering limiter, in ms."""
MASTER_MARGIN_DB = 0.1
"""Detector margin of a plan's limiter, dB: ffmpeg reads clipped bright material up to
0.06 dB above the detector."""


@dataclass(frozen=True, slots=True)
class MasterPlan:
    """What a master aims at and how the loop gets there (validated on creation).

    Parameters
    ----------
    target_lufs : float
        Integrated loudness target in LUFS (-70..0).
    ceiling_dbtp : float
        True-peak ceiling in dBTP (-30..0).
    allowance_db : float
        Most peak gain reduction (dB, 0..40) the limiter may apply to reach the target;
        beyond it the master stops short and says by how much.
    tolerance_lu : float
        The loop stops within this many LU of the target.
    max_passes : int
        Most measuring passes, 1..20 (each streams the source once).
    release_ms, lookahead_ms, transient_release_ms, sustain_ms : float
        Limiter timing (:class:`~mixdown.dsp.true_peak.TruePeakLimiter`):
        sustained release, lookahead, the auto release's fast release (0: off, a fixed
        ``release_ms``) and the time over which reduction counts as sustained, all in ms.
    margin_db : float
        The limiter's detector margin below the ceiling, dB.

    Examples
    --------
    >>> plan = MasterPlan(target_lufs=-14.0, ceiling_dbtp=-1.0)
    >>> plan.threshold_dbtp
    -1.1
    """

    target_lufs: float
    ceiling_dbtp: float = -1.0
    allowance_db: float = DEFAULT_ALLOWANCE_DB
    tolerance_lu: float = DEFAULT_TOLERANCE_LU
    max_passes: int = 6
    release_ms: float = MASTER_RELEASE_MS
    lookahead_ms: float = MASTER_LOOKAHEAD_MS
    transient_release_ms: float = MASTER_TRANSIENT_RELEASE_MS
    sustain_ms: float = SUSTAIN_MS
    margin_db: float = MASTER_MARGIN_DB

    def __post_init__(self) -> None:
        object.__setattr__(self, "target_lufs", check_target_lufs(self.target_lufs))
        object.__setattr__(self, "ceiling_dbtp", check_ceiling(self.ceiling_dbtp))
        allowance = self.allowance_db
        if not (isinstance(allowance, int | float) and 0.0 <= allowance <= 40.0):
            raise ParameterError(f"allowance_db must be 0..40 dB of peak gain reduction, got "
                                 f"{allowance!r}")
        object.__setattr__(self, "allowance_db", float(allowance))
        if not 1 <= int(self.max_passes) <= 20:
            raise ParameterError(f"max_passes must be 1..20, got {self.max_passes}")
        if not (isinstance(self.tolerance_lu, int | float) and 0.0 < self.tolerance_lu <= 1.0):
            raise ParameterError(f"tolerance_lu must be in (0, 1] LU, got {self.tolerance_lu!r}")
        self.limiter()  # checks the timing

    def limiter(self) -> TruePeakLimiter:
        """A fresh (unprepared) limiter with this plan's ceiling and timing."""
        return TruePeakLimiter(ceiling_dbtp=self.ceiling_dbtp, release_ms=self.release_ms,
                               lookahead_ms=self.lookahead_ms,
                               transient_release_ms=self.transient_release_ms,
                               sustain_ms=self.sustain_ms, margin_db=self.margin_db)

    @property
    def threshold_dbtp(self) -> float:
        """The limiter's detector threshold in dBTP (the ceiling less its margin)."""
        return self.limiter().threshold_dbtp


def master_to_target(
    source: str | Path | BlockSource,
    output: str | Path | Callable[[], BlockSink] | None = None,
    *,
    target_lufs: float,
    ceiling_dbtp: float = -1.0,
    sample_rate: int | None = None,
    channels: int | None = None,
    fmt: str | None = None,
    bit_depth: int = 24,
    dither: str | None = None,
    dither_seed: int = 0,
    analyzer: BlockSink | Any | None = None,
    analyzer_factory: Callable[[], Any] | None = None,
    input_lufs: float | None = None,
    input_true_peak_dbtp: float | None = None,
    allowance_db: float = DEFAULT_ALLOWANCE_DB,
    release_ms: float = MASTER_RELEASE_MS,
    lookahead_ms: float = MASTER_LOOKAHEAD_MS,
    tolerance_lu: float = DEFAULT_TOLERANCE_LU,
    max_passes: int = 6,
    progress: Callable[[float], None] | None = None,
    transient_release_ms: float = MASTER_TRANSIENT_RELEASE_MS,
    sustain_ms: float = SUSTAIN_MS,
    margin_db: float = MASTER_MARGIN_DB,
    hint: MasterHint | None = None,
    spill_dir: str | Path | None = None,
) -> MasterResult:
    """Gain and true-peak-limit a pre-limiter signal to a loudness target, by measurement.

    A wrapper: builds a :class:`MasterPlan` from the target, ceiling, allowance, tolerance,
    passes and limiter timing, and runs :func:`run_master_plan` with the rest. Its limiter
    defaults are the plan's: auto release (3 ms fast, 100 ms sustained) with a 1 ms
    lookahead and a 0.1 dB detector margin, which reaches the target on dense, clipped
    peaks. ``transient_release_ms=0, lookahead_ms=5, margin_db=0.05`` gives the fixed
    100 ms release of earlier versions.

    Parameters
    ----------
    source : Path or callable
        The pre-limiter signal: an audio file (a float32 WAV keeps full precision) or a
        callable returning a fresh iterator of float32 (channels, frames) blocks. It is
        streamed once to measure and once per pass; memory stays bounded by the block size.
    output : Path or callable, optional
        Where the master goes: a file path (written atomically by
        :class:`~mixdown.io.audio.AudioWriter`; it may not be the source file), or a
        callable returning a sink, called once for the final pass. The sink gets the
        master's blocks (latency compensated: same length and sample alignment as
        ``source``) and is closed, or aborted on error. None measures only.
    target_lufs, ceiling_dbtp, allowance_db, tolerance_lu, max_passes : float, int
        As for :class:`MasterPlan`.
    release_ms, lookahead_ms, transient_release_ms, sustain_ms : float
        Limiter timing in ms, as for :class:`MasterPlan`.
    margin_db : float
        The limiter's detector margin below the ceiling, dB, as for :class:`MasterPlan`.
    sample_rate, channels, fmt, bit_depth, dither, dither_seed, analyzer, analyzer_factory,
    input_lufs, input_true_peak_dbtp, progress, hint, spill_dir
        As for :func:`run_master_plan`.

    Returns
    -------
    MasterResult
        ``reached`` is False (with ``shortfall_lu`` > 0 and a warning) when the allowance
        stopped the gain short of the target.

    Raises
    ------
    ParameterError
        For a bad target, ceiling or allowance, or an input that is silent or shorter
        than one 400 ms gating block (nothing to measure).
    """
    plan = MasterPlan(target_lufs=target_lufs, ceiling_dbtp=ceiling_dbtp,
                      allowance_db=allowance_db, tolerance_lu=tolerance_lu,
                      max_passes=max_passes, release_ms=release_ms,
                      lookahead_ms=lookahead_ms, transient_release_ms=transient_release_ms,
                      sustain_ms=sustain_ms, margin_db=margin_db)
    return run_master_plan(
        plan, source, output, sample_rate=sample_rate, channels=channels, fmt=fmt,
        bit_depth=bit_depth, dither=dither, dither_seed=dither_seed, analyzer=analyzer,
        analyzer_factory=analyzer_factory, input_lufs=input_lufs,
        input_true_peak_dbtp=input_true_peak_dbtp, progress=progress, hint=hint,
        spill_dir=spill_dir,
    )


def run_master_plan(
    plan: MasterPlan,
    source: str | Path | BlockSource,
    output: str | Path | Callable[[], BlockSink] | None = None,
    *,
    sample_rate: int | None = None,
    channels: int | None = None,
    fmt: str | None = None,
    bit_depth: int = 24,
    dither: str | None = None,
    dither_seed: int = 0,
    analyzer: BlockSink | Any | None = None,
    analyzer_factory: Callable[[], Any] | None = None,
    input_lufs: float | None = None,
    input_true_peak_dbtp: float | None = None,
    progress: Callable[[float], None] | None = None,
    hint: MasterHint | None = None,
    spill_dir: str | Path | None = None,
) -> MasterResult:
    """Master ``source`` to ``plan``: measure, then gain + limiter passes until on target.

    Each pass keeps its output (a :class:`~mixdown.mastering.spill.SpillBuffer`: in
    memory up to a bound, then in a temporary file); the pass that lands within
    ``plan.tolerance_lu`` (or at the allowance) is written out from there, so the
    limiter never runs again for the writing. With a ``hint`` the first pass is at the
    hinted gain: a re-render that lands where the last master did takes one pass.

    Parameters
    ----------
    plan : MasterPlan
        Target, ceiling, allowance, tolerance, passes, limiter timing.
    source, output
        As for :func:`master_to_target`.
    sample_rate, channels : int, optional
        Required for a callable source; checked against a file's header.
    fmt, bit_depth : optional
        Output file format (default: the extension's) and PCM depth (16, 24; 32 = float).
    dither : {"tpdf", "none"}, optional
        Requantisation of a file output; default TPDF at 16 bits, none otherwise.
    dither_seed : int
        Seed of the dither (same seed, same bytes).
    analyzer : object with ``push(block)``, optional
        Also gets every block of the master (e.g. :class:`mixdown.analysis.qc.Analyzer`).
    analyzer_factory : callable, optional
        Instead of ``analyzer``: makes a fresh one for each pass that writes; the one of the
        pass that was kept is ``MasterResult.analyzer``.
    input_lufs, input_true_peak_dbtp : float, optional
        The source's integrated loudness (LUFS) and true peak (dBTP) when the caller
        measured them while making it (the renderer does): saves one pass over the source.
    progress : callable, optional
        Called with the fraction (0..1) of the expected work done.
    hint : MasterHint, optional
        The gain a previous master of the same song kept (:mod:`mixdown.mastering.hint`):
        the first pass is at ``hint.gain_for(input_lufs)``. A hint for another target or
        ceiling, or a non-finite one, is not used.
    spill_dir : Path, optional
        Where a pass's output that does not fit in memory is kept (an anonymous temporary
        file); default: the output file's folder, else the system's temporary folder.

    Returns
    -------
    MasterResult
        As for :func:`master_to_target`.
    """
    blocks, sr, ch, name = _resolve_source(source, sample_rate, channels)
    sink_factory = _sink_factory(output, source, sr, ch, fmt, bit_depth, dither, dither_seed)
    total_passes = 2 + 3 + (sink_factory is not None)
    done = [0]

    def tick() -> None:
        done[0] += 1
        if progress is not None:
            progress(min(1.0, done[0] / total_passes))

    input_lufs, input_tp, frames = _measure_input(
        source, blocks, sr, ch, name, input_lufs, input_true_peak_dbtp)
    tick()
    if spill_dir is None and isinstance(output, str | Path):
        spill_dir = Path(output).parent
    kept = (SpillBuffer(ch, folder=spill_dir, max_file_bytes=KEPT_PASS_MAX_BYTES)
            if sink_factory is not None else None)
    try:
        passes = _Passes(plan, blocks, sr, ch, tick, kept)
        loop = _GainLoop(plan, input_lufs, passes, sink_factory, analyzer, analyzer_factory)
        if hint is not None and hint.fits(plan.target_lufs, plan.ceiling_dbtp):
            loop.gain = hint.gain_for(input_lufs)
        loop.run()
    finally:
        if kept is not None:
            kept.close()
    return loop.result(input_lufs, input_tp, frames, sr, ch)


def _measure_input(source: Any, blocks: BlockSource, sr: int, ch: int, name: str,
                   input_lufs: float | None, input_tp: float | None
                   ) -> tuple[float, float, int]:
    """(integrated LUFS, true peak dBTP, frames) of the source; refuses silence."""
    if input_lufs is None or input_tp is None:
        meter = LoudnessMeter(sr, ch)
        tp_meter = TruePeakMeter(sr, ch)
        frames = 0
        for block in blocks():
            meter.push(block)
            tp_meter.push(block)
            frames += block.shape[1]
        input_lufs = meter.integrated_lufs()
        input_tp = tp_meter.true_peak_dbtp()
    else:
        input_tp = float(input_tp)
        frames = _source_frames(source, blocks)
    if not math.isfinite(input_lufs):
        length = frames / sr
        why = "shorter than one 400 ms gating block" if length < 0.4 else (
            "digital silence (or quieter than the -70 LUFS absolute gate)")
        raise ParameterError(
            f"{name}: the input is {why} ({length:.2f} s); there is nothing to master "
            "to a loudness target"
        )
    return float(input_lufs), float(input_tp), frames


KEPT_PASS_MAX_BYTES = 2 * 1024**3
"""Most a pass's kept output may take on disk (bytes; 2 GiB: 93 minutes of 48 kHz stereo).
A longer master is limited once more for the writing instead (as much disk as before)."""


class _Passes:
    """Runs one gain + limiter pass over the source, measuring it and keeping its output
    (in ``keep``) for :meth:`write`."""

    def __init__(self, plan: MasterPlan, blocks: BlockSource, sr: int, ch: int,
                 tick: Callable[[], None], keep: SpillBuffer | None) -> None:
        self.plan, self.blocks, self.sr, self.ch, self.tick = plan, blocks, sr, ch, tick
        self.keep = keep

    def run(self, gain_db: float, analyzer: Any | None = None) -> tuple[float, float]:
        """(integrated LUFS, largest peak gain reduction dB) of a pass at ``gain_db``; a QC
        ``analyzer`` watches it (and measures its loudness)."""
        sr, ch = self.sr, self.ch
        lim = self.plan.limiter()
        lim.prepare(sr, ch, 65_536)
        g = np.float32(db_to_gain(gain_db))
        # A QC analyzer already meters loudness: read it from there rather than measuring
        # the same signal twice.
        lm = analyzer.loudness if _shares_meters(analyzer) else LoudnessMeter(sr, ch)
        keep = self.keep
        if keep is not None:
            keep.clear()

        def consume(out: np.ndarray) -> None:
            if keep is not None:
                keep.push(out, copy=False)
            if analyzer is not None:
                analyzer.push(out)
            if analyzer is None or lm is not analyzer.loudness:
                lm.push(out)

        # The limiter runs here while a second thread measures and keeps its output.
        with Consumer(consume) as consumer:
            for out in limit_stream(lim, (b * g for b in self.blocks())):
                consumer.put(out.copy())
        self.tick()
        return lm.integrated_lufs(), lim.max_gain_reduction_db

    @property
    def kept(self) -> bool:
        """Whether the last pass's output was kept (else :meth:`rerun` writes it)."""
        return self.keep is not None and not self.keep.overflowed

    def rerun(self, gain_db: float, sink: BlockSink, analyzer: Any | None) -> float:
        """Run the pass at ``gain_db`` again, writing it to ``sink`` (watched by
        ``analyzer``); returns its true peak (dBTP)."""
        sr, ch = self.sr, self.ch
        lim = self.plan.limiter()
        lim.prepare(sr, ch, 65_536)
        g = np.float32(db_to_gain(gain_db))
        tpm = analyzer.true_peak if _shares_meters(analyzer) else TruePeakMeter(sr, ch)

        def consume(out: np.ndarray) -> None:
            sink.write(out)
            if analyzer is not None:
                analyzer.push(out)
            if analyzer is None or tpm is not analyzer.true_peak:
                tpm.push(out)

        with Consumer(consume) as consumer:
            for out in limit_stream(lim, (b * g for b in self.blocks())):
                consumer.put(out.copy())
        self.tick()
        return tpm.true_peak_dbtp()

    def write(self, sink: BlockSink, analyzer: Any | None, watched: bool) -> float:
        """Write the last pass's output to ``sink``; returns its true peak (dBTP).

        ``analyzer`` gets the blocks unless it ``watched`` the pass already.
        """
        assert self.keep is not None
        tpm = (analyzer.true_peak if _shares_meters(analyzer)
               else TruePeakMeter(self.sr, self.ch))

        def measure(out: np.ndarray) -> None:
            if analyzer is not None and not watched:
                analyzer.push(out)
            if analyzer is None or tpm is not analyzer.true_peak:
                tpm.push(out)

        with Consumer(measure) as consumer:
            for out in self.keep():
                sink.write(out)
                if not watched or tpm is not getattr(analyzer, "true_peak", None):
                    consumer.put(out)
        return tpm.true_peak_dbtp()


def _shares_meters(analyzer: Any | None) -> bool:
    """Whether ``analyzer`` meters loudness and true peak itself (a QC analyzer)."""
    return (analyzer is not None and hasattr(analyzer, "loudness")
            and hasattr(analyzer, "true_peak"))


class _GainLoop:
    """The search for the gain: measure, secant step, cap at the allowance, keep one pass."""

    def __init__(self, plan: MasterPlan, input_lufs: float, passes: _Passes,
                 sink_factory: Callable[[], BlockSink] | None, analyzer: Any | None,
                 analyzer_factory: Callable[[], Any] | None) -> None:
        self.plan = plan
        self.passes = passes
        self.sink_factory = sink_factory
        self.analyzer = analyzer
        self.analyzer_factory = analyzer_factory
        self.gain = plan.target_lufs - input_lufs
        self.tried: list[tuple[float, float]] = []
        self.capped = False
        self.gr = math.nan
        self.out_tp = math.nan
        self.kept_analyzer: Any = None
        self.last_analyzer: Any = None  # the factory's analyzer that watched the last pass

    def run(self) -> None:
        """Measuring passes until within tolerance, capped, or out of passes; then write."""
        self._search()
        self._finish()

    def _search(self) -> None:
        plan = self.plan
        target = plan.target_lufs
        threshold_db = plan.threshold_dbtp
        gain_cap = math.inf  # the gain at which peak reduction equals the allowance
        gain = self.gain
        for _ in range(int(plan.max_passes)):
            gain = min(gain, gain_cap)
            # With a factory, each pass gets its own QC analyzer (on the second thread,
            # beside the limiter): the pass that is kept was analysed already.
            an = (self.analyzer_factory() if self.analyzer_factory is not None
                  and self.sink_factory is not None else None)
            out_lufs, gr = self.passes.run(gain, an)
            self.last_analyzer = an
            self.gr = gr
            self.tried.append((gain, out_lufs))
            if gr > 0.0:
                detector_peak_db = gr + threshold_db - gain
                gain_cap = plan.allowance_db + threshold_db - detector_peak_db
            error = target - out_lufs
            if gain > gain_cap + _CAP_TOL_DB:  # over the allowance: measure at the cap instead
                gain = gain_cap
                continue
            if abs(error) <= plan.tolerance_lu:
                break
            if error > 0 and gain >= gain_cap - _CAP_TOL_DB:
                self.capped = True
                break
            gain = _next_gain(self.tried, target)

    def _finish(self) -> None:
        """Write the last measured pass (kept by the passes: never limited again)."""
        self.gain, self.out_lufs = self.tried[-1]  # the last measured pass is the one written
        if self.sink_factory is None:
            return
        sink = self.sink_factory()
        try:
            if self.passes.kept:
                watched = self.last_analyzer is not None
                self.kept_analyzer = self.last_analyzer if watched else self.analyzer
                self.out_tp = self.passes.write(sink, self.kept_analyzer, watched)
            else:  # too long to keep: limited again, into the sink
                self.kept_analyzer = (self.analyzer_factory() if self.analyzer_factory
                                      is not None else self.analyzer)
                self.out_tp = self.passes.rerun(self.gain, sink, self.kept_analyzer)
        except BaseException:
            sink.abort()
            raise
        sink.close()

    def result(self, input_lufs: float, input_tp: float, frames: int, sr: int,
               ch: int) -> MasterResult:
        plan = self.plan
        target, gain, out_lufs = plan.target_lufs, self.gain, self.out_lufs
        measured = self.tried[-1][1]
        warnings: list[str] = []
        shortfall = max(0.0, target - measured) if self.capped else 0.0
        reached = not self.capped and abs(target - measured) <= PROMISE_LU
        if self.capped:
            warnings.append(
                f"target not reached: {target:g} LUFS would need more than "
                f"{plan.allowance_db:g} dB of peak gain reduction at a {plan.ceiling_dbtp:g} "
                f"dBTP ceiling; the master stops at {measured:.1f} LUFS, {shortfall:.1f} LU "
                "short (raise the allowance, lower the target, or make the mix denser "
                "before mastering)"
            )
        elif not reached:
            warnings.append(
                f"the loudness did not converge: {measured:.2f} LUFS after "
                f"{len(self.tried)} passes for a {target:g} LUFS target"
            )
        if gain < 0:
            warnings.append(f"the mix is louder than the target: turned down by {-gain:.1f} dB")
        return MasterResult(
            target_lufs=target, ceiling_dbtp=plan.ceiling_dbtp,
            allowance_db=plan.allowance_db, gain_db=gain, input_lufs=input_lufs,
            input_true_peak_dbtp=input_tp, output_lufs=out_lufs,
            output_true_peak_dbtp=self.out_tp, max_gain_reduction_db=self.gr,
            reached=reached, shortfall_lu=shortfall, passes=len(self.tried), frames=frames,
            sample_rate=sr, channels=ch, warnings=tuple(warnings),
            analyzer=self.kept_analyzer,
        )


def _source_frames(source: Any, blocks: Callable[[], Any]) -> int:
    """Frames in the source: from the header for a file, its ``frames`` for a buffer, by
    counting for a callable."""
    if isinstance(source, SpillBuffer):
        return source.frames
    if isinstance(source, str | Path):
        from mixdown.io.audio import audio_info

        return audio_info(source).frames
    return sum(b.shape[1] for b in blocks())


def _sink_factory(output: str | Path | Callable[[], BlockSink] | None,
                  source: str | Path | BlockSource, sr: int, ch: int, fmt: str | None,
                  bit_depth: int, dither: str | None,
                  dither_seed: int) -> Callable[[], BlockSink] | None:
    if output is None or callable(output):
        return output
    dest = Path(output)
    if isinstance(source, str | Path) and _same_file(Path(source), dest):
        raise ParameterError(
            f"{dest}: the output is the input file; write the master to another path "
            "(nothing was changed)"
        )
    mode = dither if dither is not None else ("tpdf" if bit_depth == 16 else "none")
    if mode not in ("tpdf", "none"):
        raise ParameterError(f"dither for a master file must be tpdf or none, got {mode!r}")
    # fail before any pass if the writer would refuse (folder, format, depth)
    AudioWriter(dest, sr, ch, fmt=fmt, bit_depth=bit_depth).abort()
    return lambda: AudioWriter(dest, sr, ch, fmt=fmt, bit_depth=bit_depth,
                               dither=mode, dither_seed=dither_seed)  # type: ignore[arg-type]


def _same_file(a: Path, b: Path) -> bool:
    if a.resolve() == b.resolve():
        return True
    try:
        return a.exists() and b.exists() and a.samefile(b)
    except OSError:
        return False


def _gain_pass(blocks: BlockSource, sr: int, ch: int, gain_db: float,
               limiter_args: dict[str, Any], sink: BlockSink | None,
               analyzer: Any | None) -> tuple[float, float, float]:
    """One pass: gain, limiter, loudness (and, when writing, true peak and the sink).

    Returns (integrated LUFS, largest gain reduction dB, true peak dBTP or nan).
    """
    lim = TruePeakLimiter(**limiter_args)
    lim.prepare(sr, ch, 65_536)
    lm = LoudnessMeter(sr, ch)
    tpm = TruePeakMeter(sr, ch) if sink is not None else None
    g = np.float32(db_to_gain(gain_db))
    for out in limit_stream(lim, (b * g for b in blocks())):
        lm.push(out)
        if tpm is not None:
            tpm.push(out)
        if sink is not None:
            sink.write(out)
            if analyzer is not None:
                analyzer.push(out)
    peak = tpm.true_peak_dbtp() if tpm is not None else math.nan
    return lm.integrated_lufs(), lim.max_gain_reduction_db, peak


def gain_and_limit(
    source: str | Path | BlockSource,
    output: str | Path | Callable[[], BlockSink] | None,
    *,
    gain_db: float,
    ceiling_dbtp: float = -1.0,
    sample_rate: int | None = None,
    channels: int | None = None,
    fmt: str | None = None,
    bit_depth: int = 24,
    dither: str | None = None,
    dither_seed: int = 0,
    release_ms: float = MASTER_RELEASE_MS,
    lookahead_ms: float = MASTER_LOOKAHEAD_MS,
    transient_release_ms: float = MASTER_TRANSIENT_RELEASE_MS,
    sustain_ms: float = SUSTAIN_MS,
    margin_db: float = MASTER_MARGIN_DB,
) -> tuple[float, float, float]:
    """Apply a fixed gain and the true-peak limiter in one pass (album mode uses it).

    Parameters are as for :func:`master_to_target` (the same limiter defaults: a
    :class:`MasterPlan`'s), with ``gain_db`` given.

    Returns
    -------
    (integrated LUFS, largest gain reduction dB, true peak dBTP)
        Of the written output (true peak nan when ``output`` is None).
    """
    ceiling = check_ceiling(ceiling_dbtp)
    blocks, sr, ch, _ = _resolve_source(source, sample_rate, channels)
    factory = _sink_factory(output, source, sr, ch, fmt, bit_depth, dither, dither_seed)
    args = {"ceiling_dbtp": ceiling, "release_ms": release_ms, "lookahead_ms": lookahead_ms,
            "transient_release_ms": transient_release_ms, "sustain_ms": sustain_ms,
            "margin_db": margin_db}
    if factory is None:
        return _gain_pass(blocks, sr, ch, gain_db, args, None, None)
    sink = factory()
    try:
        result = _gain_pass(blocks, sr, ch, gain_db, args, sink, None)
    except BaseException:
        sink.abort()
        raise
    sink.close()
    return result


def _next_gain(tried: list[tuple[float, float]], target: float) -> float:
    """Secant step on loudness(gain), whose slope is in (0, 1] (1 without limiting)."""
    g1, l1 = tried[-1]
    slope = 1.0
    if len(tried) >= 2:
        g0, l0 = tried[-2]
        if g1 != g0:
            slope = min(1.0, max(0.05, (l1 - l0) / (g1 - g0)))
    return g1 + (target - l1) / slope


def _resolve_source(source: str | Path | BlockSource, sample_rate: int | None,
                    channels: int | None) -> tuple[BlockSource, int, int, str]:
    if isinstance(source, str | Path):
        info = audio_info(source)
        if sample_rate is not None and sample_rate != info.sample_rate:
            raise ParameterError(f"{info.path}: is {info.sample_rate} Hz, not {sample_rate}")
        if channels is not None and channels != info.channels:
            raise ParameterError(f"{info.path}: has {info.channels} channels, not {channels}")
        return file_source(info.path), info.sample_rate, info.channels, str(info.path)
    if not callable(source):
        raise ParameterError(f"source must be a path or a callable returning blocks, got "
                             f"{type(source).__name__}")
    if sample_rate is None or channels is None:
        raise ParameterError("a callable source needs sample_rate= and channels=")
    checked = _checked_blocks(source, int(channels))
    return checked, int(sample_rate), int(channels), "input"


def _checked_blocks(source: BlockSource, channels: int) -> BlockSource:
    def gen() -> Iterator[AudioArray]:
        for block in source():
            if block.ndim != 2 or block.shape[0] != channels:
                raise ParameterError(
                    f"source block shaped {block.shape}; expected ({channels}, frames)"
                )
            yield np.asarray(block, dtype=np.float32)

    return gen
