"""The job journal: ``OUTDIR/batch-journal.jsonl``, append-only JSON lines, fsync'd.

One line per finished attempt: ``{"key", "kind", "input", "output", "status": "done" |
"failed", "attempt", "error", "row", "time", "version"}``. An entry is appended only after
its task's outputs are in place (the task's own atomic writes), so a batch killed at any
moment leaves every ``done`` entry true. A line torn by the kill is not an entry: it is cut
off when the journal is next opened. A second batch on the same OUTDIR is refused (a lock).

The key of a task is the SHA-256 of the mixdown version, the job, its options and the
content of its input (and of any file an option names, such as a reference track): a re-run
skips a task whose key has a ``done`` entry and whose output is still there.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from mixdown.core.errors import MixdownError

JOURNAL_NAME = "batch-journal.jsonl"
_BLOCK = 1 << 20

# what an interrupted atomic write leaves beside its target ``NAME``: core.files' and the
# services' temp files and folders (``.NAME.xxxxxxxx.part``, ``.STEM.xxxxxxxx.mp3``, ``.old``)
_RANDOM_TAIL = re.compile(r"^[a-z0-9_]{8}(\.[A-Za-z0-9]+)?$")
_TEMP_DIR_PREFIX = ".mixdown-"  # the services' work folders


def file_digest(path: Path, h: Any) -> None:
    """Feed ``path``'s bytes into the hash ``h``, in 1 MiB blocks."""
    with path.open("rb") as f:
        while chunk := f.read(_BLOCK):
            h.update(chunk)


def content_digest(path: Path) -> str:
    """SHA-256 of a file's bytes, or of a folder's files (their relative paths and bytes;
    hidden entries and ``renders/`` left out: a project's own outputs and caches)."""
    h = hashlib.sha256()
    if path.is_dir():
        for p in sorted(path.rglob("*")):
            rel = p.relative_to(path)
            if any(part.startswith(".") for part in rel.parts) or rel.parts[0] == "renders" \
                    or not p.is_file():
                continue
            h.update(rel.as_posix().encode() + b"\0")
            file_digest(p, h)
            h.update(b"\0")
    else:
        file_digest(path, h)
    return h.hexdigest()


def task_key(kind: str, source: Path, options: dict[str, Any], version: str,
             path_options: set[str] | frozenset[str] = frozenset(), output: str = "") -> str:
    """The journal key: SHA-256 of version, job, options (and the files they name), the
    output's name in OUTDIR and the input's content. Raises OSError if a file cannot be
    read."""
    files = {k: [content_digest(Path(p)) for p in v] for k, v in options.items()
             if k in path_options and isinstance(v, list)}
    text = json.dumps({"version": version, "kind": kind, "options": options,
                       "option_files": files, "output": output,
                       "input": content_digest(source)},
                      sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def clean_stale_temps(outputs: Iterable[Path]) -> list[Path]:
    """Remove the temp files and folders that interrupted writes of ``outputs`` left beside
    them (a batch killed half-way); returns what was removed. Nothing else is touched: only
    ``.mixdown-*`` work folders and ``.NAME.xxxxxxxx[.ext]`` entries named after an output,
    in the outputs' folders."""
    prefixes: dict[Path, set[str]] = {}
    for out in outputs:
        prefixes.setdefault(out.parent, set()).update({f".{out.name}.", f".{out.stem}."})
    removed: list[Path] = []
    for folder, names in prefixes.items():
        if not folder.is_dir():
            continue
        for p in folder.iterdir():
            if not p.name.startswith("."):
                continue
            stale = p.name.startswith(_TEMP_DIR_PREFIX) or any(
                p.name.startswith(n) and _RANDOM_TAIL.match(p.name[len(n):]) for n in names)
            if not stale:
                continue
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink(missing_ok=True)
            removed.append(p)
    return removed


class Journal:
    """The journal of one OUTDIR, open for appending (use as a context manager).

    Attributes
    ----------
    path : Path
        ``OUTDIR/batch-journal.jsonl``.
    entries : dict
        The last entry per key, as read when opened and appended since.
    """

    def __init__(self, outdir: Path) -> None:
        self.path = outdir / JOURNAL_NAME
        self.entries: dict[str, dict[str, Any]] = {}
        self._file: IO[bytes] | None = None

    def __enter__(self) -> Journal:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.path, "a+b")
        try:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self._file.close()
            raise MixdownError(f"{self.path}: another batch is writing to this output folder; "
                               "wait for it or choose another folder") from None
        self._load()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._file is not None:
            self._file.close()  # closing releases the lock
            self._file = None

    def _load(self) -> None:
        assert self._file is not None
        self._file.seek(0)
        data = self._file.read()
        good = data.rfind(b"\n") + 1  # a line without its newline was torn by a kill
        if good < len(data):
            self._file.truncate(good)
            os.fsync(self._file.fileno())
        for line in data[:good].splitlines():
            with contextlib.suppress(ValueError):
                entry = json.loads(line)
                if isinstance(entry, dict) and "key" in entry:
                    self.entries[entry["key"]] = entry

    def done(self, key: str, output: Path) -> dict[str, Any] | None:
        """The ``done`` entry of ``key`` if its output is still there, else None."""
        entry = self.entries.get(key)
        if entry and entry.get("status") == "done" and output.exists():
            return entry
        return None

    def failures(self, key: str) -> int:
        """How many attempts of ``key`` failed so far (in this and earlier runs)."""
        entry = self.entries.get(key)
        return int(entry.get("failures", 0)) if entry else 0

    def append(self, entry: dict[str, Any]) -> None:
        """Append one entry and fsync it (call only once the task's outputs are in place)."""
        assert self._file is not None
        entry = {**entry, "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        line = json.dumps(entry, sort_keys=True, allow_nan=False, default=str) + "\n"
        self._file.write(line.encode())
        self._file.flush()
        os.fsync(self._file.fileno())
        self.entries[entry["key"]] = entry

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.entries.values())


__all__ = ["JOURNAL_NAME", "Journal", "clean_stale_temps", "content_digest", "task_key"]
