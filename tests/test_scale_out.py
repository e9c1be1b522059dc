"""Scale out: machines that share a DVC remote share finished work through the run-cache.

End to end on generated data, in temporary git repos: a clone that pulls runs no train or
evaluate stage and publishes the same ``metrics/`` byte for byte; two workers split the train
stages (`fakenews shard`) with none run twice; DVC's experiment queue runs a grid in parallel,
each experiment tracked in the repository's MLflow database.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from helpers.news import custom_datasets
from helpers.params import tiny_params
from helpers.repo import make_repo, plain_names, run, stage_env, stages_run

from fakenews.core.errors import InputError
from fakenews.core.paths import find_repo_root
from fakenews.orchestration.shard import parse_shard, plan

# --- which machine runs what (fast) ------------------------------------------------------------


def toy_graph() -> tuple[dict[str, set[str]], list[str]]:
    upstream = {
        "split@a": set(),
        "audit@a": {"split@a"},
        "train-linear@a-m-1": {"split@a", "audit@a"},
        "train-linear@a-m-2": {"split@a", "audit@a"},
        "train-linear@a-n-1": {"split@a", "audit@a"},
        "evaluate-linear@a-m-1": {"train-linear@a-m-1", "split@a"},
        "evaluate-linear@a-m-2": {"train-linear@a-m-2", "split@a"},
        "evaluate-linear@a-n-1": {"train-linear@a-n-1", "split@a"},
        "transfer-linear@a-m": {"train-linear@a-m-1", "split@a"},
        "explain-linear@a-m": {"train-linear@a-m-1", "split@a"},
        "report": {
            "evaluate-linear@a-m-1",
            "evaluate-linear@a-m-2",
            "transfer-linear@a-m",
            "explain-linear@a-m",
        },
    }
    return upstream, list(upstream)


def test_shards_take_each_train_stage_once_with_its_followers() -> None:
    upstream, order = toy_graph()
    parts = plan(upstream, order, 2)
    assert parts["data"] == ["split@a", "audit@a"]
    assert parts["final"] == ["report"]
    assert parts["0"] == [
        "train-linear@a-m-1",
        "train-linear@a-n-1",
        "evaluate-linear@a-m-1",
        "evaluate-linear@a-n-1",
        "transfer-linear@a-m",
        "explain-linear@a-m",
    ]
    assert parts["1"] == ["train-linear@a-m-2", "evaluate-linear@a-m-2"]
    every = [name for part in parts.values() for name in part]
    assert sorted(every) == sorted(order)  # each stage in exactly one part
    assert plan(upstream, order, 5)["4"] == []  # more workers than train stages: some idle


def test_a_follower_of_two_train_stages_is_refused() -> None:
    upstream, order = toy_graph()
    upstream["evaluate-linear@a-n-1"].add("train-linear@a-m-2")
    with pytest.raises(InputError, match=r"evaluate-linear@a-n-1: depends on 2 train stages"):
        plan(upstream, order, 2)


@pytest.mark.parametrize("text", ["2/2", "-1/2", "0/0", "1", "a/b", "0/2/3"])
def test_a_bad_shard_names_the_expected_form(text: str) -> None:
    with pytest.raises(InputError, match=rf"shard '{text}': expected I/N"):
        parse_shard(text)


def test_a_queued_experiment_writes_into_its_own_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # DVC's queue runs in <repo>/.dvc/tmp/exps/<copy> with DVC_ROOT set to <repo>.
    repo = tmp_path / "repo"
    copy = repo / ".dvc" / "tmp" / "exps" / "tmp1x2y"
    (copy / ".dvc").mkdir(parents=True)
    (copy / "dvc.yaml").write_text("stages: {}\n")
    (repo / "dvc.yaml").write_text("stages: {}\n")
    monkeypatch.setenv("DVC_ROOT", str(repo))
    monkeypatch.chdir(copy)
    assert find_repo_root() == copy
    monkeypatch.chdir(tmp_path)  # no repo up from here: DVC_ROOT is the fallback
    assert find_repo_root() == repo


# --- end to end (slow) -------------------------------------------------------------------------


def small_study(
    datasets: tuple[str, ...], recurrent: tuple[str, ...] = ("lstm",)
) -> dict[str, Any]:
    """The real params, shrunk: generated datasets, the TF-IDF baseline and a small LSTM."""
    return tiny_params(
        custom_datasets(*datasets),
        ["tfidf_logreg", *recurrent],
        seeds=42,
        train={"lstm": {"epochs": 1, "max_len": 32, "embedding_dim": 8, "hidden_sizes": [8]}},
        split={"folds": 3},
    )


def clone(source: Path, target: Path) -> Path:
    """A fresh clone, plus the hand-placed files git never carries (data/external/)."""
    run(source, "git", "clone", "-q", str(source), str(target))
    shutil.copytree(source / "data" / "external", target / "data" / "external", dirs_exist_ok=True)
    return target


def with_remote(repo: Path, remote: Path) -> None:
    run(repo, "dvc", "remote", "add", "-d", "shared", str(remote))
    run(repo, "git", "add", ".dvc/config")
    run(repo, "git", "commit", "-q", "-m", "shared remote")


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def expensive(stages: set[str]) -> set[str]:
    return {s for s in stages if s.startswith(("train-", "evaluate-", "transfer-"))}


@pytest.mark.slow
def test_a_clone_that_pulls_the_run_cache_retrains_nothing(tmp_path: Path) -> None:
    a = make_repo(tmp_path / "a", small_study(("alpha", "beta")))
    with_remote(a, tmp_path / "remote")
    ran_in_a = stages_run(run(a, "dvc", "repro"))
    assert "train-recurrent@alpha-lstm-42" in ran_in_a
    run(a, "dvc", "push", "--run-cache")

    # B has A's commit (code, params, the remote) but not A's dvc.lock: only the run-cache can
    # tell it what has run.
    b = clone(a, tmp_path / "b")
    assert not (b / "dvc.lock").exists()
    output = run(b, "dvc", "repro", "--pull")
    assert stages_run(output) == {"report"}, output
    restored = plain_names(re.findall(r"Stage '([^']+)' is cached - skipping run", output))
    assert expensive(ran_in_a) <= restored
    assert tree(b / "metrics") == tree(a / "metrics")
    assert tree(b / "headline") == tree(a / "headline")
    assert "Data and pipelines are up to date" in run(b, "dvc", "status")
    # B commits the published metrics; `dvc metrics diff` against that commit, from A's
    # workspace, finds nothing to report (and every metrics file is there to compare).
    run(b, "git", "add", "-A")
    run(b, "git", "commit", "-q", "-m", "results")
    run(a, "git", "fetch", "-q", str(b), "HEAD")
    assert json.loads(run(a, "dvc", "metrics", "diff", "--json", "FETCH_HEAD")) == {}
    detail = ("--targets", "metrics", "-R")  # the per-run detail, not declared as metrics
    assert json.loads(run(a, "dvc", "metrics", "diff", "--json", "FETCH_HEAD", *detail)) == {}
    shown = json.loads(run(a, "dvc", "metrics", "show", "--json"))
    published = {k for rev in shown.values() for k in rev.get("data", {})}
    assert "headline/alpha/lstm.json" in published
    shown = json.loads(run(a, "dvc", "metrics", "show", "--json", "-R", "metrics"))
    published = {k for rev in shown.values() for k in rev.get("data", {})}
    assert "metrics/alpha/lstm/seed-42.json" in published and "metrics/overlap.json" in published


@pytest.mark.slow
def test_two_workers_split_the_train_stages_and_a_third_clone_trains_nothing(
    tmp_path: Path,
) -> None:
    a = make_repo(tmp_path / "a", small_study(("alpha", "beta"), recurrent=()))
    with_remote(a, tmp_path / "remote")
    shard = {part: run(a, "fakenews", "shard", part).split() for part in ("data", "0/2", "1/2")}
    trains = {
        s for part in ("0/2", "1/2") for s in plain_names(shard[part]) if s.startswith("train-")
    }
    assert len(trains) == 2  # alpha, beta x tfidf_logreg

    # The data stages on one machine first; then each worker its shard, from a clone of its own.
    run(a, "dvc", "repro", *shard["data"])
    run(a, "dvc", "push", "--run-cache")
    b = clone(a, tmp_path / "b")
    ran = {}
    for worker, (repo, part) in enumerate(((a, "0/2"), (b, "1/2"))):
        output = run(repo, "dvc", "repro", "--pull", *shard[part])
        ran[worker] = stages_run(output)
        run(repo, "dvc", "push", "--run-cache")
    assert not ran[1] & plain_names(shard["data"]), "worker 1 reran a data stage"
    trained = [{s for s in ran[w] if s.startswith("train-")} for w in (0, 1)]
    assert trained[0] | trained[1] == trains and not trained[0] & trained[1]

    c = clone(a, tmp_path / "c")
    assert stages_run(run(c, "dvc", "repro", "--pull")) == {"report"}
    summary = json.loads((c / "metrics" / "summary.json").read_text())
    assert set(summary["alpha"]) == set(summary["beta"]) == {"tfidf_logreg"}


def wait_for_queue(repo: Path, limit_s: float, jobs: int) -> None:
    """Until nothing is queued or running; restarts the workers if they exit early, as DVC's
    can with experiments still queued (treeverse/dvc#10562), like `make queue-start`."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        status = run(repo, "dvc", "queue", "status")
        if not re.search(r"\b(Queued|Running)\b", status):
            return
        if "Running" not in status and ": 0 active" in status:
            run(repo, "dvc", "queue", "start", "-j", str(jobs))
        time.sleep(3)
    raise AssertionError(f"queue not done after {limit_s:.0f} s:\n{status}")


@pytest.mark.slow
def test_a_queued_grid_runs_two_at_a_time_and_lands_in_exp_show_and_mlflow(tmp_path: Path) -> None:
    params = small_study(("alpha",), recurrent=())
    repo = make_repo(tmp_path / "repo", params)
    # A queued experiment runs in a temporary copy made from git: hand-placed files must be in it.
    run(repo, "git", "add", "-f", "data/external")
    run(repo, "dvc", "repro")
    run(repo, "git", "add", "-A")
    run(repo, "git", "commit", "-q", "-m", "baseline")

    run(repo, "dvc", "exp", "run", "--queue", "-S", "train.tfidf_logreg.C=0.25,0.5,1.0,2.0")
    started = subprocess.run(
        ["dvc", "queue", "start", "-j", "2"], cwd=repo, env=stage_env(repo), text=True,
        capture_output=True,
    )  # fmt: skip
    assert started.returncode == 0, started.stderr
    try:
        wait_for_queue(repo, 900, jobs=2)
    finally:
        subprocess.run(["dvc", "queue", "stop", "--kill"], cwd=repo, env=stage_env(repo))
    status = run(repo, "dvc", "queue", "status")
    assert len(re.findall(r"\bSuccess\b", status)) == 4, status

    shown = json.loads(run(repo, "dvc", "exp", "show", "--json"))
    experiments = [e for row in shown for e in (row.get("experiments") or [])]
    values = set()
    for experiment in experiments:
        data = experiment["revs"][0]["data"]
        values.add(data["params"]["params.yaml"]["data"]["train"]["tfidf_logreg"]["C"])
        metrics = data["metrics"]
        # exp show lists the headline only (metrics/ is git-tracked detail, not DVC metrics).
        assert set(metrics) == {"headline/alpha/tfidf_logreg.json"}, metrics.keys()
        assert metrics["headline/alpha/tfidf_logreg.json"]["data"]["f1_macro"] > 0
    assert values == {0.25, 0.5, 1.0, 2.0}

    # Each experiment trained in a temporary copy of the repo, and tracked into the repo's db.
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{repo / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("fakenews")
    assert experiment is not None
    trains = client.search_runs([experiment.experiment_id], "tags.`fakenews.run_kind` = 'train'")
    assert {run_.data.params.get("C") for run_ in trains} >= {"0.25", "0.5", "1.0", "2.0"}


def test_calibrate_follows_its_train_stage_and_domain_is_data() -> None:
    # evaluate depends on its calibrate stage and on the dataset's domain profile too: still one
    # train stage upstream, so it stays on its train stage's shard.
    upstream = {
        "split@a": set(),
        "domain@a": {"split@a"},
        "train-linear@a-m-1": {"split@a"},
        "calibrate-linear@a-m-1": {"train-linear@a-m-1", "split@a"},
        "evaluate-linear@a-m-1": {"train-linear@a-m-1", "calibrate-linear@a-m-1", "domain@a"},
        "report": {"evaluate-linear@a-m-1"},
    }
    parts = plan(upstream, list(upstream), 1)
    assert parts["data"] == ["split@a", "domain@a"]
    assert parts["0"] == ["train-linear@a-m-1", "calibrate-linear@a-m-1", "evaluate-linear@a-m-1"]
