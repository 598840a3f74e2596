"""The render cache: whole rendered (mixed and mastered) outputs, keyed by
:func:`mixdown.engine.cache.mix_key`, so that a render with nothing changed upstream copies
the last output instead of mixing and mastering again.

An entry is the output file (``<key>.audio``, a hard link to the output that was written
when the file system allows it, so it takes no space while that output exists; a copy
otherwise) and ``<key>.json``: what the render reported (QC, mastering, warnings) and the
file's size and SHA-256, checked before the file is used, so a file changed in place is
never handed out. Entries are published by atomic renames (the JSON last); the folder keeps
at most :data:`MAX_ENTRIES` entries and :data:`MAX_BYTES`, least recently used first.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

MAX_ENTRIES = 4
"""Most renders kept per project."""
MAX_BYTES = 1024**3
"""Size bound of the render cache (bytes); a larger output is not kept."""
STALE_TEMP_S = 3600.0
"""Temporary files older than this (seconds) were left by a killed render: swept."""
_VERSION = 1


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


class RenderCache:
    """A project's render cache: ``.mixdown/renders/`` under the project folder."""

    def __init__(self, folder: str | Path, max_entries: int = MAX_ENTRIES,
                 max_bytes: int = MAX_BYTES) -> None:
        self.folder = Path(folder)
        self.max_entries, self.max_bytes = max_entries, max_bytes

    @classmethod
    def for_project(cls, root: str | Path) -> RenderCache:
        """The render cache of the project in folder ``root``."""
        return cls(Path(root) / ".mixdown" / "renders")

    def fetch(self, key: str, dest: Path) -> dict[str, Any] | None:
        """Copy the output stored under ``key`` to ``dest``; returns what the render
        reported, or None (and ``dest`` untouched) when there is no sound entry."""
        meta_path, audio = self.folder / f"{key}.json", self.folder / f"{key}.audio"
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            if (not isinstance(meta, dict) or meta.get("version") != _VERSION
                    or audio.stat().st_size != meta.get("size")):
                return None
            shutil.copyfile(audio, dest)
        except (OSError, ValueError):
            return None
        if _sha256(dest) != meta.get("sha256"):  # changed in place since: never use it
            dest.unlink(missing_ok=True)
            for p in (meta_path, audio):
                p.unlink(missing_ok=True)
            return None
        os.utime(meta_path)  # recently used
        return meta.get("report")

    def store(self, key: str, output: Path, report: dict[str, Any]) -> None:
        """Keep ``output`` (just written) and its ``report`` under ``key``; never raises for
        the cache's own sake (an entry that cannot be made is simply not made)."""
        try:
            size = output.stat().st_size
            if size > self.max_bytes:
                return
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp = self.folder / f"{key}.audio.tmp-{os.getpid()}"
            tmp.unlink(missing_ok=True)
            try:
                os.link(output, tmp)
            except OSError:
                shutil.copyfile(output, tmp)
            meta = {"version": _VERSION, "size": size, "sha256": _sha256(tmp),
                    "report": report}
            os.replace(tmp, self.folder / f"{key}.audio")
            meta_tmp = self.folder / f"{key}.json.tmp-{os.getpid()}"
            meta_tmp.write_text(json.dumps(meta, allow_nan=False), encoding="utf-8")
            os.replace(meta_tmp, self.folder / f"{key}.json")
        except (OSError, ValueError, TypeError):
            return
        self.prune()

    def prune(self) -> None:
        """Keep at most :attr:`max_entries` entries and :attr:`max_bytes`, newest first;
        remove stray files (an audio file without its JSON, temporary files)."""
        if not self.folder.is_dir():
            return
        entries = []
        for meta in self.folder.glob("*.json"):
            audio = meta.with_suffix(".audio")
            with contextlib.suppress(OSError):
                entries.append((meta.stat().st_mtime, audio.stat().st_size, meta, audio))
        entries.sort(reverse=True)  # newest first
        kept, total = set(), 0
        for _, size, meta, audio in entries:
            if len(kept) // 2 < self.max_entries and total + size <= self.max_bytes:
                kept |= {meta, audio}
                total += size
        now = time.time()
        for p in self.folder.iterdir():
            with contextlib.suppress(OSError):
                if (".tmp-" in p.name and now - p.stat().st_mtime > STALE_TEMP_S) or (
                        ".tmp-" not in p.name and p not in kept):
                    p.unlink(missing_ok=True)


__all__ = ["MAX_BYTES", "MAX_ENTRIES", "RenderCache"]
