"""The report stage's MLflow registration: best by validation F1, idempotent, loadable."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers.params import tiny_params
from helpers.tiny_models import TINY_LSTM, served_probs, toy_rows, train_folder

from fakenews.classifier.base import model_input
from fakenews.core.io import sha256_tree, write_json
from fakenews.core.params import Params, parse_params
from fakenews.core.paths import RUN_INFO_FILE, Paths
from fakenews.inference.served import ServedModel
from fakenews.models import MODEL_INFO_FILE
from fakenews.tracking.client import (
    TAG_DATASET,
    TAG_MODEL,
    TAG_MODEL_HASH,
    TAG_RUN_KIND,
    TAG_SEED,
    MlflowConfig,
)
from fakenews.tracking.model_registry import best_model, register_best_models
from fakenews.tracking.replay import replay_pending
from fakenews.tracking.runs import tracked_run

MODELS = ["tfidf_logreg", "lstm"]


def make_params(**mlflow: object) -> Params:
    """The real params, shrunk: datasets alpha and beta, both models, one seed."""
    raw = tiny_params(
        {"alpha": {}, "beta": {}},
        MODELS,
        seeds=SEED,
        mlflow={"experiment": "fakenews", **mlflow},
    )
    return parse_params(raw)


SEED = 42


def set_val_f1(paths: Paths, dataset: str, model: str, value: float) -> None:
    """The run's validation macro-F1, as the train stage records it in run.json."""
    write_json(
        paths.run(dataset, model, SEED) / RUN_INFO_FILE,
        {"seed": SEED, "training": {"val": {"f1_macro": value, "accuracy": value}}},
    )


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("trained")
    return {
        # tfidf_logreg is better on test, lstm on validation: the registry must pick lstm.
        "tfidf_logreg": train_folder(root / "tfidf_logreg", "tfidf_logreg", 0.70, min_df=1),
        "lstm": train_folder(root / "lstm", "lstm", 0.90, **TINY_LSTM),
    }


@pytest.fixture
def project(
    tmp_path: Path, trained: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Paths]:
    """A repo with trained, evaluated models and its own sqlite MLflow store."""
    paths = Paths(tmp_path)
    for dataset in ("alpha", "beta"):
        for model, folder in trained.items():
            shutil.copytree(folder, paths.run(dataset, model, SEED))
            set_val_f1(paths, dataset, model, 0.70 if model == "tfidf_logreg" else 0.90)
            test_f1 = 0.95 if model == "tfidf_logreg" else 0.60
            write_json(
                paths.evaluation(dataset, model, SEED) / "metrics.json",
                {"accuracy": test_f1, "f1_macro": test_f1, "roc_auc": 0.9},
            )
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.chdir(tmp_path)  # MLflow's default artifact root (./mlruns) goes here too
    yield paths
    import mlflow

    mlflow.set_tracking_uri(None)  # forget this store; monkeypatch restores the environment


def versions(name: str) -> list[object]:
    from mlflow import MlflowClient

    return sorted(
        MlflowClient().search_model_versions(f"name = '{name}'"), key=lambda v: int(v.version)
    )


def test_best_is_by_validation_f1_and_ties_go_to_the_first_listed(project: Paths) -> None:
    best = best_model(make_params(), project, "alpha")
    assert best is not None and (best.model, best.val_f1, best.seed) == ("lstm", 0.9, SEED)
    set_val_f1(project, "alpha", "tfidf_logreg", 0.9)
    assert best_model(make_params(), project, "alpha").model == "tfidf_logreg"  # type: ignore[union-attr]


