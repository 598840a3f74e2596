"""Interchange commands: ``import`` (a MIDI or DAWproject file into a project), ``export``
(to MIDI or DAWproject)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mixdown.cli.output import print_json
from mixdown.core.errors import MixdownError

JsonOpt = Annotated[bool, typer.Option("--json", help="Print strict JSON on stdout.")]
MIDI_SUFFIXES = (".mid", ".midi", ".smf")


def is_midi_path(path: Path) -> bool:
    """True for a path named like a Standard MIDI File."""
    return path.suffix.lower() in MIDI_SUFFIXES


def print_import(report: object, *, verb: str) -> None:
    """The human summary of an import (or a MIDI check)."""
    from mixdown.services.interchange import ImportReport

    assert isinstance(report, ImportReport)
    r = report
    m, s = divmod(r.duration_s, 60)
    where = r.project if r.project is not None else r.source
    typer.echo(f"{where}: {verb} ({len(r.tracks)} tracks, {r.notes} notes, "
               f"{r.tempo_changes} tempos, {r.time_signatures} time signatures, "
               f"{r.markers} markers, {int(m)}:{s:04.1f})")
    for t in r.tracks:
        src = f"track {t.source_track} ch {t.channel}"
        prog = "" if t.program is None else f", program {t.program}"
        file = f", {t.midi_file}" if t.midi_file else ""
        typer.echo(f"  {t.name}: {t.instrument}, {t.notes} notes ({src}{prog}{file})")
    for d in r.dropped:
        typer.echo(f"dropped: {d}", err=True)


def register(app: typer.Typer) -> None:
    """Add the interchange commands to ``app``."""

    @app.command("import")
    def import_cmd(
        source: Annotated[Path, typer.Argument(
            help="A Standard MIDI File (.mid) or a DAWproject file (.dawproject).",
            show_default=False)],
        output: Annotated[Path, typer.Option("-o", "--output",
                                             help="The project folder to create.")],
        force: Annotated[bool, typer.Option(
            "--force", help="Write into a folder that is not empty (replaces song.toml).")
        ] = False,
        soundfont: Annotated[Path | None, typer.Option(
            "--soundfont", help="Copy this SoundFont (.sf2, .sf3) into the project and play "
            "every track with its General MIDI presets (channel 10: the drum kit).")
        ] = None,
        json_out: JsonOpt = False,
    ) -> None:
        """Create a project folder from a MIDI or DAWproject file (tracks, clips, tempo map,
        markers, mix)."""
        from mixdown.services.dawproject import is_dawproject_path
        from mixdown.services.interchange import import_midi

        if is_dawproject_path(source):
            if soundfont is not None:
                raise MixdownError(f"{source}: --soundfont applies to MIDI files only")
            from mixdown.cli.dawproject import import_dawproject_cmd

            import_dawproject_cmd(source, output, force=force, json_out=json_out)
            return
        if not is_midi_path(source):
            raise MixdownError(f"{source}: import reads MIDI files (.mid, .midi) and "
                               "DAWproject files (.dawproject)")
        report = import_midi(source, output, force=force, soundfont=soundfont)
        if json_out:
            print_json(report.as_dict())
            return
        print_import(report, verb="imported")
        typer.echo(f"render it with: mixdown render {output} -o {output}/renders/mix.wav")

    @app.command("export")
    def export_cmd(
        project: Annotated[Path, typer.Argument(help="A project folder or its song.toml.",
                                                show_default=False)],
        output: Annotated[Path, typer.Option("-o", "--output", help="The file to write.")],
        fmt: Annotated[str, typer.Option("--format", help="midi or dawproject.")] = "midi",
        ticks_per_beat: Annotated[int | None, typer.Option(
            "--ticks-per-beat", min=1, max=32767,
            help="MIDI resolution (default: the project's MIDI clips', else 480 or finer).")
        ] = None,
        json_out: JsonOpt = False,
    ) -> None:
        """Export PROJECT to a MIDI file (instrument tracks, tempo map, markers) or a
        DAWproject file (the whole song: tracks, clips, audio, mix, automation)."""
        from mixdown.services.interchange import export_midi

        if fmt.lower() == "dawproject":
            from mixdown.cli.dawproject import export_dawproject_cmd

            export_dawproject_cmd(project, output, json_out=json_out)
            return
        if fmt.lower() != "midi":
            raise MixdownError(f"--format {fmt}: unknown format; use midi or dawproject")
        report = export_midi(project, output, ticks_per_beat=ticks_per_beat)
        if json_out:
            print_json(report.as_dict())
            return
        typer.echo(f"wrote {report.output} ({len(report.tracks)} tracks, {report.notes} notes, "
                   f"{report.ticks_per_beat} ticks per beat)")
        for s in report.skipped:
            typer.echo(f"skipped: {s}", err=True)
