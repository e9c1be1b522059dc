"""Every pointer to the MLflow UI is the runs table of the project's experiment, its id looked up
in the tracking store: the end of `fakenews repro`, `fakenews mlflow-ui` (`make mlflow-ui`).
The slow test opens that URL in headless Chromium and reads what the page shows."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers.mlflow_server import start_mlflow_server

from fakenews.cli.main import main
from fakenews.core.paths import Paths
from fakenews.orchestration import scheduler
from fakenews.tracking.ui import experiment_id, runs_table_url, ui_command, ui_target

EXPERIMENT = "fakenews-ui-test"


def tracked_root(root: Path, params: dict[str, Any], runs: int = 2) -> tuple[Paths, str]:
    """A project root whose mlflow.db holds another experiment first, then the project's with
    ``runs`` finished runs: the project's id is not the 1 a fresh store would give it."""
    from mlflow.tracking import MlflowClient

    root.mkdir(parents=True, exist_ok=True)
    params["mlflow"]["experiment"] = EXPERIMENT
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    paths = Paths(root)
    client = MlflowClient(tracking_uri=f"sqlite:///{paths.mlflow_db}")
    client.create_experiment("someone-elses")
    found = client.create_experiment(EXPERIMENT, artifact_location=paths.mlflow_artifacts.as_uri())
    for seed in range(runs):
        run = client.create_run(found, run_name=f"train-lstm-seed-{seed}")
        client.log_metric(run.info.run_id, "test_accuracy", 0.8 + seed / 100)
        client.set_terminated(run.info.run_id)
    return paths, found


@pytest.fixture
def tracked(
    tmp_path: Path, real_params: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> tuple[Paths, str]:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    return tracked_root(tmp_path / "root", real_params)


def test_the_runs_table_url_names_the_experiment_and_the_training_workflow() -> None:
    assert (
        runs_table_url("http://127.0.0.1:5000/", "7")
        == "http://127.0.0.1:5000/#/experiments/7/runs?workflowType=machine_learning"
    )


def test_the_experiment_id_is_looked_up_in_the_store(tracked: tuple[Paths, str]) -> None:
    paths, expected = tracked
    assert expected not in ("0", "1")  # what assuming "the first experiment" would print
    uri = f"sqlite:///{paths.mlflow_db}"
    assert experiment_id(uri, EXPERIMENT) == expected
    assert experiment_id(uri, "no-such-experiment") is None
    target = ui_target(paths, "127.0.0.1", 5123)
    assert target.url == runs_table_url("http://127.0.0.1:5123", expected)


def test_a_store_not_created_yet_is_not_created_by_the_lookup(tmp_path: Path) -> None:
    database = tmp_path / "mlflow.db"
    assert experiment_id(f"sqlite:///{database}", "fakenews") is None
    assert not database.exists()


def test_mlflow_ui_url_prints_the_runs_table(
    tracked: tuple[Paths, str], capsys: pytest.CaptureFixture[str]
) -> None:
    paths, expected = tracked
    assert main(["mlflow-ui", "--url", "--root", str(paths.root), "--port", "5001"]) == 0
    assert capsys.readouterr().out.strip() == runs_table_url("http://127.0.0.1:5001", expected)


def test_mlflow_ui_url_says_when_nothing_is_tracked(
    tmp_path: Path,
    real_params: dict[str, Any],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(real_params, sort_keys=False))
    with pytest.raises(SystemExit) as exit_:
        main(["mlflow-ui", "--url", "--root", str(tmp_path)])
    assert exit_.value.code == 1
    captured = capsys.readouterr()
    assert captured.out.strip() == "http://127.0.0.1:5000"
    assert "no MLflow experiment 'fakenews' in sqlite:///" in captured.err


def test_mlflow_ui_starts_mlflow_ui_on_the_projects_store(
    tracked: tuple[Paths, str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    paths, expected = tracked
    started: list[list[str]] = []
    monkeypatch.setattr("os.execvp", lambda program, command: started.append(command))
    assert (
        main(["mlflow-ui", "--root", str(paths.root), "--host", "0.0.0.0", "--port", "5002"]) == 0
    )
    uri = f"sqlite:///{paths.mlflow_db}"
    assert started == [ui_command(uri, "0.0.0.0", 5002)]
    assert started[0][1:] == [
        "ui",
        "--backend-store-uri",
        uri,
        "--host",
        "0.0.0.0",
        "--port",
        "5002",
    ]
    assert runs_table_url("http://0.0.0.0:5002", expected) in capsys.readouterr().out


def test_the_end_of_repro_points_at_the_runs_table(
    tracked: tuple[Paths, str], capsys: pytest.CaptureFixture[str]
) -> None:
    paths, expected = tracked
    scheduler._where_to_look(paths)
    last = capsys.readouterr().out.splitlines()[-1]
    uri = f"sqlite:///{paths.mlflow_db}"
    url = runs_table_url("http://127.0.0.1:5000", expected)
    assert last == f"MLflow runs: {uri}; browse: make mlflow-ui, then {url}"


@pytest.mark.slow
def test_chromium_opens_the_printed_url_on_the_runs_table(
    tracked: tuple[Paths, str], tmp_path: Path
) -> None:
    """The page a person gets: the runs' names in the table, not the GenAI overview."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("chromium is not installed")
    paths, _ = tracked
    server = start_mlflow_server(f"sqlite:///{paths.mlflow_db}", tmp_path / "server")
    try:
        url = ui_target(paths, "127.0.0.1", int(server.uri.rsplit(":", 1)[1])).url
        assert url is not None
        # A fresh profile: what a browser that never opened MLflow shows (no remembered page).
        page = subprocess.run(
            [
                *(browser, "--headless", "--no-sandbox", "--disable-gpu"),
                f"--user-data-dir={tmp_path / 'profile'}",
                *("--virtual-time-budget=20000", "--dump-dom", url),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        ).stdout
    finally:
        server.stop()
    assert "train-lstm-seed-0" in page and "train-lstm-seed-1" in page, page[-2000:]
