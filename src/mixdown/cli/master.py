"""``mixdown master``, ``mixdown convert`` and ``mixdown deliver``.

Exit codes: 0 done (also when a loudness target could not be reached within the
allowance: that is reported, not an error), 1 error, 2 usage, 3 some deliverables
failed their spec (they were not written).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from mixdown.cli.output import print_json, progress_bar, warn

JsonOpt = Annotated[bool, typer.Option("--json", help="Print strict JSON on stdout.")]

# The options of master, convert and deliver, declared once: ``mixdown batch`` takes them too.
TargetOpt = Annotated[str | None, typer.Option(
    "--target", help="A preset (spotify, apple-music, youtube, amazon-music, tidal, "
    "deezer, ebu-r128, atsc-a85, cd) or a loudness in LUFS (-14).")]
CeilingOpt = Annotated[float | None, typer.Option(
    "--ceiling", help="True-peak ceiling in dBTP (overrides the preset's; default "
    "-1 for a number).")]
ReferenceOpt = Annotated[list[Path] | None, typer.Option(
    "--reference", help="A reference track to match (repeat for several).")]
AllowanceOpt = Annotated[float, typer.Option(
    "--allowance", help="Most peak gain reduction (dB) the limiter may use to reach "
    "the target.")]
AmountOpt = Annotated[float, typer.Option(
    "--amount", min=0.0, max=1.0, help="Reference match blend, 0..1.")]
EqAmountOpt = Annotated[float, typer.Option(
    "--eq-amount", min=0.0, max=1.0, help="Reference EQ match, 0..1.")]
DynamicsAmountOpt = Annotated[float, typer.Option(
    "--dynamics-amount", min=0.0, max=1.0, help="Reference dynamics match, 0..1.")]
WidthAmountOpt = Annotated[float, typer.Option(
    "--width-amount", min=0.0, max=1.0, help="Reference width match, 0..1.")]
MasterBitDepthOpt = Annotated[int | None, typer.Option(
    "--bit-depth", help="16 (TPDF dither), 24 or 32 (float). Default 24.")]
ConvertBitDepthOpt = Annotated[int | None, typer.Option(
    "--bit-depth", help="16, 24 or 32 (float WAV/AIFF). Default: the input's.")]
ConvertSampleRateOpt = Annotated[int | None, typer.Option(
    "--sample-rate", help="Output rate in Hz (soxr, very high quality).")]
DitherOpt = Annotated[str | None, typer.Option(
    "--dither", help="tpdf, shaped (noise-shaped TPDF) or none. Default: tpdf at 16 "
    "bits, none otherwise.")]
GainOpt = Annotated[float, typer.Option("--gain", help="Gain in dB, applied first.")]
NormalizeOpt = Annotated[float | None, typer.Option(
    "--normalize", help="Scale so the true peak lands at this dBTP (e.g. -1).")]
TargetsOpt = Annotated[str, typer.Option(
    "--targets", help="Comma-separated presets or LUFS: spotify,apple-music,cd.")]
FormatsOpt = Annotated[str | None, typer.Option(
    "--formats", help="Comma-separated deliverables for every target (wav-24-48k, "
    "wav-16-44k, wav-16-44k-shaped, flac, flac-16-44k, mp3-320).")]
TitleOpt = Annotated[str | None, typer.Option("--title", help="Title tag.")]
ArtistOpt = Annotated[str | None, typer.Option("--artist", help="Artist tag.")]
IsrcOpt = Annotated[str | None, typer.Option("--isrc", help="ISRC, CC-XXX-YY-NNNNN.")]
DeliverAllowanceOpt = Annotated[float, typer.Option(
    "--allowance", help="Most peak gain reduction (dB) to reach a target.")]
NoStemsOpt = Annotated[bool, typer.Option(
    "--no-stems", help="Skip the stems and their null test.")]


def _n(value: Any, unit: str, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return f"-inf {unit}" if isinstance(value, float) and value < 0 else f"n/a {unit}"
    return f"{value:.{digits}f} {unit}"


def _levels(qc: Any) -> str:
    """Loudness, LRA and true peak of a ``QCResult``."""
    return (f"{_n(qc.integrated_lufs, 'LUFS')}, LRA {_n(qc.loudness_range_lu, 'LU')}, "
            f"{_n(qc.true_peak_dbtp, 'dBTP')}")


def register(app: typer.Typer) -> None:
    """Add ``master``, ``convert`` and ``deliver`` to ``app``."""

    @app.command("master")
    def master_cmd(
        inputs: Annotated[list[Path], typer.Argument(
            help="The mix to master (several with --album).", show_default=False,
            metavar="IN")],
        output: Annotated[Path, typer.Option(
            "-o", "--output", help="The master file (a folder with --album).")],
        target: TargetOpt = None,
        ceiling: CeilingOpt = None,
        reference: ReferenceOpt = None,
        album: Annotated[bool, typer.Option(
            "--album", help="Master the inputs as an album: the loudest on the target, the "
            "others at their relative levels; writes OUT/ with a CUE sheet.")] = False,
        allowance: AllowanceOpt = 6.0,
        amount: AmountOpt = 1.0,
        eq_amount: EqAmountOpt = 1.0,
        dynamics_amount: DynamicsAmountOpt = 1.0,
        width_amount: WidthAmountOpt = 1.0,
        bit_depth: MasterBitDepthOpt = None,
        gap: Annotated[float, typer.Option(
            "--gap", help="Seconds of silence between album songs.")] = 2.0,
        force: Annotated[bool, typer.Option(
            "--force", help="With --album: replace what a non-empty album folder holds.")
        ] = False,
        json_out: JsonOpt = False,
    ) -> None:
        """Master IN to a loudness target, proven by measurement, under a true-peak ceiling."""
        from mixdown.services.master import master_album_files, master_file

        refs = list(reference or [])
        if album:
            if target is None:
                raise typer.BadParameter("album mode needs --target", param_hint="--target")
            if refs:
                raise typer.BadParameter("--reference is for single masters",
                                         param_hint="--reference")
            with progress_bar("mastering album", 1.0, enabled=not json_out) as advance:
                state = {"done": 0.0}

                def step(fraction: float) -> None:
                    advance(fraction - state["done"])
                    state["done"] = fraction

                result = master_album_files(inputs, output, target=target,
                                            ceiling_dbtp=ceiling, allowance_db=allowance,
                                            gap_s=gap, bit_depth=bit_depth, force=force,
                                            progress=step)
            if json_out:
                print_json(result.as_dict())
            else:
                for t in result.tracks:
                    typer.echo(f"{t.output}: {_levels(t.measured)} "
                               f"(was {_n(t.input.integrated_lufs, 'LUFS')})")
                typer.echo(f"album {result.album_file}, cue {result.cue_file}; gain "
                           f"{result.gain_db:+.1f} dB")
                warn(result.warnings)
            return
        if force:
            raise typer.BadParameter("--force is for --album (a single master is replaced "
                                     "atomically anyway)", param_hint="--force")
        if len(inputs) != 1:
            raise typer.BadParameter(f"give one input (got {len(inputs)}); for several songs "
                                     "use --album", param_hint="IN")
        with progress_bar("mastering", 1.0, enabled=not json_out) as advance:
            state = {"done": 0.0}

            def step(fraction: float) -> None:
                advance(fraction - state["done"])
                state["done"] = fraction

            result = master_file(inputs[0], output, target=target, ceiling_dbtp=ceiling,
                                 references=refs, amount=amount, eq_amount=eq_amount,
                                 dynamics_amount=dynamics_amount, width_amount=width_amount,
                                 allowance_db=allowance, bit_depth=bit_depth, progress=step)
        if json_out:
            print_json(result.as_dict())
            return
        t = result.target
        typer.echo(f"in   {_levels(result.input)}")
        typer.echo(f"out  {_levels(result.measured)}  -> {output}")
        typer.echo(f"target {t.name} ({_n(t.lufs, 'LUFS')}, ceiling "
                   f"{_n(t.ceiling_dbtp, 'dBTP')}): gain {result.gain_db:+.1f} dB, peak "
                   f"gain reduction {result.max_gain_reduction_db:.1f} dB")
        for line in result.summary:
            typer.echo(f"match {line}")
        warn(result.warnings)

    @app.command("convert")
    def convert_cmd(
        source: Annotated[Path, typer.Argument(help="The file to convert.", show_default=False)],
        output: Annotated[Path, typer.Option(
            "-o", "--output", help="The file to write; its extension sets the format "
            "(.wav, .flac, .mp3, .aiff, .ogg, .m4a).")],
        bit_depth: ConvertBitDepthOpt = None,
        sample_rate: ConvertSampleRateOpt = None,
        dither: DitherOpt = None,
        gain: GainOpt = 0.0,
        normalize: NormalizeOpt = None,
        json_out: JsonOpt = False,
    ) -> None:
        """Convert SOURCE: sample rate, bit depth, dither, format (never clips silently)."""
        from mixdown.services.master import convert

        with progress_bar("converting", 1.0, enabled=not json_out) as advance:
            state = {"done": 0.0}

            def step(fraction: float) -> None:
                advance(fraction - state["done"])
                state["done"] = fraction

            result = convert(source, output, bit_depth=bit_depth, sample_rate=sample_rate,
                             dither=dither, gain_db=gain, normalize_dbtp=normalize,
                             progress=step)
        if json_out:
            print_json(result.as_dict())
            return
        r = result.result
        depth = {None: "", 32: "float "}.get(r.bit_depth, f"{r.bit_depth}-bit ")
        typer.echo(f"wrote {r.output} ({depth}{r.format.upper()}, {r.sample_rate} Hz, "
                   f"dither {r.dither}" + (f", gain {r.gain_db:+.2f} dB" if r.gain_db else "")
                   + ")")
        typer.echo(f"out  {_levels(result.measured)}")

    @app.command("deliver")
    def deliver_cmd(
        project: Annotated[Path, typer.Argument(help="A project folder or its song.toml.",
                                                show_default=False)],
        targets: TargetsOpt,
        output: Annotated[Path | None, typer.Option(
            "-o", "--output", help="The delivery folder (default PROJECT/renders/delivery)."
        )] = None,
        formats: FormatsOpt = None,
        title: TitleOpt = None,
        artist: ArtistOpt = None,
        isrc: IsrcOpt = None,
        allowance: DeliverAllowanceOpt = 6.0,
        no_stems: NoStemsOpt = False,
        force: Annotated[bool, typer.Option(
            "--force", help="Replace a non-empty delivery folder.")] = False,
        json_out: JsonOpt = False,
    ) -> None:
        """Render, master and deliver PROJECT for each target, with an HTML report."""
        from mixdown.services.deliver import deliver_project

        names = [t.strip() for t in targets.split(",") if t.strip()]
        fmts = [f.strip() for f in formats.split(",") if f.strip()] if formats else None
        with progress_bar("delivering", 1.0, enabled=not json_out) as advance:
            state = {"done": 0.0}

            def step(fraction: float) -> None:
                advance(fraction - state["done"])
                state["done"] = fraction

            report = deliver_project(project, names, output, formats=fmts, title=title,
                                     artist=artist, isrc=isrc, allowance_db=allowance,
                                     stems=not no_stems, force=force, progress=step)
        if json_out:
            print_json(report.as_dict())
        else:
            for entry in report.targets:
                m = entry.master
                typer.echo(f"{entry.target.name}: {_n(m.output_lufs, 'LUFS', 2)}, "
                           f"{_n(m.output_true_peak_dbtp, 'dBTP', 2)}")
                for d in entry.deliverables:
                    verdict = "ok  " if d.passed else "FAIL"
                    extra = f" (re-made, margin {d.margin_db:.2f} dB)" if d.remade else ""
                    typer.echo(f"  {verdict} {d.path or d.spec.name}{extra}")
                    if d.error:
                        typer.echo(f"       {d.error}")
            if report.stems:
                s = report.stems
                typer.echo(f"stems null test: residual {_n(s['residual_peak_dbfs'], 'dBFS')} "
                           f"({'ok' if s['passed'] else 'FAIL'})")
            typer.echo(f"report {report.report}")
            warn(report.warnings)
        if not report.passed:
            sys.exit(3)
