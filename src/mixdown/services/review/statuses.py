"""Review statuses of versions and their history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from mixdown.core.errors import ParameterError
from mixdown.review.errors import NotFound
from mixdown.review.tables import StatusChangeRow, VersionRow
from mixdown.services.review._common import STATUS_LABELS, STATUSES, _iso, _now, _utc, _who
from mixdown.services.review.studio import Studio
from mixdown.services.review.versions import Version, _version


@dataclass(frozen=True, slots=True)
class StatusChange:
    """One status change of a version."""

    song: str
    version: int
    status: str
    by: str
    at: datetime

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {"song": self.song, "version": self.version, "status": self.status,
                "status_label": STATUS_LABELS.get(self.status, self.status), "by": self.by,
                "at": _iso(self.at)}


def set_status(studio: Studio, version: Version, status: str, *, by: str) -> Version:
    """Set ``version``'s review status (one of :data:`STATUSES`), recording who and when.

    Raises
    ------
    ParameterError
        Unknown status (the message lists them).
    """
    key = (status or "").strip().lower().replace(" ", "_").replace("-", "_")
    if key not in STATUSES:
        raise ParameterError(f"unknown status {status!r}; use one of {', '.join(STATUSES)}")
    who = _who(by, "who")
    now = _now()
    with studio.db.transaction() as s:
        row = s.get(VersionRow, version.id)
        if row is None:
            raise NotFound(f"no version {version.label} of song {version.song!r}")
        row.status, row.status_by, row.status_at = key, who, now
        s.add(StatusChangeRow(version_id=row.id, status=key, by=who, at=now))
        s.flush()
        return _version(row, version.song)


def status_history(studio: Studio, version: Version) -> list[StatusChange]:
    """Every status change of ``version``, oldest first."""
    with studio.db.transaction() as s:
        rows = s.execute(select(StatusChangeRow).where(StatusChangeRow.version_id == version.id)
                         .order_by(StatusChangeRow.id)).scalars().all()
        return [StatusChange(version.song, version.number, r.status, r.by,
                             _utc(r.at)) for r in rows]  # type: ignore[arg-type]
