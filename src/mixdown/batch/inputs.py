"""What a batch runs on: INPUTS (files, folders, manifests) expanded into one entry per
input, each with its output path and options, checked before anything starts.

A manifest is a ``.csv`` (header row) or ``.json`` (a list of objects, or
``{"inputs": [...]}``) with an ``input`` column (a path, relative to the manifest's folder),
an optional ``output`` column (relative to OUTDIR) and any option of the job by its CLI name
(``target``, ``ceiling``, ``bit-depth``...); an empty cell keeps the command line's value.
"""

from __future__ import annotations

import csv
import fnmatch
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mixdown.batch.jobs import AUDIO_SUFFIXES, output_for
from mixdown.core.errors import FormatError, MixdownError, ParameterError

MANIFEST_SUFFIXES = (".csv", ".json")
PROJECT_FILE = "song.toml"


@dataclass(frozen=True, slots=True)
class Option:
    """One option of a job: the service's keyword and how a manifest cell becomes a value."""

    kwarg: str
    parse: Callable[[Any], Any]


def _text(value: Any) -> str:
    return str(value).strip()


def _target(value: Any) -> str | float:
    """A preset name or a LUFS number, as the single-file commands take it."""
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip()
    try:
        return float(text)
    except ValueError:
        return text


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"expected true or false, got {value!r}")


def _list(value: Any) -> list[str]:
    """A list cell: a JSON list, or ``;``/``,``-separated text."""
    if isinstance(value, list | tuple):
        return [str(v).strip() for v in value]
    return [v.strip() for v in str(value).replace(";", ",").split(",") if v.strip()]


# job -> option (CLI name, ``-`` as ``_``) -> the service's keyword and parser. The batch
# commands' parameters carry these names, so the command line and a manifest share one map.
OPTIONS: dict[str, dict[str, Option]] = {
    "analyze": {"target": Option("target", _target), "series": Option("series", _bool)},
    "master": {
        "target": Option("target", _target), "ceiling": Option("ceiling_dbtp", float),
        "reference": Option("references", _list), "allowance": Option("allowance_db", float),
        "amount": Option("amount", float), "eq_amount": Option("eq_amount", float),
        "dynamics_amount": Option("dynamics_amount", float),
        "width_amount": Option("width_amount", float), "bit_depth": Option("bit_depth", int),
        "format": Option("format", _text)},
    "convert": {
        "bit_depth": Option("bit_depth", int), "sample_rate": Option("sample_rate", int),
        "dither": Option("dither", _text), "gain": Option("gain_db", float),
        "normalize": Option("normalize_dbtp", float), "format": Option("format", _text)},
    "render": {
        "format": Option("format", _text), "bit_depth": Option("bit_depth", int),
        "sample_rate": Option("sample_rate", int), "stems": Option("stems", _bool),
        "stems_mode": Option("stems_mode", _text), "section": Option("section", _text),
        "start": Option("start", _target), "end": Option("end", _target),
        "master_part": Option("master_part", _bool),
        "no_cache": Option("cache", lambda v: not _bool(v)),
        "block_frames": Option("block_frames", int)},
    "deliver": {
        "targets": Option("targets", _list), "formats": Option("formats", _list),
        "title": Option("title", _text), "artist": Option("artist", _text),
        "isrc": Option("isrc", _text), "allowance": Option("allowance_db", float),
        "no_stems": Option("stems", lambda v: not _bool(v))},
}

# options whose values are files: their content is part of the journal key
PATH_OPTIONS = {"references"}


@dataclass(frozen=True, slots=True)
class Entry:
    """One input of a batch, before it is keyed and run.

    Attributes
    ----------
    input : Path
        The audio file or project folder, absolute.
    output : Path
        What its task writes, absolute, inside OUTDIR.
    options : dict
        The service's keyword arguments (command line, then the manifest's cells).
    """

    input: Path
    output: Path
    options: dict[str, Any]


