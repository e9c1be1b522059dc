"""evaluate@<dataset>-<model>: score the test split; write metrics, predictions and plots."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from fakenews.analysis import stats
from fakenews.analysis.metrics import classification_metrics
from fakenews.analysis.served_scores import calibration_summary, domain_split
from fakenews.analysis.stats import EvaluateConfig
from fakenews.classifier.base import TextClassifier, model_input, reading_summary
from fakenews.core.io import (
    atomic_dir,
    atomic_path,
    read_json,
    read_split,
    rounded,
    sha256_tree,
    write_json,
    write_parquet,
)
from fakenews.core.params import Params
from fakenews.core.paths import RUN_INFO_FILE, Paths, fold_dirs, fold_name, run_name
from fakenews.core.timing import BACKGROUND_IMPORTS, import_in_background, timed
from fakenews.inference.served import ServedModel
from fakenews.models import load_model
from fakenews.tracking.client import (
    TAG_DATASET,
    TAG_MODEL,
    TAG_MODEL_HASH,
    TAG_RUN_KIND,
    TAG_SEED,
    MlflowConfig,
    flatten,
)
from fakenews.tracking.runs import parent_tags, tracked_run

log = logging.getLogger(__name__)

LABEL_NAMES = {0: "real", 1: "fake"}


@dataclass
class Scored:
    """One run's test predictions; a k-fold run pools every fold's (each row once).

    ``probs`` (and ``head_probs``) are calibrated P(fake), ``raw_probs`` the model's own."""

    test: pd.DataFrame
    probs: np.ndarray
    raw_probs: np.ndarray
    domain_scores: np.ndarray
    in_domain: np.ndarray
    threshold: float  # the in-domain score a text needs (its part's)
    shares: np.ndarray  # share of each text the model reads
    head_shares: np.ndarray | None  # the same reading only each text's first window
    head_probs: np.ndarray | None
    texts_predicted_again: int
    seconds: float


def score_part(served: ServedModel, test: pd.DataFrame) -> Scored:
    """Predict one test split (or fold) with its model; time the prediction (the model's own,
    then calibration and the domain check, as serving does)."""
    model = served.model
    texts = model_input(test, list(model.config.text_fields))
    started = time.perf_counter()
    with timed("predict"):
        raw = np.asarray(model.predict_proba(texts), dtype=float)
        if raw.shape != (len(test),) or not np.all((raw >= 0) & (raw <= 1)):
            raise ValueError(f"{model.name}: predict_proba returned invalid probabilities")
        out = served.scored(raw, texts)
    seconds = time.perf_counter() - started
    with timed("reading"):
        shares = model.reading_share(texts)
        head = first_window_probs(model, texts, raw, shares)
    head_shares, head_probs, again = head or (None, None, 0)
    return Scored(
        test,
        out.prob_fake,
        raw,
        out.domain_score,
        out.in_domain,
        served.threshold,
        shares,
        head_shares,
        None if head_probs is None else served.calibrator.apply(head_probs),
        again,
        seconds=seconds,
    )


def pool(parts: list[Scored]) -> Scored:
    if len(parts) == 1:
        return parts[0]
    heads = [p.head_probs for p in parts]
    with_head = all(h is not None for h in heads)
    return Scored(
        test=pd.concat([p.test for p in parts], ignore_index=True),
        probs=np.concatenate([p.probs for p in parts]),
        raw_probs=np.concatenate([p.raw_probs for p in parts]),
        domain_scores=np.concatenate([p.domain_scores for p in parts]),
        in_domain=np.concatenate([p.in_domain for p in parts]),
        threshold=parts[0].threshold,  # fold 0's; domain_summary lists every fold's
        shares=np.concatenate([p.shares for p in parts]),
        head_shares=np.concatenate([p.head_shares for p in parts]) if with_head else None,
        head_probs=np.concatenate(heads) if with_head else None,  # type: ignore[arg-type]
        texts_predicted_again=sum(p.texts_predicted_again for p in parts),
        seconds=sum(p.seconds for p in parts),
    )


