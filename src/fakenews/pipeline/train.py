"""train@<dataset>-<model>: fit one model on one dataset's train split and save it."""

from __future__ import annotations

import logging
import os
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fakenews.analysis.metrics import classification_metrics
from fakenews.classifier.base import model_input
from fakenews.core.io import atomic_dir, read_json, read_split, sha256_tree, write_json
from fakenews.core.params import Params
from fakenews.core.paths import RUN_INFO_FILE, Paths, fold_dirs, fold_name, run_name
from fakenews.core.timing import BACKGROUND_IMPORTS, import_in_background, timed
from fakenews.models import check_family, get_model_class, model_config, save_model
from fakenews.text.preparation import read_preparation
from fakenews.tracking.client import TAG_MODEL_HASH, TAG_RUN_KIND, TAG_SEED, MlflowConfig, flatten
from fakenews.tracking.runs import child_run, parent_tags, tracked_run, train_tags

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
    dataset: str,
    model_name: str,
    params: Params,
    paths: Paths,
    family: str | None = None,
    seed: int | None = None,
) -> dict[str, Any]:
    """Train one run (``seed``; default: the model's first) of a model on a dataset, write
    ``models/<dataset>/<model>/seed-<seed>/``; return a summary.

    A k-fold dataset trains one model per fold (``fold-<k>/``), each on its own train and
    validation folds. ``family``: the stage group's family (dvc.yaml), checked against the
    model's own.
    """
    seed = params.seeds_of(model_name)[0] if seed is None else seed
    config = model_config(params, model_name, dataset).model_copy(update={"seed": seed})
    if family is not None:
        check_family(model_name, family)
    # A union (params `unions`) trains on its members' splits side by side.
    split_dir = paths.union(dataset) if dataset in params.unions else paths.split(dataset)
    folds = fold_dirs(split_dir)
    if not is_main_process():
        # A torchrun worker trains in lockstep with rank 0, which alone records and saves.
        for fold_dir in folds or [split_dir]:
            seed_everything(seed)
            data = TrainData.read(fold_dir, config)
            model = get_model_class(model_name)(config)
            with timed("fit"):
                model.fit(
                    data.train_texts,
                    data.train_labels,
                    data.val_texts,
                    data.val_labels,
                    lambda m, step: None,
                )
        return {}
    manifest = read_json(split_dir / "manifest.json")
    tags = {**train_tags(paths, dataset, model_name), TAG_SEED: str(seed)}
    # sklearn.metrics (~2 s) imports while the model fits, where that is safe.
    background = get_model_class(model_name).background_imports
    preload = import_in_background(*BACKGROUND_IMPORTS) if background else None
    with tracked_run(
        paths,
        params.section("mlflow", MlflowConfig),
        run_name=f"{run_name(seed)} train",
        tags={**tags, TAG_RUN_KIND: "train"},
        parent=parent_tags(dataset, model_name, config),
        parent_name=f"{dataset}/{model_name}",
    ) as tracker:
        tracker.log_split(dataset, split_dir, manifest["hash"], context="training")
        tracker.log_params(
            {
                "dataset": dataset,
                "model": model_name,
                "folds": len(folds) or None,
                **config.model_dump(mode="json"),
            }
        )
        with atomic_dir(paths.run(dataset, model_name, seed)) as tmp:
            if not folds:
                summary = fit_one(dataset, model_name, config, split_dir, tmp, tracker.log_metrics)
                history = summary.pop("history")
                train_seconds = summary.pop("train_seconds")
                val = summary["val"]
            else:
                fold_summaries, val_parts, fold_seconds = [], [], []
                for k, fold_dir in enumerate(folds):
                    # Each fold is a child of the seed's run: its own curve, scores and duration.
                    with child_run(tracker, f"{run_name(seed)} {fold_name(k)}") as fold_run:
                        fold_summary = fit_one(
                            dataset, model_name, config, fold_dir, tmp / fold_name(k),
                            fold_run.log_metrics,
                        )  # fmt: skip
                        fold_run.log_metrics(
                            {
                                "train_seconds": fold_summary["train_seconds"],
                                **{f"val_{n}": v for n, v in flatten(fold_summary["val"]).items()},
                            }
                        )
                    val_parts.append(fold_summary.pop("val_predictions"))
                    fold_seconds.append(fold_summary.pop("train_seconds"))
                    fold_summaries.append(fold_summary)
                # The training curve shown is fold 0's; every fold's is in its model.json.
                history = fold_summaries[0]["history"]
                for item in fold_summaries:
                    item.pop("history")
                pooled = pd.concat(val_parts, ignore_index=True)
                val = classification_metrics(
                    pooled["label"].to_numpy(dtype=int), pooled["prob_fake"].to_numpy()
                )
                summary = {
                    "folds": len(folds),
                    "n_train": sum(f["n_train"] for f in fold_summaries),
                    "n_val": len(pooled),
                    "parameters": fold_summaries[0]["parameters"],
                    # Every fold's validation predictions pooled: each row once.
                    "val": val,
                    "per_fold": [
                        {"val": f["val"], "n_train": f["n_train"]} for f in fold_summaries
                    ],
                }
                train_seconds = round(sum(fold_seconds), 3)
            summary.pop("val_predictions", None)
            write_json(
                tmp / RUN_INFO_FILE,
                {"dataset": dataset, "model": model_name, "seed": seed, "training": summary},
            )
        run_dir = paths.run(dataset, model_name, seed)
        write_json(paths.plots(dataset, model_name, seed) / "training.json", {"history": history})
        if preload is not None:
            preload.join()
        tracker.set_tags({TAG_MODEL_HASH: sha256_tree(run_dir)})
        tracker.log_metrics(
            {
                "train_seconds": train_seconds,
                **{f"val_{k}": v for k, v in flatten(val).items()},
            }
        )
        if params.section("mlflow", MlflowConfig).log_model:
            tracker.log_artifacts(run_dir, "model")
    log.info(
        "%s/%s seed %d: val accuracy %.4f, F1 macro %.4f (%.1fs)",
        dataset,
        model_name,
        seed,
        val["accuracy"],
        val["f1_macro"],
        train_seconds,
    )
    return summary


