"""What the report reads: the evaluate, transfer, audit and overlap stages' outputs.

:func:`collect` gathers every dataset x model's runs (:class:`ModelResult`), :func:`collect_audit`
the audit and overlap findings; the ``transfer_*`` helpers query the collected transfer scores.
Nothing here formats or renders: :mod:`fakenews.reporting.sections` builds the report from these.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from fakenews.analysis.selection import SELECT_KEY, best_seed, mean_score
from fakenews.core.errors import FakenewsError
from fakenews.core.io import read_json
from fakenews.core.params import Params
from fakenews.core.paths import Paths


@dataclass
class RunResult:
    """One run (seed) of a model on a dataset: its test metrics and predictions."""

    seed: int
    metrics: dict[str, Any]
    predictions: pd.DataFrame
    val_f1: float | None
    history: list[dict[str, Any]] = field(default_factory=list)
    errors: dict[str, Any] = field(default_factory=dict)


@dataclass
class ModelResult:
    """Everything the report knows about one model trained and tested on one dataset.

    ``runs``: one per seed. The single-run fields (metrics, predictions, curves, errors) are the
    serving run's: the seed with the best validation score (:mod:`fakenews.analysis.selection`).
    """

    dataset: str
    model: str
    family: str
    runs: list[RunResult]
    serving: RunResult
    transfer: dict[str, dict[str, Any]] = field(default_factory=dict)
    transfer_rules: list[str] = field(default_factory=list)  # what it strips from raw targets
    transfer_seed: int | None = None

    @property
    def metrics(self) -> dict[str, Any]:
        return self.serving.metrics

    @property
    def predictions(self) -> pd.DataFrame:
        return self.serving.predictions

    @property
    def history(self) -> list[dict[str, Any]]:
        return self.serving.history

    @property
    def errors(self) -> dict[str, Any]:
        return self.serving.errors

    @property
    def val_f1(self) -> float | None:
        """Mean validation macro-F1 over runs: what the ★ is chosen on."""
        return mean_score({r.seed: r.val_f1 for r in self.runs})

    @property
    def seed_free(self) -> bool:
        return bool(self.serving.metrics.get("seed_free"))

    def spread(self, key: str) -> dict[str, float | None]:
        """Mean, std (ddof 1; 0 for one run), min and max of ``key`` over the runs."""
        values = np.array(
            [r.metrics[key] for r in self.runs if r.metrics.get(key) is not None], dtype=float
        )
        if not len(values):
            return {"mean": None, "std": None, "min": None, "max": None}
        std = float(values.std(ddof=1)) if len(values) > 1 else 0.0
        return {
            "mean": round(float(values.mean()), 6),
            "std": round(std, 6),
            "min": round(float(values.min()), 6),
            "max": round(float(values.max()), 6),
        }

    @property
    def transfer_run(self) -> RunResult:
        """The run the transfer stage scored on other datasets (the family's first seed)."""
        return next((r for r in self.runs if r.seed == self.transfer_seed), self.runs[0])

    def run_preds(self) -> np.ndarray:
        """Every run's 0/1 test predictions, one row per run (same row order in every run)."""
        return np.stack([r.predictions["pred"].to_numpy(dtype=int) for r in self.runs])

    @property
    def labels(self) -> np.ndarray:
        return self.predictions["label"].to_numpy(dtype=int)

    @property
    def probs(self) -> np.ndarray:
        return self.predictions["prob_fake"].to_numpy(dtype=float)

    @property
    def preds(self) -> np.ndarray:
        return self.predictions["pred"].to_numpy(dtype=int)


Results = dict[str, dict[str, ModelResult]]


def read_run(paths: Paths, dataset: str, model: str, seed: int) -> RunResult:
    folder = paths.evaluation(dataset, model, seed)
    if not (folder / "metrics.json").is_file():
        raise FakenewsError(
            f"no evaluation for {dataset}/{model} seed {seed} ({folder}); run `dvc repro`"
        )
    history_file, errors_file = folder / "training.json", folder / "errors.json"
    val_file = folder / "validation.json"
    val = read_json(val_file) if val_file.is_file() else {}
    val_f1 = val.get(SELECT_KEY) if isinstance(val, dict) else None
    return RunResult(
        seed=seed,
        metrics=read_json(folder / "metrics.json"),
        predictions=pd.read_parquet(folder / "predictions.parquet"),
        val_f1=float(val_f1) if isinstance(val_f1, int | float) else None,
        history=read_json(history_file)["history"] if history_file.is_file() else [],
        errors=read_json(errors_file) if errors_file.is_file() else {},
    )


def collect(params: Params, paths: Paths) -> Results:
    results: Results = {}
    for dataset in params.datasets:
        for model in params.model_names:
            runs = [read_run(paths, dataset, model, seed) for seed in params.seeds_of(model)]
            ids = runs[0].predictions["id"]
            for run in runs[1:]:
                if not run.predictions["id"].equals(ids):
                    raise FakenewsError(
                        f"{dataset}/{model}: seed {run.seed} was scored on other test rows than "
                        f"seed {runs[0].seed}; rerun `dvc repro`"
                    )
            seed = best_seed({r.seed: r.val_f1 for r in runs})
            serving = next((r for r in runs if r.seed == seed), runs[0])
            transfer_file = paths.transfer(dataset, model)
            transferred = read_json(transfer_file) if transfer_file.is_file() else {}
            results.setdefault(dataset, {})[model] = ModelResult(
                dataset=dataset,
                model=model,
                family=serving.metrics.get("family") or params.family_of(model),
                runs=runs,
                serving=serving,
                transfer=transferred.get("targets", {}),
                transfer_rules=transferred.get("artifact_rules_stripped", []),
                transfer_seed=transferred.get("seed"),
            )
    return results


@dataclass
class AuditFindings:
    """The audit stage's report per dataset and the overlap stage's cross-dataset counts."""

    datasets: dict[str, dict[str, Any]]
    overlap: dict[str, Any] | None = None


def collect_audit(params: Params, paths: Paths) -> AuditFindings:
    audits = {}
    for dataset in params.datasets:
        path = paths.audit(dataset)
        if not path.is_file():
            raise FakenewsError(f"no audit for {dataset} ({path}); run `dvc repro`")
        audits[dataset] = read_json(path)
    overlap = read_json(paths.overlap) if paths.overlap.is_file() else None
    return AuditFindings(audits, overlap)


# Transfer tables use the leaderboard's ranking metric, plus ROC-AUC (threshold-free).
TRANSFER_METRICS = (SELECT_KEY, "roc_auc")


def transfer_scores(results: Results, train: str, model: str, test: str) -> dict[str, Any] | None:
    """The metrics (with ``ci`` and ``constant``) of ``model`` trained on ``train``, on ``test``."""
    result = results[train][model]
    if test == train:
        run = result.transfer_run
        preds = run.predictions["pred"].to_numpy(dtype=int)
        constant = bool(len(preds) and (preds == preds[0]).all())
        return {**run.metrics, "constant": constant}
    return result.transfer.get(test)


def transfer_matrix(
    results: Results, model: str, key: str = SELECT_KEY
) -> tuple[list[str], np.ndarray]:
    """``key`` of ``model`` trained on each dataset (rows) and tested on each (columns)."""
    datasets = list(results)
    matrix = np.full((len(datasets), len(datasets)), np.nan)
    for i, train in enumerate(datasets):
        for j, test in enumerate(datasets):
            scores = transfer_scores(results, train, model, test)
            if scores is not None and scores.get(key) is not None:
                matrix[i, j] = scores[key]
    return datasets, matrix


def transfer_targets(results: Results) -> list[str]:
    """The transfer tables' columns: every dataset, then the evaluation-only ones."""
    extra = {t for models in results.values() for r in models.values() for t in r.transfer}
    return [*results, *sorted(extra - set(results))]