def evaluate(
    dataset: str, model_name: str, params: Params, paths: Paths, seed: int | None = None
) -> dict[str, Any]:
    """Evaluate one run (``seed``; default: the model's first) on its dataset's test split
    (k-fold datasets: each fold's model on its test fold, pooled); return the metrics written."""
    seed = params.seeds_of(model_name)[0] if seed is None else seed
    config = params.section("evaluate", EvaluateConfig)
    run_dir = paths.run(dataset, model_name, seed)
    split_dir = paths.split(dataset)
    folds = fold_dirs(split_dir)
    pairs = (
        [(run_dir / fold_name(k), d) for k, d in enumerate(folds)]
        if folds
        else [(run_dir, split_dir)]
    )
    models = [load_model(model_dir, expected=model_name) for model_dir, _ in pairs]
    served = [
        ServedModel.with_model(m, model_dir, paths.root)
        for m, (model_dir, _) in zip(models, pairs, strict=True)
    ]
    training = read_json(run_dir / RUN_INFO_FILE).get("training", {})
    # sklearn.metrics (~2 s) imports while the model predicts, where that is safe.
    preload = import_in_background(*BACKGROUND_IMPORTS) if models[0].background_imports else None
    scored = pool(
        [score_part(s, read_split(d, "test")) for s, (_, d) in zip(served, pairs, strict=True)]
    )
    if preload is not None:
        preload.join()  # before this thread imports anything the preload imports
    test, probs, raw = scored.test, scored.probs, scored.raw_probs
    labels = test["label"].to_numpy(dtype=int)
    preds = (probs >= config.threshold).astype(int)
    model, model_dir = models[0], pairs[0][0]

    metrics: dict[str, Any] = {
        "dataset": dataset,
        "model": model_name,
        "seed": seed,
        "folds": len(folds) or None,
        "family": model.family,  # the report groups by it without importing model code
        "seed_free": bool(model.seed_free and model.config.max_train_samples is None),
        **classification_metrics(labels, probs, config.threshold),
        # The same seed for every model: each CI resamples the same test examples (paired).
        "ci": stats.evaluate_cis(labels, probs, config),
        # Scores above are of the calibrated P(fake); ece/brier too (``after``), next to the
        # raw scores' (``before``).
        "calibration": calibration_summary(
            labels, raw, probs, served[0].calibrator.method, config.calibration_bins
        ),
        "domain": {
            "thresholds": [rounded(s.threshold) for s in served],
            **domain_split(labels, probs, scored.in_domain, config.threshold),
        },
        # Deterministic costs only: metrics.json is a DVC output that a rerun must write byte for
        # byte, so wall-clock times go to the MLflow run and the log (`timings` below).
        "efficiency": {
            "parameters": training.get("parameters"),
            # One model's (a k-fold run: fold 0's): what serving it costs.
            "size_on_disk_bytes": sum(
                p.stat().st_size for p in model_dir.rglob("*") if p.is_file()
            ),
            "device": model.device_name(),
        },
        # How much of each test text the model reads: models see unequal parts of long texts.
        "reading": reading_summary(scored.shares),
    }
    first_window = first_window_scores(labels, scored, params)
    if first_window is not None:
        metrics["first_window"] = first_window

    predictions = pd.DataFrame(
        {
            "id": test["id"].astype(str),
            "label": labels,
            "prob_fake": probs,
            "pred": preds,
            "prob_raw": raw,
            "domain_score": scored.domain_scores,
            "in_domain": scored.in_domain.astype(bool),
        }
    )
    plots = paths.plots(dataset, model_name, seed)
    history_file = plots / "training.json"
    with atomic_dir(paths.evaluation(dataset, model_name, seed)) as tmp:
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
        # ... and the run's validation scores (selection), which it reads without model files.
        write_json(tmp / "validation.json", training.get("val", {}))
    with atomic_path(plots / "confusion.csv") as tmp_csv:
        pd.DataFrame(
            {
                "actual": [LABEL_NAMES[v] for v in labels],
                "predicted": [LABEL_NAMES[v] for v in preds],
            }
        ).to_csv(tmp_csv, index=False)
    write_json(plots / "roc.json", {"roc": stats.roc_points(labels, probs, config.roc_points)})
    write_json(plots / "pr.json", {"pr": stats.pr_points(labels, probs, config.roc_points)})
    # Reliability after calibration and before (the raw P(fake)): `dvc plots diff` compares them.
    write_json(
        plots / "calibration.json",
        {"calibration": stats.reliability_diagram(labels, probs, config.calibration_bins)},
    )
    write_json(
        plots / "calibration_raw.json",
        {"calibration": stats.reliability_diagram(labels, raw, config.calibration_bins)},
    )

    timings = inference_timings(scored.seconds, len(test))
    model_config = models[0].config
    tags = {
        TAG_DATASET: dataset,
        TAG_MODEL: model_name,
        TAG_SEED: str(seed),
        TAG_RUN_KIND: "evaluate",
        TAG_MODEL_HASH: sha256_tree(run_dir),
    }
    with tracked_run(
        paths,
        params.section("mlflow", MlflowConfig),
        run_name=f"{run_name(seed)} evaluate",
        tags=tags,
        parent=parent_tags(dataset, model_name, model_config),
        parent_name=f"{dataset}/{model_name}",
    ) as tracker:
        manifest = read_json(split_dir / "manifest.json")
        tracker.log_split(dataset, split_dir, manifest["hash"], context="evaluation")
        tracker.log_metrics({f"test_{k}": v for k, v in flatten(metrics).items()})
        tracker.log_metrics(timings)
        tracker.log_artifacts(
            paths.evaluation(dataset, model_name, seed) / "metrics.json", "evaluation"
        )
        tracker.log_artifacts(plots, "evaluation/plots")
    log.info(
        "%s/%s seed %d: test accuracy %.4f, F1 macro %.4f, ROC-AUC %s; "
        "inference %.3f s (%.4f ms per example)",
        dataset,
        model_name,
        seed,
        metrics["accuracy"],
        metrics["f1_macro"],
        metrics["roc_auc"],
        timings["test_inference_seconds"],
        timings["test_inference_ms_per_example"],
    )
    return metrics


