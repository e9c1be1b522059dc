"""End to end: faults a new user meets. A stage killed mid-write leaves nothing that changes the
next `dvc repro`; the README's custom-dataset example runs as written."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from helpers import REPO
from helpers.news import custom_datasets, generated_news
from helpers.params import tiny_params
from helpers.repo import (
    generate_dvc_yaml,
    lock_entry,
    make_repo,
    run,
    stage_env,
    stage_name,
    stages_run,
    target,
)

pytestmark = pytest.mark.slow

# Imported by every Python process started with it on PYTHONPATH (stage scripts, and DVC itself):
# SIGKILL the process at its first rename of a temporary file under FAKENEWS_TEST_KILL_IN, i.e.
# in the middle of writing that output.
KILLER = """
import os, signal
_folder = os.environ.get("FAKENEWS_TEST_KILL_IN")
if _folder:
    _folder = os.path.abspath(_folder) + os.sep
    _replace = os.replace

    def _replace_or_die(src, dst, *args, **kwargs):
        path = os.path.abspath(os.fspath(src))
        if path.startswith(_folder) and path.endswith(".tmp"):
            os.kill(os.getpid(), signal.SIGKILL)
        return _replace(src, dst, *args, **kwargs)

    os.replace = _replace_or_die
"""


def small_params() -> dict[str, Any]:
    """The real params, shrunk: one generated dataset, the baseline alone."""
    return tiny_params(custom_datasets("alpha"), ["tfidf_logreg"])


def temp_leftovers(repo: Path) -> list[str]:
    return sorted(
        str(p.relative_to(repo))
        for p in repo.rglob("*.tmp")
        if not {".dvc", ".git"} & set(p.relative_to(repo).parts)
    )


def files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def lock_outs(repo: Path, stage: str) -> list[Any]:
    return [(o["path"], o["md5"], o.get("nfiles")) for o in lock_entry(repo, stage)["outs"]]


def test_killed_stages_leave_nothing_behind(tmp_path: Path) -> None:
    params = small_params()
    reference = make_repo(tmp_path / "undisturbed", params)
    run(reference, "dvc", "repro")

    repo = make_repo(tmp_path / "killed", params)
    killer = tmp_path / "killer"
    killer.mkdir()
    (killer / "sitecustomize.py").write_text(KILLER)
    train = stage_name("train", "alpha", "tfidf_logreg", 42)
    run(repo, "dvc", "repro", "download@alpha")
    for stage, folder in (
        ("prepare@alpha", "data/prepared"),
        ("split@alpha", "data/split"),
        (train, "models"),
    ):
        killed = subprocess.run(
            ["dvc", "repro", target(stage)],
            cwd=repo, env=killing_env(repo, killer, folder), capture_output=True, text=True,
        )  # fmt: skip
        # SIGKILL shows as -9, or as 137 where DVC runs the command through a shell such as bash.
        assert re.search(r"exited with (-9|137)\b", killed.stderr), killed.stderr
        left = temp_leftovers(repo)
        assert any(p.startswith(folder) for p in left), (stage, left)  # killed mid-write
        assert stage in stages_run(run(repo, "dvc", "repro", target(stage)))
        # A killed stage's unpublished MLflow journal is swept by the next replay (a background
        # one after every stage outside the tests; the tests replay when they choose).
        run(repo, "fakenews", "replay")
        assert temp_leftovers(repo) == [], stage
    run(repo, "dvc", "repro")

    assert temp_leftovers(repo) == []
    assert "Data and pipelines are up to date" in run(repo, "dvc", "status")
    check_outputs_match(repo, reference)

    # Killed during a forced rerun: the next `dvc repro` restores the split from DVC's run-cache
    # without running any stage code, so the hidden leftover stays, changing no hash, until the
    # next stage that runs sweeps it away.
    killed = subprocess.run(
        ["dvc", "repro", "-f", "-s", "split@alpha"],
        cwd=repo, env=killing_env(repo, killer, "data/split"), capture_output=True, text=True,
    )  # fmt: skip
    assert killed.returncode != 0 and temp_leftovers(repo), killed.stderr
    assert stages_run(run(repo, "dvc", "repro")) == set()
    assert "Data and pipelines are up to date" in run(repo, "dvc", "status")
    check_outputs_match(repo, reference)
    assert temp_leftovers(repo)
    run(repo, "dvc", "repro", "-f", "-s", "report")
    assert temp_leftovers(repo) == []


def killing_env(repo: Path, killer: Path, folder: str) -> dict[str, str]:
    env = stage_env(repo)
    env["PYTHONPATH"] = f"{killer}:{env['PYTHONPATH']}"
    env["FAKENEWS_TEST_KILL_IN"] = str(repo / folder)
    return env


def check_outputs_match(repo: Path, reference: Path) -> None:
    """Same DVC hashes and bytes as the undisturbed run (timings aside)."""
    for stage in ("download@alpha", "prepare@alpha", "split@alpha"):
        assert lock_outs(repo, stage) == lock_outs(reference, stage), stage
    for folder in ("data/raw/alpha", "data/prepared/alpha", "data/split/alpha"):
        assert files(repo / folder) == files(reference / folder), folder
    model, reference_model = (
        files(root / "models" / "alpha" / "tfidf_logreg" / "seed-42") for root in (repo, reference)
    )
    assert sorted(model) == sorted(reference_model)
    # Weights, vocabulary, model.json and run.json (no wall time in them), byte for byte.
    assert model == reference_model
    metrics = [
        (root / "metrics" / "alpha" / "tfidf_logreg" / "seed-42.json").read_bytes()
        for root in (repo, reference)
    ]
    assert metrics[0] == metrics[1]


def readme_custom_dataset() -> str:
    """The `my_news:` entry of the README's custom-dataset example, exactly as printed."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = next(
        b for b in re.findall(r"```yaml\n(.*?)```", readme, flags=re.S) if "source: custom" in b
    )
    return block[block.index("  my_news:") :]


