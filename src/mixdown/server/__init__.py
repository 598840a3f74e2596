"""The web studio (``mixdown serve``): a FastAPI app over a folder of songs.

Pages are Jinja2 templates (autoescaped) driven by htmx; the player is wavesurfer.js drawing
the peaks the backend precomputed. Everything the pages show comes from
:mod:`mixdown.services`; this package only speaks HTTP.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mixdown.server.config import ServeConfig, ServeRefused, is_loopback

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = ["ServeConfig", "ServeRefused", "create_app", "is_loopback"]


def create_app(config: ServeConfig) -> FastAPI:
    """The FastAPI application for ``config`` (see :mod:`mixdown.server.app`)."""
    from mixdown.server.app import create_app as _create

    return _create(config)
