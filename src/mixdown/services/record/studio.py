"""Recording in the web studio: the record page's data, takes recorded into a song of the
studio, and latency calibration stored per user and input device in the studio's store."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np

from mixdown.review.errors import UnsupportedUpload, UploadTooLarge
from mixdown.review.places import song_folder
from mixdown.services.record.latency import (
    LatencyMeasurement,
    LatencyStore,
    StoredLatency,
    measure_latency,
    probe,
)
from mixdown.services.record.takes import (
    MAX_TAKE_BYTES,
    RecordedTake,
    RecordPlan,
    add_recorded_take,
    record_plan,
)

MAX_CALIBRATION_BYTES = 16 * 1024 * 1024
"""Largest calibration recording accepted (bytes)."""


def song_project(studio: Any, song: str) -> Path:
    """The project folder of ``song`` in the studio (NotFound for an unknown song)."""
    return song_folder(studio.songs, song)


def record_page(studio: Any, song: str, user: str = "owner") -> dict[str, Any]:
    """What the record panel shows: the song's audio tracks, its rate and revision, and the
    latencies stored for ``user``'s devices."""
    from mixdown.io.project import open_project

    pf = open_project(song_project(studio, song))
    from mixdown.services.history import current_revision

    audio = [t.name for t in pf.project.tracks if t.instrument is None]
    return {"tracks": audio, "sample_rate": pf.project.song.sample_rate,
            "title": pf.project.song.title or song,
            "revision": current_revision(pf.root),
            "latencies": LatencyStore(studio.store).of_user(user)}


def studio_record_plan(studio: Any, song: str, track: str, bar: int, *, count_in_bars: int,
                       bars: int, user: str, device: str) -> dict[str, Any]:
    """The plan of a recording (:func:`record_plan`) with the stored latency of ``user``'s
    ``device`` and the newest version of the song to play along with (or None)."""
    from mixdown.services.review import list_versions

    plan: RecordPlan = record_plan(song_project(studio, song), track, bar,
                                   count_in_bars=count_in_bars, bars=bars)
    versions = list_versions(studio, song)
    stored = LatencyStore(studio.store).get(user, device)
    return {**plan.as_dict(), "latest_version": versions[-1].number if versions else None,
            "latency_s": stored.latency_s if stored else 0.0,
            "calibrated": stored is not None}


def studio_record_take(studio: Any, song: str, track: str, bar: int, data: bytes, *,
                       pre_roll_s: float, user: str, device: str,
                       max_bytes: int = MAX_TAKE_BYTES, base: str | None = None
                       ) -> RecordedTake:
    """Add a recording as a take (:func:`add_recorded_take`), compensating the latency stored
    for ``user``'s ``device`` (0 when it was never calibrated)."""
    stored = LatencyStore(studio.store).get(user, device)
    return add_recorded_take(song_project(studio, song), track, bar, data,
                             pre_roll_s=pre_roll_s,
                             latency_s=stored.latency_s if stored else 0.0,
                             max_bytes=max_bytes, base=base, author=user)


def probe_wav(sample_rate: int) -> bytes:
    """The calibration probe (:func:`probe`) as a float WAV file's bytes."""
    import soundfile as sf

    if sample_rate not in (44_100, 48_000, 88_200, 96_000):
        raise UnsupportedUpload(f"the probe is made at 44100, 48000, 88200 or 96000 Hz, not "
                                f"{sample_rate}")
    buf = io.BytesIO()
    sf.write(buf, probe(sample_rate), sample_rate, format="WAV", subtype="FLOAT")
    return buf.getvalue()


def calibrate(studio: Any, data: bytes, *, user: str, device: str,
              max_bytes: int = MAX_CALIBRATION_BYTES) -> tuple[LatencyMeasurement,
                                                               StoredLatency]:
    """Measure the probe's delay in a loopback recording (WAV bytes, started when the probe
    started) and store it for ``user``'s ``device``.

    Raises
    ------
    UploadTooLarge, UnsupportedUpload, CalibrationError
        Nothing is stored.
    """
    import soundfile as sf

    if len(data) > max_bytes:
        raise UploadTooLarge(f"the calibration recording is {len(data)} bytes, over the "
                             f"{max_bytes}-byte limit")
    try:
        x, rate = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    except Exception as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UnsupportedUpload(f"the calibration recording cannot be decoded as audio "
                                f"({reason})") from None
    m = measure_latency(np.ascontiguousarray(x.T), int(rate))
    return m, LatencyStore(studio.store).put(user, device, m.latency_s)


__all__ = ["MAX_CALIBRATION_BYTES", "calibrate", "probe_wav", "record_page", "song_project",
           "studio_record_plan", "studio_record_take"]
