"""Results that stay put: no wall-clock figure in what the stages write (it goes to the MLflow run
and the log), and the metrics DVC shows by default are a compact, per-model headline."""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import REPO
from helpers.params import family_of
from helpers.prepared import write_prepared
from helpers.report_study import write_study
from helpers.tiny_models import toy_rows

from fakenews.core.params import Params
from fakenews.core.paths import Paths
from fakenews.pipeline import evaluate as evaluate_module
from fakenews.pipeline import train as train_module
from fakenews.pipeline.calibrate import calibrate
from fakenews.pipeline.domain import build_domain
from fakenews.pipeline.report import publish_and_report
from fakenews.pipeline.split import SplitConfig, split_dataset
from fakenews.reporting.headline import KEYS
from fakenews.tracking.journal import SPOOL_NAME, published

DATASET, MODEL = "alpha", "tfidf_logreg"

# A key naming a duration, a speed, a date or a run: none belongs in a DVC output.
TIMING_KEY = re.compile(r"seconds|per_second|ms_per|duration|elapsed|time|date|host|run_id")


def tiny_project(root: Path, folds: int | None) -> tuple[Paths, Params]:
    paths = Paths(root)
    write_prepared(paths.prepared(DATASET), toy_rows(90), DATASET)
    # folds None: one test split (k-fold only below 0 rows, i.e. never).
    config = SplitConfig(folds=folds) if folds else SplitConfig(folds_below_rows=None)
    split_dataset(DATASET, config, paths.prepared(DATASET), paths.split(DATASET))
    params = Params(
        datasets={DATASET: {}},
        models={family_of(MODEL): [MODEL]},
        train={MODEL: {"min_df": 1}},
        mlflow={"experiment": "stages"},
    )
    return paths, params


def outputs(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for folder in ("data/evaluation", "data/calibration", "data/domain", "models", "plots")
        for p in sorted((root / folder).rglob("*"))
        if p.is_file()
    }


def keys_of(data: Any) -> set[str]:
    if isinstance(data, dict):
        return set(data) | {k for v in data.values() for k in keys_of(v)}
    if isinstance(data, list):
        return {k for v in data for k in keys_of(v)}
    return set()


@pytest.mark.parametrize("folds", [None, 3])
def test_train_and_evaluate_write_the_same_bytes_whatever_the_clock_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, folds: int | None
) -> None:
    # Each run's clock runs at another speed: any duration written to an output differs.
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    written, journals = {}, {}
    for speed in (1.0, 7.0):
        ticks = itertools.count()
        clock = types.SimpleNamespace(perf_counter=lambda s=speed, t=ticks: s * next(t))
        monkeypatch.setattr(train_module, "time", clock)
        monkeypatch.setattr(evaluate_module, "time", clock)
        root = tmp_path / f"speed-{speed}"
        paths, params = tiny_project(root, folds)
        train_module.train(DATASET, MODEL, params, paths, family=family_of(MODEL), seed=42)
        calibrate(DATASET, MODEL, params, paths, seed=42)
        build_domain(DATASET, params, paths)
        evaluate_module.evaluate(DATASET, MODEL, params, paths, seed=42)
        written[speed] = outputs(root)
        journals[speed] = "".join(
            p.read_text() for j in published(root / SPOOL_NAME) for p in j.rglob("*.jsonl")
        )
    assert written[1.0].keys() == written[7.0].keys()
    assert any(name.endswith("run.json") for name in written[1.0])
    # The calibrator and domain profile (one per fold on a k-fold split) are outputs too.
    sidecars = [n for n in written[1.0] if n.startswith(("data/calibration/", "data/domain/"))]
    assert sum(n.endswith(("calibration.json", "profile.json")) for n in sidecars) == 2 * (
        folds or 1
    )
    assert any(n.endswith("calibration_raw.json") for n in written[1.0])
    assert [n for n in written[1.0] if written[1.0][n] != written[7.0][n]] == []
    for name, data in written[1.0].items():
        if name.endswith(".json"):
            leaked = {k for k in keys_of(json.loads(data)) if TIMING_KEY.search(k)}
            assert not leaked, (name, leaked)
    # The timings are still recorded: in the MLflow runs' journals, which differ with the clock.
    for metric in ("train_seconds", "test_inference_ms_per_example"):
        assert metric in journals[1.0], metric
    assert journals[1.0] != journals[7.0]


def test_inference_timings_are_per_example_and_guarded_against_zero() -> None:
    timings = evaluate_module.inference_timings(0.5, 1000)
    assert timings["test_inference_ms_per_example"] == 0.5
    assert timings["test_inference_examples_per_second"] == 2000.0
    assert evaluate_module.inference_timings(0.0, 0)["test_inference_ms_per_example"] == 0.0


def headline(root: Path) -> dict[str, dict[str, Any]]:
    folder = Paths(root).headline_root
    return {p.relative_to(folder).as_posix(): json.loads(p.read_text()) for p in
            sorted(folder.rglob("*.json"))}  # fmt: skip


