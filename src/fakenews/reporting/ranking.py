"""The numbers the report states: each dataset's best model and significance tests, the ranks
across datasets, the transfer gap per family, and ``summary.json`` (:func:`summarise`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from fakenews.analysis import comparison
from fakenews.analysis.selection import SELECT_KEY, pick_best
from fakenews.core.errors import FakenewsError
from fakenews.reporting.collect import TRANSFER_METRICS, ModelResult, Results

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
    (:mod:`fakenews.analysis.selection`), like the registry's @best; the first listed when none
    has one."""
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
    and parameter count are the serving run's (``serving_seed``). No wall-clock figure: a rerun
    writes the same bytes.
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
            row["parameters"] = m.get("efficiency", {}).get("parameters")
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
