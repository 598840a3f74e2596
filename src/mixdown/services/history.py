"""Edits with history: the one path by which the studio changes a song.toml.

Every change goes through :func:`apply_edit`, which uses the same save path as the Python
API (:func:`mixdown.io.project_save.project_text`: comments and layout kept), checks the
new text as ``mixdown check`` would, and writes it atomically. Each edit is one step of a
history kept in the project's ``.mixdown/history/`` folder, so that :func:`undo` and
:func:`redo` survive a restart and every earlier version of song.toml stays on disk
(content-addressed snapshots, byte for byte)::

    r = apply_edit("my-song", lambda p: with_track(p, "Vocal", volume_db=1.5),
                   base=None, label="Vocal +1.5 dB")
    undo("my-song", base=r.revision)        # song.toml is back, byte for byte

A revision is the SHA-256 of song.toml's bytes. A caller that shows the song (a browser
tab) sends the revision it last saw as ``base``; if the file changed since (another tab,
an editor, git), the edit is refused with :class:`EditConflict` and nothing is written.
A change made outside the studio is found at the next call and recorded as its own step
before anything else happens, so it is never overwritten and can itself be undone.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from mixdown.core.errors import FormatError, MixdownError
from mixdown.core.files import atomic_path
from mixdown.io.project import open_project, project_file_path
from mixdown.io.project_save import project_text
from mixdown.model.project import Project
from mixdown.services.loaded import remember_root
from mixdown.services.project import check_text

__all__ = ["EditConflict", "EditResult", "History", "NothingToUndo", "Step", "apply_edit",
           "current_revision", "history", "redo", "snapshot_bytes", "undo"]

HISTORY_DIR = Path(".mixdown") / "history"
MAX_STEPS = 10_000
"""Older steps than this are dropped from the undo list (their snapshots stay)."""
EXTERNAL = "edited outside the studio"


class EditConflict(MixdownError):
    """song.toml changed since the caller read it; nothing was written."""

    exit_code = 1
    http_status = 409


class NothingToUndo(MixdownError):
    """Undo at the start of the history, or redo at its end."""

    exit_code = 1
    http_status = 409


@dataclass(frozen=True, slots=True)
class Step:
    """One change of song.toml: ``before`` and ``after`` are revisions (SHA-256 hex).

    ``kind`` is ``"edit"`` (made through :func:`apply_edit`) or ``"external"`` (found on
    disk: an editor, git); ``time`` is seconds since the epoch (UTC).
    """

    label: str
    before: str
    after: str
    kind: str = "edit"
    author: str = ""
    time: float = 0.0


@dataclass(frozen=True, slots=True)
class History:
    """The steps so far; the first ``position`` are applied, the rest can be redone."""

    steps: list[Step]
    position: int
    revision: str

    @property
    def can_undo(self) -> bool:
        return self.position > 0

    @property
    def can_redo(self) -> bool:
        return self.position < len(self.steps)


@dataclass(frozen=True, slots=True)
class EditResult:
    """What an edit, undo or redo left on disk.

    ``project`` is None only when the restored text does not load (an invalid version
    written by an editor, then undone to).
    """

    revision: str
    project: Project | None
    label: str
    position: int
    changed: bool = True
    history: History | None = field(default=None, repr=False)


def current_revision(folder: str | Path) -> str:
    """The SHA-256 (hex) of the project's song.toml bytes."""
    return _sha(_read(project_file_path(folder)))


def snapshot_bytes(folder: str | Path, revision: str) -> bytes:
    """The bytes of song.toml at ``revision`` (a version this history has seen)."""
    if len(revision) != 64 or any(c not in "0123456789abcdef" for c in revision):
        raise MixdownError(f"{revision!r}: not a revision (64 hex digits)")
    path = _root(folder) / HISTORY_DIR / "snapshots" / f"{revision}.toml"
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise MixdownError(f"{path}: no such version in this project's history") from None


def history(folder: str | Path) -> History:
    """The project's edit history (recording an outside edit first, if there was one)."""
    with _Store.open(folder) as store:
        return store.view()


def apply_edit(folder: str | Path, change: Callable[[Project], Project], *,
               base: str | None, label: str, author: str = "") -> EditResult:
    """Change the project and save it as one undoable step.

    Parameters
    ----------
    folder : str or Path
        The project folder (or its song.toml).
    change : callable
        Gets the current project (its folder remembered, so asset paths resolve) and
        returns the new one; the helpers of :mod:`mixdown.services.edit` fit.
    base : str or None
        The revision the caller last saw; None skips the conflict check.
    label : str
        What the step did, for the history list ("Vocal volume +1.5 dB").
    author : str
        Who made it.

    Raises
    ------
    EditConflict
        song.toml is no longer at ``base``.
    MixdownError
        The new project fails the checks of ``mixdown check`` (the checker's message);
        nothing is written.
    """
    with _Store.open(folder) as store:
        store.require(base)
        pf = open_project(store.file)
        new = change(remember_root(pf.project, pf.root))
        text = project_text(new, pf.text, label=str(store.file))
        if text == pf.text:
            return store.result(pf.project, label, changed=False)
        check_text(store.file, text)
        data = text.encode("utf-8")
        store.push(Step(label=label, before=store.revision, after=_sha(data),
                        author=author, time=time.time()), data)
        return store.result(new, label)