def inference_timings(seconds: float, examples: int) -> dict[str, float]:
    """The test predictions' wall-clock cost, for the MLflow run and the log only (never a DVC
    output: it moves from run to run)."""
    return {
        "test_inference_seconds": round(seconds, 4),
        "test_inference_examples_per_second": round(examples / max(seconds, 1e-9), 2),
        "test_inference_ms_per_example": round(1000 * seconds / max(examples, 1), 4),
    }


def first_window_probs(
    model: TextClassifier, texts: list[str], probs: np.ndarray, shares: np.ndarray
) -> tuple[np.ndarray, np.ndarray, int] | None:
    """Shares read and P(fake) of the same model reading only each text's first window, for a
    model that reads long texts in several (None when it does not)."""
    head = model.first_window()
    if head is None:
        return None
    head_shares = head.reading_share(texts)
    longer = np.flatnonzero(head_shares < shares)
    # A text that fits its first window is read exactly as before: only longer ones are redone.
    head_probs = probs.copy()
    if len(longer):
        head_probs[longer] = head.predict_proba([texts[i] for i in longer])
    return head_shares, head_probs, len(longer)


def first_window_scores(
    labels: np.ndarray, scored: Scored, params: Params
) -> dict[str, Any] | None:
    """Test scores reading only each text's first window (None when no text is longer).

    Set next to the full reading's scores, it separates what reading the whole text adds from
    what the model itself does.
    """
    if scored.head_probs is None or scored.head_shares is None or not scored.texts_predicted_again:
        return None
    config = params.section("evaluate", EvaluateConfig)
    scores = classification_metrics(labels, scored.head_probs, config.threshold)
    return {
        "reading": reading_summary(scored.head_shares),
        "texts_predicted_again": scored.texts_predicted_again,
        **{k: scores[k] for k in ("accuracy", "f1_macro", "f1_fake", "roc_auc")},
        "ci": stats.evaluate_cis(labels, scored.head_probs, config),
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
                    "prob_fake": rounded(probs[i]),
                    "text": excerpt,
                }
            )
    return out
