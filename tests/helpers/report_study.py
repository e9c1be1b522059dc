"""A small finished study on disk: what the evaluate, transfer, audit and overlap stages would
have written for two datasets, a union of both, a seed-free model and a three-seed one. Enough
for build_report to fill every section, in a few seconds and without training anything."""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fakenews.core.io import write_json
from fakenews.core.params import Params, parse_params
from fakenews.core.paths import Paths
from fakenews.inference.explain import explanations_path
from fakenews.models import get_model_class

DATASETS = ("alpha", "beta")
MODELS = {"tfidf_logreg": [42], "lstm": [42, 43, 44]}
N = 60


def study_params() -> Params:
    return parse_params(
        {
            "datasets": {d: {} for d in DATASETS},
            "models": {get_model_class(m).family: [m] for m in MODELS},
            "train": {m: {} for m in MODELS},
            "seeds": {get_model_class(m).family: seeds for m, seeds in MODELS.items()},
            "unions": {"both": list(DATASETS)},
        }
    )  # fmt: skip


def _rng(*key: object) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32("/".join(map(str, key)).encode()))


def _scores(accuracy: float, n: int, **extra: Any) -> dict[str, Any]:
    ci = {k: {"low": accuracy - 0.05, "high": accuracy + 0.05, "value": accuracy}
          for k in ("accuracy", "f1_macro", "roc_auc")}  # fmt: skip
    return {"accuracy": accuracy, "f1_macro": accuracy, "roc_auc": accuracy, "n": n, "ci": ci,
            **extra}  # fmt: skip


def _evaluation(paths: Paths, dataset: str, model: str, seed: int, labels: np.ndarray) -> None:
    rng = _rng(dataset, model, seed)
    wrong = rng.permutation(N)[: 8 + seed % 3 + (6 if model == "lstm" else 0)]
    pred = labels.copy()
    pred[wrong] = 1 - pred[wrong]
    prob = np.round(np.clip(pred * 0.6 + 0.2 + rng.normal(0, 0.1, N), 0, 1), 4)
    tn, fp = int(((pred == 0) & (labels == 0)).sum()), int(((pred == 1) & (labels == 0)).sum())
    fn, tp = int(((pred == 0) & (labels == 1)).sum()), int(((pred == 1) & (labels == 1)).sum())
    accuracy = round(float((pred == labels).mean()), 6)
    metrics = _scores(
        accuracy,
        N,
        folds=None,
        seed_free=model == "tfidf_logreg",
        family="linear" if model == "tfidf_logreg" else "recurrent",
        confusion_matrix={"tn": tn, "fp": fp, "fn": fn, "tp": tp},
        calibration=_calibration(0.05, 0.1),
        domain=_domain(0.05),
        efficiency={"parameters": 1000 * len(model), "size_on_disk_bytes": 40_000 * len(model),
                    "device": "cpu"},
        reading={"mean_share": 1.0 if model == "tfidf_logreg" else 0.8, "min_share": 0.5,
                 "share_of_texts_read_fully": 0.75},
    )  # fmt: skip
    folder = paths.evaluation(dataset, model, seed)
    write_json(folder / "metrics.json", metrics)
    ids = [f"{dataset}{i}" for i in range(N)]
    raw = np.round(np.clip(prob * 1.2 - 0.1, 0, 1), 4)  # overconfident before calibration
    score = np.round(rng.uniform(0.1, 0.5, N), 6)
    pd.DataFrame(
        {"id": ids, "label": labels, "prob_fake": prob, "pred": pred, "prob_raw": raw,
         "domain_score": score, "in_domain": score >= 0.12}
    ).to_parquet(folder / "predictions.parquet")  # fmt: skip
    write_json(folder / "validation.json", {"f1_macro": accuracy - 0.01})
    history = [{"epoch": e, "val_loss": 0.7 / e} for e in (1, 2)]
    write_json(folder / "training.json", {"history": history})
    errors = {"false_positives": [{"id": ids[int(wrong[0])], "prob_fake": 0.9,
                                   "text": "Officials reported the data, <b>soberly</b>."}],
              "false_negatives": []}  # fmt: skip
    write_json(folder / "errors.json", errors)


