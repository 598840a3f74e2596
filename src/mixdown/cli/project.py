"""Project commands: ``new``, ``check``, ``info``, ``render``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from mixdown.cli.output import print_json, progress_bar, stderr, warn

ProjectArg = Annotated[Path, typer.Argument(help="A project folder or its song.toml.",
                                            show_default=False)]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print strict JSON on stdout.")]

# render's options, declared once: ``mixdown batch render`` takes them too.
RenderFormatOpt = Annotated[str | None, typer.Option(
    "--format", help="wav, flac or mp3 (default: from -o).")]
RenderBitDepthOpt = Annotated[int | None, typer.Option(
    "--bit-depth", help="16, 24 (PCM) or 32 (float). Default 24.")]
RenderSampleRateOpt = Annotated[int | None, typer.Option(
    "--sample-rate", help="44100, 48000, 88200 or 96000 Hz.")]
StemsOpt = Annotated[bool, typer.Option(
    "--stems", help="Also write stems into OUT.stems/ (see --stems-mode).")]
StemsModeOpt = Annotated[str, typer.Option(
    "--stems-mode", help="buses: each signal feeding the master (they sum to the "
    "mix); tracks: every track post-fader, dry of the buses it feeds (they do not "
    "sum to the mix).")]
SectionOpt = Annotated[str | None, typer.Option(
    "--section", help="Render only this section (marker name).")]
StartOpt = Annotated[str | None, typer.Option(
    "--start", help="Range start: bar:beat (9:1), seconds (12.5s) or beats.")]
EndOpt = Annotated[str | None, typer.Option(
    "--end", help="Range end, like --start (tails still ring out).")]
MasterPartOpt = Annotated[bool, typer.Option(
    "--master-part", help="With a loudness target in the song's master: master the "
    "section or range on its own (default: cut it from the whole song's master, at "
    "its level there).")]
NoCacheOpt = Annotated[bool, typer.Option(
    "--no-cache", help="Neither read nor write the project's track cache "
    "(.mixdown/nodes/; it re-renders only the tracks and buses an edit reaches) nor its "
    "render cache (.mixdown/renders/; a render with nothing changed copies the last output).")]
BlockFramesOpt = Annotated[int, typer.Option(
    "--block-frames", min=16, max=1 << 20, help="Processing block size (frames).")]


def _fmt_time(seconds: float) -> str:
    m, s = divmod(seconds, 60)
    return f"{int(m)}:{s:04.1f}"


def _position(text: str | None) -> float | str | None:
    """A CLI position: a plain number is beats, as in song.toml."""
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        return text


def _problems(exc: BaseException) -> None:
    """Print a project's problems one per line (``mixdown: error: ...``) and exit 1."""
    for line in str(exc).splitlines():
        stderr.print(f"mixdown: error: {line}", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(getattr(exc, "exit_code", 1))


def _approved(project: Path) -> Any:
    """The project's approved review version (None if none, or the database is unreachable:
    a warning then)."""
    from mixdown.core.errors import MixdownError
    from mixdown.services.review import approved_of_project

    try:
        return approved_of_project(project)
    except MixdownError as exc:
        warn([f"review status unknown: {exc}"])
        return None


def _render_version_only(project: Path, note: str, json_out: bool) -> None:
    """``render PROJECT --version NOTE`` without ``-o``: straight into the studio."""
    from mixdown.services.review import render_project_version

    with progress_bar("rendering", 1.0, enabled=not json_out) as advance:
        state = {"done": 0.0}

        def progress(fraction: float, _stage: str) -> None:
            advance(fraction - state["done"])
            state["done"] = fraction

        version, audio = render_project_version(project, note, progress=progress)
    if json_out:
        print_json({"output": str(audio), "version": version.as_dict()})
        return
    typer.echo(f"kept {version.label} of {version.song} in the studio: {audio} "
               f"({_fmt_time(version.duration_s)})")


def register(app: typer.Typer) -> None:
    """Add the project commands to ``app``."""

    @app.command("new")
    def new_cmd(
        folder: Annotated[Path, typer.Argument(help="The project folder to create.")],
        title: Annotated[str | None, typer.Option(help="The song's title.")] = None,
        json_out: JsonOpt = False,
    ) -> None:
        """Create a new project folder from the starter template."""
        from mixdown.services.project import new_project

        song = new_project(folder, title=title)
        if json_out:
            print_json({"folder": str(folder), "file": str(song),
                        "render": ["mixdown", "render", str(folder), "-o",
                                   str(Path(folder) / "renders" / "mix.wav")]})
            return
        typer.echo(f"created {song}")
        typer.echo(f"render it with: mixdown render {folder} -o {folder}/renders/mix.wav")

    @app.command("check")
    def check_cmd(project: ProjectArg, json_out: JsonOpt = False) -> None:
        """Load and validate PROJECT (or a .mid or .dawproject file) without writing anything."""
        from mixdown.cli.interchange import is_midi_path, print_import
        from mixdown.core.errors import MixdownError
        from mixdown.services.dawproject import is_dawproject_path

        if is_dawproject_path(project):  # a DAWproject zip: open, validate and map it
            from mixdown.cli.dawproject import check_dawproject_cmd

            check_dawproject_cmd(project, json_out=json_out)
            return

        if is_midi_path(project):  # a MIDI file: read and map it as import would
            from mixdown.services.interchange import check_midi

            mr = check_midi(project)
            if json_out:
                print_json({"file": str(project), "ok": True, **mr.as_dict()})
            else:
                print_import(mr, verb="ok")
            return
        from mixdown.services.project import check_project

        try:
            r = check_project(project)
        except MixdownError as exc:
            _problems(exc)
        warn(r.warnings)
        if json_out:
            print_json({"file": str(r.path), "ok": True, "tracks": r.tracks, "buses": r.buses,
                        "duration_s": r.duration_s, "warnings": r.warnings})
        else:
            typer.echo(f"{r.path}: ok ({r.tracks} tracks, {r.buses} buses, "
                       f"{_fmt_time(r.duration_s)})")

    @app.command("info")
    def info_cmd(project: ProjectArg, json_out: JsonOpt = False) -> None:
        """Show PROJECT's tracks, length, tempo map, sections and devices."""
        from rich.console import Console
        from rich.table import Table

        from mixdown.core.errors import MixdownError
        from mixdown.services.project import describe_project

        try:
            d = describe_project(project)
        except MixdownError as exc:
            _problems(exc)
        approved = _approved(project)
        d["approved_version"] = approved.as_dict() if approved is not None else None
        if json_out:
            print_json(d)
            return
        out = Console(highlight=False)
        out.print(f"[bold]{d['title']}[/bold]" + (f" — {d['artist']}" if d["artist"] else ""))
        out.print(f"{d['file']}: {_fmt_time(d['duration_s'])} at {d['sample_rate']} Hz")
        tempo = ", ".join(
            f"{'→' if t['ramp'] else ''}{t['bpm']:g} bpm @ beat {t['beat']:g}"
            for t in d["tempo_map"])
        if approved is not None:
            when = approved.status_at.strftime("%Y-%m-%d %H:%M UTC") if approved.status_at else ""
            out.print(f"approved: {approved.label} by {approved.status_by}, {when} "
                      f"({approved.note or 'no note'})", markup=False)
        out.print(f"tempo: {tempo}")
        sigs = ", ".join(f"{s['signature'][0]}/{s['signature'][1]} @ bar {s['bar']}"
                         for s in d["time_signatures"])
        out.print(f"meter: {sigs}")
        if d["sections"]:
            out.print("sections: " + ", ".join(
                f"{m['name']} ({m['bar']}:{m['beat']:g}, {_fmt_time(m['seconds'])})"
                for m in d["sections"]))
        table = Table("kind", "name", "source", "vol dB", "pan", "devices", "sends", "→")
        for t in d["tracks"]:
            flags = (" [m]" if t["mute"] else "") + (" [s]" if t["solo"] else "")
            table.add_row("track", t["name"] + flags, t["instrument"] or f"{t['clips']} clips",
                          f"{t['volume_db']:g}", f"{t['pan']:g}", ", ".join(t["devices"]),
                          ", ".join(f"{k} {v:g}" for k, v in t["sends"].items()), t["output"])
        for b in d["buses"]:
            table.add_row("bus", b["name"], "", f"{b['volume_db']:g}", f"{b['pan']:g}",
                          ", ".join(b["devices"]),
                          ", ".join(f"{k} {v:g}" for k, v in b["sends"].items()), b["output"])
        m = d["master"]
        target = m["target"] or (f"{m['target_lufs']} LUFS" if m["target_lufs"] else "")
        table.add_row("master", "master", target, f"{m['volume_db']:g}", "",
                      ", ".join(m["devices"]), "", "")
        out.print(table)

    @app.command("render")
    def render_cmd(
        project: ProjectArg,
        output: Annotated[Path | None, typer.Option(
            "-o", "--output", help="The file to write (.wav, .flac, .mp3); may be left out "
            "with --version.")] = None,
        fmt: RenderFormatOpt = None,
        bit_depth: RenderBitDepthOpt = None,
        sample_rate: RenderSampleRateOpt = None,
        stems: StemsOpt = False,
        stems_mode: StemsModeOpt = "buses",
        section: SectionOpt = None,
        start: StartOpt = None,
        end: EndOpt = None,
        master_part: MasterPartOpt = False,
        no_cache: NoCacheOpt = False,
        block_frames: BlockFramesOpt = 131_072,  # engine.graph.DEFAULT_BLOCK_FRAMES
        soundfont: Annotated[Path | None, typer.Option(
            "--soundfont", help="With a MIDI file for PROJECT: play it with this SoundFont "
            "(.sf2, .sf3; channel 10 the drum kit). Without, the built-in instruments.")
        ] = None,
        version: Annotated[str | None, typer.Option(
            "--version", help="Keep the render as a review version with this note, in the "
            "studio of PROJECT's parent folder (mixdown serve); without -o it is rendered "
            "straight into the studio.")] = None,
        json_out: JsonOpt = False,
    ) -> None:
        """Render PROJECT (or a MIDI file) to an audio file, with a QC sidecar (OUT.wav.qc.json)."""
        from functools import partial

        from mixdown.cli.interchange import is_midi_path
        from mixdown.core.errors import MixdownError
        from mixdown.services.interchange import render_midi
        from mixdown.services.render import render_project

        render = render_project
        if is_midi_path(project):
            render = partial(render_midi, soundfont=soundfont)
            if version is not None:
                raise MixdownError(f"{project}: --version keeps a project's render; import "
                                   "the MIDI file first (mixdown import)")
        elif soundfont is not None:
            raise MixdownError(f"--soundfont {soundfont}: is for rendering a MIDI file; a "
                               'project names its SoundFonts in song.toml (type = "soundfont")')

        if output is None:
            if version is None:
                raise typer.BadParameter("give the file to write (or --version NOTE)",
                                         param_hint="-o")
            _render_version_only(project, version, json_out)
            return
        state: dict[str, object] = {}
        if stems_mode not in ("buses", "tracks"):
            raise typer.BadParameter(f"expected buses or tracks, got {stems_mode!r}",
                                     param_hint="--stems-mode")
        with progress_bar("rendering", 1.0, enabled=not json_out) as advance:
            def progress(done: int, total: int) -> None:
                prev = state.get("done", 0)
                advance((done - prev) / max(total, 1))  # type: ignore[operator]
                state["done"] = done

            try:
                report = render(project, output, fmt=fmt, bit_depth=bit_depth,
                                        sample_rate=sample_rate, stems=stems,
                                        stems_mode=stems_mode,  # type: ignore[arg-type]
                                        section=section, start=_position(start),
                                        end=_position(end), master_part=master_part,
                                        block_frames=block_frames, progress=progress,
                                        cache=not no_cache, version=version)
            except MixdownError as exc:
                if "\n" not in str(exc):
                    raise
                _problems(exc)
        if json_out:
            print_json(report.as_dict())
            return
        lossy = report.format in ("mp3", "aac", "ogg")
        depth = "" if lossy else ("float " if report.bit_depth == 32 else
                                  f"{report.bit_depth}-bit ")
        typer.echo(f"wrote {report.output} ({_fmt_time(report.duration_s)}, "
                   f"{report.sample_rate} Hz, {depth}{report.format.upper()})")
        if report.summary:
            typer.echo(report.summary)
        for s in report.stems:
            typer.echo(f"stem {s}")
        if report.qc_path:
            typer.echo(f"qc {report.qc_path}")
        if report.version is not None:
            v = report.version
            typer.echo(f"kept {v.label} of {v.song} in the studio ({v.note or 'no note'})")
        if report.cache is not None and report.cache.get("output") == "read":
            typer.echo("cache: nothing changed since the last render; its output was copied")
        elif report.cache is not None and (report.cache["read"] or report.cache["skipped"]):
            kept = len(report.cache["read"]) + len(report.cache["skipped"])
            typer.echo(f"cache: {kept} tracks and buses unchanged, "
                       f"{len(report.cache['written'])} rendered")
        warn([*report.warnings, *report.qc_warnings])
