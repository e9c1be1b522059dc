"""Every path the pipeline reads or writes, defined in one place.

Paths are relative to the repository root: the nearest folder up from the working directory that
holds ``.dvc/`` or ``dvc.yaml`` (a stage runs there), else ``DVC_ROOT``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fakenews.core.io import read_json

MIRROR_ENV = "FAKENEWS_DATA_MIRROR"


def find_repo_root(start: Path | None = None) -> Path:
    """The nearest folder holding ``.dvc/`` or ``dvc.yaml``, from ``start`` (default: here) up.

    A stage runs in its repository's root, so this finds it. ``DVC_ROOT`` is only the fallback:
    DVC's experiment queue runs each experiment in a temporary copy of the repo but sets
    ``DVC_ROOT`` to the original, and following it would write into the user's workspace.
    """
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / ".dvc").is_dir() or (candidate / "dvc.yaml").is_file():
            return candidate
    env = os.environ.get("DVC_ROOT")
    return Path(env).resolve() if env else here


@dataclass(frozen=True)
class Paths:
    """The project's layout under one root (tests point it at a temporary repo)."""

    root: Path

    @classmethod
    def from_cwd(cls) -> Paths:
        return cls(find_repo_root())

    @property
    def params_file(self) -> Path:
        return self.root / "params.yaml"

    @property
    def dvc_lock(self) -> Path:
        return self.root / "dvc.lock"

    @property
    def stage_seconds(self) -> Path:
        """Each stage's last run time on this clone (`fakenews repro` rewrites it after every run:
        its order and estimates; git-ignored, so a run leaves no committed file changed)."""
        return self.root / "logs" / "stage_seconds.json"

    @property
    def stage_estimates(self) -> Path:
        """Committed stage times (one full run's, edited by hand only): `fakenews repro`'s
        estimates for a stage this clone has not timed yet. No run rewrites it."""
        return self.root / "pipelines" / "stage_estimates.json"

    @property
    def repro_log(self) -> Path:
        """`fakenews repro`'s log: every stage's output and one JSON event line per stage."""
        return self.root / "logs" / "repro.log"

    @property
    def clean_status(self) -> Path:
        """The workspace digest of `fakenews repro`'s last clean check (git-ignored, per clone)."""
        return self.root / "logs" / "clean-status.json"

    @property
    def mlflow_db(self) -> Path:
        return self.root / "mlflow.db"

    @property
    def mlflow_artifacts(self) -> Path:
        return self.root / "mlartifacts"

    @property
    def output_folders(self) -> list[Path]:
        """Where stages write (everything but data/external/, which users fill)."""
        data = self.root / "data"
        kept = (
            [d for d in data.iterdir() if d.is_dir() and d.name != "external"]
            if data.is_dir()
            else []
        )
        return [
            *kept,
            self.models_root,
            self.metrics_root,
            self.headline_root,
            self.root / "plots",
            self.root / "reports",
        ]

    def external(self, dataset: str) -> Path:
        """Where a user places files by hand (sources behind a login)."""
        return self.root / "data" / "external" / dataset

    def raw(self, dataset: str) -> Path:
        return self.root / "data" / "raw" / dataset

    def prepared(self, dataset: str) -> Path:
        return self.root / "data" / "prepared" / dataset

    def split(self, dataset: str) -> Path:
        """A dataset's train/val/test split (an evaluation-only dataset's: test only)."""
        return self.root / "data" / "split" / dataset

    def union(self, union: str) -> Path:
        """A union's train/val/test: its member datasets' splits, side by side."""
        return self.root / "data" / "union" / union

    def embeddings(self, dataset: str) -> Path:
        """Frozen-encoder sentence vectors of a dataset's rows (the embedding family's cache)."""
        return self.embeddings_root / dataset

    @property
    def embeddings_root(self) -> Path:
        return self.root / "data" / "embeddings"

    @property
    def models_root(self) -> Path:
        return self.root / "models"

    def model(self, dataset: str, model: str) -> Path:
        """Every run (seed) of one model on one dataset."""
        return self.models_root / dataset / model

    def run(self, dataset: str, model: str, seed: int) -> Path:
        """One training run: the model folder, or (k-fold datasets) one ``fold-<k>`` per fold."""
        return self.model(dataset, model) / run_name(seed)

    def evaluation(self, dataset: str, model: str, seed: int) -> Path:
        return self.root / "data" / "evaluation" / dataset / model / run_name(seed)

    @property
    def evaluation_root(self) -> Path:
        return self.root / "data" / "evaluation"

    @property
    def metrics_root(self) -> Path:
        return self.root / "metrics"

    @property
    def headline_root(self) -> Path:
        """The headline metrics, the only files DVC shows as metrics (the report writes them:
        :mod:`fakenews.reporting.headline`)."""
        return self.root / "headline"

    def metrics(self, dataset: str, model: str, seed: int) -> Path:
        """One run's test metrics (the report stage's committed copy: detail, not a DVC metric)."""
        return self.metrics_root / dataset / model / f"{run_name(seed)}.json"

    def transfer_metrics(self, dataset: str, model: str) -> Path:
        """Cross-dataset metrics of the model trained on ``dataset`` (committed copy)."""
        return self.root / "metrics" / dataset / "transfer" / f"{model}.json"

    def transfer(self, dataset: str, model: str) -> Path:
        """The same, as the stage's cached output (the report stage depends on this folder)."""
        return self.transfer_root / dataset / f"{model}.json"

    @property
    def transfer_root(self) -> Path:
        return self.root / "data" / "transfer"

    def audit_metrics(self, dataset: str) -> Path:
        """The audit's findings for one dataset (committed copy, for `dvc metrics`)."""
        return self.root / "metrics" / dataset / "audit.json"

    def audit(self, dataset: str) -> Path:
        """The same, as the stage's cached output (the report stage depends on this folder)."""
        return self.audit_root / dataset / "audit.json"

    def audit_passed(self, dataset: str) -> Path:
        """Written only when the audit passes; holds the split hash. Train stages depend on it."""
        return self.audit_root / dataset / "passed.json"

    @property
    def audit_root(self) -> Path:
        return self.root / "data" / "audit"

    @property
    def overlap(self) -> Path:
        """Near-duplicates shared between datasets (train of one x test of another)."""
        return self.root / "data" / "overlap" / "overlap.json"

    @property
    def overlap_metrics(self) -> Path:
        """The same, as the report stage's committed copy (for `dvc metrics`)."""
        return self.metrics_root / "overlap.json"

    @property
    def overlap_rows(self) -> Path:
        """Per pair of datasets, the ids of the target's test rows that overlap the source's
        train split (transfer scores them with and without those rows)."""
        return self.root / "data" / "overlap" / "rows.json"

    def plots(self, dataset: str, model: str, seed: int) -> Path:
        return self.root / "plots" / dataset / model / run_name(seed)

    @property
    def summary(self) -> Path:
        return self.root / "metrics" / "summary.json"

    @property
    def report(self) -> Path:
        return self.root / "reports" / "report.md"

    def curves(self, kind: str) -> Path:
        """All models' ROC or PR points in one file (dvc.yaml's top-level overlay plots)."""
        return self.root / "plots" / "curves" / f"{kind}.json"

    @property
    def report_html(self) -> Path:
        return self.root / "reports" / "report.html"


def run_name(seed: int) -> str:
    return f"seed-{seed}"


def fold_name(fold: int) -> str:
    return f"fold-{fold}"


def mirror_dir() -> Path | None:
    """The offline download mirror named by ``FAKENEWS_DATA_MIRROR``, if any."""
    value = os.environ.get(MIRROR_ENV)
    return Path(value).expanduser().resolve() if value else None


# --- Runs --------------------------------------------------------------------------------------
# What one run is: a model trained with one seed; on a k-fold dataset, one model per fold.
#
# ``models/<dataset>/<model>/seed-<seed>/`` holds the model (``model.json`` and weights) or, on a
# k-fold dataset, ``fold-<k>/`` per fold, plus ``run.json`` (the run's validation scores, pooled
# over folds). Every model's runs on a dataset see the same split or the same folds.

RUN_INFO_FILE = "run.json"
MODEL_INFO_FILE = "model.json"  # in each trained model folder: which model, its config
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
