"""One definition of a dataset's best model, for the report's ★, ``summary.json``'s ``best``, the
registry's ``@best`` and ``fakenews models``: the highest *validation* macro-F1, ties to the
model listed first. Chosen on validation so that the test split only ever reports.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fakenews.io import read_json
from fakenews.models import MODEL_INFO_FILE

SELECT_KEY = "f1_macro"
SELECTED_ON = "validation macro-F1"


def validation_metrics(model_dir: Path) -> dict[str, Any]:
    """The validation metrics the train stage stored in ``model.json`` ({} if unreadable)."""
    try:
        val = read_json(Path(model_dir) / MODEL_INFO_FILE)["training"]["val"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    return val if isinstance(val, dict) else {}


def validation_score(model_dir: Path) -> float | None:
    value = validation_metrics(model_dir).get(SELECT_KEY)
    return float(value) if isinstance(value, int | float) else None


def pick_best(scores: Mapping[str, float | None]) -> str | None:
    """The name with the highest score (``scores`` in listing order; None scores not ranked)."""
    order = list(scores)
    ranked = [name for name in order if scores[name] is not None]
    if not ranked:
        return None
    return max(ranked, key=lambda name: (scores[name], -order.index(name)))