def undo(folder: str | Path, *, base: str | None, author: str = "") -> EditResult:
    """Put back the version before the last applied step (byte for byte)."""
    with _Store.open(folder) as store:
        store.require(base)
        if not store.position:
            raise NothingToUndo(f"{store.file}: nothing to undo")
        step = store.steps[store.position - 1]
        store.move(-1, step.before)
        return store.result(None, f"undo: {step.label}")


def redo(folder: str | Path, *, base: str | None, author: str = "") -> EditResult:
    """Apply again the step last undone (byte for byte)."""
    with _Store.open(folder) as store:
        store.require(base)
        if store.position >= len(store.steps):
            raise NothingToUndo(f"{store.file}: nothing to redo")
        step = store.steps[store.position]
        store.move(+1, step.after)
        return store.result(None, f"redo: {step.label}")


# -- the store ----------------------------------------------------------------------------------


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read(file: Path) -> bytes:
    try:
        return file.read_bytes()
    except FileNotFoundError:
        raise FormatError(f"{file}: no such file", file) from None
    except OSError as exc:
        raise FormatError(f"{file}: cannot read ({exc.strerror or exc})", file) from None


def _root(folder: str | Path) -> Path:
    return project_file_path(folder).absolute().parent


class _Store:
    """The history of one project, read and written under an exclusive file lock."""

    def __init__(self, file: Path, folder: Path) -> None:
        self.file = file
        self.folder = folder
        self.log = folder / "log.json"
        self.steps: list[Step] = []
        self.position = 0
        self.origin = ""
        self.revision = ""

    @classmethod
    @contextlib.contextmanager
    def open(cls, folder: str | Path) -> Iterator[_Store]:
        file = project_file_path(folder).absolute()
        if not file.is_file():
            open_project(folder)  # raises the loader's one-line message
        store = cls(file, file.parent / HISTORY_DIR)
        (store.folder / "snapshots").mkdir(parents=True, exist_ok=True)
        with open(store.folder / "lock", "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                store._load()
                store._sync()
                yield store
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    # -- state

    def _load(self) -> None:
        try:
            raw: dict[str, Any] = json.loads(self.log.read_text(encoding="utf-8"))
            self.steps = [Step(**s) for s in raw["steps"]]
            self.position = int(raw["position"])
            self.origin = str(raw["origin"])
            if not 0 <= self.position <= len(self.steps):
                raise ValueError("position out of range")
        except FileNotFoundError:
            pass
        except (ValueError, KeyError, TypeError) as exc:
            raise MixdownError(f"{self.log}: the edit history is damaged ({exc}); move it "
                               "away to start a new history") from None

    def _save(self) -> None:
        drop = max(0, len(self.steps) - MAX_STEPS)
        if drop:
            self.origin = self.steps[drop - 1].after
            self.steps = self.steps[drop:]
            self.position -= drop
        payload = {"origin": self.origin, "position": self.position,
                   "steps": [asdict(s) for s in self.steps]}
        with atomic_path(self.log) as tmp:
            tmp.write_text(json.dumps(payload, indent=1), encoding="utf-8")

    def _expected(self) -> str:
        return self.steps[self.position - 1].after if self.position else self.origin

    def _snapshot(self, data: bytes) -> str:
        rev = _sha(data)
        path = self.folder / "snapshots" / f"{rev}.toml"
        if not path.exists():
            with atomic_path(path) as tmp:
                tmp.write_bytes(data)
        return rev

    def _sync(self) -> None:
        """Record song.toml's current bytes: the origin, or an outside edit as a step."""
        data = _read(self.file)
        self.revision = self._snapshot(data)
        if not self.origin:
            self.origin = self.revision
            self._save()
        elif self.revision != self._expected():
            self._append(Step(label=EXTERNAL, before=self._expected(), after=self.revision,
                              kind="external", time=time.time()))
            self._save()

    def _append(self, step: Step) -> None:
        del self.steps[self.position:]
        self.steps.append(step)
        self.position += 1

    # -- operations

    def require(self, base: str | None) -> None:
        if base is not None and base != self.revision:
            raise EditConflict(f"{self.file}: song.toml changed since this page loaded it "
                               "(another tab or an editor); reload to see the change")

    def _write(self, data: bytes) -> None:
        mode = self.file.stat().st_mode & 0o777
        with atomic_path(self.file) as tmp:
            tmp.write_bytes(data)
            os.chmod(tmp, mode)
        self.revision = _sha(data)

    def push(self, step: Step, data: bytes) -> None:
        self._snapshot(data)
        self._write(data)
        self._append(step)
        self._save()

    def move(self, by: int, revision: str) -> None:
        self._write(snapshot_bytes(self.file, revision))
        self.position += by
        self._save()

    def view(self) -> History:
        return History(list(self.steps), self.position, self.revision)

    def result(self, project: Project | None, label: str, *, changed: bool = True
               ) -> EditResult:
        if project is None:
            try:
                pf = open_project(self.file)
                project = remember_root(pf.project, pf.root)
            except MixdownError:
                project = None
        return EditResult(self.revision, project, label, self.position, changed, self.view())