def _calibration(ece: float, brier: float) -> dict[str, Any]:
    before = {"ece": round(ece * 3, 6), "brier": round(brier + 0.02, 6)}
    after = {"ece": ece, "brier": brier}
    return {**after, "method": "temperature", "before": before, "after": after}


def _domain(flagged_share: float) -> dict[str, Any]:
    return {"flagged_share": flagged_share, "thresholds": [0.12],
            "flagged": {"n": 3, "accuracy": 0.4, "roc_auc": 0.5},
            "unflagged": {"n": N - 3, "accuracy": 0.8, "roc_auc": 0.85}}  # fmt: skip


def _audit(dataset: str) -> dict[str, Any]:
    return {
        "rows": {"train": 3 * N, "val": N, "test": N},
        "duplicates": {"near_groups": 2, "near_rows": 5, "cross_split_groups": 0,
                       "ids_in_two_splits": 0},
        "prepare": {"duplicates_dropped": 3},
        "split": {"strategy": "stratified"},
        "artifacts": {"rules": {"links": {"fake": 4, "real": 1}}, "strip": True,
                      "rows_changed": {"rows": 5}},
        "label_checks": {},
        "probes": {"majority": {"accuracy": 0.5}, "metadata": {"skipped": "no metadata"},
                   "length": {"accuracy": 0.6}, "prefix": {"accuracy": 0.85},
                   "title": {"accuracy": 0.55}},
    }  # fmt: skip


def _overlap() -> dict[str, Any]:
    def pair(near: int, removed: int) -> dict[str, Any]:
        containment = {"source_in_target": removed - near, "target_in_source": 0}
        return {"near": near, "test_rows": N, "near_fraction": near / N,
                "containment": containment, "overlapping_test_rows": removed}  # fmt: skip

    return {
        "containment": {"shingle_size": 3, "threshold": 0.6, "min_shared": 4},
        "pairs": {"alpha": {"beta": pair(2, 3)}, "beta": {"alpha": pair(0, 0)}},
    }


def write_study(root: Path) -> tuple[Params, Paths]:
    params, paths = study_params(), Paths(root)
    for dataset in DATASETS:
        labels = np.tile([0, 1], N // 2)
        for model, seeds in MODELS.items():
            for seed in seeds:
                _evaluation(paths, dataset, model, seed, labels)
        write_json(paths.audit(dataset), _audit(dataset))
    for source in (*DATASETS, "both"):
        for model in MODELS:
            targets = {}
            for target in DATASETS:
                if target == source:
                    continue
                accuracy = round(0.55 + 0.1 * _rng(source, model, target).random(), 6)
                role = "member" if source == "both" else "other"
                without = _scores(accuracy + 0.01, N - 3, n_removed=3)
                targets[target] = _scores(
                    accuracy, N, constant=False, role=role, rows_read_differently=4,
                    without_overlap=without, calibration=_calibration(0.1, 0.2),
                    domain={**_domain(0.6), "auroc_own_test_vs_target": 0.9},
                )  # fmt: skip
            write_json(
                paths.transfer(source, model),
                {"targets": targets, "artifact_rules_stripped": ["links"], "seed": 42},
            )
    write_json(paths.overlap, _overlap())
    for dataset in DATASETS:
        for model in MODELS:
            write_json(explanations_path(paths, dataset, model), _explanation(dataset, model))
    return params, paths


def _explanation(dataset: str, model: str) -> dict[str, Any]:
    """An explain stage output (fakenews.pipeline.explain)."""
    drop = round(0.2 + 0.2 * _rng(dataset, model, "explain").random(), 6)
    return {
        "method": "integrated gradients",
        "ig_steps_median": 16.0,
        "top_k": 5,
        "faithfulness": {
            "texts": 200,
            "texts_skipped": 0,
            "top_k_drop": drop,
            "random_drop": 0.05,
            "share_top_k_beats_random": 0.95,
            "wilcoxon_p": 1e-20,
        },
        "cues": {
            "towards_fake": [{"unit": "hoax", "total": 9.5, "texts": 12}],
            "towards_real": [{"unit": "officials", "total": -7.25, "texts": 10}],
        },
    }
