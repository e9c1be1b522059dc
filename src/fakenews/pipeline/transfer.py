"""transfer@<dataset>-<model>: score a trained model on every other dataset's test rows.

Labels share one meaning everywhere (1 = fake), so a model trained on one dataset can be read on
another: the report's cross-dataset matrix and in-domain minus out-of-domain gaps come from here.

The rows scored on a target are the ones its own models are scored on (its test split; every row
of a k-fold dataset), so in- and out-of-domain scores share their rows. Every target has a role:

- ``other``: a training dataset the model did not see;
- ``held_out``: for a union of every dataset but one, that one (leave-one-dataset-out);
- ``member``: a dataset inside the union the model trained on, scored on its test split only;
- ``eval_only``: a dataset listed under ``evaluate_on``, never trained on.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fakenews.analysis import stats
from fakenews.analysis.domain import separation_auroc
from fakenews.analysis.metrics import classification_metrics
from fakenews.analysis.overlap_rows import overlapping_ids, scored_rows, without_overlap
from fakenews.analysis.selection import best_fold_dir
from fakenews.analysis.served_scores import calibration_summary, domain_split
from fakenews.analysis.stats import EvaluateConfig
from fakenews.classifier.base import model_input
from fakenews.core.io import read_json, read_split, write_json
from fakenews.core.params import Params
from fakenews.core.paths import FOLDS_DIR, Paths
from fakenews.core.timing import import_in_background, timed
from fakenews.inference.served import ServedModel
from fakenews.models import MODEL_INFO_FILE, load_model
from fakenews.text.preparation import RAW_COLUMNS, TextPreparation, recorded_preparation

log = logging.getLogger(__name__)

TRANSFER_KEYS = ("accuracy", "f1_macro", "f1_fake", "roc_auc", "n")


def as_raw(test: pd.DataFrame, preparation: TextPreparation) -> pd.DataFrame:
    """A target's test rows, as loaded, through a model's own ``preparation``."""
    raw = test[list(RAW_COLUMNS.values())].rename(columns={v: k for k, v in RAW_COLUMNS.items()})
    return preparation.apply_frame(raw, list(RAW_COLUMNS))


def target_roles(source: str, params: Params) -> dict[str, str]:
    """Every dataset a model trained on ``source`` (a dataset or a union) is scored on, with its
    role (see the module's docstring)."""
    members = params.members_of(source)
    held_out = params.held_out_by(source) if source in params.unions else None
    roles: dict[str, str] = {}
    for target in params.datasets:
        if target in members:
            if source in params.unions:
                roles[target] = "member"
        else:
            roles[target] = "held_out" if target == held_out else "other"
    roles.update({target: "eval_only" for target in params.evaluate_on})
    return roles


def own_test(dataset: str, model_dir: Path, params: Params, paths: Paths) -> pd.DataFrame:
    """The test rows of the training set the model (``model_dir``) was trained on: a union's,
    the dataset's, or on a k-fold dataset its fold's."""
    split_dir = paths.union(dataset) if dataset in params.unions else paths.split(dataset)
    if model_dir.name.startswith("fold-"):
        return read_split(split_dir / FOLDS_DIR / model_dir.name, "test")
    return read_split(split_dir, "test")


def transfer(
    dataset: str, model_name: str, params: Params, paths: Paths, seed: int | None = None
) -> dict[str, Any]:
    """Metrics of the model's reference run (its family's first seed; on a k-fold dataset, that
    run's serving fold) trained on ``dataset`` (or a union) on every other dataset's test rows,
    each evaluation-only dataset's and, for a union, each member's test split."""
    seed = params.seeds_of(model_name)[0] if seed is None else seed
    model_dir = best_fold_dir(paths.run(dataset, model_name, seed))
    model = load_model(model_dir, expected=model_name)
    served = ServedModel.with_model(model, model_dir, paths.root)
    fields = list(model.config.text_fields)
    # A deployed model prepares raw text its own way (its training data's clean-up and artifact
    # rules), not the target dataset's: transfer reads each target as deployment would.
    info_file = model_dir / MODEL_INFO_FILE
    preparation = recorded_preparation(read_json(info_file), str(info_file))
    roles = target_roles(dataset, params)
    tests = {
        t: scored_rows(paths.split(t), ["test"] if role == "member" else None)
        for t, role in roles.items()
    }
    inputs = {t: model_input(as_raw(test, preparation), fields) for t, test in tests.items()}
    # Rows a member of the training set shares with the target (for a union: any member).
    members = params.members_of(dataset)
    overlapping = {
        t: set().union(*(overlapping_ids(paths.overlap_rows, m, t) for m in members if m != t))
        for t in tests
    }
    # sklearn.metrics (~2 s) imports while the model predicts, where that is safe.
    preload = import_in_background("sklearn.metrics") if model.background_imports else None
    raw_scores: dict[str, np.ndarray] = {}
    for target in tests:
        with timed("predict"):
            raw_scores[target] = np.asarray(model.predict_proba(inputs[target]), dtype=float)
    if preload is not None:
        preload.join()  # before this thread imports anything the preload imports
    config = params.section("evaluate", EvaluateConfig)
    # The in-domain scores of the model's own test rows: how well does the domain check tell
    # them from each target's?
    own_scores = served.domain.score(
        model_input(own_test(dataset, model_dir, params, paths), fields)
    )
    targets: dict[str, Any] = {}
    for target, test in tests.items():
        raw, labels = raw_scores[target], test["label"].to_numpy(dtype=int)
        checked = served.scored(raw, inputs[target])
        probs = checked.prob_fake
        metrics = classification_metrics(labels, probs, config.threshold)
        share_fake = float(np.mean(probs >= config.threshold))
        targets[target] = {
            "role": roles[target],
            **{k: metrics[k] for k in TRANSFER_KEYS},
            "ci": stats.evaluate_cis(labels, probs, config),  # paired with evaluate's
            "predicted_fake_share": round(share_fake, 6),
            # Rows the model reads otherwise than the target's own prepared text (e.g. links
            # that the target's rules strip and the model's do not).
            "rows_read_differently": int(
                sum(a != b for a, b in zip(inputs[target], model_input(test, fields), strict=True))
            ),
            # One class for every row: its accuracy is the class balance, not skill.
            "constant": share_fake in (0.0, 1.0),
            # The same scores without the rows the overlap stage found in this model's train.
            "without_overlap": without_overlap(
                test["id"], labels, probs, overlapping[target], config
            ),
            # The scores above are of the calibrated P(fake); ECE and Brier before and after.
            "calibration": calibration_summary(
                labels, raw, probs, served.calibrator.method, config.calibration_bins
            ),
            "domain": {
                **domain_split(labels, probs, checked.in_domain, config.threshold),
                "auroc_own_test_vs_target": separation_auroc(own_scores, checked.domain_score),
            },
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
    result = {
        "train_dataset": dataset,
        "members": params.members_of(dataset),
        "model": model_name,
        "seed": seed,
        "model_dir": model_dir.relative_to(paths.root).as_posix(),
        "artifact_rules_stripped": preparation.rule_names,
        "targets": targets,
    }
    write_json(paths.transfer(dataset, model_name), result)
    return result
