"""Which trained models exist, which is best, and the MLflow model registry.

The report stage registers, for each dataset, the model with the best mean *validation* macro F1
over its runs, served by its best-validation run (the test split stays for reporting), as a
version of ``fakenews-<dataset>``: an MLflow pyfunc model logged in a ``register`` run under the
model's parent run (naming the training run it serves), so ``mlflow ui`` links them and
``mlflow.pyfunc.load_model("models:/fakenews-<dataset>/<version>")`` scores a DataFrame of texts.
Its artifact is the served bundle: the model folder with the run's calibrator
(``calibration.json``, from the calibrate stage) and its training set's domain profile
(``domain/``, from the domain stage) copied in, so the pyfunc and ``mlflow models serve`` return
the calibrated P(fake) and the domain check as ``fakenews predict`` does. (The train stage logs
the bare model folder as run artifacts: it runs before any calibrator exists, so it is not the
served model.) A version is created only when the bundle's files changed since the latest
version (its ``fakenews.model_hash`` tag), so reruns on the same models register nothing.

Registration is best effort, like tracking: an MLflow failure is one warning, the stage goes on.
Nothing from here goes into the report's DVC outputs, which stay byte-identical across reruns.
"""

from __future__ import annotations

import importlib.metadata
import logging
import os
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fakenews.analysis.selection import best_fold_dir, best_run, mean_score, run_scores
from fakenews.core.errors import FakenewsError
from fakenews.core.io import read_json, sha256_tree
from fakenews.core.params import Params
from fakenews.core.paths import Paths, run_name
from fakenews.models import MODEL_INFO_FILE
from fakenews.tracking.client import (
    MLFLOW_PARENT_RUN_ID,
    TAG_DATASET,
    TAG_MODEL,
    TAG_MODEL_HASH,
    TAG_RUN_KIND,
    TAG_SEED,
    MlflowConfig,
    TrackingUnavailable,
    connect,
    ensure_reachable,
    split_data_hash,
    tag_filter,
    tracking_uri,
    warn_unavailable,
)

log = logging.getLogger(__name__)

REGISTERED_PREFIX = "fakenews-"
BEST_ALIAS = "best"  # models:/fakenews-<dataset>@best is always the newest registered version
# The pyfunc is logged from code: this file is read (not imported) when registering, so the
# dependency check counts it as package data of this module.
PACKAGE_DATA = ("pyfunc.py",)
PYFUNC_CODE = Path(__file__).with_name(PACKAGE_DATA[0])
PYFUNC_NAME = "pyfunc"
MODEL_DIR_ARTIFACT = "model_dir"  # the name mlflow_pyfunc.py reads the model folder from
# What a registered model needs to load; pinned to the versions it was registered with.
RUNTIME_PACKAGES = (
    "mlflow",
    "pandas",
    "numpy",
    "pyarrow",
    "pydantic",
    "scikit-learn",
    "scipy",
    "torch",
    "tokenizers",
    "safetensors",
    "transformers",
    "ftfy",
    "tqdm",
    "pyyaml",
)


def registered_name(dataset: str) -> str:
    return f"{REGISTERED_PREFIX}{dataset}"


def registry_uri(paths: Paths) -> str:
    return os.environ.get("MLFLOW_REGISTRY_URI") or tracking_uri(paths)


# --- trained models --------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """A trained model of one dataset, with what ranks and describes it."""

    dataset: str
    model: str
    directory: Path  # the serving model folder
    val_f1: float  # the serving run's
    test: dict[str, Any]  # the evaluate stage's metrics of that run ({} if not evaluated)
    seed: int | None = None


