"""``mixdown analyze FILE...``: loudness and QC figures, JSON, HTML report, target check."""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from mixdown.cli.output import print_json, progress_bar


def _num(value: Any, fmt: str, unit: str = "") -> str:
    suffix = f" {unit}" if unit else ""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if isinstance(value, float) and math.isinf(value):
        return ("-inf" if value < 0 else "+inf") + suffix
    return format(value, fmt) + suffix


def _describe(entry: dict[str, Any]) -> list[str]:
    lines = [
        f"{entry['file']}: {_num(entry['integrated_lufs'], '.1f', 'LUFS')}, "
        f"LRA {_num(entry['loudness_range_lu'], '.1f', 'LU')}, "
        f"{_num(entry['true_peak_dbtp'], '.1f', 'dBTP')}",
        f"  {entry['duration_s']:.2f} s, {entry['sample_rate']} Hz, {entry['channels']} ch; "
        f"max momentary {_num(entry['max_momentary_lufs'], '.1f', 'LUFS')}, "
        f"max short-term {_num(entry['max_short_term_lufs'], '.1f', 'LUFS')}, "
        f"PLR {_num(entry['plr_db'], '.1f', 'dB')}",
        f"  sample peak {_num(entry['sample_peak_dbfs'], '.1f', 'dBFS')}, "
        f"crest {_num(entry['crest_factor_db'], '.1f', 'dB')}, "
        f"DC {' / '.join(f'{v:+.5f}' for v in entry['dc_offset'])}, "
        f"clipped {entry['clipped_samples']} samples"
        + (f", correlation {entry['correlation']:+.2f}, width {entry['width']:.2f}"
           if entry.get("correlation") is not None and entry.get("width") is not None else ""),
    ]
    lines += [f"  warning: {w}" for w in entry["warnings"]]
    target = entry.get("target")
    if target:
        verdict = "PASS" if target["passed"] else "FAIL"
        fails = [c["name"] for c in target["checks"] if not c["passed"]]
        lines.append(f"  target {target['name']} ({target['lufs']:g} LUFS, "
                     f"{target['ceiling_dbtp']:g} dBTP): {verdict}"
                     + (f" ({', '.join(fails)})" if fails else ""))
    if entry.get("report"):
        lines.append(f"  report: {entry['report']}")
    return lines


# analyze's options, declared once: ``mixdown batch analyze`` takes them too.
SeriesOpt = Annotated[bool, typer.Option(
    "--series", help="Include the momentary and short-term series (with --json).")]
AnalyzeTargetOpt = Annotated[str | None, typer.Option(
    "--target", help="Pass/fail against a platform (spotify, apple-music, youtube, "
    "amazon-music, tidal, deezer, ebu-r128, atsc-a85, cd) or a LUFS number.",
    metavar="NAME|LUFS")]


def register(app: typer.Typer) -> None:
    """Add ``analyze`` to ``app``."""

    @app.command("analyze")
    def analyze_cmd(
        files: Annotated[list[Path], typer.Argument(help="Audio files to analyse.",
                                                    show_default=False, metavar="FILE")],
        json_out: Annotated[bool, typer.Option(
            "--json", help="Print strict JSON on stdout (an array for several files).")] = False,
        series: SeriesOpt = False,
        report: Annotated[Path | None, typer.Option(
            "--report", help="Write an HTML report with plots to this folder.",
            metavar="DIR")] = None,
        target: AnalyzeTargetOpt = None,
    ) -> None:
        """Measure loudness (BS.1770-4 / EBU R128), true peak, LRA and QC figures of FILES.

        Exit code 1 if the one file could not be analysed; with several files, 3 if some
        could not (the others are still reported).
        """
        from mixdown.services.analyze import analyze_files, total_frames

        with progress_bar("analysing", total=max(1, total_frames(files)),
                          enabled=sys.stderr.isatty()) as advance:
            results = analyze_files(files, series=series, report_dir=report, target=target,
                                    progress=advance)
        entries = [r.as_dict() for r in results]
        failed = [e for e in entries if "error" in e]
        for e in failed:
            one_line = " ".join(str(e["error"]).split())
            sys.stderr.write(f"mixdown: error: {one_line}\n")
        if json_out:
            print_json(entries[0] if len(entries) == 1 and len(files) == 1 else entries)
        else:
            for e in entries:
                if "error" not in e:
                    typer.echo("\n".join(_describe(e)))
            if report is not None and len(entries) > len(failed):
                typer.echo(f"report: {Path(report) / 'index.html'}")
        if failed:
            raise typer.Exit(code=1 if len(files) == 1 else 3)
