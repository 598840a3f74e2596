"""A private PostgreSQL server for the tests: initdb in a temp folder, started on a Unix
socket, stopped at the end. Debian's ``postgresql`` package provides the binaries
(scripts/apt-packages.txt). initdb refuses to run as root, so as root the server runs as
the ``postgres`` user.

Set ``MIXDOWN_TEST_POSTGRES_URL`` (a server URL whose user may create databases) to use a
server that is already running instead.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

ENV = "MIXDOWN_TEST_POSTGRES_URL"


class PostgresUnavailable(RuntimeError):
    """The server could not be started (the message says why and how to fix it)."""


def _bindir() -> Path:
    found = shutil.which("pg_config")
    if found:
        out = subprocess.run([found, "--bindir"], capture_output=True, text=True)
        if out.returncode == 0 and (Path(out.stdout.strip()) / "initdb").is_file():
            return Path(out.stdout.strip())
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                  key=lambda d: int(Path(d).parent.name) if Path(d).parent.name.isdigit() else 0)
    for d in reversed(dirs):
        if (Path(d) / "initdb").is_file():
            return Path(d)
    raise PostgresUnavailable("PostgreSQL is not installed (no initdb): install Debian's "
                              "`postgresql` package (scripts/apt-packages.txt, make system)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class PostgresServer:
    """A running server: ``url(dbname)`` for SQLAlchemy, ``stop()`` at the end."""

    folder: Path | None
    base_url: str
    _user_prefix: list[str]
    _bindir: Path | None

    def url(self, dbname: str) -> str:
        """The URL of database ``dbname`` on this server."""
        from sqlalchemy.engine import make_url

        return make_url(self.base_url).set(database=dbname).render_as_string(
            hide_password=False)

    def create_database(self, dbname: str) -> str:
        """Create an empty database; returns its URL."""
        self._admin(f'CREATE DATABASE "{dbname}"')
        return self.url(dbname)

    def drop_database(self, dbname: str) -> None:
        """Drop a database, closing its connections."""
        self._admin(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')

    def _admin(self, sql: str) -> None:
        from sqlalchemy import create_engine, text

        engine = create_engine(self.url("postgres"), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(text(sql))
        finally:
            engine.dispose()

    def stop(self) -> None:
        """Stop the server and delete its folder (nothing for an external server)."""
        if self.folder is None or self._bindir is None:
            return
        subprocess.run([*self._user_prefix, str(self._bindir / "pg_ctl"), "-D",
                        str(self.folder / "data"), "-m", "immediate", "-w", "stop"],
                       capture_output=True)
        shutil.rmtree(self.folder, ignore_errors=True)


def start_postgres() -> PostgresServer:
    """Start a private server (or use ``$MIXDOWN_TEST_POSTGRES_URL``).

    Raises
    ------
    PostgresUnavailable
        No binaries, or initdb/pg_ctl failed (their output is in the message).
    """
    if os.environ.get(ENV):
        return PostgresServer(None, os.environ[ENV], [], None)
    bindir = _bindir()
    folder = Path(tempfile.mkdtemp(prefix="mixdown-pg-"))
    prefix: list[str] = []
    if os.geteuid() == 0:
        try:
            pw = pwd.getpwnam("postgres")
        except KeyError:
            raise PostgresUnavailable("running as root and there is no `postgres` user to "
                                      "run the test server as") from None
        os.chown(folder, pw.pw_uid, pw.pw_gid)
        runuser = shutil.which("runuser") or "/sbin/runuser"
        prefix = [runuser, "-u", "postgres", "--"]
    data = folder / "data"
    port = _free_port()

    def run(args: list[str], what: str) -> None:
        out = subprocess.run([*prefix, *args], capture_output=True, text=True, timeout=120)
        if out.returncode != 0:
            log = folder / "server.log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            shutil.rmtree(folder, ignore_errors=True)
            raise PostgresUnavailable(f"{what} failed ({out.returncode}): "
                                      f"{(out.stderr or out.stdout).strip()[-2000:]} {tail}")

    run([str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "mixdown", "-E",
         "UTF8", "--locale=C", "--no-sync"], "initdb")
    opts = (f"-k {folder} -p {port} -c listen_addresses='' -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=100")
    run([str(bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(folder / "server.log"),
         "-w", "-t", "60", "start"], "pg_ctl start")
    base = f"postgresql+psycopg://mixdown@/postgres?host={folder}&port={port}"
    return PostgresServer(folder, base, prefix, bindir)


__all__ = ["ENV", "PostgresServer", "PostgresUnavailable", "start_postgres"]
