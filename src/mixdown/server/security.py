"""Who is asking, and whether a state-changing request really comes from our pages.

- The **owner**: on a loopback bind with no ``MIXDOWN_SECRET`` every local visitor is the
  owner. With a secret, the owner signs in with it once and gets a signed cookie
  (HMAC-SHA256 of its issue time, valid :data:`OWNER_SESSION_S`).
- A **reviewer** opens a share link ``/r/TOKEN``: the token (checked by the review service
  on every request, so a revoked one stops working at once) is kept in a cookie and gives
  the reviewer role on that one song.
- **CSRF**: every POST/PUT/PATCH/DELETE must carry the ``X-CSRF-Token`` header equal to the
  ``mixdown_csrf`` cookie (double submit; the cookie is SameSite=Strict and a cross-site page
  can neither read it nor set the header), and an ``Origin`` header, when sent, must be ours.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Literal

from mixdown.core.errors import MixdownError

OWNER_COOKIE = "mixdown_owner"
REVIEW_COOKIE = "mixdown_review"
CSRF_COOKIE = "mixdown_csrf"
CSRF_HEADER = "x-csrf-token"
OWNER_SESSION_S = 30 * 24 * 3600
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

Role = Literal["owner", "reviewer"]


class HTTPRefusal(MixdownError):
    """A request refused by the server itself (sign-in, CSRF, role); carries its status."""

    def __init__(self, message: str, http_status: int) -> None:
        super().__init__(message)
        self.http_status = http_status


@dataclass(frozen=True)
class Visitor:
    """Who made a request.

    Attributes
    ----------
    role : {"owner", "reviewer"}
    song : str, optional
        For a reviewer, the one song the share link opens.
    token : str, optional
        The reviewer's share token.
    name : str
        Who it is, as stored with comments and statuses.
    """

    role: Role
    song: str | None = None
    token: str | None = None
    name: str = "owner"

    @property
    def is_owner(self) -> bool:
        return self.role == "owner"

    def may_see(self, song: str) -> bool:
        """True when this visitor may open ``song``."""
        return self.is_owner or self.song == song


def sign_owner(secret: str, now: float | None = None) -> str:
    """A new owner session cookie value: ``<issued>.<hmac>``."""
    issued = str(int(time.time() if now is None else now))
    return f"{issued}.{_mac(secret, issued)}"


def owner_cookie_valid(secret: str, value: str | None, now: float | None = None) -> bool:
    """True for an owner cookie signed with ``secret`` and not expired."""
    if not value or "." not in value:
        return False
    issued, mac = value.split(".", 1)
    if not issued.isdigit() or not hmac.compare_digest(mac, _mac(secret, issued)):
        return False
    age = (time.time() if now is None else now) - int(issued)
    return -60 <= age <= OWNER_SESSION_S


def secret_matches(secret: str, given: str) -> bool:
    """Compare a typed secret in constant time."""
    return hmac.compare_digest(secret.encode(), given.encode())


def new_csrf_token() -> str:
    """A fresh unguessable CSRF token (URL-safe)."""
    return secrets.token_urlsafe(32)


def csrf_ok(cookie: str | None, header: str | None) -> bool:
    """True when the double-submitted token matches its cookie."""
    return bool(cookie) and bool(header) and hmac.compare_digest(cookie, header)


def _mac(secret: str, message: str) -> str:
    return hmac.new(secret.encode(), f"mixdown-owner:{message}".encode(),
                    hashlib.sha256).hexdigest()
