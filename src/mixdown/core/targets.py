"""Loudness targets: the one editable table of platform specs, with project overrides.

Every number a platform asks for lives here: the mastering chain, ``mixdown analyze
--target``, the QC report, the loader's ``[master] target`` check and ``deliver`` all read
this table. Each row says where its numbers come from. A project may add or change rows
in a ``targets.toml`` beside its ``song.toml``::

    [targets.spotify]          # change a shipped row (only the fields given)
    ceiling_dbtp = -2.0

    [targets.label-loud]       # add a row
    lufs = -9.0
    ceiling_dbtp = -1.0
    tolerance_lu = 0.5
    note = "what the label asked for, 2026-03"

A target can also be a bare number in LUFS (``-14``): its ceiling is -1 dBTP.
:func:`evaluate` compares measured figures with a target (the pass/fail table).
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from mixdown.core.errors import FormatError, ParameterError
from mixdown.core.names import closest

DEFAULT_NUMERIC_CEILING_DBTP = -1.0
"""Ceiling for a target given as a number (issue 4; the common streaming advice)."""
DEFAULT_TOLERANCE_LU = 1.0
"""How far integrated loudness may sit from a target and still pass (streaming: no
published tolerance; 1 LU is the usual QC allowance)."""
MIN_TARGET_LUFS = -70.0
MAX_TARGET_LUFS = 0.0
MIN_CEILING_DBTP = -30.0
MAX_CEILING_DBTP = 0.0
TARGETS_FILE = "targets.toml"
"""A project's target overrides, beside its song.toml."""


@dataclass(frozen=True, slots=True)
class Target:
    """A delivery loudness spec.

    Attributes
    ----------
    name : str
        Preset name (``spotify``) or ``"-14 LUFS"`` for a number.
    lufs : float
        Integrated loudness target, LUFS (BS.1770-4).
    ceiling_dbtp : float
        True-peak ceiling, dBTP.
    sample_rate : int or None
        Required sample rate in Hz (None: keep the master's).
    bit_depth : int or None
        Required PCM bit depth (None: keep the master's).
    note : str
        Where the numbers come from.
    tolerance_lu : float
        Integrated loudness passes QC within this many LU of ``lufs``.
    """

    name: str
    lufs: float
    ceiling_dbtp: float
    sample_rate: int | None = None
    bit_depth: int | None = None
    note: str = ""
    tolerance_lu: float = DEFAULT_TOLERANCE_LU

    def as_dict(self) -> dict[str, Any]:
        """Plain dict for JSON and reports."""
        return {"name": self.name, "lufs": self.lufs, "ceiling_dbtp": self.ceiling_dbtp,
                "sample_rate": self.sample_rate, "bit_depth": self.bit_depth,
                "note": self.note, "tolerance_lu": self.tolerance_lu}


# The one table. Edit here; keep a note with the source of every number.
TARGETS: tuple[Target, ...] = (
    Target("spotify", -14.0, -1.0, note=(
        "Spotify for Artists, 'Loudness normalization': playback is normalised to -14 LUFS "
        "integrated; masters should stay below -1 dBTP (-2 dBTP if louder than -14 LUFS) "
        "to avoid distortion after transcoding.")),
    Target("apple-music", -16.0, -1.0, note=(
        "Apple Music Sound Check normalises to about -16 LUFS; Apple's Digital Masters "
        "guidelines ask for true peaks no higher than -1 dBTP.")),
    Target("youtube", -14.0, -1.0, note=(
        "YouTube turns loud uploads down to about -14 LUFS integrated (measured "
        "behaviour; no published spec); -1 dBTP for the AAC/Opus encode.")),
    Target("amazon-music", -14.0, -2.0, note=(
        "Amazon Music normalises to -14 LUFS; its delivery guidance asks for -2 dBTP "
        "true peak.")),
    Target("tidal", -14.0, -1.0, note=(
        "TIDAL normalises to -14 LUFS integrated (album or track); -1 dBTP advised.")),
    Target("deezer", -15.0, -1.0, note=(
        "Deezer normalises to -15 LUFS integrated; -1 dBTP advised.")),
    Target("ebu-r128", -23.0, -1.0, note=(
        "EBU R 128 (2020): programme loudness -23.0 LUFS (+-0.5 LU), maximum true peak "
        "-1 dBTP; measured per ITU-R BS.1770-4."), tolerance_lu=0.5),
    Target("atsc-a85", -24.0, -2.0, note=(
        "ATSC A/85:2013 (US television): -24 LKFS (+-2 dB) dialogue-anchored loudness, "
        "true peak at or below -2 dBTP."), tolerance_lu=2.0),
    Target("cd", -10.0, -0.3, sample_rate=44_100, bit_depth=16, note=(
        "Red Book CD audio is 16-bit/44.1 kHz and has no loudness norm; -10 LUFS is a "
        "loud modern CD master, -0.3 dBTP keeps intersample overs off consumer DACs.")),
)

_NUMBER = re.compile(r"^\s*[-+]?\d+(\.\d+)?\s*(lufs|lkfs)?\s*$", re.IGNORECASE)


