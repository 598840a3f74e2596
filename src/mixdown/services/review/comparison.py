"""Comparisons at matched loudness, song diffs and platform previews."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from mixdown.review.diff import Change, diff_projects
from mixdown.review.timing import parse_snapshot
from mixdown.services.review.references import Reference
from mixdown.services.review.studio import Studio
from mixdown.services.review.versions import Version


@dataclass(frozen=True, slots=True)
class Side:
    """One side of a comparison: a version or a reference, and the gain that matches it."""

    kind: Literal["version", "reference"]
    label: str
    id: int
    integrated_lufs: float | None
    true_peak_dbtp: float | None
    loudness_range_lu: float | None
    gain_db: float

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {"kind": self.kind, "label": self.label, "id": self.id,
                "integrated_lufs": self.integrated_lufs, "true_peak_dbtp": self.true_peak_dbtp,
                "loudness_range_lu": self.loudness_range_lu, "gain_db": self.gain_db}


@dataclass(frozen=True, slots=True)
class Comparison:
    """Two takes at the same loudness.

    Attributes
    ----------
    a, b : Side
        Each side with ``gain_db``: the gain (dB, to 0.1 dB) that brings it to
        ``matched_lufs``. The louder one is turned down to the quieter one (never up, so
        nothing clips on playback).
    matched_lufs : float or None
        The loudness both play at (None if either is silent: gains are then 0).
    loudness_difference_db : float or None
        ``b - a`` integrated loudness, LU.
    true_peak_difference_db, loudness_range_difference_lu : float or None
        ``b - a``.
    changes : list of Change
        What changed in the song between two versions (``a`` to ``b``); empty against a
        reference.
    """

    a: Side
    b: Side
    matched_lufs: float | None
    loudness_difference_db: float | None
    true_peak_difference_db: float | None
    loudness_range_difference_lu: float | None
    changes: tuple[Change, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {"a": self.a.as_dict(), "b": self.b.as_dict(), "matched_lufs": self.matched_lufs,
                "loudness_difference_db": self.loudness_difference_db,
                "true_peak_difference_db": self.true_peak_difference_db,
                "loudness_range_difference_lu": self.loudness_range_difference_lu,
                "changes": [c.as_dict() for c in self.changes]}


@dataclass(frozen=True, slots=True)
class PlatformPreview:
    """How a streaming platform would play a version.

    Attributes
    ----------
    platform : str
        Target name (``spotify``...).
    target_lufs : float
        The platform's normalisation level, LUFS.
    gain_db : float
        Gain the platform applies (to 0.1 dB): ``target - integrated``, or 0 for silence.
    plays_at_lufs : float or None
        Loudness after that gain.
    true_peak_after_dbtp : float or None
        True peak after that gain (above 0 dBTP: the platform would limit or clip).
    """

    platform: str
    target_lufs: float
    gain_db: float
    plays_at_lufs: float | None
    true_peak_after_dbtp: float | None

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {"platform": self.platform, "target_lufs": self.target_lufs,
                "gain_db": self.gain_db, "plays_at_lufs": self.plays_at_lufs,
                "true_peak_after_dbtp": self.true_peak_after_dbtp}


def _side(item: Version | Reference, gain: float) -> Side:
    if isinstance(item, Version):
        return Side("version", item.label, item.number, item.integrated_lufs,
                    item.true_peak_dbtp, item.loudness_range_lu, gain)
    return Side("reference", item.name, item.id, item.integrated_lufs, item.true_peak_dbtp,
                item.loudness_range_lu, gain)


def _diff(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else round(b - a, 2)


def compare(studio: Studio, a: Version, b: Version | Reference) -> Comparison:
    """Compare version ``a`` with a version or reference ``b`` at the same loudness.

    Each side's ``gain_db`` brings it to the quieter side's integrated loudness (to 0.1 dB);
    between two versions, ``changes`` lists what changed in the song.
    """
    la, lb = a.integrated_lufs, b.integrated_lufs
    if la is None or lb is None:
        matched, ga, gb = None, 0.0, 0.0
    else:
        matched = min(la, lb)
        ga, gb = round(matched - la, 1) + 0.0, round(matched - lb, 1) + 0.0
    changes: tuple[Change, ...] = ()
    if isinstance(b, Version) and a.song == b.song:
        changes = tuple(diff_versions(a, b))
    return Comparison(
        a=_side(a, ga), b=_side(b, gb),
        matched_lufs=None if matched is None else round(matched, 2),
        loudness_difference_db=_diff(la, lb),
        true_peak_difference_db=_diff(a.true_peak_dbtp, b.true_peak_dbtp),
        loudness_range_difference_lu=_diff(a.loudness_range_lu, b.loudness_range_lu),
        changes=changes)


def diff_versions(old: Version, new: Version) -> list[Change]:
    """What changed in the song from ``old`` to ``new`` (their song.toml snapshots)."""
    return diff_projects(parse_snapshot(old.song_toml, f"{old.song} {old.label}"),
                         parse_snapshot(new.song_toml, f"{new.song} {new.label}"))


def platform_preview_gain(version: Version | Reference, platform: str) -> PlatformPreview:
    """How ``platform`` (a row of :mod:`mixdown.core.targets`) would play ``version``: the
    normalisation gain (dB, to 0.1 dB) bringing it to the platform's level.

    Raises
    ------
    ParameterError
        Unknown platform (the message lists the known ones).
    """
    from mixdown.core.targets import get_target

    target = get_target(platform)
    lufs = version.integrated_lufs
    if lufs is None:
        return PlatformPreview(target.name, target.lufs, 0.0, None, version.true_peak_dbtp)
    gain = round(target.lufs - lufs, 1) + 0.0
    tp = version.true_peak_dbtp
    return PlatformPreview(target.name, target.lufs, gain, round(lufs + gain, 2),
                           None if tp is None else round(tp + gain, 2))
