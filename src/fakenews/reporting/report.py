"""report: the leaderboard, significance, transfer and cost of every dataset x model.

Reads only the evaluate, transfer, audit and overlap stages' outputs and writes
``metrics/summary.json`` (beside every cached result's committed copy: :mod:`fakenews.reporting.publish`),
``reports/report.md`` and a self-contained ``reports/report.html`` (inline SVG figures, no
server, no network). Nothing run-specific (time stamps, run ids) goes
into these files, so a rerun on the same inputs writes the same bytes and DVC's no-op stays a
no-op.
"""

from __future__ import annotations

import html
import itertools
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fakenews.analysis import comparison, stats
from fakenews.analysis.generalisation import (
    FAMILY_LEGEND,
    LODO_LEGEND,
    Generalisation,
    collect_generalisation,
    eval_only_rows,
    family_rows,
    lodo_rows,
    union_rows,
    verdict,
)
from fakenews.analysis.selection import SELECT_KEY, SELECTED_ON, mean_score, pick_best, serving_seed
from fakenews.core.config import Params
from fakenews.core.errors import FakenewsError
from fakenews.core.io import read_json, write_json, write_text
from fakenews.core.paths import Paths
from fakenews.reporting import figures

SUMMARY_KEYS = ("accuracy", "f1_macro", "f1_fake", "precision_fake", "recall_fake", "roc_auc", "n")


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

    @property
    def mean_train_seconds(self) -> float | None:
        values = [r.metrics.get("efficiency", {}).get("train_seconds") for r in self.runs]
        known = [v for v in values if v is not None]
        return float(np.mean(known)) if known else None

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
            seed = serving_seed({r.seed: r.val_f1 for r in runs})
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


# The seed bootstrap's resamples and seed: fixed, so the same inputs give the same report bytes.
BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 0
MIN_RUNS = 3


@dataclass
class Ranking:
    """One dataset's best model and every pair's significance test, computed once."""

    best: str
    pairs: list[dict[str, Any]]

    @property
    def against_best(self) -> dict[str, dict[str, Any]]:
        return versus_best(self.pairs, self.best)


def rank(results: Results, alpha: float) -> dict[str, Ranking]:
    return {
        dataset: Ranking(best_model(models), significance(models, alpha))
        for dataset, models in results.items()
    }


def best_model(models: dict[str, ModelResult]) -> str:
    """The dataset's best model: the best mean validation score over its runs
    (:mod:`fakenews.analysis.selection`), like the registry's @best; the first listed when none has one."""
    return pick_best({name: r.val_f1 for name, r in models.items()}) or next(iter(models))


