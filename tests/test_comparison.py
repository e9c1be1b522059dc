"""fakenews.analysis.comparison on synthetic runs: seed bootstrap, pairwise table, Friedman;
and the critical-difference diagram (fakenews.reporting.figures) drawn from a Friedman result."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
import scikit_posthocs
from numpy.typing import ArrayLike
from scipy.stats import friedmanchisquare
from sklearn.metrics import f1_score

from fakenews.analysis.comparison import (
    compare_runs,
    friedman_ranks,
    nemenyi_critical_difference,
    seed_bootstrap_test,
)
from fakenews.analysis.stats import bootstrap_indices, holm_correction
from fakenews.reporting.figures import critical_difference_svg


def _labels(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 2, size=n)


def _runs(labels: np.ndarray, accuracies: list[float], seed: int) -> np.ndarray:
    """One run per accuracy: exactly round(acc * n) rows right, the wrong rows drawn at random."""
    rng = np.random.default_rng(seed)
    n = len(labels)
    out = np.empty((len(accuracies), n), dtype=np.int64)
    for i, acc in enumerate(accuracies):
        wrong = rng.permutation(n)[: n - round(acc * n)]
        out[i] = labels
        out[i, wrong] = 1 - labels[wrong]
    return out


def _noisy_runs(labels: np.ndarray, runs: int, mean: float, spread: float, seed: int) -> np.ndarray:
    """Runs whose accuracy itself varies from seed to seed (training noise)."""
    rng = np.random.default_rng(seed)
    accuracies = np.clip(rng.normal(mean, spread, size=runs), 0.0, 1.0).tolist()
    return _runs(labels, accuracies, seed + 1)


# --------------------------------------------------------------------------- seed bootstrap


def test_clearly_separated_models_differ_significantly() -> None:
    y = _labels(500)
    a = _runs(y, [0.89, 0.90, 0.91, 0.90, 0.90], seed=1)
    b = _runs(y, [0.59, 0.60, 0.61, 0.60, 0.60], seed=2)
    result = seed_bootstrap_test(y, a, b, n_resamples=1000)
    assert result["difference"] > 0.2
    assert 0 < result["ci_low"] < result["difference"] < result["ci_high"]
    assert result["p_value"] == pytest.approx(2 / 1001)  # the smallest p 1000 resamples give
    assert (result["runs_a"], result["runs_b"], result["n_resamples"]) == (5, 5, 1000)
    assert result["metric"] == "f1_macro"


def test_models_from_one_generator_do_not_differ() -> None:
    y = _labels(500)
    a = _noisy_runs(y, 5, mean=0.8, spread=0.02, seed=3)
    b = _noisy_runs(y, 5, mean=0.8, spread=0.02, seed=4)
    result = seed_bootstrap_test(y, a, b)
    assert result["p_value"] > 0.05
    assert result["ci_low"] < 0 < result["ci_high"]


def test_means_and_difference_are_over_all_runs() -> None:
    y = _labels(300)
    a = _runs(y, [0.7, 0.8, 0.9], seed=5)
    b = _runs(y, [0.6, 0.65], seed=6)
    for metric, score in (
        ("f1_macro", lambda p: f1_score(y, p, average="macro")),
        ("accuracy", lambda p: float(np.mean(p == y))),
    ):
        result = seed_bootstrap_test(y, a, b, metric=metric, n_resamples=200)
        mean_a = np.mean([score(p) for p in a])
        mean_b = np.mean([score(p) for p in b])
        assert result["mean_a"] == pytest.approx(mean_a, abs=1e-6)
        assert result["mean_b"] == pytest.approx(mean_b, abs=1e-6)
        assert result["difference"] == pytest.approx(mean_a - mean_b, abs=1e-6)


def test_with_one_run_each_it_is_the_paired_row_bootstrap() -> None:
    """One run per model leaves only the row draws, the same rows as stats.metric_cis."""
    y = _labels(80)
    a, b = _runs(y, [0.8], seed=7), _runs(y, [0.7], seed=8)
    n_resamples = 300
    result = seed_bootstrap_test(y, a, b, n_resamples=n_resamples, seed=11)
    diffs = np.array(
        [
            f1_score(y[i], a[0][i], average="macro") - f1_score(y[i], b[0][i], average="macro")
            for i in bootstrap_indices(len(y), n_resamples, seed=11)
        ]
    )
    low, high = np.quantile(diffs, [0.025, 0.975])
    assert result["ci_low"] == pytest.approx(low, abs=1e-6)
    assert result["ci_high"] == pytest.approx(high, abs=1e-6)
    below = (np.sum(diffs <= 0) + 1) / (n_resamples + 1)
    above = (np.sum(diffs >= 0) + 1) / (n_resamples + 1)
    assert result["p_value"] == pytest.approx(min(1.0, 2 * min(below, above)))


def test_training_noise_hides_a_single_run_win() -> None:
    """Mean accuracies 0.78 vs 0.76 with a large seed spread: the seed-0 runs alone (0.86 vs
    0.68) look decisively different, the runs of both models together do not."""
    y = _labels(2000)
    a = _runs(y, [0.86, 0.70, 0.74, 0.78, 0.82], seed=9)
    b = _runs(y, [0.68, 0.72, 0.76, 0.80, 0.84], seed=10)
    one_run_each = seed_bootstrap_test(y, a[:1], b[:1])
    assert one_run_each["p_value"] < 0.01
    result = seed_bootstrap_test(y, a, b)
    assert 0 < result["difference"] < 0.03
    assert result["p_value"] > 0.2
    assert result["ci_low"] < 0 < result["ci_high"]


def test_is_deterministic_for_a_fixed_seed() -> None:
    y = _labels(400)
    a = _noisy_runs(y, 4, mean=0.8, spread=0.03, seed=12)
    b = _noisy_runs(y, 3, mean=0.78, spread=0.03, seed=13)
    first = seed_bootstrap_test(y, a, b, n_resamples=500, seed=5)
    assert seed_bootstrap_test(y, a, b, n_resamples=500, seed=5) == first
    assert seed_bootstrap_test(y, a, b, n_resamples=500, seed=6) != first


def test_runs_at_full_size() -> None:
    # 2000 examples, 5 runs a model, 2000 resamples (how fast: benchmarks, not unit tests).
    y = _labels(2000)
    a = _noisy_runs(y, 5, mean=0.8, spread=0.02, seed=14)
    b = _noisy_runs(y, 5, mean=0.79, spread=0.02, seed=15)
    result = seed_bootstrap_test(y, a, b, n_resamples=2000)
    assert 0 <= result["p_value"] <= 1 and result["ci_low"] <= result["ci_high"]


def test_a_one_dimensional_array_is_one_run() -> None:
    y = _labels(100)
    a, b = _runs(y, [0.9], seed=16), _runs(y, [0.7, 0.75, 0.8], seed=17)
    assert seed_bootstrap_test(y, a[0], b, n_resamples=100) == seed_bootstrap_test(
        y, a, b, n_resamples=100
    )


@pytest.mark.parametrize(
    ("labels", "preds_a", "preds_b", "kwargs", "message"),
    [
        ([0, 1, 1], [[0, 1]], [[0, 1, 1]], {}, "3 predictions per run"),
        ([0, 1, 1], [[0, 1, 1]], [[0, 1, 2]], {}, "0/1 predictions"),
        ([0, 1, 1], np.empty((0, 3)), [[0, 1, 1]], {}, "runs >= 1"),
        ([0, 1, 1], [[[0, 1, 1]]], [[0, 1, 1]], {}, "shape"),
        ([], [[]], [[]], {}, "non-empty"),
        ([0, 1, 3], [[0, 1, 1]], [[0, 1, 1]], {}, "labels must be 0"),
        ([0, 1, 1], [[0, 1, 1]], [[0, 1, 1]], {"metric": "roc_auc"}, "metric must be one of"),
        ([0, 1, 1], [[0, 1, 1]], [[0, 1, 1]], {"n_resamples": 0}, "n_resamples"),
    ],
)
def test_rejects_bad_input(
    labels: list[int],
    preds_a: ArrayLike,
    preds_b: ArrayLike,
    kwargs: dict[str, Any],
    message: str,
) -> None:
    with pytest.raises(ValueError, match=message):
        seed_bootstrap_test(np.asarray(labels), np.asarray(preds_a), np.asarray(preds_b), **kwargs)


# --------------------------------------------------------------------------- pairwise table


def test_holm_is_applied_across_tested_pairs_only() -> None:
    y = _labels(500)
    runs = {
        "good": _runs(y, [0.88, 0.90, 0.92], seed=20),
        "middle": _runs(y, [0.80, 0.83, 0.86], seed=21),
        "few": _runs(y, [0.95, 0.96], seed=22),  # 2 runs: every pair with it goes untested
        "weak": _noisy_runs(y, 4, mean=0.82, spread=0.03, seed=23),
    }
    rows = compare_runs(y, runs, alpha=0.05, n_resamples=500)
    pairs = [(r["model_a"], r["model_b"]) for r in rows]
    assert pairs == [
        ("good", "middle"),
        ("good", "few"),
        ("good", "weak"),
        ("middle", "few"),
        ("middle", "weak"),
        ("few", "weak"),
    ]
    tested = [r for r in rows if r["tested"]]
    untested = [r for r in rows if not r["tested"]]
    assert {r["model_b"] for r in tested} == {"middle", "weak"}
    assert all("few" in (r["model_a"], r["model_b"]) for r in untested)
    expected = holm_correction([r["p_value"] for r in tested])
    assert [r["p_holm"] for r in tested] == pytest.approx(expected)
    assert [r["significant"] for r in tested] == [p < 0.05 for p in expected]
    for row in tested:  # the table row is the pair's own test
        test = seed_bootstrap_test(
            y, runs[row["model_a"]], runs[row["model_b"]], n_resamples=500, seed=0
        )
        assert {k: row[k] for k in test} == test


def test_too_few_runs_are_not_tested_and_never_significant() -> None:
    y = _labels(500)
    runs = {"a": _runs(y, [0.99], seed=30), "b": _runs(y, [0.5, 0.52], seed=31)}
    (row,) = compare_runs(y, runs, alpha=0.05, n_resamples=200)
    assert row == {
        "model_a": "a",
        "model_b": "b",
        "tested": False,
        "reason": "a has 1 run(s) and b has 2 run(s); at least 3 needed",
        "p_value": None,
        "p_holm": None,
        "significant": False,
    }
    (row,) = compare_runs(y, runs, alpha=0.05, min_runs=2, n_resamples=200)
    assert row["reason"] == "a has 1 run(s); at least 2 needed"


def test_a_seed_free_model_with_one_run_is_tested() -> None:
    y = _labels(500)
    runs = {
        "tfidf": _runs(y, [0.95], seed=32),
        "bert": _runs(y, [0.60, 0.62, 0.64], seed=33),
    }
    (row,) = compare_runs(y, runs, alpha=0.05, seed_free={"tfidf"}, n_resamples=500)
    assert row["tested"] and row["reason"] is None
    assert (row["runs_a"], row["runs_b"]) == (1, 3)
    assert row["p_holm"] == row["p_value"] < 0.05  # one tested pair: Holm changes nothing
    assert row["significant"]


def test_compare_runs_validates_every_model() -> None:
    y = _labels(10)
    runs = {"a": _runs(y, [0.9], seed=34), "b": np.full((1, 9), 1)}
    with pytest.raises(ValueError, match="runs\\['b'\\]"):
        compare_runs(y, runs, alpha=0.05)
    with pytest.raises(ValueError, match="alpha"):
        compare_runs(y, {}, alpha=1.5)


# --------------------------------------------------------------------------- across datasets


def _scores() -> pd.DataFrame:
    """3 datasets x 6 models; "tfidf" is best everywhere, "cnn" and "lstm" tie everywhere."""
    return pd.DataFrame(
        {
            "tfidf": [0.95, 0.91, 0.88],
            "minilm": [0.90, 0.89, 0.80],
            "cnn": [0.85, 0.80, 0.79],
            "lstm": [0.85, 0.80, 0.79],
            "bert": [0.70, 0.88, 0.81],
            "bayes": [0.60, 0.65, 0.61],
        },
        index=["isot", "liar", "fakenewsnet"],
    )


def test_friedman_ranks_average_ranks_and_test() -> None:
    scores = _scores()
    result = friedman_ranks(scores)
    ranks = result["average_ranks"]
    assert list(ranks) == list(scores.columns)
    assert ranks["tfidf"] == 1.0
    assert ranks["bayes"] == 6.0
    assert ranks["cnn"] == ranks["lstm"] == pytest.approx((3.5 + 4.5 + 4.5) / 3)
    assert sum(ranks.values()) == pytest.approx(6 * 7 / 2)  # ranks 1..6 on each dataset
    statistic, p_value = friedmanchisquare(*scores.to_numpy().T)
    assert result["statistic"] == pytest.approx(statistic)
    assert result["p_value"] == pytest.approx(p_value)
    assert (result["n_datasets"], result["n_models"], result["alpha"]) == (3, 6, 0.05)
    assert result["critical_difference"] == pytest.approx(
        nemenyi_critical_difference(6, 3), rel=1e-12
    )


def test_nemenyi_matrix_is_scikit_posthocs() -> None:
    result = friedman_ranks(_scores())
    expected = scikit_posthocs.posthoc_nemenyi_friedman(_scores().to_numpy())
    names = list(_scores().columns)
    for i, a in enumerate(names):
        assert result["nemenyi"][a][a] == 1.0
        for j, b in enumerate(names):
            assert result["nemenyi"][a][b] == pytest.approx(expected.iloc[i, j])
            assert result["nemenyi"][a][b] == result["nemenyi"][b][a]


@pytest.mark.parametrize("n_datasets", [1, 5, 14])
def test_critical_difference_matches_demsar_table(n_datasets: int) -> None:
    """Demšar (2006), Table 5(a): q_0.05 = 2.850 for k = 6 classifiers."""
    cd = nemenyi_critical_difference(6, n_datasets, alpha=0.05)
    assert cd == pytest.approx(2.850 * math.sqrt(6 * 7 / (6 * n_datasets)), abs=1e-3)


def test_friedman_needs_three_models_and_two_datasets() -> None:
    two_models = friedman_ranks(_scores()[["tfidf", "bayes"]])
    assert two_models["p_value"] is None and two_models["statistic"] is None
    assert two_models["nemenyi"] is None and two_models["critical_difference"] is None
    assert "3 models" in two_models["reason"]
    assert two_models["average_ranks"] == {"tfidf": 1.0, "bayes": 2.0}
    one_dataset = friedman_ranks(_scores().iloc[:1])
    assert one_dataset["p_value"] is None and "1 dataset(s)" in one_dataset["reason"]
    tied = friedman_ranks(pd.DataFrame({"a": [0.5, 0.6], "b": [0.5, 0.6], "c": [0.5, 0.6]}))
    assert tied["p_value"] is None and tied["average_ranks"] == {"a": 2.0, "b": 2.0, "c": 2.0}


def test_friedman_rejects_missing_scores() -> None:
    scores = _scores()
    scores.iloc[0, 0] = np.nan
    with pytest.raises(ValueError, match="finite"):
        friedman_ranks(scores)
    with pytest.raises(ValueError, match="at least one"):
        friedman_ranks(pd.DataFrame())


def test_critical_difference_svg_is_stable_and_names_every_model() -> None:
    result = friedman_ranks(_scores())
    svg = critical_difference_svg(result, "Macro-F1 across datasets")
    assert svg.startswith("<svg")
    for name in _scores().columns:
        assert name in svg
    assert f"{result['p_value']:.3g}" in svg
    assert f"{result['critical_difference']:.3f}" in svg
    assert critical_difference_svg(result, "Macro-F1 across datasets") == svg


def test_critical_difference_svg_refuses_without_a_friedman_test() -> None:
    result = friedman_ranks(_scores()[["tfidf", "bayes"]])
    with pytest.raises(ValueError, match="no critical-difference diagram"):
        critical_difference_svg(result, "two models")


def test_critical_difference_svg_bytes_do_not_depend_on_string_hashing() -> None:
    """scikit-posthocs walks crossbars in set order; other hash seeds must give the same SVG."""
    import os
    import subprocess
    import sys

    script = (
        "import hashlib, json, sys\n"
        "from fakenews.reporting.figures import critical_difference_svg\n"
        "result = json.loads(sys.stdin.read())\n"
        "print(hashlib.sha256(critical_difference_svg(result, 't').encode()).hexdigest())\n"
    )
    # Ranks with crossbars joining several models, as on the real datasets.
    scores = pd.DataFrame(
        {"a": [0.60, 0.92, 0.80], "b": [0.58, 0.94, 0.74], "c": [0.57, 0.92, 0.65],
         "d": [0.60, 0.92, 0.69], "e": [0.57, 0.89, 0.65]}
    )  # fmt: skip
    result = json.dumps(friedman_ranks(scores))
    digests = {
        subprocess.run(
            [sys.executable, "-c", script],
            input=result,
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2", "3", "4")
    }
    assert len(digests) == 1
