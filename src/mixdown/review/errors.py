"""The review studio's errors, each with the HTTP status a web front end answers with."""

from __future__ import annotations

from mixdown.core.errors import FormatError, MixdownError


class NotFound(MixdownError):
    """An unknown song, version, comment, reference or share link (also any name that would
    leave the songs folder: a traversal attempt looks exactly like an unknown name)."""

    http_status = 404


class TokenMissing(MixdownError):
    """A request came with no share token."""

    http_status = 401


class Forbidden(MixdownError):
    """A wrong or revoked share token, or a role that may not do what was asked."""

    http_status = 403


class UploadTooLarge(MixdownError):
    """An upload (a reference track) over the size limit."""

    http_status = 413


class UnsupportedUpload(FormatError):
    """An upload that is not audio mixdown can decode."""

    http_status = 415


__all__ = ["Forbidden", "NotFound", "TokenMissing", "UnsupportedUpload", "UploadTooLarge"]
