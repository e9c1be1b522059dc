"""transfer@<dataset>-<model>: score a trained model on every other dataset's test split.

Labels share one meaning everywhere (1 = fake), so a model trained on one dataset can be read on
another: the report's cross-dataset matrix and in-domain minus out-of-domain gaps come from here.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from fakenews import stats
from fakenews.config import Params
from fakenews.io import read_split, write_json
from fakenews.metrics import classification_metrics
from fakenews.models import load_model
from fakenews.models.base import model_input
from fakenews.overlap_rows import overlapping_ids, without_overlap
from fakenews.paths import Paths
from fakenews.timing import import_in_background, timed

log = logging.getLogger(__name__)

TRANSFER_KEYS = ("accuracy", "f1_macro", "f1_fake", "roc_auc", "n")


def transfer(dataset: str, model_name: str, params: Params, paths: Paths) -> dict[str, Any]:
    """Metrics of ``models/<dataset>/<model>`` on the test split of each other dataset."""
    model = load_model(paths.model(dataset, model_name), expected=model_name)
    fields = list(model.config.text_fields)
    tests = {t: read_split(paths.split(t), "test") for t in params.datasets if t != dataset}
    overlapping = {t: overlapping_ids(paths.overlap_rows, dataset, t) for t in tests}
    # sklearn.metrics (~2 s) imports while the model predicts, where that is safe.
    preload = import_in_background("sklearn.metrics") if model.background_imports else None
    scores: dict[str, np.ndarray] = {}
    for target, test in tests.items():
        with timed("predict"):
            scores[target] = np.asarray(model.predict_proba(model_input(test, fields)), dtype=float)
    if preload is not None:
        preload.join()  # before this thread imports anything the preload imports
    config = params.evaluate
    targets: dict[str, Any] = {}
    for target, test in tests.items():
        probs, labels = scores[target], test["label"].to_numpy(dtype=int)
        metrics = classification_metrics(labels, probs, config.threshold)
        share_fake = float(np.mean(probs >= config.threshold))
        targets[target] = {
            **{k: metrics[k] for k in TRANSFER_KEYS},
            "ci": stats.evaluate_cis(labels, probs, config),  # paired with evaluate's
            "predicted_fake_share": round(share_fake, 6),
            # One class for every row: its accuracy is the class balance, not skill.
            "constant": share_fake in (0.0, 1.0),
            # The same scores without the rows the overlap stage found in this model's train.
            "without_overlap": without_overlap(
                test["id"], labels, probs, overlapping[target], config
            ),
        }
        log.info(
            "%s/%s on %s: F1 macro %.4f, ROC-AUC %s%s",
            dataset,
            model_name,
            target,
            metrics["f1_macro"],
            metrics["roc_auc"],
            " (predicts one class for every row)" if targets[target]["constant"] else "",
        )
    result = {"train_dataset": dataset, "model": model_name, "targets": targets}
    write_json(paths.transfer(dataset, model_name), result)
    write_json(paths.transfer_metrics(dataset, model_name), result)
    return result
