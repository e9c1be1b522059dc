"""Shared test helpers. Tests never read ../shared: they build their own data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def real_params() -> dict[str, Any]:
    """The project's own params.yaml, for tests to shrink rather than invent a config."""
    return yaml.safe_load((REPO / "params.yaml").read_text(encoding="utf-8"))
