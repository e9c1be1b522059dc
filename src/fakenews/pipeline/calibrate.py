"""calibrate-<family>@<dataset>-<model>-<seed>: fit one run's calibrator on its validation split.

A k-fold run gets one calibrator per fold (each fold's model on that fold's validation rows),
written to ``fold-<k>/calibration.json`` like the run's models are to ``fold-<k>/``.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from fakenews.analysis.calibration import (
    CALIBRATION_FILE,
    Calibrator,
    calibration_dir,
    method_for,
)
from fakenews.classifier.base import model_input
from fakenews.core.io import atomic_dir, read_split
from fakenews.core.params import Params
from fakenews.core.paths import Paths, fold_dirs, fold_name
from fakenews.models import load_model

log = logging.getLogger(__name__)


def training_split(dataset: str, params: Params, paths: Paths) -> Any:
    """The split a run on ``dataset`` trained on: a union's, or the dataset's own."""
    return paths.union(dataset) if dataset in params.unions else paths.split(dataset)


def calibrate(
    dataset: str, model_name: str, params: Params, paths: Paths, seed: int | None = None
) -> list[Calibrator]:
    """Fit and write the calibrator(s) of run ``seed`` of ``model_name`` on ``dataset``."""
    seed = params.seeds_of(model_name)[0] if seed is None else seed
    split_dir = training_split(dataset, params, paths)
    run_dir = paths.run(dataset, model_name, seed)
    folds = fold_dirs(split_dir)
    parts = (
        [(run_dir / fold_name(k), d, fold_name(k)) for k, d in enumerate(folds)]
        if folds
        else [(run_dir, split_dir, "")]
    )
    fitted: list[Calibrator] = []
    with atomic_dir(calibration_dir(paths, dataset, model_name, seed)) as tmp:
        for model_dir, part_split, sub in parts:
            model = load_model(model_dir, expected=model_name)
            val = read_split(part_split, "val")
            texts = model_input(val, list(model.config.text_fields))
            probs = np.asarray(model.predict_proba(texts), dtype=float)
            labels = val["label"].to_numpy(dtype=int)
            where = f"{dataset}/{model_name} seed {seed}" + (f" {sub}" if sub else "")
            try:
                calibrator = Calibrator.fit(method_for(model.family), probs, labels)
            except ValueError as error:
                raise ValueError(f"{where}: {error} ({part_split / 'val.parquet'})") from None
            calibrator.save((tmp / sub if sub else tmp) / CALIBRATION_FILE)
            fitted.append(calibrator)
            log.info(
                "%s: %s calibration on %d validation rows: scale %.4f, offset %.4f, "
                "NLL %.4f -> %.4f",
                where,
                calibrator.method,
                calibrator.n_fit,
                calibrator.scale,
                calibrator.offset,
                calibrator.nll_before,
                calibrator.nll_after,
            )
    return fitted
