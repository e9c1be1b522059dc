"""Tests for fakenews.analysis.stats: hand-checked values plus small synthetic simulations."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score

from fakenews.analysis.stats import (
    auc_from_probabilities,
    bootstrap_ci,
    bootstrap_indices,
    brier_score,
    expected_calibration_error,
    holm_correction,
    metric_cis,
    most_confident_errors,
    pr_points,
    reliability_diagram,
    roc_points,
)


def _accuracy(labels: np.ndarray, preds: np.ndarray) -> float:
    return float(np.mean(labels == preds))


# --------------------------------------------------------------------------- permutation test


def _macro_f1(labels: np.ndarray, preds: np.ndarray) -> float:
    f1 = [
        2 * np.sum((preds == c) & (labels == c)) / (np.sum(preds == c) + np.sum(labels == c))
        for c in (0, 1)
    ]
    return float(np.mean(f1))


def test_holm_known_example_keeps_input_order() -> None:
    adjusted = holm_correction([0.01, 0.04, 0.03, 0.005])
    assert adjusted == pytest.approx([0.03, 0.06, 0.06, 0.02])


def test_holm_is_monotone_and_capped() -> None:
    raw = [0.2, 0.01, 0.5, 0.011, 0.9, 0.3]
    adjusted = holm_correction(raw)
    assert all(0.0 <= a <= 1.0 for a in adjusted)
    assert all(a >= r for a, r in zip(adjusted, raw, strict=True))
    by_raw = [a for _, a in sorted(zip(raw, adjusted, strict=True))]
    assert by_raw == sorted(by_raw)
    assert holm_correction([0.6, 0.7]) == [1.0, 1.0]
    assert holm_correction([]) == []
    assert holm_correction([0.04]) == [0.04]
    with pytest.raises(ValueError):
        holm_correction([0.1, 1.5])


# --------------------------------------------------------------------------- bootstrap


def test_bootstrap_ci_coverage_on_synthetic_test_sets() -> None:
    rng = np.random.default_rng(123)
    n, true_accuracy, trials = 300, 0.8, 200
    covered = 0
    for trial in range(trials):
        labels = rng.integers(0, 2, n)
        correct = rng.random(n) < true_accuracy
        preds = np.where(correct, labels, 1 - labels)
        low, high = bootstrap_ci(labels, preds, _accuracy, n_resamples=300, seed=trial)
        covered += low <= true_accuracy <= high
    assert 0.90 <= covered / trials <= 0.99


def test_bootstrap_is_deterministic_and_paired() -> None:
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 200)
    prob_a, prob_b = rng.random(200), rng.random(200)
    assert np.array_equal(bootstrap_indices(200, 50, seed=7), bootstrap_indices(200, 50, seed=7))
    assert not np.array_equal(bootstrap_indices(200, 50, seed=7), bootstrap_indices(200, 50, 8))
    assert metric_cis(labels, prob_a, seed=3) == metric_cis(labels, prob_a, seed=3)
    # Vectorised intervals equal the generic per-resample path on the same indices.
    preds = (prob_b >= 0.5).astype(int)
    cis = metric_cis(labels, prob_b, n_resamples=200, seed=5)
    acc_ci = bootstrap_ci(labels, preds, _accuracy, n_resamples=200, seed=5)
    f1_ci = bootstrap_ci(
        labels,
        preds,
        lambda y, p: f1_score(y, p, average="macro", zero_division=0),
        n_resamples=200,
        seed=5,
    )
    assert (cis["accuracy"]["low"], cis["accuracy"]["high"]) == pytest.approx(acc_ci, abs=1e-6)
    assert (cis["f1_macro"]["low"], cis["f1_macro"]["high"]) == pytest.approx(f1_ci, abs=1e-6)


def test_metric_cis_values_match_sklearn() -> None:
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 2, 10_000)
    prob = np.clip(0.3 * labels + 0.7 * rng.random(10_000), 0.0, 1.0)
    cis = metric_cis(labels, prob, n_resamples=1000, seed=0)
    preds = prob >= 0.5
    assert cis["accuracy"]["value"] == pytest.approx(accuracy_score(labels, preds), abs=1e-6)
    assert cis["f1_macro"]["value"] == pytest.approx(
        f1_score(labels, preds, average="macro"), abs=1e-6
    )
    for ci in cis.values():
        assert ci["low"] <= ci["value"] <= ci["high"]
        assert ci["high"] - ci["low"] < 0.05
    json.dumps(cis)


def test_metric_cis_macro_f1_with_one_class_present() -> None:
    # Only fakes, all predicted fake: sklearn's macro-F1 averages over the one present class.
    cis = metric_cis([1, 1, 1], [0.9, 0.8, 0.7], n_resamples=20)
    assert cis["f1_macro"] == {"value": 1.0, "low": 1.0, "high": 1.0}


# --------------------------------------------------------------------------- calibration


def test_ece_of_calibrated_and_overconfident_predictors() -> None:
    rng = np.random.default_rng(42)
    prob = rng.random(200_000)
    labels = (rng.random(200_000) < prob).astype(int)
    assert expected_calibration_error(labels, prob) < 0.01
    # Push probabilities toward 0/1 relative to the truth (logit scaled by 3): same ranking
    # and accuracy, much higher confidence.
    overconfident = prob**3 / (prob**3 + (1.0 - prob) ** 3)
    assert expected_calibration_error(labels, overconfident) > 0.1


def test_ece_hand_case() -> None:
    # Every row claims 90% fake; half are fake -> confidence 0.9, accuracy 0.5.
    labels = [1, 0] * 10
    assert expected_calibration_error(labels, [0.9] * 20) == pytest.approx(0.4)
    # Same from the real side: P(fake) = 0.1 is 90% confidence in "real".
    assert expected_calibration_error(labels, [0.1] * 20) == pytest.approx(0.4)


def test_brier_score_hand_case() -> None:
    # (0.9-1)^2 + (0.2-0)^2 + (0.6-1)^2 + (0.5-0)^2 = 0.01 + 0.04 + 0.16 + 0.25 = 0.46
    assert brier_score([1, 0, 1, 0], [0.9, 0.2, 0.6, 0.5]) == pytest.approx(0.46 / 4)
    assert brier_score([0, 0], [0.0, 0.0]) == 0.0


def test_reliability_diagram_rows() -> None:
    labels = [0, 0, 1, 1, 1, 0, 1]
    prob = [0.05, 0.15, 0.12, 0.95, 1.0, 0.55, 0.58]
    rows = reliability_diagram(labels, prob, n_bins=10)
    assert [(r["bin_lower"], r["bin_upper"], r["count"]) for r in rows] == [
        (0.0, 0.1, 1),
        (0.1, 0.2, 2),
        (0.5, 0.6, 2),
        (0.9, 1.0, 2),
    ]
    assert rows[1]["mean_predicted"] == pytest.approx(0.135)
    assert rows[1]["observed_fraction"] == 0.5
    assert rows[3]["observed_fraction"] == 1.0
    assert sum(r["count"] for r in rows) == len(labels)
    json.dumps(rows)


# --------------------------------------------------------------------------- AUC and curves


def test_auc_uses_probabilities_not_thresholded_labels() -> None:
    labels = np.array([0, 0, 0, 1, 1, 1])
    prob = np.array([0.6, 0.65, 0.7, 0.8, 0.85, 0.9])  # ranks perfectly, all predicted fake
    assert auc_from_probabilities(labels, prob) == 1.0
    assert accuracy_score(labels, prob >= 0.5) < 1.0


def test_auc_hand_case_and_single_class() -> None:
    # Pairs (pos, neg): 0.8>0.3, 0.8>0.6, 0.4>0.3, 0.4<0.6 -> 3 of 4 concordant.
    assert auc_from_probabilities([1, 1, 0, 0], [0.8, 0.4, 0.3, 0.6]) == pytest.approx(0.75)
    assert auc_from_probabilities([1, 1, 1], [0.2, 0.5, 0.9]) is None


def test_curve_points_endpoints_and_max_length() -> None:
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 2, 5000)
    prob = np.clip(0.2 * labels + 0.8 * rng.random(5000), 0.0, 1.0)

    roc = roc_points(labels, prob, max_points=51)
    assert 2 <= len(roc) <= 51
    assert (roc[0]["fpr"], roc[0]["tpr"]) == (0.0, 0.0)
    assert (roc[-1]["fpr"], roc[-1]["tpr"]) == (1.0, 1.0)
    assert [p["fpr"] for p in roc] == sorted(p["fpr"] for p in roc)
    assert all(0.0 <= p["threshold"] <= 1.0 for p in roc)

    pr = pr_points(labels, prob, max_points=51)
    assert 2 <= len(pr) <= 51
    assert (pr[0]["recall"], pr[0]["precision"]) == (0.0, 1.0)
    assert pr[-1]["recall"] == 1.0
    assert pr[-1]["precision"] == pytest.approx(labels.mean(), abs=1e-6)
    assert [p["recall"] for p in pr] == sorted(p["recall"] for p in pr)

    for point in roc + pr:
        assert all(v == round(v, 6) and math.isfinite(v) for v in point.values())
    json.dumps({"roc": roc, "pr": pr}, allow_nan=False)

    full = roc_points(labels, prob, max_points=100_000)
    assert full[0] == roc[0] and full[-1] == roc[-1]
    assert roc_points([1, 1], [0.3, 0.7]) == [] and pr_points([0, 0], [0.3, 0.7]) == []
    with pytest.raises(ValueError):
        roc_points(labels, prob, max_points=1)


# --------------------------------------------------------------------------- error analysis


def test_most_confident_errors_ordering_and_ties() -> None:
    labels = [0, 0, 0, 0, 1, 1, 1, 1, 0, 1]
    prob = [0.7, 0.95, 0.7, 0.2, 0.1, 0.45, 0.9, 0.1, 0.6, 0.3]
    result = most_confident_errors(labels, prob, k=5)
    # False positives: rows 1 (0.95), 0 and 2 (0.7, tie -> index order), 8 (0.6).
    assert result["false_positives"] == [1, 0, 2, 8]
    # False negatives: rows 4 and 7 (0.1, tie), 9 (0.3), 5 (0.45).
    assert result["false_negatives"] == [4, 7, 9, 5]
    top = most_confident_errors(labels, prob, k=2)
    assert top == {"false_positives": [1, 0], "false_negatives": [4, 7]}
    assert most_confident_errors([1, 0], [0.9, 0.1]) == {
        "false_positives": [],
        "false_negatives": [],
    }


def test_inputs_are_validated() -> None:
    with pytest.raises(ValueError):
        brier_score([0, 2], [0.1, 0.2])
    with pytest.raises(ValueError):
        brier_score([0, 1], [0.1, 1.2])
    with pytest.raises(ValueError):
        expected_calibration_error([0, 1, 1], [0.1, 0.2])
    with pytest.raises(ValueError):
        metric_cis([], [])


def test_metric_cis_include_roc_auc_matching_sklearn() -> None:
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(5)
    labels = rng.integers(0, 2, 300)
    prob = np.round(np.clip(0.3 * labels + 0.7 * rng.random(300), 0, 1), 2)  # with ties
    cis = metric_cis(labels, prob, n_resamples=300)
    auc = cis["roc_auc"]
    assert auc["value"] == pytest.approx(roc_auc_score(labels, prob), abs=1e-6)
    assert auc["low"] < auc["value"] < auc["high"]
    assert "roc_auc" not in metric_cis(np.ones(20, dtype=int), prob[:20], n_resamples=50)