@dataclass
class TrainData:
    """One split's (or fold's) train and validation texts and labels, as the model reads them."""

    n_train: int
    val_ids: pd.Series
    train_texts: list[str]
    train_labels: np.ndarray
    val_texts: list[str]
    val_labels: np.ndarray

    @classmethod
    def read(cls, split_dir: Path, config: Any) -> TrainData:
        train_df = cap_rows(read_split(split_dir, "train"), config.max_train_samples, config.seed)
        val_df = read_split(split_dir, "val")
        fields = list(config.text_fields)
        return cls(
            n_train=len(train_df),
            val_ids=val_df["id"].astype(str),
            train_texts=model_input(train_df, fields),
            train_labels=train_df["label"].to_numpy(dtype=int),
            val_texts=model_input(val_df, fields),
            val_labels=val_df["label"].to_numpy(dtype=int),
        )


def fit_one(
    dataset: str, model_name: str, config: Any, split_dir: Path, out_dir: Path, log_metrics: Any
) -> dict[str, Any]:
    """Fit one model on ``split_dir``'s train (stopping on its val) and save it to ``out_dir``."""
    seed_everything(config.seed)
    preparation = read_preparation(split_dir)  # travels in model.json: predict applies it
    data = TrainData.read(split_dir, config)
    model = get_model_class(model_name)(config)
    started = time.perf_counter()
    with timed("fit"):
        info = model.fit(
            data.train_texts, data.train_labels, data.val_texts, data.val_labels, log_metrics
        )
    train_seconds = time.perf_counter() - started
    history = info.pop("history", [])
    with timed("predict"):
        val_probs = np.asarray(model.predict_proba(data.val_texts), dtype=float)
    val_metrics = classification_metrics(data.val_labels, val_probs)
    # No wall-clock time in what is saved: model.json and run.json are DVC outputs that a rerun
    # must write byte for byte; the time goes to MLflow and the log (the caller's).
    summary: dict[str, Any] = {
        "n_train": data.n_train,
        "n_val": len(data.val_labels),
        "parameters": model.parameter_count(),
        "val": val_metrics,
        **info,
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    save_model(
        model, out_dir, {"dataset": dataset, "preparation": preparation, "training": summary}
    )
    return {
        **summary,
        "train_seconds": round(train_seconds, 3),
        "history": history,
        "val_predictions": pd.DataFrame(
            {"id": data.val_ids, "label": data.val_labels, "prob_fake": val_probs}
        ),
    }
