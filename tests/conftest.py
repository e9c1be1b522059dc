"""Shared fixtures. Tests never read ../shared: they build their own data. Shared helper code
lives in tests/helpers/ (no test module imports another)."""

from __future__ import annotations

from typing import Any

import pytest
from helpers.params import project_params


@pytest.fixture
def real_params() -> dict[str, Any]:
    """The project's own params.yaml, for tests to shrink rather than invent a config."""
    return project_params()
