"""A gain hint from a previous master of the same song: one limiter pass on a re-render.

Mastering by measurement needs two limiter passes at least: one at ``target - input``
to learn what the limiter takes away, one at the corrected gain that is written. A
re-render after a small edit lands at almost the same place, so the gain kept last
time, moved by the change in input loudness, is a good first guess: when that first
pass is within tolerance it is the master, and the re-render needs one pass, not two.

:class:`MasterHint` is what :func:`~mixdown.mastering.normalize.run_master_plan` takes;
:func:`read_master_hint` and :func:`write_master_hint` keep one in a small JSON file
(by convention :func:`hint_path`: ``<project>/.mixdown/master-hint.json``). A hint file
that is missing, unreadable, malformed or for another target is ignored (None), never
an error: the worst a stale hint can cost is the pass it was meant to save.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mixdown.core.files import atomic_path

HINT_VERSION = 1
"""Format version of the hint file; a file of another version is ignored."""
HINT_FILE = Path(".mixdown") / "master-hint.json"
"""Where a project keeps its hint, relative to the project folder."""
_MATCH_DB = 1e-6  # target and ceiling must match to this (they are typed by the user)


@dataclass(frozen=True, slots=True)
class MasterHint:
    """The gain (dB) a previous master kept, and the input loudness (LUFS) it was found at.

    ``target_lufs`` and ``ceiling_dbtp`` say which target it was for: a hint for another
    target or ceiling is not used (None: not checked).

    Examples
    --------
    >>> MasterHint(input_lufs=-20.0, gain_db=7.5).gain_for(-20.5)
    8.0
    """

    input_lufs: float
    gain_db: float
    target_lufs: float | None = None
    ceiling_dbtp: float | None = None

    @classmethod
    def from_result(cls, result: Any) -> MasterHint:
        """The hint a :class:`~mixdown.mastering.normalize.MasterResult` leaves."""
        return cls(float(result.input_lufs), float(result.gain_db),
                   float(result.target_lufs), float(result.ceiling_dbtp))

    def gain_for(self, input_lufs: float) -> float:
        """First gain to try (dB) for an input at ``input_lufs`` LUFS."""
        return self.gain_db + (self.input_lufs - input_lufs)

    def fits(self, target_lufs: float, ceiling_dbtp: float) -> bool:
        """True if the hint is usable (finite) for this target and ceiling."""
        if not (math.isfinite(self.input_lufs) and math.isfinite(self.gain_db)):
            return False
        for mine, theirs in ((self.target_lufs, target_lufs),
                             (self.ceiling_dbtp, ceiling_dbtp)):
            if mine is not None and not abs(mine - theirs) <= _MATCH_DB:
                return False
        return True


def hint_path(project_root: str | Path) -> Path:
    """The hint file of the project in ``project_root``: ``.mixdown/master-hint.json``."""
    return Path(project_root) / HINT_FILE


def read_master_hint(path: str | Path, target_lufs: float | None = None,
                     ceiling_dbtp: float | None = None) -> MasterHint | None:
    """The hint stored at ``path``, or None if there is none that is usable.

    Parameters
    ----------
    path : Path
        The hint file (see :func:`hint_path`).
    target_lufs, ceiling_dbtp : float, optional
        When given, a hint stored for another target (LUFS) or ceiling (dBTP) is None.

    Returns
    -------
    MasterHint or None
        None for a missing, unreadable, malformed, other-version or other-target file;
        this function never raises for what is in the file.
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("version") != HINT_VERSION:
            return None
        values = [data.get(k) for k in ("input_lufs", "gain_db", "target_lufs",
                                         "ceiling_dbtp")]
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
            return None
        hint = MasterHint(*(float(v) for v in values))
    except (OSError, ValueError, TypeError):
        return None
    if not hint.fits(hint.target_lufs if target_lufs is None else target_lufs,
                     hint.ceiling_dbtp if ceiling_dbtp is None else ceiling_dbtp):
        return None
    return hint


def write_master_hint(path: str | Path, hint: MasterHint) -> None:
    """Store ``hint`` at ``path`` atomically (its folder is created if missing).

    A hint without a finite gain, input loudness, target and ceiling is not stored.
    """
    values = (hint.input_lufs, hint.gain_db, hint.target_lufs, hint.ceiling_dbtp)
    if not all(v is not None and math.isfinite(v) for v in values):
        return
    dest = Path(path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    data = {"version": HINT_VERSION, "input_lufs": hint.input_lufs, "gain_db": hint.gain_db,
            "target_lufs": hint.target_lufs, "ceiling_dbtp": hint.ceiling_dbtp}
    with atomic_path(dest) as tmp:
        tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


__all__ = ["HINT_FILE", "HINT_VERSION", "MasterHint", "hint_path", "read_master_hint",
           "write_master_hint"]
