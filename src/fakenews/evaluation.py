"""evaluate@<dataset>-<model>: score the test split; write metrics, predictions and plots."""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np
import pandas as pd

from fakenews import stats
from fakenews.config import Params
from fakenews.io import (
    atomic_dir,
    atomic_path,
    read_json,
    read_split,
    sha256_tree,
    write_json,
    write_parquet,
)
from fakenews.metrics import classification_metrics
from fakenews.models import MODEL_INFO_FILE, load_model
from fakenews.models.base import TextClassifier, model_input, reading_summary
from fakenews.paths import Paths
from fakenews.timing import BACKGROUND_IMPORTS, import_in_background, timed
from fakenews.tracking import (
    TAG_DATASET,
    TAG_MODEL,
    TAG_MODEL_HASH,
    flatten,
    tracked_run,
)

log = logging.getLogger(__name__)

LABEL_NAMES = {0: "real", 1: "fake"}


def evaluate(dataset: str, model_name: str, params: Params, paths: Paths) -> dict[str, Any]:
    """Evaluate a trained model on its dataset's test split; return the metrics written."""
    config = params.evaluate
    model_dir = paths.model(dataset, model_name)
    model = load_model(model_dir, expected=model_name)
    training = read_json(model_dir / MODEL_INFO_FILE).get("training", {})
    test = read_split(paths.split(dataset), "test")
    texts = model_input(test, list(model.config.text_fields))
    labels = test["label"].to_numpy(dtype=int)

    # mlflow and sklearn.metrics (~4 s) import while the model predicts, where that is safe.
    preload = import_in_background(*BACKGROUND_IMPORTS) if model.background_imports else None
    started = time.perf_counter()
    with timed("predict"):
        probs = np.asarray(model.predict_proba(texts), dtype=float)
    seconds = time.perf_counter() - started
    if preload is not None:
        preload.join()  # before this thread imports anything the preload imports
    if probs.shape != (len(test),) or not np.all((probs >= 0) & (probs <= 1)):
        raise ValueError(f"{model_name}: predict_proba returned invalid probabilities")
    preds = (probs >= config.threshold).astype(int)
    with timed("reading"):
        shares = model.reading_share(texts)
        first_window = first_window_scores(model, texts, labels, probs, shares, params)

    metrics: dict[str, Any] = {
        "dataset": dataset,
        "model": model_name,
        "family": model.family,  # the report groups by it without importing model code
        **classification_metrics(labels, probs, config.threshold),
        # The same seed for every model: each CI resamples the same test examples (paired).
        "ci": stats.evaluate_cis(labels, probs, config),
        "calibration": {
            "ece": round(
                stats.expected_calibration_error(labels, probs, config.calibration_bins), 6
            ),
            "brier": round(stats.brier_score(labels, probs), 6),
        },
        "efficiency": {
            "parameters": training.get("parameters"),
            "size_on_disk_bytes": sum(
                p.stat().st_size for p in model_dir.rglob("*") if p.is_file()
            ),
            "train_seconds": training.get("train_seconds"),
            "inference_seconds": round(seconds, 4),
            "inference_examples_per_second": round(len(test) / max(seconds, 1e-9), 2),
            "inference_ms_per_example": round(1000 * seconds / max(len(test), 1), 4),
            "device": model.device_name(),
        },
        # How much of each test text the model reads: models see unequal parts of long texts.
        "reading": reading_summary(shares),
    }
    if first_window is not None:
        metrics["first_window"] = first_window

    predictions = pd.DataFrame(
        {"id": test["id"].astype(str), "label": labels, "prob_fake": probs, "pred": preds}
    )
    history_file = paths.plots(dataset, model_name) / "training.json"
    with atomic_dir(paths.evaluation(dataset, model_name)) as tmp:
        write_parquet(tmp / "predictions.parquet", predictions)
        write_json(tmp / "metrics.json", metrics)
        write_json(
            tmp / "errors.json",
            confident_errors(test, labels, probs, config.error_examples, config.threshold),
        )
        # The report reads training curves from here, so it depends on evaluate outputs only.
        write_json(
            tmp / "training.json",
            read_json(history_file) if history_file.is_file() else {"history": []},
        )
    write_json(paths.metrics(dataset, model_name), metrics)
    plots = paths.plots(dataset, model_name)
    with atomic_path(plots / "confusion.csv") as tmp:
        pd.DataFrame(
            {
                "actual": [LABEL_NAMES[v] for v in labels],
                "predicted": [LABEL_NAMES[v] for v in preds],
            }
        ).to_csv(tmp, index=False)
    write_json(plots / "roc.json", {"roc": stats.roc_points(labels, probs, config.roc_points)})
    write_json(plots / "pr.json", {"pr": stats.pr_points(labels, probs, config.roc_points)})
    write_json(
        plots / "calibration.json",
        {"calibration": stats.reliability_diagram(labels, probs, config.calibration_bins)},
    )

    tags = {TAG_DATASET: dataset, TAG_MODEL: model_name, TAG_MODEL_HASH: sha256_tree(model_dir)}
    with tracked_run(paths, params.mlflow, tags=tags, resume=True) as tracker:
        tracker.log_metrics({f"test_{k}": v for k, v in flatten(metrics).items()})
        tracker.log_artifacts(paths.metrics(dataset, model_name), "evaluation")
        tracker.log_artifacts(plots, "evaluation/plots")
    log.info(
        "%s/%s: test accuracy %.4f, F1 macro %.4f, ROC-AUC %s",
        dataset,
        model_name,
        metrics["accuracy"],
        metrics["f1_macro"],
        metrics["roc_auc"],
    )
    return metrics


