"""The train and evaluate stages with their MLflow journals: no mlflow import in the stage, the
runs complete after a replay, and the stages' outputs the same with tracking on or off."""

from __future__ import annotations

import json
import textwrap
import types
from pathlib import Path

import pytest
from helpers.imports import loaded_after
from helpers.prepared import write_prepared
from helpers.tiny_models import toy_rows

from fakenews.core.config import Params
from fakenews.core.paths import Paths
from fakenews.core.settings import SplitConfig
from fakenews.pipeline import evaluate as evaluate_module
from fakenews.pipeline import train as train_module
from fakenews.pipeline.split import split_dataset
from fakenews.tracking.client import MLFLOW_PARENT_RUN_ID, TAG_RUN_KIND
from fakenews.tracking.journal import SPOOL_NAME, published
from fakenews.tracking.replay import replay_pending

DATASET, MODEL = "alpha", "tfidf_logreg"


def tiny_project(root: Path) -> tuple[Paths, Params]:
    """A k-fold split of generated rows (3 folds) and params for the baseline model."""
    paths = Paths(root)
    write_prepared(paths.prepared(DATASET), toy_rows(90), DATASET)
    split_dataset(DATASET, SplitConfig(folds=3), paths.prepared(DATASET), paths.split(DATASET))
    params = Params(
        datasets={DATASET: {}},
        models={"linear": [MODEL], "recurrent": [], "transformer": [], "embedding": []},
        train={MODEL: {"min_df": 1}},
        mlflow={"experiment": "stages"},
    )
    return paths, params


def test_train_and_evaluate_import_no_mlflow_and_replay_into_complete_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths, params = tiny_project(tmp_path)
    (tmp_path / "params.json").write_text(params.model_dump_json())
    code = textwrap.dedent(
        f"""
        from pathlib import Path
        from fakenews.core.config import Params
        from fakenews.core.paths import Paths
        from fakenews.pipeline.evaluate import evaluate
        from fakenews.pipeline.train import train

        root = Path({str(tmp_path)!r})
        params = Params.model_validate_json((root / "params.json").read_text())
        train({DATASET!r}, {MODEL!r}, params, Paths(root), family="linear", seed=42)
        evaluate({DATASET!r}, {MODEL!r}, params, Paths(root), seed=42)
        """
    )
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    modules = loaded_after(code)
    assert "sklearn" in modules  # the stages did run
    assert [m for m in modules if m == "mlflow" or m.startswith("mlflow.")] == []
    spool = tmp_path / SPOOL_NAME
    assert len(published(spool)) == 2  # train (with its folds) and evaluate

    monkeypatch.chdir(tmp_path)
    result = replay_pending(paths)
    assert result.kept == [] and len(result.run_ids) == 5 and published(spool) == []
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("stages")
    runs = {r.info.run_id: r for r in client.search_runs([experiment.experiment_id])}
    kinds = sorted(r.data.tags[TAG_RUN_KIND] for r in runs.values())
    assert kinds == ["evaluate", "fold", "fold", "fold", "parent", "train"]
    by_kind = {r.data.tags[TAG_RUN_KIND]: r for r in runs.values()}
    parent_id = by_kind["parent"].info.run_id
    assert by_kind["train"].data.tags[MLFLOW_PARENT_RUN_ID] == parent_id
    assert by_kind["evaluate"].data.tags[MLFLOW_PARENT_RUN_ID] == parent_id
    train_id = by_kind["train"].info.run_id
    folds = [r for r in runs.values() if r.data.tags[TAG_RUN_KIND] == "fold"]
    assert {f.data.tags[MLFLOW_PARENT_RUN_ID] for f in folds} == {train_id}
    train_run = by_kind["train"]
    assert train_run.data.params["model"] == MODEL and "val_f1_macro" in train_run.data.metrics
    assert train_run.data.tags["mlflow.source.type"] == "LOCAL"
    assert [i.dataset.name for i in train_run.inputs.dataset_inputs] == [f"{DATASET}-split"]
    model_files = [a.path for a in client.list_artifacts(train_id, "model")]
    assert "model/run.json" in model_files
    evaluate_run = by_kind["evaluate"]
    assert evaluate_run.data.metrics["test_accuracy"] > 0.5
    assert [a.path for a in client.list_artifacts(evaluate_run.info.run_id, "evaluation")] == [
        "evaluation/metrics.json",
        "evaluation/plots",
    ]
    assert all(r.info.status == "FINISHED" and r.info.end_time for r in runs.values())


def outputs(root: Path) -> dict[str, bytes]:
    """Every file the stages wrote (data/, models/, plots/), by path."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for folder in ("data", "models", "plots")
        for p in sorted((root / folder).rglob("*"))
        if p.is_file()
    }


def test_the_stages_outputs_are_byte_identical_with_tracking_on_and_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The recorded durations are the only thing that differs between two runs: stop the clock.
    frozen = types.SimpleNamespace(perf_counter=lambda: 0.0)
    monkeypatch.setattr(train_module, "time", frozen)
    monkeypatch.setattr(evaluate_module, "time", frozen)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    written = {}
    for tracking in (True, False):
        root = tmp_path / f"tracking-{tracking}"
        paths, params = tiny_project(root)
        params = params.model_copy(
            update={"mlflow": params.mlflow.model_copy(update={"enabled": tracking})}
        )
        train_module.train(DATASET, MODEL, params, paths, family="linear", seed=42)
        evaluate_module.evaluate(DATASET, MODEL, params, paths, seed=42)
        written[tracking] = outputs(root)
        assert len(published(root / SPOOL_NAME)) == (2 if tracking else 0)
    assert written[True].keys() == written[False].keys()
    assert any(name.startswith("models/") for name in written[True])
    different = [name for name in written[True] if written[True][name] != written[False][name]]
    assert different == []
    metrics = json.loads(written[True][f"data/evaluation/{DATASET}/{MODEL}/seed-42/metrics.json"])
    assert metrics["accuracy"] > 0.5
