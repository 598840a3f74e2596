"""Shared helpers of the review studio: statuses, time stamps, names, notes, staging."""

from __future__ import annotations

import contextlib
import json
import math
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from mixdown.core.errors import ParameterError

if TYPE_CHECKING:
    from mixdown.services.review.studio import Studio


Status = Literal["in_progress", "needs_feedback", "changes_requested", "approved"]
STATUSES: tuple[str, ...] = ("in_progress", "needs_feedback", "changes_requested", "approved")
STATUS_LABELS: dict[str, str] = {
    "in_progress": "in progress", "needs_feedback": "needs feedback",
    "changes_requested": "changes requested", "approved": "approved"}
MAX_NOTE_CHARS = 2000
MAX_WHO_CHARS = 128


def _now() -> datetime:
    return datetime.now(UTC)


def _utc(t: datetime | None) -> datetime | None:
    if t is None:
        return None
    return t if t.tzinfo is not None else t.replace(tzinfo=UTC)


def _iso(t: datetime | None) -> str | None:
    t = _utc(t)
    return t.isoformat() if t is not None else None


def _finite(v: float | None) -> float | None:
    return v if v is not None and math.isfinite(v) else None


def _who(who: str, what: str = "name") -> str:
    text = (who or "").strip()
    if not text:
        raise ParameterError(f"{what} must not be empty")
    if len(text) > MAX_WHO_CHARS:
        raise ParameterError(f"{what} is longer than {MAX_WHO_CHARS} characters")
    return text


def _number(value: int | str) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip().lower().removeprefix("v")
        if not text.isdigit() or len(text) > 9:
            return None
        value = int(text)
    if not isinstance(value, int) or value < 1:
        return None
    return value


def _note(note: str) -> str:
    text = (note or "").strip()
    if len(text) > MAX_NOTE_CHARS:
        raise ParameterError(f"the note is longer than {MAX_NOTE_CHARS} characters")
    return text


@contextlib.contextmanager
def _staging(studio: Studio) -> Iterator[Path]:
    """A new folder in the store's ``tmp/``, removed afterwards unless moved away."""
    tmp = studio.store / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    stage = tmp / uuid.uuid4().hex
    stage.mkdir()
    try:
        yield stage
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    from mixdown.core.files import atomic_path
    from mixdown.core.jsonable import to_jsonable

    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(to_jsonable(data), indent=2, allow_nan=False) + "\n")
