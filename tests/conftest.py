"""Shared fixtures. Tests never read ../shared: they build their own data. Shared helper code
lives in tests/helpers/ (no test module imports another)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from helpers.params import project_params

REPO = Path(__file__).resolve().parents[1]

# tools/ (depcheck, the dvc.yaml generator) is repo tooling, not part of the package.
if str(REPO / "tools") not in sys.path:
    sys.path.insert(0, str(REPO / "tools"))


@pytest.fixture
def real_params() -> dict[str, Any]:
    """The project's own params.yaml, for tests to shrink rather than invent a config."""
    return project_params()
