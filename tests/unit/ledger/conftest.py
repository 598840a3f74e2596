"""Every ledger test runs on real SQLite and real PostgreSQL.

The PostgreSQL server is started here (tests/pgserver.py), once per test process; each test
gets a fresh database copied from a migrated template. If the server cannot start, the
PostgreSQL tests fail with the reason: they never skip.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger_support import BACKENDS, new_url
from mixdown.db import Database, open_database
from pgserver import PostgresServer, PostgresUnavailable, start_postgres


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A running PostgreSQL server with a migrated ``ledger_template`` database."""
    try:
        server = start_postgres()
    except PostgresUnavailable as exc:
        pytest.fail(f"PostgreSQL is required for the ledger tests and could not start: {exc}",
                    pytrace=False)
    template = f"ledger_template_{os.getpid()}"
    try:
        server.drop_database(template)
        open_database(server.create_database(template)).close()
        server.template = template  # type: ignore[attr-defined]
        yield server
    finally:
        try:
            server.drop_database(template)
        finally:
            server.stop()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """``sqlite`` or ``postgresql``."""
    return request.param


@pytest.fixture
def db_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A migrated, empty ledger database of each backend."""
    return new_url(backend, tmp_path, request)


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    """The open database of ``db_url``."""
    database = open_database(db_url)
    yield database
    database.close()
