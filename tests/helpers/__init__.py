"""Helpers shared by the test modules; no test module imports another (tests/test_layout.py).

- ``helpers.news``: generated news CSVs whose words give the label away (datasets alpha, beta...).
- ``helpers.repo``: a temporary git + DVC copy of the project, and running commands in it.
- ``helpers.params``: the project's params.yaml, shrunk to a tiny study.
- ``helpers.imports``: which modules a fresh interpreter loads.
- ``helpers.mlflow_server``: a local ``mlflow server``, and a free TCP port.
- ``helpers.prepared``, ``helpers.tiny_models``, ``helpers.source_fixtures``: data and models
  written directly, as the stages write them.
"""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