def test_register_twice_gives_one_version_that_loads(project: Paths) -> None:
    import mlflow

    params = make_params()
    lstm_dir = project.run("alpha", "lstm", SEED)
    # The train stage's run for alpha/lstm seed 42: the registered model is logged into it.
    train_tags = {
        TAG_DATASET: "alpha",
        TAG_MODEL: "lstm",
        TAG_SEED: str(SEED),
        TAG_RUN_KIND: "train",
    }
    config = params.section("mlflow", MlflowConfig)
    with tracked_run(project, config, run_name="alpha/lstm", tags=train_tags) as run:
        run.set_tags({TAG_MODEL_HASH: sha256_tree(lstm_dir), "data_hash": "abc.dir"})
    train_run_id = replay_pending(project).run_ids[run.key]  # as the report stage does first

    first = register_best_models(params, project)
    again = register_best_models(params, project)
    assert {d: (r.model, r.version, r.created) for d, r in first.items()} == {
        "alpha": ("lstm", "1", True),
        "beta": ("lstm", "1", True),
    }
    assert {d: (r.version, r.created) for d, r in again.items()} == {
        "alpha": ("1", False),
        "beta": ("1", False),
    }
    (version,) = versions("fakenews-alpha")
    # Logged in a run of its own that names the training run (which stays as it ended).
    assert mlflow.get_run(version.run_id).data.tags["train_run_id"] == train_run_id
    assert version.tags[TAG_MODEL] == "lstm" and version.tags["val_f1_macro"] == "0.900000"
    assert version.tags["test_f1_macro"] == "0.600000"
    assert version.tags[TAG_MODEL_HASH] == sha256_tree(lstm_dir)
    assert version.tags["data_hash"] == "abc.dir"
    assert len(versions("fakenews-beta")) == 1

    frame = toy_rows(5, seed=7)[["title", "text"]]
    # The registered model is the served one: calibrated P(fake) and the domain check.
    texts = model_input(frame, ["title", "text"])
    expected = served_probs(lstm_dir, texts)
    served = ServedModel.load(lstm_dir).score(texts)
    for uri in ("models:/fakenews-alpha/1", "models:/fakenews-alpha@best"):
        scored = mlflow.pyfunc.load_model(uri).predict(frame)
        assert list(scored.columns) == [
            "prob_fake",
            "label",
            "in_domain_score",
            "in_domain",
            "error",
        ]
        np.testing.assert_allclose(scored["prob_fake"], expected, atol=1e-6)
        assert scored["label"].tolist() == ["fake" if p >= 0.5 else "real" for p in expected]
        np.testing.assert_allclose(scored["in_domain_score"], served.domain_score, atol=1e-6)
        assert scored["in_domain"].tolist() == served.in_domain.tolist()
        assert scored["error"].isna().all()
    # Text alone is enough (the title is optional), and the threshold is a parameter.
    loaded = mlflow.pyfunc.load_model("models:/fakenews-alpha/1")
    # The MLmodel file records the preparation it applies to raw text (model.json's).
    recorded = json.loads((lstm_dir / MODEL_INFO_FILE).read_text())["preparation"]
    assert loaded.metadata.metadata == {
        "preparation": recorded,
        "calibration": "temperature",
        "domain_threshold": ServedModel.load(lstm_dir).threshold,
    }
    texts = pd.DataFrame({"text": ["secret hoax", "officials reported"]})
    assert loaded.predict(texts, params={"threshold": 0.999})["label"].tolist() == ["real"] * 2

    # A better model on validation -> a new version, and @best follows it.
    tfidf_dir = project.run("alpha", "tfidf_logreg", SEED)
    set_val_f1(project, "alpha", "tfidf_logreg", 0.99)
    changed = register_best_models(params, project)
    assert (changed["alpha"].model, changed["alpha"].version, changed["alpha"].created) == (
        "tfidf_logreg",
        "2",
        True,
    )
    assert not changed["beta"].created
    best = mlflow.pyfunc.load_model("models:/fakenews-alpha@best").predict(frame)
    expected = served_probs(tfidf_dir, model_input(frame, ["title", "text"]))
    np.testing.assert_allclose(best["prob_fake"], expected, atol=1e-12)

    assert register_best_models(make_params(register_best=False), project) == {}
    assert len(versions("fakenews-alpha")) == 2

    # A best model that would not load is never registered; the other datasets still are.
    (project.run("beta", "lstm", SEED) / "model.safetensors").write_bytes(b"garbage")
    with pytest.warns(UserWarning, match="not registering beta's best model .*cannot load"):
        assert set(register_best_models(params, project)) == {"alpha"}
    assert len(versions("fakenews-beta")) == 1


def test_registry_failure_is_one_warning(
    project: Paths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a_file").write_text("")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/a_file/db.sqlite")
    with pytest.warns(UserWarning, match="registering alpha's best model"):
        assert register_best_models(make_params(), project) == {}


def test_the_registered_bundle_carries_the_repos_sidecars(project: Paths, tmp_path: Path) -> None:
    """In a real repo the calibrator and domain profile are stage outputs beside the model
    folder (data/calibration, data/domain): registration copies them into the logged bundle."""
    import mlflow

    from fakenews.analysis.calibration import CALIBRATION_FILE, calibration_dir
    from fakenews.analysis.domain import domain_dir
    from fakenews.inference.served import DOMAIN_DIR
    from fakenews.tracking.model_registry import served_bundle

    run = project.run("alpha", "lstm", SEED)
    calibration = calibration_dir(project, "alpha", "lstm", SEED)
    calibration.mkdir(parents=True)
    shutil.move(run / CALIBRATION_FILE, calibration / CALIBRATION_FILE)
    domain = domain_dir(project, "alpha")
    domain.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(run / DOMAIN_DIR, domain)

    bundle = served_bundle(run, project.root, tmp_path / "bundle")
    assert (bundle / CALIBRATION_FILE).read_bytes() == (calibration / CALIBRATION_FILE).read_bytes()
    assert sorted(p.name for p in (bundle / DOMAIN_DIR).iterdir()) == sorted(
        p.name for p in domain.iterdir()
    )
    texts = ["secret hoax exposed", "officials reported data"]
    np.testing.assert_allclose(
        ServedModel.load(bundle).score(texts).prob_fake,
        ServedModel.load(run, project.root).score(texts).prob_fake,
    )
    (registered,) = [
        r for d, r in register_best_models(make_params(), project).items() if d == "alpha"
    ]
    loaded = mlflow.pyfunc.load_model(f"models:/{registered.name}/{registered.version}")
    np.testing.assert_allclose(
        loaded.predict(pd.DataFrame({"text": texts}))["prob_fake"],
        served_probs(bundle, texts),
        atol=1e-6,
    )
    # A new calibrator is a new served model: a new version.
    (calibration / CALIBRATION_FILE).write_text(
        (calibration / CALIBRATION_FILE).read_text().replace('"offset": 0.0', '"offset": 0.5')
    )
    again = register_best_models(make_params(), project)["alpha"]
    assert again.created and int(again.version) == int(registered.version) + 1
    # Without its calibrator, the model is not registered: the warning names the stage.
    (calibration / CALIBRATION_FILE).unlink()
    with pytest.warns(
        UserWarning, match=r"not registering alpha's best model.*calibrate-recurrent"
    ):
        assert "alpha" not in register_best_models(make_params(), project)