def service_options(kind: str, values: dict[str, Any], *, base: Path | None = None,
                    where: str = "") -> dict[str, Any]:
    """Translate options by CLI name (``ceiling``) into the service's keywords
    (``ceiling_dbtp``); None and empty cells are left out, and files an option names
    (``reference``) are made absolute against ``base`` (default: the current folder)."""
    table = OPTIONS[kind]
    out: dict[str, Any] = {}
    for name, value in values.items():
        key = name.strip().lstrip("-").replace("-", "_")
        if key in ("input", "output") or value is None or value == "":
            continue
        if key not in table:
            known = ", ".join(n.replace("_", "-") for n in sorted(table))
            raise ParameterError(f"{where}unknown option {name!r} for batch {kind}; "
                                 f"known: {known}")
        opt = table[key]
        try:
            out[opt.kwarg] = opt.parse(value)
        except ValueError as exc:
            raise ParameterError(f"{where}option {name!r}: {exc}") from None
        if opt.kwarg in PATH_OPTIONS:
            out[opt.kwarg] = [str((base or Path.cwd()) / p) for p in out[opt.kwarg]]
    return out


def _matches(rel: Path, patterns: Sequence[str]) -> bool:
    text = rel.as_posix()
    return any(fnmatch.fnmatch(text if "/" in p else rel.name, p) for p in patterns)


def _hidden(rel: Path) -> bool:
    return any(part.startswith(".") for part in rel.parts)


def _is_within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _scan(folder: Path, kind: str, patterns: Sequence[str], outdir: Path
          ) -> list[tuple[Path, Path]]:
    """(input, rel) pairs under ``folder``: audio files, or project folders."""
    found: list[tuple[Path, Path]] = []
    if kind in ("render", "deliver"):
        if (folder / PROJECT_FILE).is_file():
            return [(folder, Path(folder.name))]
        for song in sorted(folder.rglob(PROJECT_FILE)):
            rel = song.parent.relative_to(folder)
            if _hidden(rel) or _is_within(song, outdir):
                continue
            if patterns and not _matches(rel, patterns):
                continue
            found.append((song.parent, rel))
        return found
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if not path.is_file() or _hidden(rel) or _is_within(path, outdir):
            continue
        if patterns:
            if not _matches(rel, patterns):
                continue
        elif path.suffix.lower() not in AUDIO_SUFFIXES:
            continue
        found.append((path, rel))
    return found


def _read_manifest(path: Path) -> list[dict[str, Any]]:
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(path.read_text(encoding="utf-8"))
            rows = data.get("inputs") if isinstance(data, dict) else data
            if not isinstance(rows, list) or not all(isinstance(r, dict | str) for r in rows):
                raise FormatError(f"{path}: expected a list of objects with an \"input\" key "
                                  "(or {\"inputs\": [...]})", path)
            return [r if isinstance(r, dict) else {"input": r} for r in rows]
        with path.open(newline="", encoding="utf-8-sig") as f:
            rows = list(csv.DictReader(f))
    except (OSError, UnicodeDecodeError) as exc:
        raise FormatError(f"{path}: cannot read the manifest ({exc})", path) from None
    except json.JSONDecodeError as exc:
        raise FormatError(f"{path}: line {exc.lineno}: not valid JSON ({exc.msg})", path) from None
    except csv.Error as exc:
        raise FormatError(f"{path}: not a valid CSV manifest ({exc})", path) from None
    return rows


def _manifest_entries(path: Path, kind: str, base: dict[str, Any], outdir: Path
                      ) -> list[Entry]:
    entries = []
    for n, row in enumerate(_read_manifest(path), start=1):
        where = f"{path}: entry {n}: "
        name = row.get("input")
        if not name or not str(name).strip():
            raise FormatError(f"{where}no \"input\" given", path)
        src = (path.parent / str(name).strip()).resolve()
        if kind in ("render", "deliver") and src.name == PROJECT_FILE:
            src = src.parent
        opts = {**base, **service_options(kind, row, base=path.parent, where=where)}
        out = row.get("output")
        if out and str(out).strip():
            rel = Path(str(out).strip())
            if rel.is_absolute() or ".." in rel.parts:
                raise ParameterError(f"{where}output {out!r} must be a relative path inside "
                                     "the output folder")
            dst = outdir / rel
        else:
            dst = output_for(kind, Path(src.name), outdir, opts)
        entries.append(Entry(src, dst, opts))
    return entries