class TargetTable:
    """The shipped :data:`TARGETS` plus overrides (a project's ``targets.toml``).

    Parameters
    ----------
    overrides : mapping of name -> mapping, optional
        Per name: any of ``lufs``, ``ceiling_dbtp``, ``sample_rate``, ``bit_depth``,
        ``tolerance_lu``, ``note``. A new name needs ``lufs`` and ``ceiling_dbtp``.
    source : str
        Where the overrides came from, for error messages.
    """

    def __init__(self, overrides: Mapping[str, Mapping[str, Any]] | None = None, *,
                 source: str = "overrides") -> None:
        self.rows: dict[str, Target] = {t.name: t for t in TARGETS}
        for name, fields in (overrides or {}).items():
            self.rows[name] = _override(self.rows.get(name), name, fields, source)

    @classmethod
    def from_project(cls, project_dir: str | Path | None) -> TargetTable:
        """The table with ``project_dir/targets.toml`` applied, if the file exists."""
        if project_dir is None:
            return cls()
        folder = Path(project_dir)
        if folder.is_file():
            folder = folder.parent
        path = folder / TARGETS_FILE
        if not path.exists():
            return cls()
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise FormatError(f"{path}: not valid TOML ({exc})", path) from exc
        table = data.get("targets", {})
        if not isinstance(table, dict) or any(not isinstance(v, dict) for v in table.values()):
            raise FormatError(
                f"{path}: expected [targets.NAME] tables, e.g. [targets.spotify] "
                "ceiling_dbtp = -2.0", path)
        return cls(table, source=str(path))

    def names(self) -> list[str]:
        """Every preset name, in table order."""
        return list(self.rows)

    def get(self, name: str) -> Target:
        """The preset called ``name`` (case-insensitive); suggests close names."""
        key = name.strip().lower()
        for row_name, row in self.rows.items():
            if row_name.lower() == key:
                return row
        hint = closest(key, self.names(), n=3, cutoff=0.5, list_known=False)
        raise ParameterError(
            f"unknown target {name!r}{hint} (presets: {', '.join(self.names())}; or give a "
            "number in LUFS such as -14)"
        )

    def resolve(self, target: str | float | Target, *,
                ceiling_dbtp: float | None = None) -> Target:
        """A preset name or a number in LUFS, with an optional ceiling override.

        Parameters
        ----------
        target : str, float or Target
            ``"spotify"``, ``"-14"``, ``"-14 LUFS"``, ``-14.0`` or a :class:`Target`
            (returned as it is, bar the ceiling override).
        ceiling_dbtp : float, optional
            Overrides the preset's ceiling (a number's default is -1 dBTP).

        Returns
        -------
        Target
        """
        if isinstance(target, bool):
            raise ParameterError(f"target must be a preset name or LUFS, got {target!r}")
        if isinstance(target, Target):
            return target if ceiling_dbtp is None else replace(
                target, ceiling_dbtp=check_ceiling(ceiling_dbtp))
        if isinstance(target, int | float) or (isinstance(target, str)
                                               and _NUMBER.match(target)):
            value = float(re.sub(r"(?i)\s*(lufs|lkfs)\s*$", "", str(target)))
            lufs = check_target_lufs(value)
            ceiling = check_ceiling(DEFAULT_NUMERIC_CEILING_DBTP if ceiling_dbtp is None
                                    else ceiling_dbtp)
            return Target(f"{lufs:g} LUFS", lufs, ceiling, note="given as a number")
        if not isinstance(target, str):
            raise ParameterError(f"target must be a preset name or LUFS, got {target!r}")
        row = self.get(target)
        if ceiling_dbtp is not None:
            row = replace(row, ceiling_dbtp=check_ceiling(ceiling_dbtp))
        return row


def resolve_target(target: str | float | Target, *, ceiling_dbtp: float | None = None,
                   project_dir: str | Path | None = None) -> Target:
    """Shortcut for ``TargetTable.from_project(project_dir).resolve(target, ...)``.

    Examples
    --------
    >>> resolve_target("spotify").lufs
    -14.0
    >>> resolve_target("-16", ceiling_dbtp=-2.0).ceiling_dbtp
    -2.0
    """
    return TargetTable.from_project(project_dir).resolve(target, ceiling_dbtp=ceiling_dbtp)


def get_target(target: str | float | Target, *, ceiling_dbtp: float | None = None,
               project_dir: str | Path | None = None) -> Target:
    """Alias of :func:`resolve_target` (the name the render service uses)."""
    return resolve_target(target, ceiling_dbtp=ceiling_dbtp, project_dir=project_dir)


_FIELDS = {"lufs", "ceiling_dbtp", "sample_rate", "bit_depth", "tolerance_lu", "note"}


