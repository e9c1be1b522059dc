"""The report ranks distributions over runs: spreads, ★ on mean validation, seed-aware tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fakenews.reporting import html, tables
from fakenews.reporting.collect import ModelResult, RunResult
from fakenews.reporting.ranking import across_datasets, rank, summarise
from fakenews.reporting.sections import across_section

N = 400


def runs(dataset: str, model: str, accuracies: list[float], seed_free: bool = False) -> ModelResult:
    """A model whose runs get ``accuracies`` on the same N test rows (val F1 = test accuracy)."""
    labels = np.tile([0, 1], N // 2)
    results = []
    for i, accuracy in enumerate(accuracies):
        rng = np.random.default_rng([sum(map(ord, model)), i])
        wrong = rng.permutation(N)[: round(N * (1 - accuracy))]
        preds = labels.copy()
        preds[wrong] = 1 - preds[wrong]
        predictions = pd.DataFrame(
            {"id": [str(k) for k in range(N)], "label": labels, "prob_fake": preds * 0.8 + 0.1,
             "pred": preds}
        )  # fmt: skip
        metrics = {
            "accuracy": float((preds == labels).mean()),
            "f1_macro": float((preds == labels).mean()),
            "roc_auc": float((preds == labels).mean()),
            "n": N,
            "folds": None,
            "seed_free": seed_free,
            "family": "linear" if seed_free else "recurrent",
            "efficiency": {"train_seconds": 10.0 + i},
        }
        results.append(RunResult(42 + i, metrics, predictions, val_f1=accuracy))
    serving = max(results, key=lambda r: r.val_f1 or 0)
    return ModelResult(dataset, model, metrics["family"], runs=results, serving=serving)


def test_spread_ranking_and_marks() -> None:
    models = {
        "tfidf_logreg": runs("d", "tfidf_logreg", [0.80], seed_free=True),
        "lstm": runs("d", "lstm", [0.70, 0.72, 0.71]),
        "gru": runs("d", "gru", [0.79, 0.81]),  # two runs: never tested
    }
    lstm = models["lstm"]
    spread = lstm.spread("accuracy")
    assert spread["mean"] == pytest.approx(0.71) and spread["min"] == 0.70
    assert spread["std"] == pytest.approx(np.std([0.70, 0.72, 0.71], ddof=1), abs=1e-6)
    assert lstm.serving.seed == 43 and lstm.val_f1 == pytest.approx(0.71)
    assert lstm.mean_train_seconds == pytest.approx(11.0)

    ranking = rank({"d": models}, alpha=0.05)["d"]
    # ★ on the best *mean* validation score; gru's 0.80 ties tfidf's: the first listed wins.
    assert ranking.best == "tfidf_logreg"
    against = ranking.against_best
    assert against["lstm"]["tested"] and against["lstm"]["significant"]  # a seed-free 1-run side
    assert not against["gru"]["tested"] and not against["gru"]["significant"]
    rows = {row[0]: row for row in tables.leaderboard_rows(models, ranking)}
    assert set(rows) == {"★ tfidf_logreg", "▼ lstm", "○ gru"}
    assert rows["▼ lstm"][1] == "3" and rows["★ tfidf_logreg"][1] == "1 (seed-free)"
    assert rows["○ gru"][7] == "not tested"
    assert rows["▼ lstm"][4].startswith("0.7100 ± 0.0100 (0.700-0.720)")

    summary = summarise({"d": models}, {"d": ranking})["d"]
    assert summary["lstm"]["runs"] == 3 and summary["lstm"]["seeds"] == [42, 43, 44]
    assert summary["lstm"]["f1_macro"] == pytest.approx(0.71)
    assert summary["lstm"]["f1_macro_std"] == pytest.approx(0.01, abs=1e-6)
    assert summary["lstm"]["significantly_worse_than_best"] is True
    assert summary["gru"]["tested_against_best"] is False
    assert summary["tfidf_logreg"]["best"] is True and summary["tfidf_logreg"]["seed_free"]


def test_across_datasets_ranks_and_draws_the_diagram() -> None:
    results = {
        d: {
            "a": runs(d, "a", [0.90, 0.91, 0.92]),
            "b": runs(d, "b", [0.80 + 0.01 * i, 0.81, 0.80]),
            "c": runs(d, "c", [0.60, 0.61, 0.62]),
        }
        for i, d in enumerate(["d1", "d2", "d3", "d4"])
    }
    across = across_datasets(results, alpha=0.05)
    assert across is not None
    assert across["average_ranks"] == {"a": 1.0, "b": 2.0, "c": 3.0}
    assert across["p_value"] == pytest.approx(np.exp(-4.0), rel=1e-6)  # chi2(2) = 8: p = e^-4
    page = "\n".join(html.section_parts(across_section(across)))
    assert "<svg" in page and "Friedman" in page and "critical difference" in page
    assert across_datasets({"d1": results["d1"]}, alpha=0.05) is None
