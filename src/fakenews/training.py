"""train@<dataset>-<model>: fit one model on one dataset's train split and save it."""

from __future__ import annotations

import logging
import os
import random
import time
from typing import Any

import numpy as np
import pandas as pd

from fakenews.config import Params, ParamsError
from fakenews.data.preparation import read_preparation
from fakenews.io import atomic_dir, read_split, sha256_tree, write_json
from fakenews.metrics import classification_metrics
from fakenews.models import get_model_class, model_config, save_model
from fakenews.models.base import model_input
from fakenews.paths import Paths
from fakenews.timing import BACKGROUND_IMPORTS, import_in_background, timed
from fakenews.tracking import (
    TAG_MODEL_HASH,
    flatten,
    tracked_run,
    train_tags,
)

log = logging.getLogger(__name__)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)


def cap_rows(frame: pd.DataFrame, limit: int | None, seed: int) -> pd.DataFrame:
    """A stratified sample of at most ``limit`` rows, in the original row order."""
    if limit is None or len(frame) <= limit:
        return frame
    from sklearn.model_selection import train_test_split

    stratify = frame["label"] if frame["label"].value_counts().min() >= 2 else None
    sample, _ = train_test_split(frame, train_size=limit, stratify=stratify, random_state=seed)
    return sample.sort_index()


def is_main_process() -> bool:
    # torchrun sets RANK per worker; read it here so torch-free models never import torch.
    return int(os.environ.get("RANK", "0")) == 0


def train(
    dataset: str, model_name: str, params: Params, paths: Paths, family: str | None = None
) -> dict[str, Any]:
    """Train a model on a dataset, write ``models/<dataset>/<model>/``; return a summary.

    ``family``: the stage group's family (dvc.yaml), checked against the model's own.
    """
    config = model_config(params, model_name, dataset)
    actual = get_model_class(model_name).family
    if family is not None and actual != family:
        raise ParamsError(
            f"params.yaml: models.{family}: {model_name!r} belongs to family {actual!r}; "
            f"list it under models.{actual}"
        )
    seed_everything(config.seed)
    split_dir = paths.split(dataset)
    preparation = read_preparation(split_dir)  # travels in model.json: predict applies it
    train_df = cap_rows(read_split(split_dir, "train"), config.max_train_samples, config.seed)
    val_df = read_split(split_dir, "val")
    fields = list(config.text_fields)
    train_texts, val_texts = model_input(train_df, fields), model_input(val_df, fields)
    train_labels = train_df["label"].to_numpy(dtype=int)
    val_labels = val_df["label"].to_numpy(dtype=int)

    model = get_model_class(model_name)(config)
    if not is_main_process():
        # A torchrun worker trains in lockstep with rank 0, which alone records and saves.
        with timed("fit"):
            model.fit(train_texts, train_labels, val_texts, val_labels, lambda m, step: None)
        return {}
    out_dir = paths.model(dataset, model_name)
    tags = train_tags(paths, dataset, model_name)
    # mlflow and sklearn.metrics (~4 s) import while the model fits, where that is safe.
    preload = import_in_background(*BACKGROUND_IMPORTS) if model.background_imports else None
    with tracked_run(
        paths, params.mlflow, run_name=f"{dataset}/{model_name}", tags=tags, preload=preload
    ) as tracker:
        tracker.log_params(
            {
                "dataset": dataset,
                "model": model_name,
                "n_train": len(train_df),
                "n_val": len(val_df),
                **config.model_dump(mode="json"),
                **{f"prepare.{k}": v for k, v in preparation["cleaning"].items()},
                "prepare.artifact_rules_stripped": ",".join(
                    rule["name"] for rule in preparation["artifact_rules"]
                ),
            }
        )
        started = time.perf_counter()
        with timed("fit"):
            info = model.fit(train_texts, train_labels, val_texts, val_labels, tracker.log_metrics)
        train_seconds = time.perf_counter() - started
        history = info.pop("history", [])
        with timed("predict"):
            val_probs = model.predict_proba(val_texts)
        if preload is not None:
            preload.join()  # before this thread imports anything the preload imports
        val_metrics = classification_metrics(val_labels, val_probs)
        summary: dict[str, Any] = {
            "n_train": len(train_df),
            "n_val": len(val_df),
            "parameters": model.parameter_count(),
            "train_seconds": round(train_seconds, 3),
            "val": val_metrics,
            **info,
        }
        with atomic_dir(out_dir) as tmp:
            extra = {"dataset": dataset, "preparation": preparation, "training": summary}
            save_model(model, tmp, extra)
        write_json(paths.plots(dataset, model_name) / "training.json", {"history": history})
        tracker.set_tags({TAG_MODEL_HASH: sha256_tree(out_dir)})
        tracker.log_metrics(
            {
                "train_seconds": train_seconds,
                **{f"val_{k}": v for k, v in flatten(val_metrics).items()},
            }
        )
        if params.mlflow.log_model:
            tracker.log_artifacts(out_dir, "model")
    log.info(
        "%s/%s: val accuracy %.4f, F1 macro %.4f (%.1fs)",
        dataset,
        model_name,
        val_metrics["accuracy"],
        val_metrics["f1_macro"],
        train_seconds,
    )
    return summary
