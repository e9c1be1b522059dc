"""One definition of a dataset's best model, for the report's ★, ``summary.json``'s ``best``, the
registry's ``@best`` and ``fakenews models``: the highest *validation* macro-F1 (a model's mean
over its runs), ties to the model listed first; the run that serves it is its best-validation
seed (on a k-fold dataset, that run's best fold). Chosen on validation so that the test split
only ever reports.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fakenews.core.io import read_json
from fakenews.core.paths import MODEL_INFO_FILE, run_info

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


def run_validation_score(run_dir: Path) -> float | None:
    """A run's validation macro-F1 (``run.json``; pooled over folds on a k-fold dataset)."""
    value = run_info(run_dir).get("training", {}).get("val", {}).get(SELECT_KEY)
    return float(value) if isinstance(value, int | float) else None


def run_scores(model_dir: Path, seeds: list[int] | None = None) -> dict[int, float | None]:
    """Validation macro-F1 per seed of ``models/<dataset>/<model>/`` (``seeds``: those listed in
    params; None: every ``seed-*`` folder found)."""
    model_dir = Path(model_dir)
    if seeds is None:
        seeds = sorted(int(p.name.split("-", 1)[1]) for p in model_dir.glob("seed-*") if p.is_dir())
    return {seed: run_validation_score(model_dir / f"seed-{seed}") for seed in seeds}


def mean_score(scores: Mapping[int, float | None]) -> float | None:
    known = [v for v in scores.values() if v is not None]
    return sum(known) / len(known) if known else None


def best_seed(scores: Mapping[int, float | None]) -> int | None:
    best = pick_best({str(seed): value for seed, value in scores.items()})
    return None if best is None else int(best)


def best_run(per_model: Mapping[str, Mapping[int, float | None]]) -> tuple[str, int] | None:
    """The best model (mean validation score over its runs, ties to the first listed) and its
    serving seed, from each model's validation score per seed; None when no run has a score."""
    best = pick_best({model: mean_score(scores) for model, scores in per_model.items()})
    if best is None:
        return None
    seed = best_seed(per_model[best])
    assert seed is not None  # the best model has a scored run
    return best, seed


def best_model_dir(model_dir: Path, seeds: list[int] | None = None) -> Path | None:
    """The model folder that serves ``models/<dataset>/<model>/``: its best-validation run's."""
    seed = best_seed(run_scores(model_dir, seeds))
    return None if seed is None else best_fold_dir(Path(model_dir) / f"seed-{seed}")


def best_fold_dir(run_dir: Path) -> Path:
    """The one model folder of a run that stands for it (predict, transfer, the registry): the
    run's own, or on a k-fold dataset the fold with the best validation macro-F1 (ties: lowest
    fold)."""
    run_dir = Path(run_dir)
    folds = sorted(run_dir.glob("fold-*"), key=lambda p: int(p.name.split("-")[1]))
    if not folds:
        return run_dir
    per_fold = run_info(run_dir).get("training", {}).get("per_fold") or []
    scores = [f.get("val", {}).get("f1_macro") for f in per_fold]
    if len(scores) != len(folds) or any(s is None for s in scores):
        return folds[0]
    best = max(range(len(folds)), key=lambda k: (scores[k], -k))
    return folds[best]
