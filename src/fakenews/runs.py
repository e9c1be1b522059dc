"""What one run is: a model trained with one seed; on a k-fold dataset, one model per fold.

``models/<dataset>/<model>/seed-<seed>/`` holds the model (``model.json`` and weights) or, on a
k-fold dataset, ``fold-<k>/`` per fold, plus ``run.json`` (the run's validation scores, pooled
over folds). Every model's runs on a dataset see the same split or the same folds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fakenews.io import read_json
from fakenews.paths import fold_name

RUN_INFO_FILE = "run.json"
FOLDS_DIR = "folds"


def fold_dirs(split_dir: Path) -> list[Path]:
    """The fold folders of a k-fold dataset's split, in fold order ([] for one test split)."""
    folds = read_json(Path(split_dir) / "manifest.json").get("folds")
    return [Path(split_dir) / FOLDS_DIR / fold_name(f) for f in range(folds["k"])] if folds else []


def run_parts(run_dir: Path, split_dir: Path) -> list[tuple[Path, Path]]:
    """(model folder, split folder) pairs of a run: one, or one per fold."""
    folds = fold_dirs(split_dir)
    if not folds:
        return [(Path(run_dir), Path(split_dir))]
    return [(Path(run_dir) / fold_name(k), folder) for k, folder in enumerate(folds)]


def run_info(run_dir: Path) -> dict[str, Any]:
    """``run.json`` ({} if missing or unreadable)."""
    try:
        info = read_json(Path(run_dir) / RUN_INFO_FILE)
    except (OSError, ValueError):
        return {}
    return info if isinstance(info, dict) else {}


def serving_dir(run_dir: Path) -> Path:
    """The one model folder of a run that serves (predict, transfer, the registry): the run's
    own, or on a k-fold dataset the fold with the best validation macro-F1 (ties: lowest fold).
    """
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