def best_model(params: Params, paths: Paths, dataset: str) -> Candidate | None:
    """The dataset's best model (:mod:`fakenews.analysis.selection`: highest mean validation
    macro-F1 over its runs) and the run that serves it (its best-validation seed)."""
    per_model = {
        model: run_scores(paths.model(dataset, model), params.seeds_of(model))
        for model in params.model_names
    }
    for model, scores in per_model.items():
        if mean_score(scores) is None:
            log.warning("%s/%s: no validation F1 in any run; not ranked", dataset, model)
    chosen = best_run(per_model)
    if chosen is None:
        return None
    best, seed = chosen
    metrics_file = paths.evaluation(dataset, best, seed) / "metrics.json"
    test = read_json(metrics_file) if metrics_file.is_file() else {}
    val_f1 = per_model[best][seed]
    assert val_f1 is not None
    directory = best_fold_dir(paths.run(dataset, best, seed))
    return Candidate(dataset, best, directory, val_f1, test, seed)


def list_models(paths: Paths) -> list[dict[str, Any]]:
    """Every run with test metrics under ``metrics/<dataset>/<model>/seed-<s>.json``, with its
    validation F1 and serving folder.

    ``best`` marks, per dataset, the run the report registers: the best-validation run of the
    model with the best mean validation F1.
    """
    root = paths.metrics_root
    rows: list[dict[str, Any]] = []
    for metrics_file in sorted(root.glob("*/*/seed-*.json")):
        try:
            metrics = read_json(metrics_file)
        except (OSError, ValueError):
            log.warning("%s: unreadable, skipped", metrics_file)
            continue
        if not isinstance(metrics, dict) or "accuracy" not in metrics:
            continue
        dataset = str(metrics.get("dataset") or metrics_file.parent.parent.name)
        model = str(metrics.get("model") or metrics_file.parent.name)
        seed = int(metrics.get("seed") or metrics_file.stem.split("-", 1)[1])
        run_dir = paths.run(dataset, model, seed)
        directory = best_fold_dir(run_dir) if run_dir.is_dir() else run_dir
        rows.append(
            {
                "dataset": dataset,
                "model": model,
                "seed": seed,
                "val_f1_macro": run_scores(paths.model(dataset, model), [seed])[seed],
                "test_accuracy": metrics.get("accuracy"),
                "test_f1_macro": metrics.get("f1_macro"),
                "test_roc_auc": metrics.get("roc_auc"),
                "test_n": metrics.get("n"),
                "path": directory.relative_to(paths.root).as_posix()
                if directory.is_relative_to(paths.root)
                else str(directory),
                "trained": (directory / MODEL_INFO_FILE).is_file(),
                "best": False,
            }
        )
    for dataset in {row["dataset"] for row in rows}:
        of_dataset = [r for r in rows if r["dataset"] == dataset]
        by_model: dict[str, dict[int, float | None]] = {}
        for r in of_dataset:
            by_model.setdefault(r["model"], {})[r["seed"]] = r["val_f1_macro"]
        chosen = best_run(by_model)
        for r in of_dataset:
            r["best"] = (r["model"], r["seed"]) == chosen
    return rows


# --- MLflow registry -------------------------------------------------------------------------


@dataclass(frozen=True)
class Registration:
    name: str
    version: str
    model: str
    created: bool  # False: the latest version already held this model


def pip_requirements() -> list[str]:
    pinned = []
    for package in RUNTIME_PACKAGES:
        try:
            pinned.append(f"{package}=={importlib.metadata.version(package)}")
        except importlib.metadata.PackageNotFoundError:
            continue
    return pinned


def signature() -> Any:
    from mlflow.models import ModelSignature
    from mlflow.types.schema import ColSpec, ParamSchema, ParamSpec, Schema

    # Every output may be null: an empty text's row has only its error.
    outputs = [
        ColSpec("double", "prob_fake", required=False),
        ColSpec("string", "label", required=False),
        ColSpec("double", "in_domain_score", required=False),
        ColSpec("boolean", "in_domain", required=False),
        ColSpec("string", "error", required=False),
    ]
    return ModelSignature(
        inputs=Schema([ColSpec("string", "text"), ColSpec("string", "title", required=False)]),
        outputs=Schema(outputs),
        params=ParamSchema([ParamSpec("threshold", "double", 0.5)]),
    )


def latest_version(client: Any, name: str) -> Any | None:
    versions = client.search_model_versions(f"name = '{name}'")
    return max(versions, key=lambda v: int(v.version)) if versions else None


