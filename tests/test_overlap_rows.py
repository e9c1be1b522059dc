"""Transfer scores without the test rows that overlap the training data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fakenews.analysis.metrics import classification_metrics
from fakenews.analysis.overlap_rows import overlapping_ids, without_overlap
from fakenews.analysis.stats import EvaluateConfig
from fakenews.core.errors import FakenewsError
from fakenews.core.io import write_json
from fakenews.models import get_model_class
from fakenews.reporting import html, markdown
from fakenews.reporting.collect import AuditFindings, ModelResult
from fakenews.reporting.sections import without_overlap_section

CONFIG = EvaluateConfig(bootstrap_resamples=200)


def scored(n: int = 40, seed: int = 0) -> tuple[list[str], np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = np.array([i % 2 for i in range(n)])
    probs = np.clip(0.35 * labels + rng.uniform(0, 0.65, n), 0, 1)
    return [f"t{i}" for i in range(n)], labels, probs


def test_without_overlap_scores_the_rows_left() -> None:
    ids, labels, probs = scored()
    # The model is sure and right on the overlapping rows: memory, which removal takes away.
    probs[:6] = labels[:6]
    result = without_overlap(ids, labels, probs, {"t0", "t1", "t2", "t3", "t4", "t5"}, CONFIG)
    expected = classification_metrics(labels[6:], probs[6:], CONFIG.threshold)
    assert (result["n"], result["n_removed"]) == (34, 6)
    for key in ("accuracy", "f1_macro", "f1_fake", "roc_auc"):
        assert result[key] == expected[key], key
    assert result["roc_auc"] < classification_metrics(labels, probs)["roc_auc"]
    ci = result["ci"]["f1_macro"]
    assert ci["low"] <= result["f1_macro"] <= ci["high"] and "reason" not in result


def test_without_overlap_ignores_unknown_ids_and_compares_ids_as_text() -> None:
    _, labels, probs = scored(10)
    result = without_overlap(range(10), labels, probs, {"3", "elsewhere"}, CONFIG)
    assert (result["n"], result["n_removed"]) == (9, 1)


@pytest.mark.parametrize(
    ("removed", "reason"),
    [
        ({f"t{i}" for i in range(0, 10, 2)}, "only class 1 left"),
        ({f"t{i}" for i in range(10)}, "no rows left"),
    ],
)
def test_without_overlap_is_null_when_one_class_or_none_is_left(
    removed: set[str], reason: str
) -> None:
    ids, labels, probs = scored(10)
    result = without_overlap(ids, labels, probs, removed, CONFIG)
    assert result["reason"].startswith(reason)
    assert result["f1_macro"] is None and result["roc_auc"] is None and result["ci"] is None
    assert result["n"] == 10 - len(removed)


def test_overlapping_ids_joins_both_kinds_and_names_the_missing_stage(tmp_path: Path) -> None:
    rows = tmp_path / "rows.json"
    with pytest.raises(FakenewsError, match="overlap stage"):
        overlapping_ids(rows, "a", "b")
    write_json(rows, {"pairs": {"a": {"b": {"near_duplicate": ["x"], "containment": ["x", "y"]}}}})
    assert overlapping_ids(rows, "a", "b") == {"x", "y"}
    with pytest.raises(FakenewsError, match="b -> a"):
        overlapping_ids(rows, "b", "a")


def model_result(dataset: str, transfer: dict[str, dict]) -> ModelResult:
    family = get_model_class("tfidf_logreg").family
    return ModelResult(dataset, "tfidf_logreg", family, {}, pd.DataFrame(), transfer=transfer)


def test_report_shows_counts_and_scores_with_and_without_the_rows() -> None:
    ids, labels, probs = scored()
    full = classification_metrics(labels, probs)
    without = without_overlap(ids, labels, probs, {"t0", "t1"}, CONFIG)
    results = {
        "a": {"tfidf_logreg": model_result("a", {"b": {**full, "without_overlap": without}})},
        "b": {"tfidf_logreg": model_result("b", {"a": full})},
    }
    containment = {"matches": 3, "source_in_target": 2, "target_in_source": 1, "test_rows": 2}
    empty = {"matches": 0, "source_in_target": 0, "target_in_source": 0, "test_rows": 0}
    overlap = {
        "containment": {"shingle_size": 3, "threshold": 0.6, "min_shared": 4},
        "pairs": {
            "a": {"b": {"near": 0, "test_rows": 40, "containment": containment,
                        "overlapping_test_rows": 2}},
            "b": {"a": {"near": 0, "test_rows": 40, "containment": empty,
                        "overlapping_test_rows": 0}},
        },
    }  # fmt: skip
    findings = AuditFindings({}, overlap)
    section = without_overlap_section(findings, results)
    assert section is not None
    text = "\n".join(markdown.section_lines(section, level=3))
    assert text.startswith("### Transfer without the rows that overlap the training data")
    assert "word 3-grams" in text and "60%" in text
    f1_all, f1_without = f"{full['f1_macro']:.4f}", f"{without['f1_macro']:.4f}"
    assert f"| a → b | 0 | 2 / 1 | 2 of 40 | tfidf_logreg | {f1_all}" in text
    assert f"| {f1_without} [" in text
    assert "| b → a | 0 | 0 / 0 | 0 of 40 | all | unchanged |" in text
    assert "<h3>Transfer without the rows" in "".join(html.section_parts(section, level=3))
    assert without_overlap_section(None, results) is None
