"""Serve exactly what was trained: raw text through a saved model's own preparation.

A generated CONSTRAINT release (tweets with links, as upstream) goes through prepare, split,
train, evaluate and the registry; then the raw test tweets, read straight from the release file,
are scored by ``fakenews predict`` and by the registered MLflow model. Both must give evaluate's
probabilities for the same ids, for each model family.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers.mlflow_server import start_scoring_server
from helpers.prepared import write_prepared
from helpers.repo import stage_env
from helpers.source_fixtures import write_source_fixture
from helpers.tiny_models import TINY_LSTM, make_tiny_bert, served_probs, train_folder

from fakenews.classifier.base import model_input
from fakenews.cli.main import main
from fakenews.core.io import write_json
from fakenews.core.params import Params
from fakenews.core.paths import RUN_INFO_FILE, Paths
from fakenews.inference.predict import load_predictor, model_texts
from fakenews.models import get_model_class
from fakenews.pipeline.calibrate import calibrate
from fakenews.pipeline.domain import build_domain
from fakenews.pipeline.evaluate import evaluate
from fakenews.pipeline.overlap import dataset_overlap
from fakenews.pipeline.prepare import prepare_dataset
from fakenews.pipeline.split import SplitConfig, split_dataset
from fakenews.pipeline.train import train
from fakenews.pipeline.transfer import transfer
from fakenews.sources.options import DatasetConfig
from fakenews.text.cleaning import PrepareConfig
from fakenews.tracking.client import MlflowConfig
from fakenews.tracking.model_registry import best_model, register_best_models
from fakenews.tracking.replay import replay_pending

# One model of each family, read from the models themselves (the stages need no other family).
MODELS = {get_model_class(m).family: [m] for m in ("tfidf_logreg", "lstm", "tinybert")}
RAW_TEST_FILE = "english_test_with_labels.csv"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Paths, Params]]:
    """constraint (generated, format-faithful) trained and evaluated with one model per family."""
    root = tmp_path_factory.mktemp("serving")
    # A repository root (as find_repo_root knows one): predict finds a model's calibrator and
    # domain profile under it.
    (root / "dvc.yaml").write_text("stages: {}\n")
    paths = Paths(root)
    write_source_fixture("constraint", paths.raw("constraint"))
    prepare_dataset(
        "constraint", DatasetConfig(), PrepareConfig(), paths.raw("constraint"),
        paths.prepared("constraint"),
    )  # fmt: skip
    # The official split (not k-fold): the release's test file is what predict is checked on.
    split_dataset(
        "constraint",
        SplitConfig(folds_below_rows=None),
        paths.prepared("constraint"),
        paths.split("constraint"),
    )
    bert = make_tiny_bert(root / "tiny_bert", ["covid", "cases", "tests", "daily", "update"])
    params = Params(
        datasets={"constraint": {}},
        models=MODELS,
        train={
            "tfidf_logreg": {"min_df": 1},
            "lstm": dict(TINY_LSTM),
            "tinybert": {"pretrained": str(bert), "max_len": 48, "epochs": 1, "batch_size": 8},
        },
        mlflow=MlflowConfig(experiment="serving"),
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{root / 'mlflow.db'}")
        patch.chdir(root)
        build_domain("constraint", params, paths)
        for model in (m for family in MODELS.values() for m in family):
            train("constraint", model, params, paths)
            calibrate("constraint", model, params, paths)
            evaluate("constraint", model, params, paths)
        replay_pending(paths)  # the stages' runs, as the report stage replays them first
        register_best_models(params, paths)
        yield paths, params
        import mlflow

        mlflow.set_tracking_uri(None)


def raw_test_tweets(paths: Paths) -> pd.DataFrame:
    """The release's test file as published (links and handles intact), ids as the loader's."""
    raw = pd.read_csv(paths.raw("constraint") / RAW_TEST_FILE, dtype=str)
    return pd.DataFrame({"id": "test-" + raw["id"], "text": raw["tweet"]})


@pytest.mark.slow
@pytest.mark.parametrize("model", [m for family in MODELS.values() for m in family])
def test_predict_on_raw_tweets_gives_evaluates_probabilities(
    project: tuple[Paths, Params], model: str, tmp_path: Path
) -> None:
    paths, _ = project
    evaluated = pd.read_parquet(paths.evaluation("constraint", model, 42) / "predictions.parquet")
    raw = raw_test_tweets(paths).merge(evaluated[["id"]], on="id")  # the rows prepare kept
    test = pd.read_parquet(paths.split("constraint") / "test.parquet")
    prepared = test.set_index("id").loc[raw["id"], "text"]
    # The rows carry what the model never saw in training: links stripped by the rules.
    assert (raw["text"].str.contains("https://t.co/")).all()
    assert not prepared.str.contains("https://").any()

    raw.to_csv(tmp_path / "raw.csv", index=False)
    folder = str(paths.run("constraint", model, 42))
    predict = ["predict", "--model", folder, "--input", str(tmp_path / "raw.csv"), "--output"]
    assert main([*predict, str(tmp_path / "out.csv")]) == 0
    scored = pd.read_csv(tmp_path / "out.csv", dtype={"id": str}).merge(
        evaluated, on="id", suffixes=("", "_evaluated")
    )
    assert len(scored) == len(raw) > 0
    # Calibrated P(fake) and the domain check, both as evaluate gives them.
    np.testing.assert_allclose(scored["prob_fake"], scored["prob_fake_evaluated"], atol=1e-6)
    np.testing.assert_allclose(scored["in_domain_score"], scored["domain_score"], atol=1e-6)
    assert (scored["in_domain"] == scored["in_domain_evaluated"]).all()

    # What makes that hold: the model's recorded preparation turns each raw tweet into exactly
    # the text it was evaluated on; without it (--no-clean) every row would read differently.
    predictor = load_predictor(folder)
    fields = predictor.fields
    seen, _ = model_texts(raw.assign(title=""), fields, predictor.preparation)
    assert seen == model_input(test.set_index("id").loc[raw["id"]], fields)
    unprepared, _ = model_texts(raw.assign(title=""), fields, None)
    assert all(a != b for a, b in zip(unprepared, seen, strict=True))


@pytest.mark.slow
def test_registered_best_model_prepares_raw_tweets(project: tuple[Paths, Params]) -> None:
    import mlflow

    paths, params = project
    best = best_model(params, paths, "constraint")
    assert best is not None
    evaluated = pd.read_parquet(
        paths.evaluation("constraint", best.model, 42) / "predictions.parquet"
    )
    raw = raw_test_tweets(paths).merge(evaluated[["id"]], on="id")
    loaded = mlflow.pyfunc.load_model("models:/fakenews-constraint@best")
    scored = raw.assign(p=loaded.predict(raw[["text"]])["prob_fake"]).merge(evaluated, on="id")
    assert len(scored) == len(raw) > 0
    np.testing.assert_allclose(scored["p"], scored["prob_fake"], atol=1e-6)


@pytest.mark.slow
def test_transfer_reads_targets_through_the_models_own_rules(
    project: tuple[Paths, Params],
) -> None:
    """A target prepared without rules keeps its links; a CONSTRAINT model strips them."""
    paths, params = project
    rows = 40
    plain = pd.DataFrame(
        {
            "id": [f"p{i}" for i in range(rows)],
            "title": "",
            "text": [f"daily update {i} on covid cases https://t.co/p{i}" for i in range(rows)],
            "label": [i % 2 for i in range(rows)],
        }
    )
    plain = plain.assign(raw_title=plain["title"], raw_text=plain["text"])
    write_prepared(paths.prepared("plain"), plain, "plain")
    split_dataset("plain", SplitConfig(), paths.prepared("plain"), paths.split("plain"))
    both = params.updated(datasets={**params.datasets, "plain": {}})
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(paths.root)
        dataset_overlap(both, paths)  # transfer also scores without the overlapping rows
        result = transfer("constraint", "tfidf_logreg", both, paths)
    assert result["artifact_rules_stripped"] == ["url", "handle"]
    target = result["targets"]["plain"]
    # 40 rows: a k-fold dataset, scored on every row, as its own models are.
    assert target["n"] == rows and target["rows_read_differently"] == rows


def strict_json(body: bytes) -> object:
    """JSON as a strict parser reads it: NaN and Infinity are not JSON."""

    def refuse(constant: str) -> object:
        raise ValueError(f"not JSON: {constant}")

    return json.loads(body, parse_constant=refuse)


def test_mlflow_models_serve_answers_strict_json_with_the_new_columns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The registered pyfunc behind a real ``mlflow models serve``: an empty and a whitespace
    text get an error and nulls, a normal one the calibrated P(fake) and the domain check."""
    import mlflow

    paths = Paths(tmp_path / "repo")
    run = train_folder(paths.run("demo", "tfidf_logreg", 42), "tfidf_logreg", min_df=1)
    write_json(run / RUN_INFO_FILE, {"seed": 42, "training": {"val": {"f1_macro": 0.9}}})
    params = Params(
        datasets={"demo": {}},
        models={"linear": ["tfidf_logreg"]},
        mlflow=MlflowConfig(experiment="serve"),
    )
    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", store)
    monkeypatch.chdir(tmp_path)
    try:
        registered = register_best_models(params, paths)["demo"]
    finally:
        mlflow.set_tracking_uri(None)

    env = {**stage_env(paths.root), "MLFLOW_TRACKING_URI": store}
    server = start_scoring_server(
        f"models:/{registered.name}/{registered.version}", tmp_path / "serve", env
    )
    try:
        texts = ["", "secret hoax exposed", "   \t "]
        body = json.dumps({"dataframe_records": [{"text": t} for t in texts]}).encode()
        request = urllib.request.Request(
            f"{server.uri}/invocations", body, {"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            raw = response.read()
    finally:
        server.stop()
    rows = strict_json(raw)["predictions"]  # type: ignore[index]
    empty = {
        "prob_fake": None,
        "label": None,
        "in_domain_score": None,
        "in_domain": None,
        "error": "empty text (nothing to score after clean-up)",
    }
    assert rows[0] == empty and rows[2] == empty
    expected = served_probs(run, ["secret hoax exposed"])[0]
    assert rows[1]["prob_fake"] == pytest.approx(expected, abs=1e-9)
    assert rows[1]["label"] == "fake" and rows[1]["error"] is None
    assert isinstance(rows[1]["in_domain"], bool) and isinstance(rows[1]["in_domain_score"], float)
