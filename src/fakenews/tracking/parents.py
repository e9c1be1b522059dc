"""The report's summary of each model's runs, on the model's MLflow parent run.

The train and evaluate stages open one parent run per dataset x model x config and close it at
once: it only groups their runs. Once every run of a model is in, the report stage gives each
parent the mean and spread over its runs of the test scores (the numbers the leaderboard ranks)
and ends it when its last child ended, so in `mlflow ui` the parent rows compare the models and
span their runs. Best effort, like all tracking: an MLflow failure is one warning.
"""

from __future__ import annotations

import logging
import time
import warnings
from typing import Any

from fakenews.core.params import Params
from fakenews.core.paths import Paths
from fakenews.tracking.client import (
    MLFLOW_PARENT_RUN_ID,
    TAG_DATASET,
    TAG_MODEL,
    TAG_RUN_KIND,
    TAG_SEED,
    MlflowConfig,
    TrackingUnavailable,
    connect,
    tag_filter,
    warn_unavailable,
)
from fakenews.tracking.model_registry import training_run

log = logging.getLogger(__name__)

SUMMARISED = ("accuracy", "f1_macro", "roc_auc")


def parent_metrics(row: dict[str, Any]) -> dict[str, float]:
    """What a parent run shows: the mean, std, min and max over runs of each test score."""
    out: dict[str, float] = {"runs": float(row["runs"])}
    for key in SUMMARISED:
        for stat, suffix in (("", "mean"), ("_std", "std"), ("_min", "min"), ("_max", "max")):
            value = row.get(f"{key}{stat}")
            if isinstance(value, int | float):
                out[f"test_{key}_{suffix}"] = float(value)
    if isinstance(row.get("val_f1_macro"), int | float):
        out["val_f1_macro_mean"] = float(row["val_f1_macro"])
    return out


def summarise_parent_runs(summary: dict[str, Any], params: Params, paths: Paths) -> int:
    """Log each dataset x model's summary row to its parent run; return how many were updated."""
    try:
        mlflow = connect(paths, params.section("mlflow", MlflowConfig))
    except TrackingUnavailable as error:
        warn_unavailable(error, "parent runs are not summarised, the report is unaffected")
        return 0
    except Exception as error:  # best effort: the report is already written
        warnings.warn(f"MLflow: parent runs not summarised ({error})", stacklevel=2)
        return 0
    from mlflow.entities import Metric

    client = mlflow.MlflowClient()
    done = 0
    try:
        for dataset in params.datasets:
            for model, row in summary.get(dataset, {}).items():
                parent_id = parent_of(mlflow, params, dataset, model, row["serving_seed"])
                if parent_id is None:
                    continue
                children = mlflow.search_runs(
                    experiment_names=[params.section("mlflow", MlflowConfig).experiment],
                    filter_string=tag_filter({MLFLOW_PARENT_RUN_ID: parent_id}),
                    output_format="list",
                )
                ended = [c.info.end_time for c in children if c.info.end_time]
                now = int(time.time() * 1000)
                metrics = [Metric(k, v, now, 0) for k, v in parent_metrics(row).items()]
                client.log_batch(parent_id, metrics=metrics)
                client.set_tag(parent_id, "fakenews.serving_seed", str(row["serving_seed"]))
                if ended:
                    client.set_terminated(parent_id, "FINISHED", end_time=max(ended))
                done += 1
    except Exception as error:
        warnings.warn(
            f"MLflow: summarising parent runs failed ({type(error).__name__}: {error}); "
            "the report is unaffected",
            stacklevel=2,
        )
    log.info("MLflow: %d parent runs summarised", done)
    return done


def parent_of(mlflow: Any, params: Params, dataset: str, model: str, seed: int) -> str | None:
    """The parent of the newest train run of ``dataset``/``model`` with ``seed``."""
    tags = {TAG_DATASET: dataset, TAG_MODEL: model, TAG_SEED: str(seed), TAG_RUN_KIND: "train"}
    run = training_run(mlflow, params.section("mlflow", MlflowConfig), tags)
    return run.data.tags.get(MLFLOW_PARENT_RUN_ID) if run is not None else None