def test_readme_custom_dataset_example_runs_as_written(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", small_params())
    entry = readme_custom_dataset()
    assert "label_map:" in entry and "path: data/external/my_news/my_news.csv" in entry
    folder = repo / "data" / "external" / "my_news"
    folder.mkdir()
    generated_news(5).to_csv(folder / "my_news.csv", index=False)  # body, headline, FAKE/TRUE
    params = (repo / "params.yaml").read_text()
    start, end = params.index("datasets:\n"), params.index("\nevaluate_on:")
    (repo / "params.yaml").write_text(params[:start] + "datasets:\n" + entry + params[end:])
    run(repo, "fakenews", "check")
    generate_dvc_yaml(repo)  # the README: `make dvc-yaml` before a plain `dvc repro`
    run(repo, "dvc", "repro")
    metrics = json.loads(
        (repo / "metrics" / "my_news" / "tfidf_logreg" / "seed-42.json").read_text()
    )
    assert metrics["accuracy"] > 0.8 and metrics["n"] > 0


def test_unreachable_tracking_server_costs_a_stage_nothing_and_its_run_waits(
    tmp_path: Path,
) -> None:
    import socket
    import time

    repo = make_repo(tmp_path / "repo", small_params())
    train = stage_name("train", "alpha", "tfidf_logreg", 42)
    run(repo, "dvc", "repro", target(train))

    def forced_train(env: dict[str, str]) -> tuple[float, str]:
        started = time.perf_counter()
        command = ["dvc", "repro", "-f", "-s", target(train)]
        result = subprocess.run(command, cwd=repo, env=env, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        return time.perf_counter() - started, result.stdout + result.stderr

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    normal, _ = forced_train(stage_env(repo))
    closed_env = {**stage_env(repo), "MLFLOW_TRACKING_URI": f"http://127.0.0.1:{port}"}
    closed, output = forced_train(closed_env)
    # MLflow's own retries took minutes here (4 min 23 s for this stage); the stage no longer
    # talks to the server at all.
    assert closed < normal + 20, (normal, closed)
    assert "UserWarning" not in output and "is unreachable" not in output, output
    # The replay (report stage, `fakenews repro`, `fakenews replay`) warns once and keeps it.
    result = subprocess.run(
        ["fakenews", "replay"], cwd=repo, env=closed_env, capture_output=True, text=True
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "2 stage journals replayed, 1 kept" in result.stdout  # the sqlite ones went
    warnings = [line for line in result.stderr.splitlines() if "MLflow:" in line]
    assert len(warnings) == 1 and f"127.0.0.1:{port} is unreachable" in warnings[0], result
