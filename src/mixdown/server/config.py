"""What ``mixdown serve`` was asked for, checked before anything listens."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from mixdown.core.errors import MixdownError

SECRET_ENV = "MIXDOWN_SECRET"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
#: Largest reference track accepted by an upload, in bytes.
MAX_UPLOAD_BYTES = 200 * 1024 * 1024


class ServeRefused(MixdownError):
    """The server will not start as asked (an unsafe bind, a missing file)."""

    exit_code = 1


def is_loopback(host: str) -> bool:
    """True when ``host`` names this machine only (127.0.0.0/8, ::1, localhost)."""
    if host.lower() in {"localhost", "localhost."}:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class ServeConfig:
    """The settings of one studio server.

    Attributes
    ----------
    folder : Path
        The songs folder: every song is a sub-folder with a ``song.toml`` (or the folder is
        itself one song). No route reads or writes outside it.
    host, port : str, int
        Where to listen.
    database_url : str, optional
        The studio's database; default ``MIXDOWN_DATABASE_URL`` or ``mixdown.db`` in
        ``folder``.
    secret : str, optional
        The owner's sign-in secret (``MIXDOWN_SECRET``). Without one, only a loopback bind
        is allowed and every local visitor is the owner.
    max_upload_bytes : int
        Size limit of an uploaded reference track, in bytes.
    """

    folder: Path
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    database_url: str | None = None
    secret: str | None = None
    certfile: Path | None = None
    keyfile: Path | None = None
    max_upload_bytes: int = MAX_UPLOAD_BYTES

    @classmethod
    def from_options(cls, folder: str | Path = ".", *, host: str = DEFAULT_HOST,
                     port: int = DEFAULT_PORT, database_url: str | None = None,
                     certfile: str | Path | None = None, keyfile: str | Path | None = None,
                     secret: str | None = None) -> ServeConfig:
        """Check the options of ``mixdown serve``; raise :class:`ServeRefused` when unsafe.

        ``secret`` defaults to the ``MIXDOWN_SECRET`` environment variable.
        """
        root = Path(folder).expanduser()
        if not root.is_dir():
            raise ServeRefused(f"{root}: not a folder (give the folder that holds your songs)")
        secret = os.environ.get(SECRET_ENV) if secret is None else secret
        secret = secret or None
        if not is_loopback(host) and secret is None:
            raise ServeRefused(
                f"--host {host} makes the studio reachable from other machines: set "
                f"{SECRET_ENV} in the environment (the owner signs in with it), or bind "
                f"to 127.0.0.1")
        if secret is not None and len(secret) < 12:
            raise ServeRefused(f"{SECRET_ENV} is too short: use at least 12 characters")
        if (certfile is None) != (keyfile is None):
            raise ServeRefused("give both --certfile and --keyfile for HTTPS, or neither")
        for f in (certfile, keyfile):
            if f is not None and not Path(f).is_file():
                raise ServeRefused(f"{f}: no such file")
        if not 0 <= port < 65536:
            raise ServeRefused(f"--port {port}: give a port between 1 and 65535 (0: any free one)")
        return cls(folder=root.resolve(), host=host, port=port, database_url=database_url,
                   secret=secret, certfile=None if certfile is None else Path(certfile),
                   keyfile=None if keyfile is None else Path(keyfile))

    @property
    def scheme(self) -> str:
        """``https`` with a certificate, else ``http``."""
        return "https" if self.certfile is not None else "http"

    def url(self, port: int | None = None) -> str:
        """The address to open, such as ``http://127.0.0.1:8765/``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port if port is None else port}/"
