"""The DAWproject side of ``import``, ``export`` and ``check`` (the commands live in
:mod:`mixdown.cli.interchange` and :mod:`mixdown.cli.project`; they call these)."""

from __future__ import annotations

from pathlib import Path

import typer

from mixdown.cli.output import print_json


def print_dawproject_import(report: object, *, verb: str) -> None:
    """The human summary of a DAWproject import (or check)."""
    from mixdown.services.dawproject import DawprojectImportReport

    assert isinstance(report, DawprojectImportReport)
    r = report
    m, s = divmod(r.duration_s, 60)
    where = r.project if r.project is not None else r.source
    app = f" from {r.application}" if r.application else ""
    typer.echo(f"{where}: {verb}{app} ({r.tracks} tracks, {r.buses} buses, {r.clips} clips, "
               f"{r.notes} notes, {r.tempo_changes} tempo changes, {r.markers} markers, "
               f"{r.automation_lanes} automation lanes, {int(m)}:{s:04.1f})")
    for c in r.channels:
        kept = f", {c.kept_devices} kept (not run)" if c.kept_devices else ""
        typer.echo(f"  {c.kind} {c.name}: {c.clips} clips, {c.notes} notes, "
                   f"{c.devices} devices{kept}")
    for d in r.dropped:
        typer.echo(f"dropped: {d}", err=True)


def import_dawproject_cmd(source: Path, output: Path, *, force: bool, json_out: bool) -> None:
    """``mixdown import FILE.dawproject -o DIR``."""
    from mixdown.services.dawproject import import_dawproject

    report = import_dawproject(source, output, force=force)
    if json_out:
        print_json(report.as_dict())
        return
    print_dawproject_import(report, verb="imported")
    typer.echo(f"render it with: mixdown render {output} -o {output}/renders/mix.wav")


def export_dawproject_cmd(project: Path, output: Path, *, json_out: bool) -> None:
    """``mixdown export PROJECT --format dawproject -o OUT.dawproject``."""
    from mixdown.services.dawproject import export_dawproject

    report = export_dawproject(project, output)
    if json_out:
        print_json(report.as_dict())
        return
    typer.echo(f"wrote {report.output} ({report.tracks} tracks, {report.buses} buses, "
               f"{report.clips} clips, {report.notes} notes, {report.files} files)")
    for s in report.skipped:
        typer.echo(f"skipped: {s}", err=True)


def check_dawproject_cmd(source: Path, *, json_out: bool) -> None:
    """``mixdown check FILE.dawproject``: load, validate and map; write nothing."""
    from mixdown.services.dawproject import check_dawproject

    report = check_dawproject(source)
    if json_out:
        print_json({"file": str(source), "ok": True, **report.as_dict()})
        return
    print_dawproject_import(report, verb="ok")
