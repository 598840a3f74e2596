"""The ledger's errors: each a one-line message the CLI prints and the studio maps to 4xx."""

from __future__ import annotations

from mixdown.core.errors import MixdownError


class LedgerError(MixdownError, ValueError):
    """A bad value or a broken rule (splits not 100%, end before start...)."""

    http_status = 422


class NotFoundError(LedgerError):
    """An unknown person, room, song, release... (the message lists close names)."""

    http_status = 404


class ConflictError(LedgerError):
    """A double booking, a name already taken, a restore over existing rows."""

    http_status = 409


__all__ = ["ConflictError", "LedgerError", "NotFoundError"]
