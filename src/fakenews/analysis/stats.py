"""Statistics for comparing models on the same test set (label 1 = fake, ``prob`` = P(fake)).

Everything here is pure and deterministic: randomness comes only from an explicit ``seed``
fed to ``np.random.default_rng``. Hard predictions are ``prob >= threshold`` (0.5 unless
given), the same rule as :mod:`fakenews.analysis.metrics`. Values meant for JSON (curve points,
reliability rows, ``metric_cis``) are rounded to 6 decimals so the files are stable.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from pydantic import Field

from fakenews.analysis.domain import DomainConfig
from fakenews.core.io import rounded
from fakenews.core.params import StrictModel

# scipy.stats and sklearn.metrics are imported in the functions that use them: together ~2 s of
# start-up that most callers (e.g. the bootstrap CIs) never need.

# Upper bound on resampled indices held in memory at once (rows x resamples), ~32 MB of int64.
_MAX_CHUNK_ELEMENTS = 4_000_000

MetricFn = Callable[[np.ndarray, np.ndarray], float]


class EvaluateConfig(StrictModel):
    threshold: float = Field(0.5, gt=0, lt=1, description="P(fake) above which we predict fake.")
    roc_points: int = Field(201, ge=3, description="Points kept in the ROC/PR plot files.")
    bootstrap_resamples: int = Field(
        1000, ge=100, description="Paired bootstrap resamples of the test set for the 95% CIs."
    )
    bootstrap_seed: int = Field(
        0, description="Same seed for every model, so CIs resample the same test examples."
    )
    calibration_bins: int = Field(15, ge=2, description="Equal-width bins for the ECE.")
    error_examples: int = Field(
        5, ge=0, description="Most confidently wrong test examples kept per error kind."
    )
    domain: DomainConfig = Field(
        default_factory=DomainConfig,
        description="The domain check's profile of each training set (the domain stages).",
    )


def _labels(labels: ArrayLike) -> np.ndarray:
    """Labels as a non-empty 1-D int array of 0/1 (ValueError otherwise)."""
    arr = np.asarray(labels)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"labels must be a non-empty 1-D array, got shape {arr.shape}")
    if not np.isin(arr, (0, 1)).all():
        raise ValueError("labels must be 0 (real) or 1 (fake)")
    return arr.astype(np.int64)


def _labels_probs(labels: ArrayLike, prob: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Validated (labels, P(fake)) pair of equal length, probabilities finite and in [0, 1]."""
    y = _labels(labels)
    p = np.asarray(prob, dtype=np.float64)
    if p.shape != y.shape:
        raise ValueError(f"labels and prob differ in shape: {y.shape} vs {p.shape}")
    if not np.isfinite(p).all() or (p < 0).any() or (p > 1).any():
        raise ValueError("prob must be finite probabilities in [0, 1]")
    return y, p


def _binary_preds(preds: ArrayLike, n: int, name: str) -> np.ndarray:
    arr = np.asarray(preds)
    if arr.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), got {arr.shape}")
    if not np.isin(arr, (0, 1)).all():
        raise ValueError(f"{name} must hold 0/1 predictions")
    return arr.astype(np.int64)


def _two_classes(y: np.ndarray) -> bool:
    return bool(y.min() != y.max())


# --------------------------------------------------------------------------- bootstrap


