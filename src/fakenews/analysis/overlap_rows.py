"""Transfer scores without the test rows that overlap the training data.

The overlap stage writes ``data/overlap/rows.json``::

    {"pairs": {source: {target: {"near_duplicate": [ids], "containment": [ids]}}}}

naming, for a model trained on ``source``, the ``target`` test rows it may have seen in training:
a near-duplicate in ``source``'s train split, or a containment match (a train claim quoted in the
test article, or the reverse). Scores on those rows measure memory; the same scores without them
say how much of a transfer result the overlap explains.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from fakenews.analysis import stats
from fakenews.analysis.metrics import classification_metrics
from fakenews.analysis.stats import EvaluateConfig
from fakenews.core.errors import FakenewsError
from fakenews.core.io import SPLITS, read_json, read_split

WITHOUT_KEYS = ("accuracy", "f1_macro", "f1_fake", "roc_auc")


def scored_splits(split_dir: Path) -> list[str]:
    """The splits a dataset's in-domain score is computed on, which a model trained elsewhere
    is scored on too: every row of a k-fold dataset (each is tested once across the folds) or
    of an evaluation-only one, else the test split."""
    manifest = read_json(Path(split_dir) / "manifest.json")
    if manifest.get("folds"):
        return list(SPLITS)
    return ["test"]


def scored_rows(split_dir: Path, splits: Iterable[str] | None = None) -> Any:
    """Those rows as one frame (``splits`` overrides which)."""
    import pandas as pd

    names = list(splits) if splits is not None else scored_splits(split_dir)
    return pd.concat([read_split(split_dir, s) for s in names], ignore_index=True)


def overlapping_ids(rows_file: Path, source: str, target: str) -> set[str]:
    """The ids of ``target``'s test rows that overlap ``source``'s train split (any kind)."""
    if not rows_file.is_file():
        raise FakenewsError(f"no overlap rows ({rows_file}); run the overlap stage (`dvc repro`)")
    pair = read_json(rows_file)["pairs"].get(source, {}).get(target)
    if pair is None:
        raise FakenewsError(
            f"{rows_file}: no overlap rows for {source} -> {target}; rerun the overlap stage"
        )
    return {row_id for ids in pair.values() for row_id in ids}


def without_overlap(
    ids: Iterable[Any],
    labels: np.ndarray,
    probs: np.ndarray,
    excluded: set[str],
    config: EvaluateConfig,
) -> dict[str, Any]:
    """Transfer metrics (with bootstrap intervals) on the rows whose id is not in ``excluded``.

    When the rows left hold one class only (or none), the metrics are null and ``reason`` says
    why: macro-F1 and ROC-AUC compare the two classes.
    """
    keep = np.array([str(i) not in excluded for i in ids], dtype=bool)
    labels, probs = np.asarray(labels, dtype=int)[keep], np.asarray(probs, dtype=float)[keep]
    result: dict[str, Any] = {"n": int(keep.sum()), "n_removed": int((~keep).sum())}
    classes = set(labels.tolist())
    if len(classes) < 2:
        left = "no rows" if not classes else f"only class {classes.pop()}"
        return {
            **result,
            **dict.fromkeys(WITHOUT_KEYS),
            "ci": None,
            "reason": f"{left} left after removing the overlapping rows",
        }
    metrics = classification_metrics(labels, probs, config.threshold)
    return {
        **result,
        **{k: metrics[k] for k in WITHOUT_KEYS},
        "ci": stats.evaluate_cis(labels, probs, config),
    }
