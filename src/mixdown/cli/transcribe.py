"""``mixdown transcribe``: audio to MIDI with basic-pitch."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mixdown.cli.output import print_json


def register(app: typer.Typer) -> None:
    """Add the transcribe command to ``app``."""

    @app.command("transcribe")
    def transcribe_cmd(
        take: Annotated[Path, typer.Argument(help="An audio file (WAV, FLAC, MP3...).",
                                             show_default=False)],
        output: Annotated[Path, typer.Option("-o", "--output", help="The .mid file to write.")],
        onset_threshold: Annotated[float, typer.Option(
            "--onset-threshold", help="0..1: how sure a note start must be (higher: fewer).")
        ] = 0.5,
        frame_threshold: Annotated[float, typer.Option(
            "--frame-threshold", help="0..1: how sure a sounding note must be.")] = 0.3,
        min_note_ms: Annotated[float, typer.Option(
            "--min-note-ms", help="Drop notes shorter than this, in ms.")] = 127.7,
        tempo: Annotated[float, typer.Option(
            "--tempo", help="The tempo written in the MIDI file, in bpm.")] = 120.0,
        json_out: Annotated[bool, typer.Option("--json", help="Print strict JSON on stdout.")
                            ] = False,
    ) -> None:
        """Transcribe TAKE (a played or sung melody) to a MIDI file with basic-pitch."""
        from mixdown.services.transcribe import TranscribeSettings, transcribe

        settings = TranscribeSettings(onset_threshold=onset_threshold,
                                      frame_threshold=frame_threshold, min_note_ms=min_note_ms)
        report = transcribe(take, output, settings=settings, bpm=tempo)
        if json_out:
            print_json(report.as_dict())
            return
        notes = report.notes
        span = (f", MIDI pitches {min(n.pitch for n in notes)}..{max(n.pitch for n in notes)}"
                if notes else "")
        typer.echo(f"wrote {report.output} ({len(notes)} notes{span}, "
                   f"{report.duration_s:.1f} s of audio)")
        for w in report.warnings:
            typer.echo(f"warning: {w}", err=True)