def iter_bootstrap_indices(n: int, n_resamples: int, seed: int) -> Iterator[np.ndarray]:
    """Yield the bootstrap index arrays in chunks of shape (rows, n), ``n_resamples`` rows in all.

    The indices depend only on ``(n, n_resamples, seed)``: calling this for two models scored
    on the same test set with the same seed gives the very same resamples (paired bootstrap),
    so their intervals, and differences between them, are computed on identical row draws.
    Chunking keeps memory bounded on large test sets.
    """
    if n < 1:
        raise ValueError("n must be >= 1")
    if n_resamples < 1:
        raise ValueError("n_resamples must be >= 1")
    rng = np.random.default_rng(seed)
    chunk = max(1, min(n_resamples, _MAX_CHUNK_ELEMENTS // n))
    done = 0
    while done < n_resamples:
        rows = min(chunk, n_resamples - done)
        yield rng.integers(0, n, size=(rows, n))
        done += rows


def bootstrap_indices(n: int, n_resamples: int, seed: int = 0) -> np.ndarray:
    """All bootstrap index arrays at once, shape (n_resamples, n); see iter_bootstrap_indices."""
    return np.concatenate(list(iter_bootstrap_indices(n, n_resamples, seed)), axis=0)


def _percentile_interval(values: np.ndarray, confidence: float) -> tuple[float, float]:
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(values, [alpha, 1.0 - alpha])
    return float(low), float(high)


def _check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")


def bootstrap_ci(
    labels: ArrayLike,
    preds_or_probs: ArrayLike,
    metric_fn: MetricFn,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval for ``metric_fn(labels, preds_or_probs)``.

    Rows are resampled with replacement using :func:`iter_bootstrap_indices`, so the same
    ``seed`` and test-set size give paired resamples across models. ``metric_fn`` is called
    once per resample (general but slow); :func:`metric_cis` is the vectorised fast path for
    accuracy and macro-F1.
    """
    _check_confidence(confidence)
    y = _labels(labels)
    values = np.asarray(preds_or_probs)
    if values.shape[:1] != y.shape:
        raise ValueError(f"labels and preds_or_probs differ in length: {len(y)} vs {len(values)}")
    stats = np.array(
        [
            float(metric_fn(y[idx], values[idx]))
            for chunk in iter_bootstrap_indices(len(y), n_resamples, seed)
            for idx in chunk
        ]
    )
    return _percentile_interval(stats, confidence)


def _accuracy_f1_from_counts(
    tp: np.ndarray, fp: np.ndarray, fn: np.ndarray, tn: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Accuracy and macro-F1 from (arrays of) confusion counts.

    Matches ``sklearn.metrics.f1_score(average="macro", zero_division=0)``: a class absent
    from both labels and predictions (F1 denominator 0) is left out of the average.
    """
    n = tp + fp + fn + tn
    accuracy = (tp + tn) / n
    denom_fake = 2 * tp + fp + fn
    denom_real = 2 * tn + fp + fn
    f1_fake = np.divide(2 * tp, denom_fake, out=np.zeros(tp.shape), where=denom_fake > 0)
    f1_real = np.divide(2 * tn, denom_real, out=np.zeros(tn.shape), where=denom_real > 0)
    present = (denom_fake > 0).astype(np.int64) + (denom_real > 0)
    f1_macro = (f1_fake + f1_real) / present
    return accuracy, f1_macro


def metric_cis(
    labels: ArrayLike,
    prob: ArrayLike,
    threshold: float = 0.5,
    n_resamples: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> dict[str, dict[str, float]]:
    """Point value and percentile bootstrap interval for accuracy, macro-F1 and ROC-AUC.

    Returns ``{"accuracy": {"value", "low", "high"}, "f1_macro": {...}, "roc_auc": {...}}``
    (ROC-AUC only when the labels hold both classes; rounded to 6
    decimals). One shared set of resampled indices serves every metric, and because the
    indices depend only on ``(len(labels), n_resamples, seed)``, models evaluated on the same
    test set with the same ``seed`` and ``n_resamples`` see identical resamples (paired).
    Confusion counts are computed vectorised per chunk of resamples, not via sklearn.
    """
    _check_confidence(confidence)
    y, p = _labels_probs(labels, prob)
    codes = _confusion_codes(y, p >= threshold)
    n = len(y)

    accs: list[np.ndarray] = []
    f1s: list[np.ndarray] = []
    for idx in iter_bootstrap_indices(n, n_resamples, seed):
        acc, f1 = _accuracy_f1_from_counts(*_counts(codes[idx]))
        accs.append(acc)
        f1s.append(f1)
    acc_value, f1_value = _accuracy_f1_from_counts(*_counts(codes[None, :]))

    out: dict[str, dict[str, float]] = {}
    for name, value, samples in (
        ("accuracy", acc_value[0], np.concatenate(accs)),
        ("f1_macro", f1_value[0], np.concatenate(f1s)),
    ):
        low, high = _percentile_interval(samples, confidence)
        out[name] = {"value": rounded(value), "low": rounded(low), "high": rounded(high)}
    if _two_classes(y):
        aucs = np.concatenate(
            [_auc_rows(y[idx], p[idx]) for idx in iter_bootstrap_indices(n, n_resamples, seed)]
        )
        aucs = aucs[np.isfinite(aucs)]  # a resample holding one class has no AUC
        low, high = _percentile_interval(aucs, confidence)
        value = _auc_rows(y[None, :], p[None, :])[0]
        out["roc_auc"] = {"value": rounded(value), "low": rounded(low), "high": rounded(high)}
    return out


def evaluate_cis(labels: ArrayLike, prob: ArrayLike, config: EvaluateConfig) -> dict[str, Any]:
    """:func:`metric_cis` with the ``evaluate`` params. The seed and resample count are the same
    for every model and stage, so evaluate's and transfer's intervals on one test split resample
    the same examples (paired)."""
    return metric_cis(
        labels,
        prob,
        config.threshold,
        n_resamples=config.bootstrap_resamples,
        seed=config.bootstrap_seed,
    )


def _auc_rows(labels: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """ROC-AUC of each row (Mann-Whitney U over average ranks, so ties count half); NaN for a
    row with one class."""
    from scipy.stats import rankdata

    ranks = rankdata(scores, axis=1, method="average")
    positives = labels.sum(axis=1)
    negatives = labels.shape[1] - positives
    u = (ranks * labels).sum(axis=1) - positives * (positives + 1) / 2
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where((positives > 0) & (negatives > 0), u / (positives * negatives), np.nan)


# --------------------------------------------------------------------------- significance


def _confusion_codes(labels: np.ndarray, preds: np.ndarray) -> np.ndarray:
    """One code per row: 0 = tn, 1 = fn, 2 = fp, 3 = tp (``preds`` may hold many rows)."""
    return (2 * np.asarray(preds, dtype=np.int64) + labels).astype(np.int64)


def _counts(code_rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """tp, fp, fn, tn of each row of codes: one bincount, offset by 4 per row."""
    rows = code_rows.shape[0]
    offset = 4 * np.arange(rows, dtype=np.int64)[:, None]
    table = np.bincount((code_rows + offset).ravel(), minlength=4 * rows).reshape(rows, 4)
    tn, fn, fp, tp = table.T
    return tp, fp, fn, tn


def _macro_f1_rows(labels: np.ndarray, preds: np.ndarray) -> np.ndarray:
    return _accuracy_f1_from_counts(*_counts(_confusion_codes(labels, np.atleast_2d(preds))))[1]


def holm_correction(p_values: Sequence[float]) -> list[float]:
    """Holm-Bonferroni step-down adjusted p-values, in the input order.

    The i-th smallest p (0-based) is multiplied by (m - i), then a running maximum keeps the
    adjusted values monotone in the raw ones, and each is capped at 1. Controls the
    family-wise error rate over all pairwise model comparisons without assuming independence.
    """
    p = np.asarray(p_values, dtype=np.float64)
    if p.ndim != 1:
        raise ValueError("p_values must be a flat sequence")
    if p.size == 0:
        return []
    if not np.isfinite(p).all() or (p < 0).any() or (p > 1).any():
        raise ValueError("p_values must be finite and in [0, 1]")
    m = p.size
    order = np.argsort(p, kind="stable")
    scaled = (m - np.arange(m)) * p[order]
    adjusted_sorted = np.minimum(np.maximum.accumulate(scaled), 1.0)
    adjusted = np.empty(m)
    adjusted[order] = adjusted_sorted
    return [float(v) for v in adjusted]


# --------------------------------------------------------------------------- calibration


def _bin_index(values: np.ndarray, n_bins: int) -> np.ndarray:
    """Equal-width bins on [0, 1]: [k/n, (k+1)/n), the last bin closed at 1."""
    if n_bins < 1:
        raise ValueError("n_bins must be >= 1")
    return np.clip(np.floor(values * n_bins).astype(np.int64), 0, n_bins - 1)


def expected_calibration_error(labels: ArrayLike, prob: ArrayLike, n_bins: int = 15) -> float:
    """Expected calibration error of the predicted class (Guo et al., 2017 convention).

    Confidence is that of the predicted class, max(p, 1 - p) with the prediction p >= 0.5;
    rows are grouped into ``n_bins`` equal-width bins of confidence on [0, 1] (so only the
    upper half is ever used), and ECE = sum_bins (count / n) * |accuracy - mean confidence|.
    """
    y, p = _labels_probs(labels, prob)
    pred = (p >= 0.5).astype(np.int64)
    confidence = np.maximum(p, 1.0 - p)
    correct = (pred == y).astype(np.float64)
    bins = _bin_index(confidence, n_bins)
    conf_sum = np.bincount(bins, weights=confidence, minlength=n_bins)
    correct_sum = np.bincount(bins, weights=correct, minlength=n_bins)
    # sum over bins of |sum correct - sum confidence| / n  ==  sum (count/n) * |acc - conf|
    return float(np.abs(correct_sum - conf_sum).sum() / len(y))


def brier_score(labels: ArrayLike, prob: ArrayLike) -> float:
    """Mean squared error between P(fake) and the 0/1 label (lower is better)."""
    y, p = _labels_probs(labels, prob)
    from sklearn.metrics import brier_score_loss

    return float(brier_score_loss(y, p, labels=[0, 1]))


def reliability_diagram(
    labels: ArrayLike, prob: ArrayLike, n_bins: int = 10
) -> list[dict[str, float | int]]:
    """Per-bin data for a reliability diagram of P(fake) against the observed fake fraction.

    Unlike ECE this bins P(fake) itself on [0, 1] (``n_bins`` equal-width bins, the last one
    closed at 1). Empty bins are skipped. Each row: bin_lower, bin_upper, mean_predicted
    (mean P(fake)), observed_fraction (fraction of rows labelled fake) and count.
    """
    y, p = _labels_probs(labels, prob)
    bins = _bin_index(p, n_bins)
    counts = np.bincount(bins, minlength=n_bins)
    prob_sum = np.bincount(bins, weights=p, minlength=n_bins)
    fake_sum = np.bincount(bins, weights=y.astype(np.float64), minlength=n_bins)
    return [
        {
            "bin_lower": rounded(k / n_bins),
            "bin_upper": rounded((k + 1) / n_bins),
            "mean_predicted": rounded(prob_sum[k] / counts[k]),
            "observed_fraction": rounded(fake_sum[k] / counts[k]),
            "count": int(counts[k]),
        }
        for k in np.flatnonzero(counts)
    ]


# --------------------------------------------------------------------------- curves and AUC


def _thin(length: int, max_points: int) -> np.ndarray:
    """At most ``max_points`` evenly spread indices into a curve, first and last always kept."""
    if max_points < 2:
        raise ValueError("max_points must be >= 2 (the two endpoints)")
    if length <= max_points:
        return np.arange(length)
    return np.unique(np.linspace(0, length - 1, max_points).round().astype(np.int64))


def roc_points(labels: ArrayLike, prob: ArrayLike, max_points: int = 201) -> list[dict[str, float]]:
    """ROC curve from probabilities: rows of fpr, tpr, threshold, from (0, 0) to (1, 1).

    Thinned to at most ``max_points`` rows (endpoints kept), floats rounded to 6 decimals.
    sklearn's leading threshold of +inf is reported as 1.0 (JSON has no infinity), as in
    :func:`fakenews.analysis.metrics.roc_points`. Empty list when only one class is present
    (undefined).
    """
    y, p = _labels_probs(labels, prob)
    if not _two_classes(y):
        return []
    from sklearn.metrics import roc_curve

    fpr, tpr, thresholds = roc_curve(y, p, drop_intermediate=True)
    return [
        {
            "fpr": rounded(fpr[i]),
            "tpr": rounded(tpr[i]),
            "threshold": rounded(min(thresholds[i], 1.0)),
        }
        for i in _thin(len(fpr), max_points)
    ]


def pr_points(labels: ArrayLike, prob: ArrayLike, max_points: int = 201) -> list[dict[str, float]]:
    """Precision-recall curve (fake = positive) from probabilities, recall ascending.

    Rows of recall, precision, threshold; the first row is sklearn's (recall 0, precision 1)
    anchor, which has no threshold and is given 1.0. Thinned to at most ``max_points`` rows
    (endpoints kept), rounded to 6 decimals. Empty list when only one class is present.
    """
    y, p = _labels_probs(labels, prob)
    if not _two_classes(y):
        return []
    from sklearn.metrics import precision_recall_curve

    precision, recall, thresholds = precision_recall_curve(y, p, drop_intermediate=True)
    # sklearn orders by increasing threshold (recall descending); reverse for recall ascending.
    precision, recall = precision[::-1], recall[::-1]
    thresholds = np.concatenate(([1.0], thresholds[::-1]))
    return [
        {
            "recall": rounded(recall[i]),
            "precision": rounded(precision[i]),
            "threshold": rounded(min(thresholds[i], 1.0)),
        }
        for i in _thin(len(recall), max_points)
    ]


def auc_from_probabilities(labels: ArrayLike, prob: ArrayLike) -> float | None:
    """ROC AUC from the probabilities (not thresholded labels); None with only one class.

    None rather than NaN, matching :func:`fakenews.analysis.metrics.classification_metrics`'s
    ``roc_auc`` and serialising to JSON ``null``.
    """
    y, p = _labels_probs(labels, prob)
    if not _two_classes(y):
        return None
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, p))


# --------------------------------------------------------------------------- error analysis


def most_confident_errors(
    labels: ArrayLike, prob: ArrayLike, k: int = 5, threshold: float = 0.5
) -> dict[str, list[int]]:
    """Row positions of the ``k`` most confident false positives and false negatives.

    False positives (real predicted fake) are ranked by P(fake) descending, false negatives
    (fake predicted real) by P(fake) ascending, i.e. most confident first; ties go to the
    lower row index, so the result is deterministic.
    """
    if k < 0:
        raise ValueError("k must be >= 0")
    y, p = _labels_probs(labels, prob)
    pred = p >= threshold
    rows = np.arange(len(y))

    def top(mask: np.ndarray, confidence: np.ndarray) -> list[int]:
        idx = rows[mask]
        order = np.lexsort((idx, -confidence[mask]))  # last key is primary
        return [int(i) for i in idx[order][:k]]

    return {
        "false_positives": top(pred & (y == 0), p),
        "false_negatives": top(~pred & (y == 1), 1.0 - p),
    }
