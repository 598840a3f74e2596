"""Delivery loudness targets by platform (integrated LUFS and true-peak ceiling).

One small table, kept as data so it can move to ``mixdown.mastering.targets`` when the
mastering chain owns it. Values are the published normalisation references.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from mixdown.core.errors import ParameterError


@dataclass(frozen=True, slots=True)
class Target:
    """A loudness target: integrated ``lufs`` and the true-peak ``ceiling_dbtp``."""

    name: str
    lufs: float
    ceiling_dbtp: float
    note: str = ""
    tolerance_lu: float = 1.0


TARGETS: dict[str, Target] = {
    t.name: t
    for t in (
        Target("spotify", -14.0, -1.0, "Spotify loudness normalisation (default level)"),
        Target("apple-music", -16.0, -1.0, "Apple Music Sound Check"),
        Target("youtube", -14.0, -1.0, "YouTube playback normalisation"),
        Target("amazon-music", -14.0, -2.0, "Amazon Music"),
        Target("tidal", -14.0, -1.0, "TIDAL"),
        Target("deezer", -15.0, -1.0, "Deezer"),
        Target("ebu-r128", -23.0, -1.0, "EBU R 128 broadcast, +-0.5 LU in production",
               tolerance_lu=0.5),
        Target("atsc-a85", -24.0, -2.0, "ATSC A/85 (US broadcast), +-2 LU", tolerance_lu=2.0),
        Target("cd", -10.0, -0.3, "loud CD master (no normalisation; a convention, not a spec)"),
    )
}


def resolve_target(spec: str | float | Target) -> Target:
    """A :class:`Target` from a platform name (``spotify``) or a LUFS number (``-16``).

    A bare number keeps a -1 dBTP ceiling.

    Raises
    ------
    ParameterError
        For an unknown name or a number outside -70..0 LUFS; the message lists the names.
    """
    if isinstance(spec, Target):
        return spec
    if isinstance(spec, int | float) and not isinstance(spec, bool):
        value = float(spec)
    else:
        text = str(spec).strip().lower()
        if text in TARGETS:
            return TARGETS[text]
        try:
            value = float(text.removesuffix("lufs").strip())
        except ValueError:
            raise ParameterError(
                f"unknown loudness target {spec!r}; use one of {', '.join(TARGETS)} "
                "or a number in LUFS such as -16"
            ) from None
    if not math.isfinite(value) or not -70.0 <= value <= 0.0:
        raise ParameterError(f"loudness target must be -70..0 LUFS or one of "
                             f"{', '.join(TARGETS)}; got {spec!r}")
    return Target(f"{value:g} LUFS", value, -1.0, "custom target")


@dataclass(frozen=True, slots=True)
class Check:
    """One row of a compliance table: what was measured against what was asked."""

    name: str
    measured: float
    limit: str
    passed: bool


def evaluate(integrated_lufs: float, true_peak_dbtp: float, target: Target) -> list[Check]:
    """Compare measured loudness and true peak with ``target``.

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
