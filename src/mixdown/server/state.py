"""The server's handle on the review studio (:mod:`mixdown.services.review`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mixdown.server.config import ServeConfig
from mixdown.services import review

#: The streaming platforms offered in the platform preview (rows of the targets table).
PREVIEW_PLATFORMS = ("spotify", "apple-music", "youtube", "amazon-music", "tidal", "deezer")


@dataclass
class Studio:
    """The open review studio of a server and its config."""

    config: ServeConfig
    studio: Any  # services.review.Studio

    @classmethod
    def open(cls, config: ServeConfig) -> Studio:
        """Open (and migrate) the studio database over ``config.folder``."""
        return cls(config=config,
                   studio=review.open_studio(config.folder, config.database_url))

    def close(self) -> None:
        """Close the database."""
        self.studio.close()


def bar_grid(studio: Any, version: Any) -> list[dict[str, float]]:
    """Every bar's start in ``version``'s audio: ``{"bar", "seconds", "beat_s"}``.

    ``beat_s`` is the length of one beat of that bar (seconds), from the version's own
    tempo map (its song.toml snapshot).
    """
    timing = _timing(studio, version)
    grid = []
    bar = 1
    while True:
        start = timing.seconds(bar, 1.0)
        if start > version.duration_s or bar > 100_000:
            break
        beats = timing.meter.signature_at_bar(bar).beats_per_bar
        end = timing.seconds(bar + 1, 1.0)
        grid.append({"bar": bar, "seconds": round(start, 4),
                     "beat_s": round((end - start) / beats, 5)})
        bar += 1
    return grid


def _timing(studio: Any, version: Any) -> Any:
    """The version's SongTiming (the review service's own, cached there)."""
    public = getattr(review, "version_timing", None)
    if public is not None:
        return public(studio, version)
    return review._timing(studio, version)  # until the review API names it publicly