def training_run(mlflow: Any, config: MlflowConfig, tags: dict[str, str]) -> Any | None:
    """The newest run carrying all ``tags``: the train run that wrote this model folder."""
    runs = mlflow.search_runs(
        experiment_names=[config.experiment],
        filter_string=tag_filter(tags),
        order_by=["attributes.start_time DESC"],
        max_results=1,
        output_format="list",
    )
    return runs[0] if runs else None


def version_tags(
    candidate: Candidate, model_hash: str, data_hash: str | None, run: Any | None
) -> dict[str, str]:
    tags = {
        TAG_DATASET: candidate.dataset,
        TAG_MODEL: candidate.model,
        TAG_MODEL_HASH: model_hash,
        TAG_SEED: str(candidate.seed),
        "val_f1_macro": f"{candidate.val_f1:.6f}",
    }
    for key in ("accuracy", "f1_macro", "roc_auc"):
        if isinstance(candidate.test.get(key), int | float):
            tags[f"test_{key}"] = f"{candidate.test[key]:.6f}"
    data_hash = data_hash or (run.data.tags.get("data_hash") if run is not None else None)
    if data_hash:
        tags["data_hash"] = data_hash
    if run is not None and "git_commit" in run.data.tags:
        tags["git_commit"] = run.data.tags["git_commit"]
    return tags


def served_bundle(directory: Path, root: Path, into: Path) -> Path:
    """Copy a model folder with its calibrator and domain profile inside (where
    :meth:`~fakenews.inference.served.ServedModel.load` looks first) to ``into``."""
    from fakenews.analysis.calibration import CALIBRATION_FILE
    from fakenews.inference.served import DOMAIN_DIR, find_sidecars

    sidecars = find_sidecars(directory, root)
    own = {CALIBRATION_FILE, DOMAIN_DIR}

    def sidecar_names(folder: str, names: list[str]) -> list[str]:
        # The folder's own sidecars (if any) are replaced by the ones it is served with.
        return [n for n in names if n in own] if Path(folder) == Path(directory) else []

    shutil.copytree(directory, into, ignore=sidecar_names)
    shutil.copy2(sidecars.calibration, into / CALIBRATION_FILE)
    shutil.copytree(sidecars.domain, into / DOMAIN_DIR)
    return into


@contextmanager
def quiet_artifact_copies() -> Iterator[None]:
    """No per-file progress bars in the stage log while MLflow copies the model folder."""
    key = "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"
    previous = os.environ.get(key)
    os.environ.setdefault(key, "false")
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(key, None)


