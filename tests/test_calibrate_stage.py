"""The calibrate and domain stages' logic on a tiny split: what they write, and bad input named."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from helpers.params import family_of
from helpers.prepared import write_prepared
from helpers.tiny_models import toy_rows

from fakenews.analysis.calibration import Calibrator, calibration_dir
from fakenews.analysis.domain import DomainProfile, domain_dir
from fakenews.core.params import Params
from fakenews.core.paths import Paths
from fakenews.inference.served import ServedModel
from fakenews.pipeline import train as train_module
from fakenews.pipeline.calibrate import calibrate
from fakenews.pipeline.domain import build_domain
from fakenews.pipeline.split import SplitConfig, split_dataset

DATASET, MODEL = "alpha", "tfidf_logreg"


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Paths, Params]:
    paths = Paths(tmp_path_factory.mktemp("calibrate"))
    write_prepared(paths.prepared(DATASET), toy_rows(90), DATASET)
    config = SplitConfig(folds_below_rows=None)
    split_dataset(DATASET, config, paths.prepared(DATASET), paths.split(DATASET))
    params = Params(
        datasets={DATASET: {}},
        models={family_of(MODEL): [MODEL]},
        train={MODEL: {"min_df": 1}},
        mlflow={"enabled": False},
        evaluate={"domain": {"sample": 50, "k": 3, "min_df": 1}},
    )
    train_module.train(DATASET, MODEL, params, paths, family=family_of(MODEL), seed=42)
    return paths, params


def test_writes_a_platt_calibrator_and_a_profile_the_served_model_reads(trained) -> None:
    paths, params = trained
    (fitted,) = calibrate(DATASET, MODEL, params, paths, seed=42)
    assert fitted.method == "platt" and fitted.n_fit == len(
        pd.read_parquet(paths.split(DATASET) / "val.parquet")
    )
    assert Calibrator.load(calibration_dir(paths, DATASET, MODEL, 42)) == fitted
    (profile,) = build_domain(DATASET, params, paths)
    assert profile.config.sample == 50  # evaluate.domain is read
    assert DomainProfile.load(domain_dir(paths, DATASET)).threshold == profile.threshold
    served = ServedModel.load(paths.run(DATASET, MODEL, 42), paths.root)
    assert served.calibrator == fitted and served.threshold == profile.threshold


def test_one_class_validation_is_named(trained, tmp_path: Path) -> None:
    paths, params = trained
    val = paths.split(DATASET) / "val.parquet"
    original = pd.read_parquet(val)
    try:
        original.assign(label=1).to_parquet(val)
        with pytest.raises(ValueError, match=r"alpha/tfidf_logreg seed 42: .*one class.*val"):
            calibrate(DATASET, MODEL, params, paths, seed=42)
    finally:
        original.to_parquet(val)
