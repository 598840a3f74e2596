"""Sessions as an iCalendar file (RFC 5545): one VEVENT per session, times in UTC."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from mixdown.ledger.booking import SessionRecord


def _escape(text: str) -> str:
    return (text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n"))


def _fold(line: str) -> list[str]:
    """Split a content line into lines of at most 75 octets (RFC 5545 §3.1)."""
    out: list[str] = []
    current = ""
    for ch in line:
        limit = 75 if not out else 74  # continuation lines start with a space
        if len((current + ch).encode("utf-8")) > limit:
            out.append(current)
            current = ch
        else:
            current += ch
    out.append(current)
    return [out[0], *(" " + x for x in out[1:])]


def _stamp(value: datetime) -> str:
    return value.strftime("%Y%m%dT%H%M%SZ")


def sessions_ics(sessions: Iterable[SessionRecord], *, host: str = "mixdown.ledger",
                 now: datetime | None = None) -> str:
    """The calendar text (CRLF line ends) of ``sessions``."""
    stamp = _stamp((now or datetime.now(UTC)).replace(tzinfo=None))
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//mixdown//ledger//EN",
             "CALSCALE:GREGORIAN", "METHOD:PUBLISH"]
    for x in sessions:
        summary = f"{x.room}: {', '.join(x.songs) or 'session'}"
        desc = "People: " + (", ".join(x.people) or "none")
        if x.notes:
            desc += "\n" + x.notes
        lines += ["BEGIN:VEVENT", f"UID:session-{x.id}@{host}", f"DTSTAMP:{stamp}",
                  f"DTSTART:{_stamp(x.start)}", f"DTEND:{_stamp(x.end)}",
                  f"SUMMARY:{_escape(summary)}", f"LOCATION:{_escape(x.room)}",
                  f"DESCRIPTION:{_escape(desc)}", "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return "".join(f"{part}\r\n" for line in lines for part in _fold(line))


__all__ = ["sessions_ics"]
