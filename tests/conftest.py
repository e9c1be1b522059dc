"""Shared fixtures. Tests never read ../shared: they build their own data. Shared helper code
lives in tests/helpers/ (no test module imports another)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest
from helpers.params import project_params

REPO = Path(__file__).resolve().parents[1]

# tools/ (depcheck, the dvc.yaml generator) is repo tooling, not part of the package.
if str(REPO / "tools") not in sys.path:
    sys.path.insert(0, str(REPO / "tools"))


def pytest_configure(config: pytest.Config) -> None:
    # Stages' MLflow journals wait for an explicit replay (the report stage, replay_pending):
    # no detached replayer outlives a test or competes with the next one for the two cores.
    # Tests of the background replayer set "background" themselves.
    os.environ.setdefault("FAKENEWS_TRACKING_REPLAY", "manual")


@pytest.fixture
def real_params() -> dict[str, Any]:
    """The project's own params.yaml, for tests to shrink rather than invent a config."""
    return project_params()
