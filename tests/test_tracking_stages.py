"""The train and evaluate stages with their MLflow journals: no mlflow import in the stage, the
runs complete after a replay, and the stages' outputs the same with tracking on, off or
pointed at a dead server."""

from __future__ import annotations

import json
import socket
import textwrap
import types
from pathlib import Path

import pytest
from helpers.imports import loaded_after
from helpers.params import family_of
from helpers.prepared import write_prepared
from helpers.tiny_models import toy_rows

from fakenews.core.params import Params
from fakenews.core.paths import Paths
from fakenews.pipeline import evaluate as evaluate_module
from fakenews.pipeline import train as train_module
from fakenews.pipeline import transfer as transfer_module
from fakenews.pipeline.calibrate import calibrate
from fakenews.pipeline.domain import build_domain
from fakenews.pipeline.overlap import dataset_overlap
from fakenews.pipeline.split import SplitConfig, split_dataset
from fakenews.tracking.client import MLFLOW_PARENT_RUN_ID, TAG_RUN_KIND
from fakenews.tracking.journal import SPOOL_NAME, published
from fakenews.tracking.replay import replay_pending

DATASET, OTHER, MODEL = "alpha", "beta", "tfidf_logreg"


def tiny_project(root: Path) -> tuple[Paths, Params]:
    """A k-fold split of generated rows (3 folds) and params for the baseline model."""
    paths = Paths(root)
    write_prepared(paths.prepared(DATASET), toy_rows(90), DATASET)
    split_dataset(DATASET, SplitConfig(folds=3), paths.prepared(DATASET), paths.split(DATASET))
    params = Params(
        datasets={DATASET: {}},
        models={family_of(MODEL): [MODEL]},  # stages read only the families they run
        train={MODEL: {"min_df": 1}},
        mlflow={"experiment": "stages"},
    )
    return paths, params


def test_train_and_evaluate_import_no_mlflow_and_replay_into_complete_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths, params = tiny_project(tmp_path)
    (tmp_path / "params.json").write_text(json.dumps(params.raw))
    code = textwrap.dedent(
        f"""
        import json
        from pathlib import Path
        from fakenews.core.params import Params
        from fakenews.core.paths import Paths
        from fakenews.pipeline.calibrate import calibrate
        from fakenews.pipeline.domain import build_domain
        from fakenews.pipeline.evaluate import evaluate
        from fakenews.pipeline.train import train

        root = Path({str(tmp_path)!r})
        params = Params(json.loads((root / "params.json").read_text()))
        train({DATASET!r}, {MODEL!r}, params, Paths(root), family={family_of(MODEL)!r}, seed=42)
        calibrate({DATASET!r}, {MODEL!r}, params, Paths(root), seed=42)
        build_domain({DATASET!r}, params, Paths(root))
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


def closed_port() -> int:
    """A local port nothing listens on (bound, read, released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_stages(root: Path, tracking: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """train, evaluate and transfer (alpha -> beta) under ``root`` with tracking ``on`` (the
    default local store), ``off`` (mlflow.enabled: false) or ``dead`` (a server nobody runs)."""
    paths, params = tiny_project(root)
    rows = toy_rows(60)  # a transfer target: scored from its raw text, as deployment would
    write_prepared(
        paths.prepared(OTHER), rows.assign(raw_title=rows.title, raw_text=rows.text), OTHER
    )
    split_dataset(OTHER, SplitConfig(folds=3), paths.prepared(OTHER), paths.split(OTHER))
    params = params.updated(
        datasets={DATASET: {}, OTHER: {}},
        mlflow={**params.raw["mlflow"], "enabled": tracking != "off"},
    )
    if tracking == "dead":
        monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://127.0.0.1:{closed_port()}")
    else:
        monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.chdir(root)
    dataset_overlap(params, paths)  # read by transfer (scores without the overlapping rows)
    train_module.train(DATASET, MODEL, params, paths, family=family_of(MODEL), seed=42)
    calibrate(DATASET, MODEL, params, paths, seed=42)
    build_domain(DATASET, params, paths)
    evaluate_module.evaluate(DATASET, MODEL, params, paths, seed=42)
    transfer_module.transfer(DATASET, MODEL, params, paths, seed=42)
    assert len(published(root / SPOOL_NAME)) == (0 if tracking == "off" else 2)
    return outputs(root)


def test_the_stages_outputs_are_byte_identical_with_tracking_on_off_and_dead(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What lets dvc.yaml leave tracking/ out of train, evaluate and transfer's deps
    (tools/depcheck.py SIDE_EFFECTS): MLflow journaling cannot change what they write."""
    # The recorded durations are the only thing that differs between two runs: stop the clock.
    frozen = types.SimpleNamespace(perf_counter=lambda: 0.0)
    monkeypatch.setattr(train_module, "time", frozen)
    monkeypatch.setattr(evaluate_module, "time", frozen)
    written = {
        mode: run_stages(tmp_path / mode, mode, monkeypatch) for mode in ("on", "off", "dead")
    }
    assert written["on"].keys() == written["off"].keys() == written["dead"].keys()
    assert any(name.startswith("models/") for name in written["on"])
    assert f"data/transfer/{DATASET}/{MODEL}.json" in written["on"]
    for mode in ("off", "dead"):
        different = [n for n in written["on"] if written["on"][n] != written[mode][n]]
        assert different == [], mode
    metrics = json.loads(written["on"][f"data/evaluation/{DATASET}/{MODEL}/seed-42/metrics.json"])
    assert metrics["accuracy"] > 0.5
