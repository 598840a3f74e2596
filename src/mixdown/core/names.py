"""Did-you-mean hints for unknown names (one helper for every message that offers one)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping

SYNONYMS: Mapping[str, str] = {
    "bpm": "tempo", "volume": "volume_db", "gain": "gain_db", "vol": "volume_db",
    "tracks": "track", "buses": "bus", "busses": "bus", "markers": "marker",
    "effects": "devices", "inserts": "devices", "offset": "offset_s",
    "fade_in": "fade_in_s", "fade_out": "fade_out_s", "samplerate": "sample_rate",
    "audio": "file",
}
"""Words people write for a known key (``bpm`` for ``tempo``)."""


def close_matches(name: str, known: Iterable[str], *, n: int = 2,
                  cutoff: float = 0.6) -> list[str]:
    """The known names closest to ``name`` (a synonym first), best first."""
    options = list(known)
    alias = SYNONYMS.get(name)
    if alias in options:
        return [alias]  # type: ignore[list-item]
    return difflib.get_close_matches(name, options, n=n, cutoff=cutoff)


def closest(name: str, known: Iterable[str], *, n: int = 2, cutoff: float = 0.6,
            list_known: bool = True) -> str:
    """A hint to append to a message: ``"; did you mean 'tempo'?"``.

    Without a close match the hint lists the known names (``"; known: a, b"``) when
    ``list_known`` is set, else it is empty.
    """
    options = list(known)
    match = close_matches(name, options, n=n, cutoff=cutoff)
    if match:
        return "; did you mean " + " or ".join(repr(m) for m in match) + "?"
    if list_known and options:
        return f"; known: {', '.join(options)}"
    return ""
