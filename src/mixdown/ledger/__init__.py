"""The production ledger: people, rooms, sessions, money, credits, splits, contracts and
releases, on the studio's database (``mixdown.db``).

The API for the CLI and the web studio is :mod:`mixdown.services.ledger`.
"""

from __future__ import annotations

from mixdown.ledger import models
from mixdown.ledger.errors import ConflictError, LedgerError, NotFoundError

__all__ = ["ConflictError", "LedgerError", "NotFoundError", "models"]