def register(candidate: Candidate, config: MlflowConfig, paths: Paths) -> Registration:
    """Register ``candidate`` as the next version of ``fakenews-<dataset>``, unless the latest
    version already holds the same model files.

    Raises :class:`TrackingUnavailable` first thing (before importing mlflow) when an http(s)
    tracking or registry server does not answer.
    """
    mlflow = connect(paths, config)
    if os.environ.get("MLFLOW_REGISTRY_URI"):  # else it is the tracking URI, checked above
        ensure_reachable(registry_uri(paths), "MLFLOW_REGISTRY_URI")
    from mlflow import MlflowClient

    from fakenews.inference.predict import load_predictor

    client = MlflowClient(tracking_uri=tracking_uri(paths), registry_uri=registry_uri(paths))
    name = registered_name(candidate.dataset)
    # Never register a folder that would not load, with its calibrator and domain profile: the
    # same safe loader the pyfunc uses.
    predictor = load_predictor(candidate.directory, root=paths.root)
    with tempfile.TemporaryDirectory(prefix="fakenews-register-") as tmp:
        bundle = served_bundle(predictor.directory, paths.root, Path(tmp) / MODEL_DIR_ARTIFACT)
        model_hash = sha256_tree(bundle)
        latest = latest_version(client, name)
        if latest is not None and latest.tags.get(TAG_MODEL_HASH) == model_hash:
            return Registration(name, str(latest.version), candidate.model, created=False)
        run_tags = {
            TAG_DATASET: candidate.dataset,
            TAG_MODEL: candidate.model,
            TAG_SEED: str(candidate.seed),
            TAG_RUN_KIND: "train",
        }
        run = training_run(mlflow, config, run_tags)
        tags = version_tags(candidate, model_hash, split_data_hash(paths, candidate.dataset), run)
        with warnings.catch_warnings(), quiet_artifact_copies():
            warnings.filterwarnings("ignore", message=".*input example.*")
            # A run of its own (not the train run reopened, whose duration would then span until
            # now), under the train run's parent, so the version links to the group in `mlflow ui`.
            parent_id = run.data.tags.get(MLFLOW_PARENT_RUN_ID) if run is not None else None
            with mlflow.start_run(
                run_name=f"{run_name(candidate.seed or 0)} register",
                tags={
                    **run_tags,
                    TAG_RUN_KIND: "register",
                    TAG_MODEL_HASH: model_hash,
                    **({MLFLOW_PARENT_RUN_ID: parent_id} if parent_id else {}),
                    **({"train_run_id": run.info.run_id} if run is not None else {}),
                },
            ) as active:
                logged = mlflow.pyfunc.log_model(
                    name=PYFUNC_NAME,
                    python_model=str(PYFUNC_CODE),
                    artifacts={MODEL_DIR_ARTIFACT: str(bundle)},
                    signature=signature(),
                    pip_requirements=pip_requirements(),
                    # Shown in the MLmodel file: the raw-text preparation the pyfunc applies,
                    # and how its P(fake) is calibrated and its domain threshold set.
                    metadata={
                        "preparation": predictor.info.get("preparation"),
                        "calibration": predictor.served.calibrator.method,
                        "domain_threshold": predictor.served.threshold,
                    },
                )
                run_id = active.info.run_id
    if latest is None and not client.search_registered_models(f"name = '{name}'"):
        client.create_registered_model(
            name,
            tags={TAG_DATASET: candidate.dataset},
            description=f"Best fakenews model on {candidate.dataset} by validation macro F1.",
        )
    version = client.create_model_version(
        name=name,
        source=logged.model_uri,
        run_id=run_id,
        tags=tags,
        description=f"{candidate.model}: validation macro F1 {candidate.val_f1:.4f}",
        model_id=logged.model_id,
    )
    client.set_registered_model_alias(name, BEST_ALIAS, version.version)
    return Registration(name, str(version.version), candidate.model, created=True)


def register_best_models(params: Params, paths: Paths) -> dict[str, Registration]:
    """Register each dataset's best model (``mlflow.register_best``); never raises for MLflow."""
    if not params.section("mlflow", MlflowConfig).register_best:
        return {}
    done: dict[str, Registration] = {}
    for dataset in params.datasets:
        candidate = best_model(params, paths, dataset)
        if candidate is None:
            warnings.warn(f"{dataset}: no trained model with a validation F1", stacklevel=2)
            continue
        try:
            mlflow = params.section("mlflow", MlflowConfig)
            done[dataset] = registration = register(candidate, mlflow, paths)
        except TrackingUnavailable as error:  # the check is cached: no dataset would fare better
            warn_unavailable(
                error, "no model is registered in this stage, the report is unaffected"
            )
            break
        except FakenewsError as error:  # this model folder: the other datasets may still go
            warnings.warn(
                f"not registering {dataset}'s best model ({candidate.model}): {error}",
                stacklevel=2,
            )
            continue
        except Exception as error:  # best effort, as tracking: the report is already written
            warnings.warn(
                f"MLflow: registering {dataset}'s best model ({candidate.model}) failed "
                f"({type(error).__name__}: {error}); registration is off for the rest of this "
                "stage, the report is unaffected",
                stacklevel=2,
            )
            break
        log.info(
            "%s: %s version %s of %s (%s, validation F1 macro %.4f)",
            dataset,
            "registered" if registration.created else "already registered as",
            registration.version,
            registration.name,
            candidate.model,
            candidate.val_f1,
        )
    return done
