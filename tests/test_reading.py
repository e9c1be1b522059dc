"""How much of each text a model reads: evaluate's first-window scores and the report's tables."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from helpers.params import family_of

from fakenews.core.params import parse_params
from fakenews.pipeline.evaluate import Scored, first_window_probs, first_window_scores
from fakenews.reporting.collect import ModelResult, RunResult
from fakenews.reporting.tables import first_window_rows, reading_rows


class Windowed:
    """A stand-in for a windowed model: P(fake) = 0.9 from a text's tail, 0.2 from its head."""

    def __init__(self, whole: bool = True) -> None:
        self.whole = whole
        self.predicted: list[str] = []
        self.head = Windowed(whole=False) if whole else None

    def reading_share(self, texts: Sequence[str]) -> np.ndarray:
        return np.array([1.0 if self.whole or len(t) <= 4 else 4 / len(t) for t in texts])

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        self.predicted += texts
        return np.array([0.9 if self.whole and len(t) > 4 else 0.2 for t in texts])

    def first_window(self) -> Windowed | None:
        return self.head


@pytest.fixture
def params(real_params: dict[str, Any]) -> Any:
    return parse_params(real_params)


def test_first_window_scores_redo_only_the_texts_longer_than_one_window(params: Any) -> None:
    texts = ["abc", "abcdefgh", "ab", "abcdefghijkl", "abcd", "abcdefgh"]
    labels = np.array([0, 1, 0, 1, 0, 1])
    model = Windowed()
    probs = model.predict_proba(texts)
    scores = first_window_scores(labels, scored(model, texts, probs), params)
    assert scores is not None and model.head is not None
    assert model.head.predicted == ["abcdefgh", "abcdefghijkl", "abcdefgh"]
    assert scores["texts_predicted_again"] == 3
    assert scores["f1_macro"] == pytest.approx(1 / 3)  # every long (fake) text now reads real
    assert scores["reading"]["share_of_texts_read_fully"] == 0.5
    assert scores["reading"]["min_share"] == pytest.approx(4 / 12, abs=1e-6)
    assert set(scores["ci"]) >= {"f1_macro", "roc_auc"}


def test_no_first_window_scores_when_every_text_fits_one(params: Any) -> None:
    texts, labels = ["abc", "ab", "abcd"], np.array([0, 1, 0])
    model = Windowed()
    probs = model.predict_proba(texts)
    assert first_window_scores(labels, scored(model, texts, probs), params) is None
    truncating = Windowed(whole=False)
    assert first_window_scores(labels, scored(truncating, texts, probs), params) is None


def scored(model: Any, texts: list[str], probs: np.ndarray) -> Scored:
    """What evaluate scores one test split with: the model's reading and its first window's."""
    shares = model.reading_share(texts)
    head = first_window_probs(model, texts, probs, shares)
    head_shares, head_probs, again = head or (None, None, 0)
    return Scored(
        test=pd.DataFrame(),
        probs=probs,
        raw_probs=probs,  # an identity calibrator: first-window scores are the model's own
        domain_scores=np.ones(len(texts)),
        in_domain=np.ones(len(texts), dtype=bool),
        threshold=0.0,
        shares=shares,
        head_shares=head_shares,
        head_probs=head_probs,
        texts_predicted_again=again,
        seconds=0.0,
    )


def _result(dataset: str, model: str, metrics: dict[str, Any]) -> ModelResult:
    run = RunResult(seed=42, metrics=metrics, predictions=pd.DataFrame(), val_f1=None)
    return ModelResult(dataset, model, family_of(model), runs=[run], serving=run)


def test_report_tables_show_reading_and_first_window_scores(tmp_path: Path) -> None:
    reading = {"mean_share": 0.25, "min_share": 0.01, "share_of_texts_read_fully": 0.1}
    whole = {"mean_share": 1.0, "min_share": 1.0, "share_of_texts_read_fully": 1.0}
    metrics = {
        "f1_macro": 0.8,
        "roc_auc": 0.9,
        "reading": whole,
        "first_window": {"f1_macro": 0.7, "roc_auc": 0.85, "reading": reading},
    }
    results = {
        "short": {"minilm": _result("short", "minilm", {"reading": whole})},
        "long": {"minilm": _result("long", "minilm", metrics)},
    }
    header, rows = reading_rows(results)
    assert header == ["model", "short", "long"]
    assert rows == [["minilm", "1.000 (min 1.000; 100% whole)", "1.000 (min 1.000; 100% whole)"]]
    assert first_window_rows(results) == [
        ["long", "minilm", "0.8000", "0.7000", "0.9000", "0.8500", "1.000 / 0.250"]
    ]
