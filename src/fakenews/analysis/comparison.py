"""Comparing models trained with several seeds: within one dataset and across datasets.

Within a dataset every model has one or more runs (one per training seed; with k-fold CV the
out-of-fold predictions of a run are pooled, so each run predicts every row once), all scored
on the same rows in the same order. :func:`seed_bootstrap_test` compares two models over both
sources of noise, :func:`compare_runs` does every pair with Holm's correction. Across datasets,
:func:`friedman_ranks` ranks the models (Friedman test + Nemenyi post-hoc, Demšar 2006); its
diagram is drawn by :func:`fakenews.reporting.figures.critical_difference_svg` (analysis never
imports the reporting layer).

Randomness comes only from an explicit ``seed``: the same inputs give the same results.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from itertools import combinations
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from fakenews.analysis.stats import (
    _accuracy_f1_from_counts,
    _confusion_codes,
    _counts,
    _labels,
    _percentile_interval,
    holm_correction,
    iter_bootstrap_indices,
)
from fakenews.core.io import rounded

if TYPE_CHECKING:
    import pandas as pd

# scipy.stats and scikit_posthocs (which pulls in seaborn and statsmodels) are
# imported in the functions that use them: seconds of start-up the seed test never needs.

METRICS = ("accuracy", "f1_macro")
CONFIDENCE = 0.95
# Salt for the run draws' generator, so they never reuse the example draws' random stream.
_RUN_STREAM = 1


def _runs(preds: ArrayLike, n: int, name: str) -> np.ndarray:
    """Predictions as a (runs, n) int array of 0/1; a 1-D array is one run."""
    arr = np.asarray(preds)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[0] == 0:
        raise ValueError(f"{name} must have shape (runs, {n}) with runs >= 1, got {arr.shape}")
    if arr.shape[1] != n:
        raise ValueError(
            f"{name} must have {n} predictions per run (one per label), got {arr.shape}"
        )
    if not np.isin(arr, (0, 1)).all():
        raise ValueError(f"{name} must hold 0/1 predictions")
    return arr.astype(np.int64)


def _metric_index(metric: str) -> int:
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {METRICS}, got {metric!r}")
    return METRICS.index(metric)


def _one_hot_codes(codes: np.ndarray) -> np.ndarray:
    """(n, runs * 4) 0/1 matrix: column ``4 * run + code`` marks the rows of that code."""
    runs, n = codes.shape
    out = np.zeros((n, runs * 4))
    out[np.arange(n)[None, :], codes + 4 * np.arange(runs)[:, None]] = 1.0
    return out


def _resampled_metric(multiplicity: np.ndarray, one_hot: np.ndarray, which: int) -> np.ndarray:
    """Metric of every run on every resample, shape (resamples, runs).

    A resample's confusion counts for a run are sum_i (times row i was drawn) * [code_i = c], so
    one matrix product scores all runs at once without gathering (resamples x runs x n) codes.
    """
    counts = np.rint(multiplicity @ one_hot).astype(np.int64)
    counts = counts.reshape(multiplicity.shape[0], -1, 4)
    tn, fn, fp, tp = np.moveaxis(counts, 2, 0)  # code order of _confusion_codes
    return _accuracy_f1_from_counts(tp, fp, fn, tn)[which]


def seed_bootstrap_test(
    labels: ArrayLike,
    preds_a: ArrayLike,
    preds_b: ArrayLike,
    *,
    metric: str = "f1_macro",
    n_resamples: int = 2000,
    seed: int = 0,
) -> dict[str, Any]:
    """Two-level (seeds x test rows) bootstrap test of metric(A) - metric(B).

    McNemar or a permutation test on one run per model measures only test-sample noise; a
    model's score also moves with its training seed (Reimers & Gurevych 2017; Dodge et al.
    2020), so a one-run "win" may be a lucky seed. Each resample here draws n test rows with
    replacement (the same rows for both models: paired, and the same rows as
    :func:`fakenews.analysis.stats.metric_cis` with this seed) and, independently, ``r_a`` runs
    of A and ``r_b`` runs of B with replacement; the statistic is the mean metric of the drawn A
    runs minus that of the drawn B runs, on the drawn rows.

    ``preds_a`` has shape (r_a, n), ``preds_b`` (r_b, n) (a 1-D array is one run). ``metric``
    is ``"accuracy"`` or ``"f1_macro"`` (as :mod:`fakenews.analysis.stats`: a class absent from both
    labels and predictions is left out of the macro average, like sklearn). Returns the mean
    metric over runs of each model, the observed ``difference``, the 95% percentile interval
    ``ci_low``/``ci_high`` of the resampled difference and the two-sided bootstrap ``p_value``
    (twice the smaller tail share, each counting the observed side as one draw, capped at 1).
    """
    which = _metric_index(metric)
    if n_resamples < 1:
        raise ValueError("n_resamples must be >= 1")
    y = _labels(labels)
    n = len(y)
    a = _runs(preds_a, n, "preds_a")
    b = _runs(preds_b, n, "preds_b")
    codes_a, codes_b = _confusion_codes(y, a), _confusion_codes(y, b)
    hot_a, hot_b = _one_hot_codes(codes_a), _one_hot_codes(codes_b)

    # Run draws come from their own stream, so the row draws are exactly iter_bootstrap_indices'.
    run_rng = np.random.default_rng([seed, _RUN_STREAM])
    draws_a = run_rng.integers(0, len(a), size=(n_resamples, len(a)))
    draws_b = run_rng.integers(0, len(b), size=(n_resamples, len(b)))

    diffs = np.empty(n_resamples)
    done = 0
    for idx in iter_bootstrap_indices(n, n_resamples, seed):
        rows = idx.shape[0]
        offset = n * np.arange(rows)[:, None]
        multiplicity = np.bincount((idx + offset).ravel(), minlength=rows * n).reshape(rows, n)
        multiplicity = multiplicity.astype(np.float64)
        score_a = _resampled_metric(multiplicity, hot_a, which)
        score_b = _resampled_metric(multiplicity, hot_b, which)
        part = slice(done, done + rows)
        diffs[part] = np.take_along_axis(score_a, draws_a[part], axis=1).mean(axis=1)
        diffs[part] -= np.take_along_axis(score_b, draws_b[part], axis=1).mean(axis=1)
        done += rows

    mean_a = float(_accuracy_f1_from_counts(*_counts(codes_a))[which].mean())
    mean_b = float(_accuracy_f1_from_counts(*_counts(codes_b))[which].mean())
    low, high = _percentile_interval(diffs, CONFIDENCE)
    below = (np.count_nonzero(diffs <= 0) + 1) / (n_resamples + 1)
    above = (np.count_nonzero(diffs >= 0) + 1) / (n_resamples + 1)
    return {
        "metric": metric,
        "mean_a": rounded(mean_a),
        "mean_b": rounded(mean_b),
        "difference": rounded(mean_a - mean_b),
        "ci_low": rounded(low),
        "ci_high": rounded(high),
        "p_value": float(min(1.0, 2.0 * min(below, above))),
        "n_resamples": n_resamples,
        "runs_a": len(a),
        "runs_b": len(b),
    }


def compare_runs(
    labels: ArrayLike,
    runs: Mapping[str, ArrayLike],
    *,
    alpha: float,
    min_runs: int = 3,
    seed_free: Collection[str] = (),
    metric: str = "f1_macro",
    n_resamples: int = 2000,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """:func:`seed_bootstrap_test` for every pair of models, Holm-corrected.

    ``runs`` maps a model to its (runs, n) predictions; pairs come in
    ``itertools.combinations`` order of the mapping. A pair is tested only when both models
    have at least ``min_runs`` runs: with fewer, the seed spread cannot be estimated and the
    test would understate the noise. A model in ``seed_free`` (its fit does not depend on the
    seed, e.g. deterministic TF-IDF + logistic regression) has no seed spread, so one run stands
    for all; names in ``seed_free`` absent from ``runs`` are ignored. Holm's correction is
    applied across the tested pairs only, and ``significant`` means ``p_holm < alpha``; an
    untested row has ``tested`` False, a ``reason``, null p-values and is never significant.
    """
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
    if min_runs < 1:
        raise ValueError("min_runs must be >= 1")
    _metric_index(metric)
    y = _labels(labels)
    # Validate every model up front, so a bad array fails even when its pairs go untested.
    arrays = {name: _runs(preds, len(y), f"runs[{name!r}]") for name, preds in runs.items()}
    free = set(seed_free)

    def short(name: str) -> str | None:
        count = len(arrays[name])
        if name in free or count >= min_runs:
            return None
        return f"{name} has {count} run(s)"

    rows: list[dict[str, Any]] = []
    for name_a, name_b in combinations(arrays, 2):
        shortfalls = [s for s in (short(name_a), short(name_b)) if s is not None]
        row: dict[str, Any] = {"model_a": name_a, "model_b": name_b}
        if shortfalls:
            reason = f"{' and '.join(shortfalls)}; at least {min_runs} needed"
            row.update(tested=False, reason=reason, p_value=None, p_holm=None, significant=False)
        else:
            test = seed_bootstrap_test(
                y,
                arrays[name_a],
                arrays[name_b],
                metric=metric,
                n_resamples=n_resamples,
                seed=seed,
            )
            row.update(test, tested=True, reason=None)
        rows.append(row)

    tested = [row for row in rows if row["tested"]]
    for row, p_holm in zip(tested, holm_correction([r["p_value"] for r in tested]), strict=True):
        row["p_holm"] = p_holm
        row["significant"] = p_holm < alpha
    return rows


# --------------------------------------------------------------------------- across datasets


def nemenyi_critical_difference(n_models: int, n_datasets: int, alpha: float = 0.05) -> float:
    """Nemenyi critical difference of average ranks, q_alpha * sqrt(k(k+1) / (6N)) (Demšar 2006).

    q_alpha is the studentized range quantile for k groups and infinite degrees of freedom,
    divided by sqrt(2) (Demšar's table: 2.850 for k = 6, alpha = 0.05).
    """
    if n_models < 2 or n_datasets < 1:
        raise ValueError("the critical difference needs >= 2 models and >= 1 dataset")
    from scipy.stats import studentized_range

    q_alpha = studentized_range.ppf(1.0 - alpha, n_models, np.inf) / np.sqrt(2.0)
    return float(q_alpha * np.sqrt(n_models * (n_models + 1) / (6.0 * n_datasets)))


def friedman_ranks(scores: pd.DataFrame, alpha: float = 0.05) -> dict[str, Any]:
    """Average ranks, Friedman test and Nemenyi post-hoc of models over datasets (Demšar 2006).

    ``scores`` has one row per dataset and one column per model, higher is better (e.g. mean
    macro-F1 over runs); every cell must be finite, as the Friedman test needs complete blocks.
    Rank 1 is the best model of a dataset and ties share their average rank. ``p_value`` is the
    Friedman chi-square test's; ``nemenyi`` holds the pairwise post-hoc p-values, to be read
    only when the Friedman test rejects. With fewer than 3 models or 2 datasets the test cannot
    run: ``statistic``, ``p_value``, ``critical_difference`` and ``nemenyi`` are None and
    ``reason`` says why.
    """
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
    if scores.empty:
        raise ValueError("scores must hold at least one dataset and one model")
    if not scores.columns.is_unique:
        raise ValueError("model names (columns) must be unique")
    values = scores.to_numpy(dtype=np.float64)
    if not np.isfinite(values).all():
        raise ValueError("every model needs a finite score on every dataset")
    n_datasets, n_models = values.shape
    ranks = scores.rank(axis=1, ascending=False, method="average").mean(axis=0)
    result: dict[str, Any] = {
        "average_ranks": {str(model): float(rank) for model, rank in ranks.items()},
        "n_datasets": n_datasets,
        "n_models": n_models,
        "statistic": None,
        "p_value": None,
        "critical_difference": None,
        "nemenyi": None,
        "alpha": alpha,
    }
    if n_models < 3 or n_datasets < 2:
        result["reason"] = (
            f"the Friedman test needs >= 3 models and >= 2 datasets, "
            f"got {n_models} model(s) and {n_datasets} dataset(s)"
        )
        return result
    if (values == values[:, :1]).all():
        # Every dataset is one big tie: the tie-corrected statistic divides by zero.
        result["reason"] = "all models tie on every dataset"
        return result

    import scikit_posthocs
    from scipy.stats import friedmanchisquare

    statistic, p_value = friedmanchisquare(*values.T)
    nemenyi = scikit_posthocs.posthoc_nemenyi_friedman(values)  # symmetric in rank direction
    names = list(result["average_ranks"])
    result.update(
        statistic=float(statistic),
        p_value=float(p_value),
        critical_difference=nemenyi_critical_difference(n_models, n_datasets, alpha),
        nemenyi={
            a: {b: float(nemenyi.iloc[i, j]) for j, b in enumerate(names)}
            for i, a in enumerate(names)
        },
    )
    return result