def test_the_headline_is_per_model_and_moves_only_with_that_model(tmp_path: Path) -> None:
    params, paths = write_study(tmp_path)
    publish_and_report(params, paths)
    before = headline(tmp_path)
    assert set(before) == {
        f"{d}/{m}.json" for d in ("alpha", "beta") for m in ("tfidf_logreg", "lstm")
    } | {"transfer/tfidf_logreg.json", "transfer/lstm.json"}
    lstm = before["alpha/lstm.json"]
    assert set(lstm) == {k for key in KEYS for k in (key, f"{key}_std")}
    assert lstm["accuracy_std"] > 0 and before["alpha/tfidf_logreg.json"][
        "accuracy_std"] == 0  # fmt: skip
    assert set(before["transfer/lstm.json"]) == {*KEYS, "f1_macro_gap"}
    # lstm gets much better on alpha: the ranks and the best model change, yet only lstm's
    # headline keys move (no rank, best or comparison in a headline file).
    for seed in (42, 43, 44):
        file = paths.evaluation("alpha", "lstm", seed) / "metrics.json"
        metrics = json.loads(file.read_text())
        metrics.update(accuracy=0.99, f1_macro=0.99)
        file.write_text(json.dumps(metrics))
        (file.parent / "validation.json").write_text(json.dumps({"f1_macro": 0.99}))
    publish_and_report(params, paths)
    after = headline(tmp_path)
    moved = {name for name in before if before[name] != after[name]}
    assert moved == {"alpha/lstm.json", "transfer/lstm.json"}
    summary = json.loads(paths.summary.read_text())
    assert summary["alpha"]["lstm"]["best"]  # the ranks did change, in the detail only


def test_leave_one_dataset_out_headline_is_the_mean_over_held_out_datasets(tmp_path: Path) -> None:
    params, paths = write_study(tmp_path)
    params = params.updated(unions={"no_alpha": ["beta"], "no_beta": ["alpha"]})
    for union, held in (("no_alpha", "alpha"), ("no_beta", "beta")):
        for i, model in enumerate(("tfidf_logreg", "lstm")):
            score = {"accuracy": 0.6 + 0.1 * i, "f1_macro": 0.5, "roc_auc": 0.7, "role": "held_out"}
            if held == "beta":
                score = {**score, "accuracy": 0.8 + 0.1 * i}
            file = paths.transfer(union, model)
            file.parent.mkdir(parents=True, exist_ok=True)
            file.write_text(json.dumps({"targets": {held: score}}))
    publish_and_report(params, paths)
    files = headline(tmp_path)
    assert files["lodo/tfidf_logreg.json"] == {"accuracy": 0.7, "f1_macro": 0.5, "roc_auc": 0.7}
    assert files["lodo/lstm.json"]["accuracy"] == pytest.approx(0.8)


def dvc(repo: Path, *args: str) -> str:
    dvc_bin = Path(sys.executable).with_name("dvc")
    return subprocess.run(
        [str(dvc_bin), *args], cwd=repo, check=True, capture_output=True, text=True
    ).stdout


def test_dvc_metrics_show_prints_the_headline_in_a_screen(tmp_path: Path) -> None:
    """The report stage's metrics as dvc.yaml declares them, at the default study's size (3
    datasets x 7 models, 6 leave-one-out unions' worth of models): one screen, 250 columns."""
    root = tmp_path / "repo"
    root.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    dvc(root, "init", "-q")
    folder = Paths(root).headline_root
    models = ["tfidf_logreg", "rnn", "lstm", "gru", "bilstm", "minilm", "minilm_embed"]
    row = {k: 0.123456 for key in KEYS for k in (key, f"{key}_std")}
    for dataset in ("liar", "constraint", "fakenewsnet_v1"):
        for model in models:
            path = folder / dataset / f"{model}.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(row))
    for kind in ("transfer", "lodo"):
        for model in models:
            path = folder / kind / f"{model}.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps({**dict.fromkeys(KEYS, 0.5), "f1_macro_gap": -0.25}))
    (root / "metrics").mkdir()
    (root / "metrics" / "detail.json").write_text(json.dumps({f"k{i}": i for i in range(500)}))
    # The report stage's outputs as the project's dvc.yaml declares them.
    report = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]["report"]
    outs = [o for o in report["outs"] if not str(next(iter(o))).startswith(("reports", "plots"))]
    stage = {"cmd": "true", "outs": outs, "metrics": report["metrics"]}
    (root / "dvc.yaml").write_text(yaml.safe_dump({"stages": {"report": stage}}))
    shown = dvc(root, "metrics", "show").splitlines()
    assert len(shown) <= 150 and max(map(len, shown)) <= 250, (len(shown), max(map(len, shown)))
    assert not any("k499" in line for line in shown)  # the detail is not shown by default ...
    detail = dvc(root, "metrics", "show", "metrics/detail.json")
    assert "k499" in detail  # ... but on request