def expand_inputs(kind: str, inputs: Sequence[str | Path], outdir: str | Path,
                  options: dict[str, Any], *, patterns: Sequence[str] = ()) -> list[Entry]:
    """Every input of a batch, with its output and options, checked.

    Parameters
    ----------
    kind : str
        The job (``analyze``, ``master``...).
    inputs : sequence of path
        Files, folders (searched recursively; hidden entries skipped) and manifests.
    outdir : path
        The output folder; it must not lie inside an input folder.
    options : dict
        The service's keyword arguments from the command line (see :func:`service_options`).
    patterns : sequence of str
        Glob filters for files found in folders (``*.wav``; a pattern with ``/`` matches the
        path relative to the folder, others the file name).

    Raises
    ------
    MixdownError
        No inputs, a missing input, the output folder inside an input folder, two inputs
        mapping to one output, or an output that is an input.
    """
    out = Path(outdir).resolve()
    entries: list[Entry] = []
    for item in inputs:
        path = Path(item)
        if not path.exists():
            raise FormatError(f"{path}: no such file or folder", path)
        src = path.resolve()
        if src.is_dir():
            if _is_within(out, src):
                raise ParameterError(f"{out}: the output folder is inside the input folder "
                                     f"{src}; write the batch somewhere else")
            found = _scan(src, kind, patterns, out)
            if not found:
                what = "projects (song.toml)" if kind in ("render", "deliver") else "audio files"
                raise FormatError(f"{path}: no {what} found"
                                  + (f" matching {', '.join(patterns)}" if patterns else ""),
                                  path)
            entries += [Entry(f, output_for(kind, rel, out, options), dict(options))
                        for f, rel in found]
        elif src.suffix.lower() in MANIFEST_SUFFIXES:
            entries += _manifest_entries(src, kind, options, out)
        else:
            if kind in ("render", "deliver") and src.name == PROJECT_FILE:
                src = src.parent
            entries.append(Entry(src, output_for(kind, Path(src.name), out, options),
                                 dict(options)))
    if not entries:
        raise ParameterError("no inputs: give files, folders or a manifest")
    check_entries(entries, out)
    return entries


def check_entries(entries: Sequence[Entry], outdir: Path) -> None:
    """Refuse two inputs mapping to one output, and an output that is an input."""
    by_output: dict[Path, Path] = {}
    clashes: list[str] = []
    seen: set[tuple[Path, Path]] = set()
    for e in entries:
        if not _is_within(e.output, outdir) or e.output == outdir:
            raise ParameterError(f"{e.input}: its output {e.output} is outside the output "
                                 f"folder {outdir}")
        other = by_output.setdefault(e.output, e.input)
        if other != e.input:
            clashes.append(f"{other} and {e.input} -> {e.output}")
        elif (e.input, e.output) in seen:
            clashes.append(f"{e.input} is listed twice -> {e.output}")
        seen.add((e.input, e.output))
    if clashes:
        shown = "; ".join(sorted(set(clashes))[:5])
        more = len(set(clashes)) - 5
        raise MixdownError(f"output name collision: {shown}"
                           + (f" (and {more} more)" if more > 0 else "")
                           + "; rename the inputs or give each an \"output\" in a manifest")
    outputs = set(by_output)
    for e in entries:
        hit = next((p for p in (e.input, *e.input.parents) if p in outputs), None)
        if hit is not None:
            raise ParameterError(f"{hit}: an output would replace the input {e.input}; write "
                                 "the batch to another folder")


__all__ = ["OPTIONS", "PATH_OPTIONS", "Entry", "Option", "check_entries", "expand_inputs",
           "service_options"]