def _override(base: Target | None, name: str, fields: Mapping[str, Any], source: str) -> Target:
    where = f"{source}: [targets.{name}]"
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name):
        raise ParameterError(f"{where}: a target name is letters, digits, '-', '_' or '.'")
    unknown = set(fields) - _FIELDS
    if unknown:
        raise ParameterError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}; "
                             f"use {', '.join(sorted(_FIELDS))}")
    if base is None:
        missing = {"lufs", "ceiling_dbtp"} - set(fields)
        if missing:
            raise ParameterError(f"{where}: a new target needs {' and '.join(sorted(missing))}")
        base = Target(name, math.nan, math.nan)
    values: dict[str, Any] = {}
    try:
        if "lufs" in fields:
            values["lufs"] = check_target_lufs(fields["lufs"])
        if "ceiling_dbtp" in fields:
            values["ceiling_dbtp"] = check_ceiling(fields["ceiling_dbtp"])
    except ParameterError as exc:
        raise ParameterError(f"{where}: {exc}") from exc
    if "sample_rate" in fields:
        sr = fields["sample_rate"]
        if not isinstance(sr, int) or isinstance(sr, bool) or not 8000 <= sr <= 768_000:
            raise ParameterError(f"{where}: sample_rate must be a whole number of Hz, got {sr!r}")
        values["sample_rate"] = sr
    if "bit_depth" in fields:
        bits = fields["bit_depth"]
        if bits not in (16, 24, 32) or isinstance(bits, bool):
            raise ParameterError(f"{where}: bit_depth must be 16, 24 or 32, got {bits!r}")
        values["bit_depth"] = bits
    if "tolerance_lu" in fields:
        tol = fields["tolerance_lu"]
        if isinstance(tol, bool) or not isinstance(tol, int | float) \
                or not 0.0 < float(tol) <= 10.0:
            raise ParameterError(f"{where}: tolerance_lu must be a number of LU in (0, 10], "
                                 f"got {tol!r}")
        values["tolerance_lu"] = float(tol)
    if "note" in fields:
        values["note"] = str(fields["note"])
    return replace(base, **values)


def check_target_lufs(target_lufs: float) -> float:
    """Return ``target_lufs`` (LUFS) as a float or raise :class:`ParameterError`."""
    if isinstance(target_lufs, bool) or not isinstance(target_lufs, int | float) \
            or not math.isfinite(target_lufs):
        raise ParameterError(f"target loudness must be a finite number in LUFS, got "
                             f"{target_lufs!r}")
    if not MIN_TARGET_LUFS <= target_lufs <= MAX_TARGET_LUFS:
        raise ParameterError(
            f"target loudness {target_lufs:g} LUFS is outside {MIN_TARGET_LUFS:g}..."
            f"{MAX_TARGET_LUFS:g}; streaming targets are about -14 (spotify), broadcast "
            "-23 (ebu-r128)"
        )
    return float(target_lufs)


def check_ceiling(ceiling_dbtp: float) -> float:
    """Return ``ceiling_dbtp`` as a float or raise :class:`ParameterError` naming the fix."""
    if isinstance(ceiling_dbtp, bool) or not isinstance(ceiling_dbtp, int | float):
        raise ParameterError(f"ceiling_dbtp must be a number in dBTP, got {ceiling_dbtp!r}")
    value = float(ceiling_dbtp)
    if not math.isfinite(value):
        raise ParameterError(f"ceiling_dbtp must be finite, got {ceiling_dbtp!r}")
    if value > MAX_CEILING_DBTP:
        raise ParameterError(
            f"a true-peak ceiling above 0 dBTP ({value:g}) would let the master clip on "
            "playback; use a ceiling at or below 0, e.g. -1.0"
        )
    if value < MIN_CEILING_DBTP:
        raise ParameterError(
            f"ceiling_dbtp {value:g} is below {MIN_CEILING_DBTP:g} dBTP; that is a level, "
            "not a ceiling (lower the gain instead)"
        )
    return value


@dataclass(frozen=True, slots=True)
class Check:
    """One row of a compliance table: what was measured against what was asked."""

    name: str
    measured: float
    limit: str
    passed: bool


def evaluate(integrated_lufs: float, true_peak_dbtp: float, target: Target) -> list[Check]:
    """Compare measured loudness (LUFS) and true peak (dBTP) with ``target``.

    Integrated loudness passes within ``target.tolerance_lu`` of ``target.lufs``; the true
    peak passes at or below ``target.ceiling_dbtp``. Silence (``-inf``) fails loudness.
    """
    loud_ok = math.isfinite(integrated_lufs) and \
        abs(integrated_lufs - target.lufs) <= target.tolerance_lu + 1e-9
    peak_ok = true_peak_dbtp <= target.ceiling_dbtp + 1e-9
    return [
        Check("integrated loudness (LUFS)", integrated_lufs,
              f"{target.lufs:g} \u00b1 {target.tolerance_lu:g}", loud_ok),
        Check("true peak (dBTP)", true_peak_dbtp, f"\u2264 {target.ceiling_dbtp:g}", peak_ok),
    ]


__all__ = [
    "DEFAULT_NUMERIC_CEILING_DBTP", "DEFAULT_TOLERANCE_LU", "MAX_CEILING_DBTP",
    "MAX_TARGET_LUFS", "MIN_CEILING_DBTP", "MIN_TARGET_LUFS", "TARGETS", "TARGETS_FILE",
    "Check", "Target", "TargetTable", "check_ceiling", "check_target_lufs", "evaluate",
    "get_target", "resolve_target",
]