def significance(
    models: dict[str, ModelResult],
    alpha: float,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> list[dict[str, Any]]:
    """Every pair of models, tested over runs x test examples (seed bootstrap), Holm-corrected;
    pairs with fewer than 3 runs on a side (a seed-free model counts as enough) not tested."""
    first = next(iter(models.values()))
    for r in models.values():
        if not np.array_equal(r.labels, first.labels):
            raise FakenewsError(
                f"{r.dataset}: {first.model} and {r.model} were scored on different test sets"
            )
    return comparison.compare_runs(
        first.labels,
        {name: r.run_preds() for name, r in models.items()},
        alpha=alpha,
        min_runs=MIN_RUNS,
        seed_free=[name for name, r in models.items() if r.seed_free],
        metric=SELECT_KEY,
        n_resamples=resamples,
        seed=seed,
    )


def versus_best(pairs: list[dict[str, Any]], best: str) -> dict[str, dict[str, Any]]:
    """For each model, its Holm-corrected comparison with the best model."""
    out = {}
    for row in pairs:
        if best in (row["model_a"], row["model_b"]):
            other = row["model_b"] if row["model_a"] == best else row["model_a"]
            out[other] = row
    return out


def across_datasets(results: Results, alpha: float) -> dict[str, Any] | None:
    """Average ranks of the models over datasets (mean test macro-F1), the Friedman test and the
    Nemenyi critical difference (Demšar 2006); None with fewer than 2 datasets."""
    if len(results) < 2:
        return None
    models = list(next(iter(results.values())))
    scores = pd.DataFrame(
        [[results[d][m].spread(SELECT_KEY)["mean"] for m in models] for d in results],
        index=list(results),
        columns=models,
    )
    return comparison.friedman_ranks(scores, alpha=alpha)


# Transfer tables use the leaderboard's ranking metric, plus ROC-AUC (threshold-free).
TRANSFER_METRICS = (SELECT_KEY, "roc_auc")
TRANSFER_LEGEND = (
    "Rows: the dataset a model was trained on; columns: the test split it was scored on (the "
    "diagonal is in-domain). Cells: test macro-F1 and ROC-AUC with 95% bootstrap intervals. "
    "⚠ the model predicts one class for every row of that split: its score reflects the class "
    "balance, not skill. Off the diagonal each model reads the target's raw text (as loaded) "
    "through its own preparation, as a deployed model would: its training data's clean-up and "
    "artifact rules, not the target's (table below). Each row is one run per model: its "
    "family's first seed (on a k-fold dataset, that run's best-validation fold model), and the "
    "diagonal is that run's in-domain score."
)
PREPARATION_HEADER = [
    "trained on",
    "artifact rules it strips",
    "test rows read otherwise than prepare wrote them",
]


def preparation_rows(results: Results) -> list[list[str]]:
    """Per training dataset: the rules its models apply to raw targets, and how many target test
    rows they read differently from the target's own prepared text (e.g. links left in)."""
    rows = []
    for train, models in results.items():
        first = next(iter(models.values()))
        differ = ", ".join(
            f"{target} {t.get('rows_read_differently', 'n/a')} of {t['n']}"
            for target, t in first.transfer.items()
        )
        rows.append([train, ", ".join(first.transfer_rules) or "none", differ or "n/a"])
    return rows


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


def transfer_cell(scores: dict[str, Any] | None) -> str:
    if scores is None:
        return "n/a"
    cells = []
    for key in TRANSFER_METRICS:
        label = "F1" if key == "f1_macro" else "AUC"
        cells.append(f"{label} {_with_ci(scores, key)}")
    return ("⚠ " if scores.get("constant") else "") + "; ".join(cells)


def transfer_targets(results: Results) -> list[str]:
    """The transfer tables' columns: every dataset, then the evaluation-only ones."""
    extra = {t for models in results.values() for r in models.values() for t in r.transfer}
    return [*results, *sorted(extra - set(results))]


def transfer_rows(results: Results, model: str) -> list[list[str]]:
    targets = transfer_targets(results)
    return [
        [train, *(transfer_cell(transfer_scores(results, train, model, t)) for t in targets)]
        for train in results
    ]


def domain_gaps(results: Results) -> dict[str, dict[str, float | None]]:
    """Per model family: mean in-domain and out-of-domain macro-F1, and their gap."""
    inside: dict[str, list[float]] = {}
    outside: dict[str, list[float]] = {}
    for models in results.values():
        for r in models.values():
            inside.setdefault(r.family, []).append(r.transfer_run.metrics[SELECT_KEY])
            outside.setdefault(r.family, []).extend(t[SELECT_KEY] for t in r.transfer.values())
    gaps: dict[str, dict[str, float | None]] = {}
    for family, values in inside.items():
        ins = float(np.mean(values))
        outs = float(np.mean(outside[family])) if outside.get(family) else None
        gaps[family] = {
            "in_domain_f1_macro": round(ins, 6),
            "out_of_domain_f1_macro": None if outs is None else round(outs, 6),
            "gap": None if outs is None else round(ins - outs, 6),
        }
    return gaps


SPREAD_KEYS = ("accuracy", "f1_macro", "roc_auc")


def summarise(results: Results, rankings: dict[str, Ranking]) -> dict[str, Any]:
    """Flat enough for `dvc metrics diff` to read as a leaderboard diff: dataset.model.metric.

    Scores are means over the model's runs, with their std, min and max; intervals, calibration
    and latency are the serving run's (``serving_seed``).
    """
    summary: dict[str, Any] = {}
    for dataset, models in results.items():
        best, against = rankings[dataset].best, rankings[dataset].against_best
        for model, r in models.items():
            m = r.metrics
            row: dict[str, Any] = {"n": m.get("n"), "folds": m.get("folds")}
            for key in SPREAD_KEYS:
                spread = r.spread(key)
                row[key] = spread["mean"]
                for stat in ("std", "min", "max"):
                    row[f"{key}_{stat}"] = spread[stat]
            row["runs"] = len(r.runs)
            row["seeds"] = [run.seed for run in r.runs]
            row["seed_free"] = r.seed_free
            row["serving_seed"] = r.serving.seed
            row["val_f1_macro"] = None if r.val_f1 is None else round(r.val_f1, 6)
            for key in ("accuracy", "f1_macro"):
                ci = m.get("ci", {}).get(key, {})
                row[f"{key}_ci_low"], row[f"{key}_ci_high"] = ci.get("low"), ci.get("high")
            calibration = m.get("calibration", {})
            row["ece"], row["brier"] = calibration.get("ece"), calibration.get("brier")
            row["ms_per_example"] = m.get("efficiency", {}).get("inference_ms_per_example")
            row["best"] = model == best
            test = against.get(model, {})
            row["significantly_worse_than_best"] = bool(test.get("significant"))
            row["tested_against_best"] = bool(test.get("tested")) if model != best else None
            for target, t in r.transfer.items():
                for key in ("accuracy", *TRANSFER_METRICS):
                    row[f"transfer_{key}_{target}"] = t.get(key)
                row[f"transfer_constant_{target}"] = bool(t.get("constant"))
            summary.setdefault(dataset, {})[model] = row
    return summary


def _fmt(value: Any, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "n/a"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _with_ci(metrics: dict[str, Any], key: str) -> str:
    ci = metrics.get("ci", {}).get(key)
    value = _fmt(metrics.get(key))
    if not ci:
        return value
    return f"{value} [{_fmt(ci['low'], 3)}, {_fmt(ci['high'], 3)}]"


def _spread_cell(r: ModelResult, key: str) -> str:
    """``mean ± std (min-max)`` over the runs; the value alone for one run."""
    spread = r.spread(key)
    if spread["mean"] is None:
        return "n/a"
    if len(r.runs) == 1:
        return _fmt(spread["mean"])
    return (
        f"{_fmt(spread['mean'])} ± {_fmt(spread['std'])} "
        f"({_fmt(spread['min'], 3)}-{_fmt(spread['max'], 3)})"
    )


def _runs_cell(r: ModelResult) -> str:
    if r.seed_free:
        return f"{len(r.runs)} (seed-free)"
    return f"{len(r.runs)}" + (" (single seed)" if len(r.runs) == 1 else "")


def _mark(model: str, best: str, against: dict[str, dict[str, Any]]) -> str:
    if model == best:
        return "★"
    test = against.get(model, {})
    if not test.get("tested"):
        return "○"
    return "▼" if test.get("significant") else "≈"


def leaderboard_rows(models: dict[str, ModelResult], ranking: Ranking) -> list[list[str]]:
    best, against = ranking.best, ranking.against_best
    rows = []
    for model, r in models.items():
        m, eff = r.metrics, r.metrics.get("efficiency", {})
        test = against.get(model, {})
        rows.append(
            [
                f"{_mark(model, best, against)} {model}",
                _runs_cell(r),
                _fmt(r.val_f1),
                _spread_cell(r, "accuracy"),
                _spread_cell(r, "f1_macro"),
                _spread_cell(r, "roc_auc"),
                f"seed {r.serving.seed}: {_with_ci(m, 'f1_macro')}",
                _fmt(test.get("p_holm"))
                if test.get("tested")
                else ("—" if model == best else "not tested"),
                _fmt(eff.get("parameters")),
                _fmt(r.mean_train_seconds, 1),
                _fmt(eff.get("inference_ms_per_example"), 3),
            ]
        )
    return rows


LEADERBOARD_HEADER = [
    "model",
    "runs",
    "val F1 macro (mean)",
    "accuracy mean ± std (min-max)",
    "F1 macro mean ± std (min-max)",
    "ROC-AUC mean ± std (min-max)",
    "serving run: F1 macro [95% CI]",
    "p vs ★ (Holm)",
    "parameters",
    "train s (per run)",
    "ms/example",
]

LEGEND = (
    "Scores are over each model's runs (one per training seed; `seeds` in params.yaml): mean ± "
    "standard deviation (min-max). ★ the dataset's best model: the best mean {selected_on} over "
    "its runs (the model registered as `fakenews-<dataset>@best`, serving its best-validation "
    "run). ▼ test F1 macro significantly different from ★'s: a bootstrap over runs x test "
    "examples (both sources of noise: training seeds and the test sample), Holm-corrected "
    "across all tested pairs of the dataset, alpha = {alpha}; ≈ not significantly different; "
    "○ not tested: fewer than 3 runs on a side (a seed-free model's one run counts for every "
    "seed). Single-seed models cannot be ranked against each other. Intervals: 95% bootstrap "
    "over the test set, of the serving run. A k-fold dataset's n is every row: each run pools "
    "its folds' test predictions."
)


def dataset_heading(dataset: str, models: dict[str, ModelResult]) -> str:
    metrics = next(iter(models.values())).metrics
    if metrics.get("folds"):
        return (
            f"{dataset} (n = {metrics['n']}, {metrics['folds']}-fold cross-validation: every row "
            "tested once)"
        )
    return f"{dataset} (n_test = {metrics['n']})"


def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


# --- Audit ----------------------------------------------------------------------------------

# A probe within this much accuracy of the best model solves the dataset nearly as well without
# reading the news: the benchmark measures the shortcut, not the detector.
SHORTCUT_MARGIN = 0.05


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


AUDIT_HEADER = [
    "dataset",
    "rows",
    "exact duplicates dropped",
    "near-duplicate groups (rows)",
    "official-split leaks resolved",
    "groups across splits",
    "ids in two splits",
    "artifact rules: rows fake / real",
    "label checks",
]

PROBE_HEADER = [
    "dataset",
    "majority",
    "metadata",
    "length",
    "first words",
    "title",
    "best model",
]

AUDIT_LEGEND = (
    "Audit of each split before training (`metrics/<dataset>/audit.json`). Near-duplicates: "
    "Jaccard similarity of word-shingle sets ≥ the `near_duplicates.threshold`; groups are kept "
    "whole in one split. Probes: logistic regressions trained on the train split that see only "
    "the metadata columns, the text lengths, the first words or the title; test accuracy next to "
    "the majority baseline and the best model's. ⚠ marks a probe within {margin} of the best "
    "model: that dataset can nearly be solved without reading the news."
)


def _artifact_cell(artifacts: dict[str, Any] | None) -> str:
    if not artifacts or not artifacts.get("rules"):
        return "none"
    cells = [f"{name} {r['fake']} / {r['real']}" for name, r in artifacts["rules"].items()]
    return "; ".join(cells) + (" (stripped)" if artifacts.get("strip") else " (kept)")


def _label_check_cell(checks: dict[str, Any] | None) -> str:
    if checks is None:
        return "off"
    if not checks:
        return "none for this source"
    return "; ".join(f"{name}: {c['status']} ({c['rows']} rows)" for name, c in checks.items())


def _leak_cell(split: dict[str, Any]) -> str:
    leaks = split.get("official_leaks")
    if not leaks:
        return "—"
    rows = leaks.get("rows", {})
    verb = {"move_to_earliest": "moved", "drop": "dropped", "keep": "kept"}[leaks["policy"]]
    val, test = rows.get("val", 0), rows.get("test", 0)
    return f"{leaks['groups']} groups: {val} val + {test} test rows {verb}"


def audit_rows(findings: AuditFindings) -> list[list[str]]:
    rows = []
    for dataset, audit in findings.datasets.items():
        dup = audit["duplicates"]
        prepare = audit.get("prepare") or {}
        rows.append(
            [
                dataset,
                str(sum(audit["rows"].values())),
                _fmt(prepare.get("duplicates_dropped")),
                f"{dup['near_groups']} ({dup['near_rows']})",
                _leak_cell(audit.get("split") or {}),
                str(dup["cross_split_groups"]),
                str(dup["ids_in_two_splits"]),
                _artifact_cell(audit.get("artifacts")),
                _label_check_cell(audit.get("label_checks")),
            ]
        )
    return rows


def probe_rows(findings: AuditFindings, results: Results) -> list[list[str]]:
    rows = []
    for dataset, audit in findings.datasets.items():
        probes = audit["probes"]
        best_accuracy: float | None = None
        best_cell = "n/a"
        if dataset in results:
            best = best_model(results[dataset])
            best_accuracy = results[dataset][best].metrics["accuracy"]
            best_cell = f"{_fmt(best_accuracy)} ({best})"
        cells = []
        for name in ("metadata", "length", "prefix", "title"):
            probe = probes.get(name, {})
            if "accuracy" not in probe:
                cells.append(f"— ({probe.get('skipped', 'not run')})")
                continue
            near_best = (
                best_accuracy is not None and probe["accuracy"] >= best_accuracy - SHORTCUT_MARGIN
            )
            cells.append(("⚠ " if near_best else "") + _fmt(probe["accuracy"]))
        rows.append([dataset, _fmt(probes["majority"]["accuracy"]), *cells, best_cell])
    return rows


def overlap_rows(findings: AuditFindings) -> tuple[list[str], list[list[str]]] | None:
    """Rows: trained on (its train split); columns: tested on (its test split)."""
    if not findings.overlap or len(findings.datasets) < 2:
        return None
    pairs = findings.overlap["pairs"]
    datasets = list(findings.datasets)
    rows = []
    for source in datasets:
        row = [source]
        for target in datasets:
            cell = pairs.get(source, {}).get(target)
            if source == target or cell is None:
                row.append("—")
            else:
                row.append(f"{cell['near']} of {cell['test_rows']} ({cell['near_fraction']:.1%})")
        rows.append(row)
    return ["train split of ↓ / test split of →", *datasets], rows


OVERLAP_LEGEND = (
    "Test rows of the column's dataset with an exact or near-duplicate in the row's train split: "
    "a transfer score on such rows measures memory, not generalisation."
)


# --- Transfer without the overlapping rows ---------------------------------------------------

WITHOUT_OVERLAP_TITLE = "Transfer without the rows that overlap the training data"
WITHOUT_OVERLAP_LEGEND = (
    "Per pair (trained on the first dataset's train split, tested on the second's test split): "
    "test rows with a near-duplicate in that train split; containment matches, where at least "
    "{threshold:.0%} of the shorter text's word {size}-grams (and at least {min_shared}) occur "
    "in the longer one, such as a claim quoted in an article, counted as train text inside a "
    "test text / test text inside a train text; and the test rows with either, which the "
    '"without" scores leave out. Scores: macro-F1 and ROC-AUC with 95% bootstrap intervals, '
    "on every test row and without the overlapping ones. A pair with nothing to remove keeps "
    "its scores."
)
WITHOUT_OVERLAP_HEADER = [
    "trained on → tested on",
    "near-duplicates",
    "containment: train in test / test in train",
    "rows removed",
    "model",
    "F1 all rows",
    "F1 without",
    "AUC all rows",
    "AUC without",
]


def _without_cell(without: dict[str, Any] | None, key: str) -> str:
    if without is None:
        return "n/a"  # a transfer output from before the overlap rows existed
    if without.get("reason"):
        return f"n/a ({without['reason']})"
    return _with_ci(without, key)


def without_overlap_rows(findings: AuditFindings, results: Results) -> list[list[str]]:
    """One row per pair and model where rows were removed; one row for a pair with none."""
    if not findings.overlap:
        return []
    pairs = findings.overlap["pairs"]
    models = list(next(iter(results.values()), {}))
    rows = []
    for source, target in itertools.permutations(results, 2):
        pair = pairs.get(source, {}).get(target)
        if pair is None:
            continue
        contained = pair.get("containment", {})
        removed = pair.get("overlapping_test_rows", pair["near"])
        counts = [
            f"{source} → {target}",
            str(pair["near"]),
            f"{contained.get('source_in_target', 0)} / {contained.get('target_in_source', 0)}",
            f"{removed} of {pair['test_rows']}",
        ]
        if not removed:
            rows.append([*counts, "all", *(["unchanged"] * 4)])
            continue
        for model in models:
            scores = transfer_scores(results, source, model, target) or {}
            without = scores.get("without_overlap")
            cells = []
            for key in TRANSFER_METRICS:
                cells += [_with_ci(scores, key) if scores else "n/a", _without_cell(without, key)]
            rows.append([*counts, model, *cells])
    return rows


def _without_overlap_legend(overlap: dict[str, Any]) -> str:
    method = overlap.get("containment", {})  # the params the overlap stage ran with
    return WITHOUT_OVERLAP_LEGEND.format(
        size=method.get("shingle_size", "?"),
        threshold=method.get("threshold", 0.0),
        min_shared=method.get("min_shared", "?"),
    )


def render_without_overlap_markdown(findings: AuditFindings | None, results: Results) -> list[str]:
    if findings is None or not findings.overlap:
        return []
    rows = without_overlap_rows(findings, results)
    legend = _without_overlap_legend(findings.overlap)
    table = _md_table(WITHOUT_OVERLAP_HEADER, rows)
    return [f"### {WITHOUT_OVERLAP_TITLE}", "", legend, "", *table, ""] if rows else []


def render_without_overlap_html(findings: AuditFindings | None, results: Results) -> list[str]:
    if findings is None or not findings.overlap:
        return []
    rows = without_overlap_rows(findings, results)
    legend = _without_overlap_legend(findings.overlap)
    return (
        [
            f"<h3>{html.escape(WITHOUT_OVERLAP_TITLE)}</h3>",
            f"<p class='note'>{_inline_markdown(legend)}</p>",
            _html_table(WITHOUT_OVERLAP_HEADER, rows),
        ]
        if rows
        else []
    )


def render_audit_markdown(findings: AuditFindings, results: Results) -> list[str]:
    lines = ["## Audit: leaks and shortcuts", "", AUDIT_LEGEND.format(margin=SHORTCUT_MARGIN), ""]
    lines += [*_md_table(AUDIT_HEADER, audit_rows(findings)), ""]
    lines += ["### Shortcut probes (test accuracy)", ""]
    lines += [*_md_table(PROBE_HEADER, probe_rows(findings, results)), ""]
    overlap = overlap_rows(findings)
    if overlap:
        lines += ["### Cross-dataset overlap", "", OVERLAP_LEGEND, ""]
        lines += [*_md_table(*overlap), ""]
    return lines


OFFICIAL_NUMBERS = (
    "To score on the official splits as released, set `prepare.strip_artifacts: false`, "
    "`prepare.drop_duplicates: false` and `split.official_leaks: keep` (e.g. `dvc exp run -S "
    "prepare.strip_artifacts=false -S prepare.drop_duplicates=false -S "
    "split.official_leaks=keep`); the audit then reports the leaks it no longer resolves."
)


def split_provenance(dataset: str, audit: dict[str, Any]) -> str:
    """How this dataset's test split differs from the released one, in a sentence or three."""
    prepare, split = audit.get("prepare") or {}, audit.get("split") or {}
    rows, artifacts = audit.get("rows") or {}, audit.get("artifacts") or {}
    if split.get("strategy") != "official":
        text = (
            f"**{dataset}**: no official split; a stratified random split "
            f"({rows.get('train')}/{rows.get('val')}/{rows.get('test')} rows), near-duplicate "
            "groups kept whole."
        )
    else:
        released = (prepare.get("official_split_loaded") or {}).get("test")
        prepared = (prepare.get("official_split_counts") or {}).get("test")
        leaks = split.get("official_leaks") or {}
        moved = (leaks.get("rows") or {}).get("test", 0)
        steps = []
        if released is not None and prepared is not None and released != prepared:
            steps.append(
                f"prepare dropped {released - prepared} test rows (exact duplicates of an earlier "
                "row, kept in the earliest split, and empty texts)"
            )
        if moved:
            verb = "dropped" if leaks.get("policy") == "drop" else "moved to train/validation"
            steps.append(
                f"{moved} test rows that near-duplicate a train or validation row were {verb} "
                f"(`split.official_leaks: {leaks.get('policy')}`)"
            )
        text = (
            f"**{dataset}**: official split; test {released if released is not None else '?'} "
            f"rows as released, {rows.get('test')} here"
            + (": " + "; ".join(steps) if steps else "")
            + "."
        )
    changed = (artifacts.get("rows_changed") or {}).get("rows")
    if artifacts.get("strip") and changed:
        rules = ", ".join(sorted(artifacts.get("rules") or {}))
        text += (
            f" Source artifacts ({rules}) were stripped from {changed} rows' text "
            "(`prepare.strip_artifacts`)."
        )
    return text


READING_LEGEND = (
    "Share of each test text's tokens, counted with the model's own tokenizer, that the model "
    "reads: the mean over texts, the least, and the share of texts read whole. TF-IDF reads "
    "every token; the recurrent models the first `max_len` words; the transformers the whole "
    "text in windows of `max_len` tokens (`max_chunks` caps the windows). A model that reads "
    "less of long texts is scored on less of them."
)
FIRST_WINDOW_LEGEND = (
    "The same fine-tuned transformer scored twice on the test split: reading every window of "
    "each text (its leaderboard score), and reading only the first window, as plain truncation "
    "to `max_len` tokens would. Only texts longer than one window differ. 95% bootstrap "
    "intervals."
)
FIRST_WINDOW_HEADER = [
    "dataset",
    "model",
    "F1 macro, whole text",
    "F1 macro, first window",
    "ROC-AUC, whole text",
    "ROC-AUC, first window",
    "tokens read: whole text / first window (mean)",
]


def _reading_cell(reading: dict[str, Any] | None) -> str:
    if not reading:
        return "n/a"
    whole = 100 * reading["share_of_texts_read_fully"]
    # Rounded down: "100% whole" only when every text is read whole (not 99.95%).
    whole_text = f"{whole:.0f}%" if whole.is_integer() else f"{math.floor(whole * 10) / 10:.1f}%"
    return (
        f"{_fmt(reading['mean_share'], 3)} (min {_fmt(reading['min_share'], 3)}; "
        f"{whole_text} whole)"
    )


def reading_rows(results: Results) -> tuple[list[str], list[list[str]]]:
    """Header and rows: per model, the share of each dataset's test texts it reads."""
    datasets = list(results)
    models = list(dict.fromkeys(m for ms in results.values() for m in ms))
    rows = [
        [model]
        + [
            _reading_cell(results[d][model].metrics.get("reading") if model in results[d] else None)
            for d in datasets
        ]
        for model in models
    ]
    return ["model", *datasets], rows


def first_window_rows(results: Results) -> list[list[str]]:
    """Whole-text versus first-window scores of each model evaluated both ways."""
    rows = []
    for dataset, models in results.items():
        for model, r in models.items():
            first = r.metrics.get("first_window")
            if not first:
                continue
            read = r.metrics.get("reading", {}).get("mean_share")
            rows.append(
                [
                    dataset,
                    model,
                    _with_ci(r.metrics, "f1_macro"),
                    _with_ci(first, "f1_macro"),
                    _with_ci(r.metrics, "roc_auc"),
                    _with_ci(first, "roc_auc"),
                    f"{_fmt(read, 3)} / {_fmt(first['reading']['mean_share'], 3)}",
                ]
            )
    return rows


def render_reading_markdown(results: Results) -> list[str]:
    lines = ["## What the models read", "", READING_LEGEND, ""]
    lines += [*_md_table(*reading_rows(results)), ""]
    first = first_window_rows(results)
    if first:
        lines += ["### Whole text versus first window", "", FIRST_WINDOW_LEGEND, ""]
        lines += [*_md_table(FIRST_WINDOW_HEADER, first), ""]
    return lines


def render_reading_html(results: Results) -> list[str]:
    parts = [
        f"<h2 id='reading'>{dict(SECTIONS)['reading']}</h2>",
        f"<p class='note'>{_inline_markdown(READING_LEGEND)}</p>",
        _html_table(*reading_rows(results)),
    ]
    first = first_window_rows(results)
    if first:
        parts.append("<h3>Whole text versus first window</h3>")
        parts.append(f"<p class='note'>{_inline_markdown(FIRST_WINDOW_LEGEND)}</p>")
        parts.append(_html_table(FIRST_WINDOW_HEADER, first))
    return parts


SIGNIFICANCE_LEGEND = (
    "Δ F1: model A's mean test F1 macro over its runs minus model B's. Two-level bootstrap: "
    "each resample draws the test examples (the same for both models) and each model's runs, "
    "with replacement, so the p-value and the 95% interval of Δ include seed-to-seed training "
    "noise, not only test-sample noise. Holm correction across the tested pairs of each dataset "
    "(alpha = {alpha}). Not tested: a side has fewer than 3 runs (a seed-free model's one run "
    "counts for every seed)."
)
SIGNIFICANCE_HEADER = [
    "model A",
    "model B",
    "runs",
    "Δ F1 [95% CI]",
    "p",
    "p (Holm)",
    "significant",
]


def significance_rows(ranking: Ranking) -> list[list[str]]:
    rows = []
    for r in ranking.pairs:
        runs = f"{r.get('runs_a', '?')} / {r.get('runs_b', '?')}"
        if not r.get("tested"):
            rows.append(
                [r["model_a"], r["model_b"], runs, "—", "—", "—", f"not tested: {r['reason']}"]
            )
            continue
        rows.append(
            [
                r["model_a"],
                r["model_b"],
                runs,
                f"{r['difference']:+.4f} [{r['ci_low']:+.3f}, {r['ci_high']:+.3f}]",
                _fmt(r["p_value"]),
                _fmt(r["p_holm"]),
                "yes" if r["significant"] else "no",
            ]
        )
    return rows


ACROSS_LEGEND = (
    "Models ranked on each dataset by mean test F1 macro over their runs (rank 1 = best), "
    "averaged over the datasets. Friedman test of the null hypothesis that every model has the "
    "same average rank; Nemenyi critical difference (CD) at alpha = {alpha}: models whose average "
    "ranks differ by less than CD, joined by a bar, are not told apart (Demšar 2006). With few "
    "datasets the test has little power: a non-significant result says the datasets cannot rank "
    "the models, not that the models are equal."
)


def _across_rows(across: dict[str, Any]) -> list[list[str]]:
    ranks = sorted(across["average_ranks"].items(), key=lambda kv: kv[1])
    return [[model, _fmt(rank, 2)] for model, rank in ranks]


def _across_summary(across: dict[str, Any]) -> str:
    if across.get("p_value") is None:
        return f"Friedman test not run: {across.get('reason', 'too few datasets or models')}."
    return (
        f"{across['n_models']} models on {across['n_datasets']} datasets: Friedman "
        f"χ² = {_fmt(across['statistic'], 3)}, p = {_fmt(across['p_value'])}; "
        f"critical difference {_fmt(across['critical_difference'], 3)}."
    )


def render_across_markdown(across: dict[str, Any] | None) -> list[str]:
    if across is None:
        return []
    lines = ["## Across datasets", "", ACROSS_LEGEND.format(alpha=across["alpha"]), ""]
    lines += [_across_summary(across), ""]
    lines += [*_md_table(["model", "average rank"], _across_rows(across)), ""]
    return lines


def render_across_html(across: dict[str, Any] | None) -> list[str]:
    parts = [f"<h2 id='across'>{dict(SECTIONS)['across']}</h2>"]
    if across is None:
        return [*parts, "<p>Only one dataset in this run: nothing to rank across.</p>"]
    parts.append(
        f"<p class='note'>{_inline_markdown(ACROSS_LEGEND.format(alpha=across['alpha']))}</p>"
    )
    parts.append(f"<p>{html.escape(_across_summary(across))}</p>")
    if across.get("p_value") is not None:
        title = f"Critical difference diagram (Friedman p = {_fmt(across['p_value'])})"
        parts.append(_figure(figures.critical_difference_svg(across, title)))
    parts.append(_html_table(["model", "average rank"], _across_rows(across)))
    return parts


def render_markdown(
    results: Results,
    rankings: dict[str, Ranking],
    alpha: float,
    audit: AuditFindings | None = None,
    across: dict[str, Any] | None = None,
    generalisation: Generalisation | None = None,
) -> str:
    lines = [
        "# Fake-news detection benchmark",
        "",
        "Test results per dataset (label 1 = fake). Every model saw the same "
        "train/validation/test split, or on a small dataset the same k folds.",
        "",
        LEGEND.format(selected_on=SELECTED_ON, alpha=alpha),
        "",
    ]
    if audit is not None:
        lines += ["## Test splits and the official releases", ""]
        lines += [f"- {split_provenance(d, a)}" for d, a in audit.datasets.items()]
        lines += ["", OFFICIAL_NUMBERS, ""]
    for dataset, models in results.items():
        lines += [f"## {dataset_heading(dataset, models)}", ""]
        lines += [*_md_table(LEADERBOARD_HEADER, leaderboard_rows(models, rankings[dataset])), ""]
    lines += ["## Pairwise significance", "", SIGNIFICANCE_LEGEND.format(alpha=alpha), ""]
    for dataset in results:
        lines += [f"### {dataset}", ""]
        lines += [*_md_table(SIGNIFICANCE_HEADER, significance_rows(rankings[dataset])), ""]
    lines += render_across_markdown(across)
    lines += render_reading_markdown(results)
    if audit is not None:
        lines += render_audit_markdown(audit, results)
    if len(results) > 1:
        lines += ["## Cross-dataset transfer", "", TRANSFER_LEGEND, ""]
        first = next(iter(results.values()))
        for model in first:
            lines += [f"### {model}", ""]
            header = ["trained on ↓ / tested on →", *transfer_targets(results)]
            lines += [*_md_table(header, transfer_rows(results, model)), ""]
        lines += ["### What each model strips from a target's raw text", ""]
        lines += [*_md_table(PREPARATION_HEADER, preparation_rows(results)), ""]
        lines += render_without_overlap_markdown(audit, results)
        lines += ["### In-domain minus out-of-domain macro-F1 per model family", ""]
        gap_rows = [
            [
                family,
                _fmt(g["in_domain_f1_macro"]),
                _fmt(g["out_of_domain_f1_macro"]),
                _fmt(g["gap"]),
            ]
            for family, g in domain_gaps(results).items()
        ]
        lines += [*_md_table(["family", "in-domain", "out-of-domain", "gap"], gap_rows), ""]
    lines += render_generalisation_markdown(generalisation)
    return "\n".join(lines)


# --- HTML ------------------------------------------------------------------------------------

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;
max-width:1200px;padding:0 1rem;color:#222}
h1{font-size:1.6rem}h2{border-bottom:1px solid #ddd;padding-bottom:.2rem;margin-top:2.2rem}
table{border-collapse:collapse;margin:.6rem 0 1.2rem;font-size:.85rem}
th,td{border:1px solid #ddd;padding:.25rem .5rem;text-align:right}
th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}
.grid{display:flex;flex-wrap:wrap;gap:1rem;align-items:flex-start}
.grid figure{margin:0}.note{color:#555;font-size:.85rem}
.text{max-width:520px;text-align:left;white-space:normal}
nav a{margin-right:.8rem}
"""

SECTIONS = [
    ("splits", "Test splits and the official releases"),
    ("leaderboard", "Leaderboard"),
    ("reading", "What the models read"),
    ("audit", "Audit: leaks and shortcuts"),
    ("significance", "Pairwise significance"),
    ("across", "Across datasets"),
    ("confusion", "Confusion matrices"),
    ("curves", "ROC and precision-recall curves"),
    ("training", "Training curves"),
    ("calibration", "Calibration"),
    ("transfer", "Cross-dataset transfer"),
    ("generalisation", "Generalisation: unseen sources"),
    ("efficiency", "Accuracy versus latency"),
    ("errors", "Most confident errors"),
]


def _inline_markdown(text: str) -> str:
    """HTML for the **bold** and `code` spans the report's sentences use, the rest escaped."""
    escaped = html.escape(text)
    escaped = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", escaped)
    return re.sub(r"`(.+?)`", r"<code>\1</code>", escaped)


def _html_table(
    header: list[str], rows: list[list[str]], classes: dict[int, str] | None = None
) -> str:
    classes = classes or {}
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="{classes[i]}">{html.escape(c)}</td>'
            if i in classes
            else f"<td>{html.escape(c)}</td>"
            for i, c in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _figure(svg: str) -> str:
    return f"<figure>{svg}</figure>"


def _curve_figures(models: dict[str, ModelResult], dataset: str) -> list[str]:
    roc = {
        m: [(p["fpr"], p["tpr"]) for p in stats.roc_points(r.labels, r.probs)]
        for m, r in models.items()
    }
    pr = {
        m: [(p["recall"], p["precision"]) for p in stats.pr_points(r.labels, r.probs)]
        for m, r in models.items()
    }
    return [
        figures.curves(
            roc, f"ROC — {dataset}", "false positive rate", "true positive rate", diagonal=True
        ),
        figures.curves(pr, f"Precision-recall (fake) — {dataset}", "recall", "precision"),
    ]


def render_audit_html(findings: AuditFindings | None, results: Results) -> list[str]:
    parts = [f"<h2 id='audit'>{dict(SECTIONS)['audit']}</h2>"]
    if findings is None:
        return [*parts, "<p>No audit in this run.</p>"]
    legend = AUDIT_LEGEND.format(margin=SHORTCUT_MARGIN)
    parts.append(f"<p class='note'>{_inline_markdown(legend)}</p>")
    parts.append(_html_table(AUDIT_HEADER, audit_rows(findings), {7: "text", 8: "text"}))
    parts.append("<h3>Shortcut probes (test accuracy)</h3>")
    parts.append(_html_table(PROBE_HEADER, probe_rows(findings, results)))
    overlap = overlap_rows(findings)
    if overlap:
        parts.append("<h3>Cross-dataset overlap</h3>")
        parts.append(f"<p class='note'>{_inline_markdown(OVERLAP_LEGEND)}</p>")
        parts.append(_html_table(*overlap))
    return parts


def render_html(
    results: Results,
    rankings: dict[str, Ranking],
    alpha: float,
    audit: AuditFindings | None = None,
    across: dict[str, Any] | None = None,
    generalisation: Generalisation | None = None,
) -> str:
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<title>Fake-news detection benchmark</title>",
        f"<style>{STYLE}</style></head><body>",
        "<h1>Fake-news detection benchmark</h1>",
        "<p>Every model saw the same train/validation/test split of each dataset; label 1 = fake. "
        "Generated by the <code>report</code> stage from the evaluation outputs alone.</p>",
        "<nav>" + "".join(f"<a href='#{k}'>{html.escape(t)}</a>" for k, t in SECTIONS) + "</nav>",
    ]
    section = dict(SECTIONS)

    if audit is not None:
        parts.append(f"<h2 id='splits'>{section['splits']}</h2><ul>")
        parts += [
            f"<li>{_inline_markdown(split_provenance(d, a))}</li>"
            for d, a in audit.datasets.items()
        ]
        parts.append(f"</ul><p class='note'>{_inline_markdown(OFFICIAL_NUMBERS)}</p>")
    parts.append(f"<h2 id='leaderboard'>{section['leaderboard']}</h2>")
    legend = LEGEND.format(selected_on=SELECTED_ON, alpha=alpha)
    parts.append(f"<p class='note'>{_inline_markdown(legend)}</p>")
    for dataset, models in results.items():
        parts.append(f"<h3>{html.escape(dataset_heading(dataset, models))}</h3>")
        parts.append(_html_table(LEADERBOARD_HEADER, leaderboard_rows(models, rankings[dataset])))

    parts += render_reading_html(results)
    parts += render_audit_html(audit, results)

    parts.append(f"<h2 id='significance'>{section['significance']}</h2>")
    parts.append(f"<p class='note'>{_inline_markdown(SIGNIFICANCE_LEGEND.format(alpha=alpha))}</p>")
    for dataset in results:
        parts.append(f"<h3>{html.escape(dataset)}</h3>")
        parts.append(_html_table(SIGNIFICANCE_HEADER, significance_rows(rankings[dataset])))
    parts += render_across_html(across)

    parts.append(f"<h2 id='confusion'>{section['confusion']}</h2>")
    for dataset, models in results.items():
        parts.append(f"<h3>{html.escape(dataset)}</h3><div class='grid'>")
        for model, r in models.items():
            cm = r.metrics["confusion_matrix"]
            matrix = np.array([[cm["tn"], cm["fp"]], [cm["fn"], cm["tp"]]], dtype=float)
            parts.append(
                _figure(
                    figures.heatmap(
                        matrix,
                        ["real", "fake"],
                        ["real", "fake"],
                        model,
                        "predicted",
                        "actual",
                        fmt="{:.0f}",
                    )
                )
            )
        parts.append("</div>")

    parts.append(f"<h2 id='curves'>{section['curves']}</h2>")
    for dataset, models in results.items():
        parts.append(
            f"<div class='grid'>{''.join(map(_figure, _curve_figures(models, dataset)))}</div>"
        )

    parts.append(f"<h2 id='training'>{section['training']}</h2>")
    parts.append(
        "<p class='note'>Validation loss per epoch (models trained in one step, such as "
        "TF-IDF + logistic regression, show a single point).</p><div class='grid'>"
    )
    for dataset, models in results.items():
        series = {
            m: [(row["epoch"], row["val_loss"]) for row in r.history if "val_loss" in row]
            for m, r in models.items()
        }
        parts.append(
            _figure(
                figures.curves(
                    series, f"Validation loss — {dataset}", "epoch", "validation loss", limits=None
                )
            )
        )
    parts.append("</div>")

    parts.append(f"<h2 id='calibration'>{section['calibration']}</h2>")
    parts.append(
        "<p class='note'>Reliability diagrams: mean predicted P(fake) per bin against "
        "the observed share of fake examples; the diagonal is perfect calibration. ECE "
        "and Brier score are in the leaderboard.</p><div class='grid'>"
    )
    for dataset, models in results.items():
        series = {
            m: [
                (b["mean_predicted"], b["observed_fraction"])
                for b in stats.reliability_diagram(r.labels, r.probs)
            ]
            for m, r in models.items()
        }
        parts.append(
            _figure(
                figures.curves(
                    series,
                    f"Reliability — {dataset}",
                    "mean predicted P(fake)",
                    "observed fraction fake",
                    diagonal=True,
                )
            )
        )
    parts.append("</div>")

    parts.append(f"<h2 id='transfer'>{section['transfer']}</h2>")
    if len(results) > 1:
        parts.append(
            f"<p class='note'>{html.escape(TRANSFER_LEGEND)} The heatmaps show macro-F1.</p>"
            "<div class='grid'>"
        )
        for model in next(iter(results.values())):
            datasets, matrix = transfer_matrix(results, model)
            parts.append(
                _figure(
                    figures.heatmap(
                        matrix,
                        datasets,
                        datasets,
                        model,
                        "tested on",
                        "trained on",
                        vmin=0.0,
                        vmax=1.0,
                    )
                )
            )
        parts.append("</div>")
        for model in next(iter(results.values())):
            parts.append(f"<h3>{html.escape(model)}</h3>")
            header = ["trained on ↓ / tested on →", *transfer_targets(results)]
            parts.append(_html_table(header, transfer_rows(results, model)))
        parts.append("<h3>What each model strips from a target's raw text</h3>")
        parts.append(_html_table(PREPARATION_HEADER, preparation_rows(results)))
        parts += render_without_overlap_html(audit, results)
        parts.append("<h3>In-domain minus out-of-domain macro-F1 per model family</h3>")
        gap_rows = [
            [
                family,
                _fmt(g["in_domain_f1_macro"]),
                _fmt(g["out_of_domain_f1_macro"]),
                _fmt(g["gap"]),
            ]
            for family, g in domain_gaps(results).items()
        ]
        parts.append(
            _html_table(["family", "in-domain F1 macro", "out-of-domain F1 macro", "gap"], gap_rows)
        )
    else:
        parts.append("<p>Only one dataset in this run: no transfer to show.</p>")

    parts += render_generalisation_html(generalisation)
    parts.append(f"<h2 id='efficiency'>{section['efficiency']}</h2><div class='grid'>")
    for dataset, models in results.items():
        points = {
            m: (r.metrics["efficiency"]["inference_ms_per_example"], r.metrics["accuracy"])
            for m, r in models.items()
            if r.metrics.get("efficiency", {}).get("inference_ms_per_example")
        }
        parts.append(
            _figure(
                figures.scatter(
                    points,
                    f"Accuracy vs latency — {dataset}",
                    "inference ms per example (log)",
                    "test accuracy",
                )
            )
        )
    parts.append("</div>")
    devices = sorted(
        {
            str(r.metrics.get("efficiency", {}).get("device"))
            for ms in results.values()
            for r in ms.values()
        }
    )
    parts.append(f"<p class='note'>Measured on: {html.escape(', '.join(devices))}.</p>")

    parts.append(f"<h2 id='errors'>{section['errors']}</h2>")
    for dataset, models in results.items():
        parts.append(f"<h3>{html.escape(dataset)}</h3>")
        for model, r in models.items():
            rows = [
                [kind.replace("_", " "), e["id"], _fmt(e["prob_fake"], 3), e["text"]]
                for kind in ("false_positives", "false_negatives")
                for e in r.errors.get(kind, [])
            ]
            if rows:
                parts.append(f"<h4>{html.escape(model)}</h4>")
                parts.append(_html_table(["error", "id", "P(fake)", "text"], rows, {3: "text"}))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def curve_rows(results: Results, kind: str) -> list[dict[str, Any]]:
    """ROC or PR points of every dataset x model in one long table, for DVC's overlay plots."""
    points = stats.roc_points if kind == "roc" else stats.pr_points
    rows = []
    for dataset, models in results.items():
        for model, r in models.items():
            for i, point in enumerate(points(r.labels, r.probs)):
                rows.append({"dataset": dataset, "model": model, "point": i, **point})
    return rows


def _generalisation_parts(g: Generalisation) -> list[tuple[str, str, list[str], list[list[str]]]]:
    """(heading, legend, header, rows) per table of the generalisation section."""
    tables = []
    if g.lodo_union:
        tables.append(("Leave-one-dataset-out (ROC-AUC)", LODO_LEGEND, *lodo_rows(g)))
    for union in g.unions:
        if union in g.lodo_union.values():
            continue
        legend = (
            f"Trained on the union `{union}` and scored on each member's test split, next to "
            "the model trained on that member alone (reference seed). ROC-AUC, 95% intervals. "
            "A k-fold member's own score pools its folds over every row; the union's is on its "
            "test split only (the union trained on the rest)."
        )
        tables.append((f"Union {union} (ROC-AUC)", legend, *union_rows(g, union)))
    for target in g.eval_only:
        legend = (
            f"Evaluation-only dataset `{target}` (never trained on), scored by every model "
            "trained on a dataset or a union. ROC-AUC, 95% intervals; accuracy (the share "
            "classified right) where the set holds one class only."
        )
        tables.append((f"Evaluation-only: {target} (ROC-AUC)", legend, *eval_only_rows(g, target)))
    if g.family_scores:
        tables.append(("Per family (ROC-AUC)", FAMILY_LEGEND, *family_rows(g)))
    return tables


def render_generalisation_markdown(g: Generalisation | None) -> list[str]:
    if g is None or not g.has_anything:
        return []
    lines = [f"## {dict(SECTIONS)['generalisation']}", "", verdict(g), ""]
    for heading, legend, header, rows in _generalisation_parts(g):
        lines += [f"### {heading}", "", legend, "", *_md_table(header, rows), ""]
    return lines


def render_generalisation_html(g: Generalisation | None) -> list[str]:
    if g is None or not g.has_anything:
        return []
    parts = [
        f"<h2 id='generalisation'>{dict(SECTIONS)['generalisation']}</h2>",
        f"<p><strong>{html.escape(verdict(g))}</strong></p>",
    ]
    for heading, legend, header, rows in _generalisation_parts(g):
        parts.append(f"<h3>{html.escape(heading)}</h3>")
        parts.append(f"<p class='note'>{_inline_markdown(legend)}</p>")
        parts.append(_html_table(header, rows))
    return parts


def build_report(params: Params, paths: Paths, summary_file: Path | None = None) -> dict[str, Any]:
    alpha = params.report.alpha
    results = collect(params, paths)
    audit = collect_audit(params, paths)
    rankings = rank(results, alpha)
    across = across_datasets(results, alpha)
    summary = summarise(results, rankings)
    if len(results) > 1:
        summary["domain_gap"] = domain_gaps(results)
    if across is not None:
        summary["across_datasets"] = across
    in_domain = {
        m: {d: models[m].transfer_run.metrics for d, models in results.items()}
        for m in params.model_names
    }
    general = collect_generalisation(params, paths, in_domain)
    if general.has_anything:
        summary["generalisation"] = general.summary()
    write_json(summary_file or paths.summary, summary)
    write_text(paths.report, render_markdown(results, rankings, alpha, audit, across, general))
    write_text(paths.report_html, render_html(results, rankings, alpha, audit, across, general))
    for kind in ("roc", "pr"):
        write_json(paths.curves(kind), {kind: curve_rows(results, kind)})
    return summary
