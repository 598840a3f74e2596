"""The server's handle on the review studio (:mod:`mixdown.services.review`)."""

from __future__ import annotations

import importlib
import threading
from typing import Any

from mixdown.server.config import ServeConfig

#: The streaming platforms offered in the platform preview (rows of the targets table).
PREVIEW_PLATFORMS = ("spotify", "apple-music", "youtube", "amazon-music", "tidal", "deezer")
#: Points of the waveform drawn on a version page (at most).
WAVEFORM_POINTS = 4000


class _LazyReview:
    """``mixdown.services.review``, imported on first use (it is the slow part of start-up:
    the server listens first)."""

    def __getattr__(self, name: str) -> Any:
        return getattr(importlib.import_module("mixdown.services.review"), name)


review: Any = _LazyReview()


class StudioHolder:
    """The review studio of a server, opened in a background thread.

    Importing the review service (the analysis kernels, the database layer) and migrating
    the database take seconds on a busy machine; the server listens at once and requests
    wait in :meth:`get` until the studio is open. The newest version of every song then has
    its peaks and loudness curve loaded, so a first visit draws its waveform at once.
    """

    def __init__(self, config: ServeConfig) -> None:
        self.config = config
        self._ready = threading.Event()
        self._studio: Any = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._open, name="mixdown-studio-open",
                                        daemon=True)
        self._thread.start()

    def _open(self) -> None:
        try:
            self._studio = review.open_studio(self.config.folder, self.config.database_url)
        except BaseException as exc:
            self._error = exc
        finally:
            self._ready.set()
        if self._studio is not None:
            self._prewarm()

    def _prewarm(self) -> None:
        """Load the newest version's peaks and curve of each song (errors left for later)."""
        try:
            for song in review.list_songs(self._studio):
                if song.last_version is None:
                    continue
                version = review.get_version(self._studio, song.name, song.last_version)
                review.peaks(self._studio, version, waveform_points_per_second(version))
                review.loudness_curve(self._studio, version)
        except Exception:  # a broken song shows its own error when visited
            return

    def wait(self, timeout: float | None = None) -> BaseException | None:
        """Wait until the studio is open (or failed to); the error, if any."""
        self._ready.wait(timeout)
        return self._error

    def get(self) -> Any:
        """The open ``services.review.Studio`` (waits for it; raises its opening error)."""
        self._ready.wait()
        if self._error is not None:
            raise self._error
        return self._studio

    def close(self) -> None:
        """Close the database (once it is open)."""
        self._ready.wait()
        if self._studio is not None:
            self._studio.close()


def waveform_points_per_second(version: Any) -> float:
    """Waveform resolution drawn on a page: at most :data:`WAVEFORM_POINTS` points, at most
    200 per second."""
    return max(1.0, min(200.0, WAVEFORM_POINTS / max(version.duration_s, 1e-3)))


def bar_grid(studio: Any, version: Any) -> list[dict[str, float]]:
    """Every bar's start in ``version``'s audio: ``{"bar", "seconds", "beat_s", "beats"}``
    (seconds; from the version's own tempo map, cached by the review service)."""
    return [b.as_dict() for b in review.bar_grid(studio, version)]
