"""Helpers of the ledger tests: a fresh database URL of each backend."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import pytest

from pgserver import PostgresServer

BACKENDS = ["sqlite", "postgresql"]
_names = itertools.count()


def new_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest, *,
            migrated: bool = True) -> str:
    """A URL to an empty database of ``backend`` (migrated to head, or bare)."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / f'ledger{next(_names)}.db'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    name = f"t_{os.getpid()}_{next(_names)}"
    if migrated:
        server._admin(f'CREATE DATABASE "{name}" TEMPLATE "{server.template}"')  # type: ignore[attr-defined]
        url = server.url(name)
    else:
        url = server.create_database(name)
    request.addfinalizer(lambda: server.drop_database(name))
    return url
