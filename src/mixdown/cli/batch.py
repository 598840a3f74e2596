"""``mixdown batch analyze|master|deliver|render|convert INPUTS... -o OUTDIR``: one job over
many files, on a local process pool or a Dask cluster, with a journal and a summary report.

Each batch command takes the options of its single-file command (declared once, in that
command's module) plus the batch's own. Exit codes: 0 all done, 3 some inputs failed (each
named on stderr), 1 the batch itself failed.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer

from mixdown.cli.analyze import AnalyzeTargetOpt, SeriesOpt
from mixdown.cli.master import (
    AllowanceOpt,
    AmountOpt,
    ArtistOpt,
    CeilingOpt,
    ConvertBitDepthOpt,
    ConvertSampleRateOpt,
    DeliverAllowanceOpt,
    DitherOpt,
    DynamicsAmountOpt,
    EqAmountOpt,
    FormatsOpt,
    GainOpt,
    IsrcOpt,
    MasterBitDepthOpt,
    NormalizeOpt,
    NoStemsOpt,
    ReferenceOpt,
    TargetOpt,
    TargetsOpt,
    TitleOpt,
    WidthAmountOpt,
)
from mixdown.cli.output import print_json, stderr
from mixdown.cli.project import (
    BlockFramesOpt,
    EndOpt,
    MasterPartOpt,
    NoCacheOpt,
    RenderBitDepthOpt,
    RenderFormatOpt,
    RenderSampleRateOpt,
    SectionOpt,
    StartOpt,
    StemsModeOpt,
    StemsOpt,
)

InputsArg = Annotated[list[Path], typer.Argument(
    help="Files, folders (searched recursively) or a manifest (.csv/.json: an input column "
    "and per-file options).", show_default=False, metavar="INPUTS")]
OutdirOpt = Annotated[Path, typer.Option(
    "-o", "--output", help="The output folder (journal and batch-report.* included).",
    metavar="OUTDIR")]
GlobOpt = Annotated[list[str] | None, typer.Option(
    "--glob", help="Only files in folders matching this pattern (*.wav; repeat for "
    "several). Default: every audio file (render/deliver: every song.toml).")]
WorkersOpt = Annotated[int | None, typer.Option(
    "--workers", min=1, help="Local worker processes (default: the cores).")]
ClusterOpt = Annotated[str | None, typer.Option(
    "--cluster", help="Run on this Dask scheduler (tcp://HOST:PORT) instead; inputs and "
    "outputs must be on storage every worker reaches at the same paths.")]
RetriesOpt = Annotated[int, typer.Option(
    "--retries", min=0, help="Extra attempts for a task whose worker crashed or hit an I/O "
    "error (a bad input is not retried).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the batch summary as JSON.")]
AudioFormatOpt = Annotated[str | None, typer.Option(
    "--format", help="Output format: wav, flac, aiff, mp3 (default wav).")]


def _progress(enabled: bool) -> Any:
    """A rich progress bar on stderr (files done, rate, ETA), or None off a terminal."""
    if not enabled or not stderr.is_terminal:
        return None
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TextColumn("ETA"),
                    TimeRemainingColumn(), console=stderr, transient=True)


def _run(kind: str, inputs: list[Path], outdir: Path, *, glob: list[str] | None,
         workers: int | None, cluster: str | None, retries: int, json_out: bool,
         params: dict[str, Any]) -> None:
    from mixdown.batch.inputs import service_options
    from mixdown.batch.run import BatchSpec, run_batch

    options = service_options(kind, params, base=Path.cwd())
    spec = BatchSpec(kind=kind, inputs=inputs, outdir=outdir, options=options,
                     patterns=tuple(glob or ()), workers=workers, cluster=cluster,
                     retries=retries)
    bar = _progress(not json_out)
    started = time.monotonic()

    def log(line: str) -> None:
        (bar.console if bar else stderr).print(f"batch: {line}", markup=False,
                                               highlight=False, soft_wrap=True)

    if bar is None:
        summary = run_batch(spec, log=log)
    else:
        with bar:
            task = bar.add_task(f"batch {kind}", total=None, rate="")

            def progress(done: int, total: int) -> None:
                rate = done / max(time.monotonic() - started, 1e-9)
                bar.update(task, completed=done, total=total, rate=f"{rate:.2f} files/s")

            summary = run_batch(spec, progress=progress, log=log)
    for _, error in summary.failed:
        stderr.print(f"mixdown: error: {' '.join(error.split())}", markup=False,
                     highlight=False, soft_wrap=True)
    if json_out:
        print_json(summary.as_dict())
    else:
        typer.echo(f"batch {kind}: {summary.total} inputs: {summary.done} done, "
                   f"{summary.skipped} skipped (already done), {len(summary.failed)} failed, "
                   f"in {summary.seconds:.1f} s on {summary.workers}")
        typer.echo(f"report: {summary.report.html}")
    if summary.exit_code:
        raise typer.Exit(summary.exit_code)


def register(app: typer.Typer) -> None:
    """Add ``batch`` and its five jobs to ``app``."""
    batch = typer.Typer(name="batch", no_args_is_help=True, help=(
        "Run one job over many files: a local process pool, or a Dask cluster with "
        "--cluster; a journal in OUTDIR skips what is done."))
    app.add_typer(batch)

    @batch.command("analyze")
    def batch_analyze(inputs: InputsArg, outdir: OutdirOpt, target: AnalyzeTargetOpt = None,
                      series: SeriesOpt = False, glob: GlobOpt = None,
                      workers: WorkersOpt = None, cluster: ClusterOpt = None,
                      retries: RetriesOpt = 2, json_out: JsonOpt = False) -> None:
        """Analyse every input (as `mixdown analyze`): OUTDIR/NAME.EXT.json per file."""
        _run("analyze", inputs, outdir, glob=glob, workers=workers, cluster=cluster,
             retries=retries, json_out=json_out, params={"target": target, "series": series})

    @batch.command("master")
    def batch_master(inputs: InputsArg, outdir: OutdirOpt, target: TargetOpt = None,
                     ceiling: CeilingOpt = None, reference: ReferenceOpt = None,
                     allowance: AllowanceOpt = 6.0, amount: AmountOpt = 1.0,
                     eq_amount: EqAmountOpt = 1.0, dynamics_amount: DynamicsAmountOpt = 1.0,
                     width_amount: WidthAmountOpt = 1.0, bit_depth: MasterBitDepthOpt = None,
                     fmt: AudioFormatOpt = None, glob: GlobOpt = None,
                     workers: WorkersOpt = None, cluster: ClusterOpt = None,
                     retries: RetriesOpt = 2, json_out: JsonOpt = False) -> None:
        """Master every input (as `mixdown master`): OUTDIR/NAME.wav per file."""
        _run("master", inputs, outdir, glob=glob, workers=workers, cluster=cluster,
             retries=retries, json_out=json_out, params={
                 "target": target, "ceiling": ceiling, "reference": reference,
                 "allowance": allowance, "amount": amount, "eq_amount": eq_amount,
                 "dynamics_amount": dynamics_amount, "width_amount": width_amount,
                 "bit_depth": bit_depth, "format": fmt})

    @batch.command("convert")
    def batch_convert(inputs: InputsArg, outdir: OutdirOpt,
                      bit_depth: ConvertBitDepthOpt = None,
                      sample_rate: ConvertSampleRateOpt = None, dither: DitherOpt = None,
                      gain: GainOpt = 0.0, normalize: NormalizeOpt = None,
                      fmt: AudioFormatOpt = None, glob: GlobOpt = None,
                      workers: WorkersOpt = None, cluster: ClusterOpt = None,
                      retries: RetriesOpt = 2, json_out: JsonOpt = False) -> None:
        """Convert every input (as `mixdown convert`): OUTDIR/NAME.FORMAT per file."""
        _run("convert", inputs, outdir, glob=glob, workers=workers, cluster=cluster,
             retries=retries, json_out=json_out, params={
                 "bit_depth": bit_depth, "sample_rate": sample_rate, "dither": dither,
                 "gain": gain, "normalize": normalize, "format": fmt})

    @batch.command("render")
    def batch_render(inputs: InputsArg, outdir: OutdirOpt, fmt: RenderFormatOpt = None,
                     bit_depth: RenderBitDepthOpt = None,
                     sample_rate: RenderSampleRateOpt = None, stems: StemsOpt = False,
                     stems_mode: StemsModeOpt = "buses", section: SectionOpt = None,
                     start: StartOpt = None, end: EndOpt = None,
                     master_part: MasterPartOpt = False, no_cache: NoCacheOpt = False,
                     block_frames: BlockFramesOpt = 131_072,  # DEFAULT_BLOCK_FRAMES
                     glob: GlobOpt = None,
                     workers: WorkersOpt = None, cluster: ClusterOpt = None,
                     retries: RetriesOpt = 2, json_out: JsonOpt = False) -> None:
        """Render every project (as `mixdown render`): OUTDIR/PROJECT.wav per project."""
        _run("render", inputs, outdir, glob=glob, workers=workers, cluster=cluster,
             retries=retries, json_out=json_out, params={
                 "format": fmt, "bit_depth": bit_depth, "sample_rate": sample_rate,
                 "stems": stems, "stems_mode": stems_mode, "section": section,
                 "start": start, "end": end, "master_part": master_part,
                 "no_cache": no_cache, "block_frames": block_frames})

    @batch.command("deliver")
    def batch_deliver(inputs: InputsArg, outdir: OutdirOpt, targets: TargetsOpt,
                      formats: FormatsOpt = None, title: TitleOpt = None,
                      artist: ArtistOpt = None, isrc: IsrcOpt = None,
                      allowance: DeliverAllowanceOpt = 6.0, no_stems: NoStemsOpt = False,
                      glob: GlobOpt = None, workers: WorkersOpt = None,
                      cluster: ClusterOpt = None, retries: RetriesOpt = 2,
                      json_out: JsonOpt = False) -> None:
        """Deliver every project (as `mixdown deliver`): OUTDIR/PROJECT/ per project."""
        _run("deliver", inputs, outdir, glob=glob, workers=workers, cluster=cluster,
             retries=retries, json_out=json_out, params={
                 "targets": targets, "formats": formats, "title": title, "artist": artist,
                 "isrc": isrc, "allowance": allowance, "no_stems": no_stems})
