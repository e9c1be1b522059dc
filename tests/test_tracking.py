from __future__ import annotations

from pathlib import Path

import pytest

from fakenews.config import MlflowConfig
from fakenews.paths import Paths
from fakenews.tracking import Tracker, flatten, numeric_only, tracked_run


def test_flatten_and_numeric_only() -> None:
    data = {"a": 1, "b": {"c": 2.5, "d": None, "e": "x", "f": True}}
    assert flatten(data) == {"a": 1, "b.c": 2.5, "b.d": None, "b.e": "x", "b.f": True}
    assert numeric_only(data) == {"a": 1.0, "b.c": 2.5}


def test_mlflow_failure_warns_and_never_raises(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A backend that cannot be opened: every call fails, the stage must go on.
    (tmp_path / "a_file").write_text("")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/a_file/db.sqlite")
    with (
        pytest.warns(UserWarning, match="MLflow"),
        tracked_run(Paths(tmp_path), MlflowConfig(), tags={"k": "v"}) as tracker,
    ):
        tracker.log_params({"a": 1})
        tracker.log_metrics({"m": 1.0})
        tracker.log_artifacts(tmp_path)
    assert not tracker.enabled


def test_runs_go_to_the_repo_sqlite_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.chdir(tmp_path)
    paths = Paths(tmp_path)
    with tracked_run(paths, MlflowConfig(experiment="t"), tags={"fakenews.model": "m"}) as t:
        t.log_metrics({"val_accuracy": 0.5})
    assert (tmp_path / "mlflow.db").is_file()
    resumed = Tracker(paths, MlflowConfig(experiment="t"))
    assert resumed.resume({"fakenews.model": "m"}) and resumed.run_id == t.run_id
    resumed.end()
    import mlflow

    experiment = mlflow.get_experiment_by_name("t")
    assert experiment.artifact_location == (tmp_path / "mlartifacts").as_uri()
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)


def test_a_run_opens_once_mlflow_is_imported_and_keeps_earlier_calls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the background import runs, calls wait in order; none is lost or reordered."""
    import threading

    from mlflow.tracking import MlflowClient

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    release = threading.Event()
    preload = threading.Thread(target=release.wait, daemon=True)  # stands in for the import
    preload.start()
    paths = Paths(tmp_path)
    with tracked_run(
        paths, MlflowConfig(experiment="lazy"), tags={"k": "v"}, preload=preload
    ) as tracker:
        tracker.log_params({"lr": 0.1})
        tracker.log_metrics({"val_loss": 0.9}, step=1)
        tracker.log_metrics({"val_loss": 0.7}, step=2)
        assert tracker.run_id is None  # still importing: nothing sent yet
        release.set()
        preload.join()
        tracker.log_metrics({"val_loss": 0.5}, step=3)  # opens the run, replays the rest
        assert tracker.run_id is not None
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}")
    history = client.get_metric_history(tracker.run_id, "val_loss")
    assert [(m.step, m.value) for m in history] == [(1, 0.9), (2, 0.7), (3, 0.5)]
    assert history[0].timestamp <= history[2].timestamp
    run = client.get_run(tracker.run_id)
    assert run.data.params == {"lr": "0.1"} and run.data.tags["k"] == "v"
    assert run.info.status == "FINISHED"