def first_window_scores(
    model: TextClassifier,
    texts: list[str],
    labels: np.ndarray,
    probs: np.ndarray,
    shares: np.ndarray,
    params: Params,
) -> dict[str, Any] | None:
    """Test scores of the same model reading only each text's first window, for a model that
    reads long texts in several (None when it does not, or when every text fits one window).

    Set next to the full reading's scores, it separates what reading the whole text adds from
    what the model itself does.
    """
    head = model.first_window()
    if head is None:
        return None
    head_shares = head.reading_share(texts)
    longer = np.flatnonzero(head_shares < shares)
    if not len(longer):
        return None
    # A text that fits its first window is read exactly as before: only longer ones are redone.
    head_probs = probs.copy()
    head_probs[longer] = head.predict_proba([texts[i] for i in longer])
    config = params.evaluate
    scores = classification_metrics(labels, head_probs, config.threshold)
    return {
        "reading": reading_summary(head_shares),
        "texts_predicted_again": len(longer),
        **{k: scores[k] for k in ("accuracy", "f1_macro", "f1_fake", "roc_auc")},
        "ci": stats.evaluate_cis(labels, head_probs, config),
    }


ERROR_TEXT_CHARS = 300


def confident_errors(
    test: pd.DataFrame, labels: np.ndarray, probs: np.ndarray, k: int, threshold: float
) -> dict[str, list[dict[str, Any]]]:
    """The ``k`` most confidently wrong test examples each way, with a text excerpt."""
    picked = stats.most_confident_errors(labels, probs, k, threshold)
    out: dict[str, list[dict[str, Any]]] = {}
    for kind, rows in picked.items():
        out[kind] = []
        for i in rows:
            title, text = str(test["title"].iat[i] or ""), str(test["text"].iat[i] or "")
            excerpt = f"{title} — {text}" if title else text
            if len(excerpt) > ERROR_TEXT_CHARS:
                excerpt = excerpt[: ERROR_TEXT_CHARS - 1] + "…"
            out[kind].append(
                {
                    "id": str(test["id"].iat[i]),
                    "label": int(labels[i]),
                    "prob_fake": round(float(probs[i]), 6),
                    "text": excerpt,
                }
            )
    return out
