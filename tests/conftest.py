"""Shared fixtures: the seeded RNG."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture
def rng() -> np.random.Generator:
    """The only source of randomness in tests."""
    return np.random.default_rng(20261124)
