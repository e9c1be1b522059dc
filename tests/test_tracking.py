from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from helpers.params import family_of

from fakenews.core.io import write_json
from fakenews.core.params import Params
from fakenews.core.paths import RUN_INFO_FILE, Paths
from fakenews.tracking import client as tracking
from fakenews.tracking import replay as replay_module
from fakenews.tracking import replayer
from fakenews.tracking.client import (
    EXPERIMENT_KIND,
    EXPERIMENT_KIND_TAG,
    MLFLOW_HTTP_LIMITS,
    MLFLOW_PARENT_RUN_ID,
    SPLIT_DIGEST_LENGTH,
    TAG_CONFIG_HASH,
    TAG_DATASET,
    TAG_MODEL,
    TAG_MODEL_HASH,
    TAG_RUN_KIND,
    TAG_SEED,
    TIMEOUT_VARIABLE,
    MlflowConfig,
    TrackingUnavailable,
    check_timeout,
    ensure_reachable,
    flatten,
    limit_mlflow_retries,
    numeric_only,
    probe,
    tag_filter,
)
from fakenews.tracking.journal import (
    LOG_FILE,
    REPLAY_VARIABLE,
    SPOOL_NAME,
    published,
    replay_lock,
    start_replayer,
)
from fakenews.tracking.model_registry import register_best_models
from fakenews.tracking.replay import MAX_ATTEMPTS, Replay, drain, replay_pending
from fakenews.tracking.runs import Tracker, child_run, tracked_run


@pytest.fixture(autouse=True)
def fresh_reachability() -> Iterator[None]:
    """Each test checks (and warns) afresh: the per-process cache must not leak between tests."""
    tracking.forget_reachability()
    yield
    tracking.forget_reachability()


def test_flatten_and_numeric_only() -> None:
    data = {"a": 1, "b": {"c": 2.5, "d": None, "e": "x", "f": True}}
    assert flatten(data) == {"a": 1, "b.c": 2.5, "b.d": None, "b.e": "x", "b.f": True}
    assert numeric_only(data) == {"a": 1.0, "b.c": 2.5}


def replayed(paths: Paths) -> Replay:
    """Every journal replayed here; fails the test if one was kept."""
    result = replay_pending(paths)
    assert result.kept == [], result
    return result


def test_a_backend_that_fails_keeps_the_journal_and_never_fails_the_stage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A backend that cannot be opened: the stage's block notices nothing, the replay warns.
    (tmp_path / "a_file").write_text("")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/a_file/db.sqlite")
    paths = Paths(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # recording a run warns about nothing
        with tracked_run(paths, MlflowConfig(), tags={"k": "v"}) as tracker:
            tracker.log_params({"a": 1})
            tracker.log_metrics({"m": 1.0})
            tracker.log_artifacts(tmp_path / "a_file")
    assert tracker.enabled and tracker.published is not None
    with pytest.warns(UserWarning, match="MLflow: .* kept for a later replay"):
        result = replay_pending(paths)
    assert result.kept == [tracker.published.name] and tracker.published.is_dir()


def test_runs_go_to_the_repo_sqlite_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.chdir(tmp_path)
    paths = Paths(tmp_path)
    with tracked_run(paths, MlflowConfig(experiment="t"), tags={"fakenews.model": "m"}) as t:
        t.log_metrics({"val_accuracy": 0.5})
    assert not (tmp_path / "mlflow.db").exists()  # nothing before the replay
    run_ids = replayed(paths).run_ids
    assert (tmp_path / "mlflow.db").is_file()
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("t")
    runs = client.search_runs([experiment.experiment_id])
    assert [run.info.run_id for run in runs] == [run_ids[t.key]]
    assert experiment.artifact_location == (tmp_path / "mlartifacts").as_uri()
    assert published(tmp_path / SPOOL_NAME) == []  # replayed journals are deleted


# --- a journal replayed: the runs the stages logged directly before --------------------------


@pytest.fixture
def sqlite_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A fresh sqlite backend in ``tmp_path`` (the default one); yields a client on it."""
    import mlflow
    from mlflow.tracking import MlflowClient

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.chdir(tmp_path)
    try:
        yield MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}")
    finally:
        mlflow.set_tracking_uri(None)  # forget this store; connect exported the URI
        monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)


def group(config_hash: str = "c1") -> dict[str, str]:
    return {TAG_DATASET: "alpha", TAG_MODEL: "lstm", TAG_CONFIG_HASH: config_hash}


def test_a_replayed_journal_is_the_run_the_stage_logged(
    tmp_path: Path, sqlite_store: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Params, metric curves (steps, timestamps), tags (MLflow's context tags included), the
    split, artifacts as they were when logged, parent and child, start and end times."""
    from mlflow.tracking.context import registry as context_registry

    model = tmp_path / "model"
    model.mkdir()
    (model / "weights.json").write_text("v1")
    (model / "sub").mkdir()
    (model / "sub" / "vocab.txt").write_text("a b")
    split_dir = tmp_path / "split"
    split_dir.mkdir()
    manifest_hash = "0123456789abcdef" * 4
    paths = Paths(tmp_path)
    before = int(time.time() * 1000)
    with tracked_run(
        paths,
        MlflowConfig(experiment="same"),
        run_name="seed-1 train",
        tags={TAG_RUN_KIND: "train", TAG_SEED: "1"},
        parent=group(),
        parent_name="alpha/lstm",
    ) as train:
        train.log_split("alpha", split_dir, manifest_hash, "training")
        train.log_params({"lr": 0.1, "nested": {"layers": [16]}, "long": "x" * 7000})
        train.log_metrics({"val_loss": 0.9, "skipped": "text"}, step=1)
        time.sleep(0.01)
        train.log_metrics({"val_loss": 0.7}, step=2)
        with child_run(train, "seed-1 fold-0", {"fakenews.fold": "0"}) as fold:
            fold.log_metrics({"val_f1": 0.5})
        train.set_tags({TAG_MODEL_HASH: "abc"})
        train.log_artifacts(model, "model")
        train.log_artifacts(model / "weights.json", "single")
    # Rewritten after logging, as the stages and DVC write (a new file renamed over the old):
    # the run keeps what was logged.
    write_json(model / "weights.json", "v2")
    after = int(time.time() * 1000)
    with (
        pytest.raises(RuntimeError),
        tracked_run(
            paths, MlflowConfig(experiment="same"), run_name="broken", tags={"k": "v"}
        ) as broken,
    ):
        raise RuntimeError("the stage failed")
    events = [
        json.loads(line)
        for line in (train.published / "events.jsonl").read_text().splitlines()  # type: ignore[operator]
    ]
    run_ids = replayed(paths).run_ids

    run = sqlite_store.get_run(run_ids[train.key])
    start = next(e for e in events if e["event"] == "start")
    end = next(e for e in events if e["event"] == "end" and e["run"] == 0)
    assert before <= run.info.start_time == start["time"] <= run.info.end_time == end["time"]
    assert run.info.end_time <= after and run.info.status == "FINISHED"
    assert run.info.run_name == "seed-1 train"
    assert run.data.params == {"lr": "0.1", "nested.layers": "[16]", "long": "x" * 6000}
    history = sqlite_store.get_metric_history(run.info.run_id, "val_loss")
    logged = [row for e in events if e["event"] == "metrics" for row in e["rows"]]
    assert [(m.step, m.value, m.timestamp) for m in history] == [
        (row[3], row[1], row[2]) for row in logged if row[0] == "val_loss"
    ]
    assert history[0].timestamp < history[1].timestamp
    assert set(run.data.metrics) == {"val_loss"}
    parent = sqlite_store.get_run(run.data.tags[MLFLOW_PARENT_RUN_ID])
    # Every tag a fluent mlflow.start_run in this process gave the run (user, source, git).
    expected = context_registry.resolve_tags(
        {**group(), TAG_RUN_KIND: "train", TAG_SEED: "1",
         MLFLOW_PARENT_RUN_ID: parent.info.run_id, "mlflow.runName": "seed-1 train"}
    )  # fmt: skip
    assert run.data.tags == {**expected, TAG_MODEL_HASH: "abc"}
    assert parent.info.run_name == "alpha/lstm" and parent.info.status == "FINISHED"
    assert parent.data.tags[TAG_RUN_KIND] == "parent" and not parent.data.metrics
    assert parent.info.start_time == run.info.start_time
    (dataset_input,) = run.inputs.dataset_inputs
    assert dataset_input.dataset.name == "alpha-split"
    assert dataset_input.dataset.digest == manifest_hash[:SPLIT_DIGEST_LENGTH]
    assert str(split_dir) in dataset_input.dataset.source
    artifacts = Path(run.info.artifact_uri.removeprefix("file://"))
    assert (artifacts / "model" / "weights.json").read_text() == "v1"
    assert (artifacts / "model" / "sub" / "vocab.txt").read_text() == "a b"
    assert (artifacts / "single" / "weights.json").read_text() == "v1"
    assert json.loads((model / "weights.json").read_text()) == "v2"

    fold_run = sqlite_store.get_run(run_ids[fold.key])
    assert fold_run.data.tags[MLFLOW_PARENT_RUN_ID] == run.info.run_id
    assert fold_run.data.tags[TAG_RUN_KIND] == "fold" and fold_run.data.tags[TAG_SEED] == "1"
    assert fold_run.data.tags["fakenews.fold"] == "0" and fold_run.data.metrics == {"val_f1": 0.5}
    assert run.info.start_time <= fold_run.info.start_time <= fold_run.info.end_time
    assert fold_run.info.end_time <= run.info.end_time

    failed = sqlite_store.get_run(run_ids[broken.key])
    assert failed.info.status == "FAILED" and failed.info.end_time is not None


def test_train_and_evaluate_are_children_of_one_parent(tmp_path: Path, sqlite_store: Any) -> None:
    paths, config = Paths(tmp_path), MlflowConfig(experiment="tree")
    with tracked_run(
        paths,
        config,
        run_name="alpha/lstm seed 1",
        tags={TAG_RUN_KIND: "train", TAG_SEED: "1"},
        parent=group(),
        parent_name="alpha/lstm",
    ) as train:
        train.log_metrics({"val_accuracy": 0.8})
    with tracked_run(
        paths,
        config,
        run_name="alpha/lstm evaluate",
        tags={TAG_RUN_KIND: "evaluate"},
        parent=group(),
        parent_name="alpha/lstm",
    ) as evaluate:
        evaluate.log_metrics({"test_accuracy": 0.7})
    with tracked_run(
        paths, config, run_name="other config", tags={TAG_RUN_KIND: "train"}, parent=group("c2")
    ) as other:
        pass
    run_ids = replayed(paths).run_ids
    train_run, evaluate_run, other_run = (
        sqlite_store.get_run(run_ids[t.key]) for t in (train, evaluate, other)
    )
    parent_id = train_run.data.tags[MLFLOW_PARENT_RUN_ID]
    assert evaluate_run.data.tags[MLFLOW_PARENT_RUN_ID] == parent_id
    assert other_run.data.tags[MLFLOW_PARENT_RUN_ID] != parent_id
    experiment = sqlite_store.get_experiment_by_name("tree")
    parents = sqlite_store.search_runs(
        [experiment.experiment_id], filter_string=tag_filter({TAG_RUN_KIND: "parent"})
    )
    assert sorted(r.data.tags[TAG_CONFIG_HASH] for r in parents) == ["c1", "c2"]
    parent = sqlite_store.get_run(parent_id)
    assert parent.info.run_name == "alpha/lstm" and parent.info.status == "FINISHED"
    assert parent.data.tags[TAG_RUN_KIND] == "parent" and not parent.data.metrics
    assert MLFLOW_PARENT_RUN_ID not in parent.data.tags
    for run, kind in ((train_run, "train"), (evaluate_run, "evaluate")):
        assert run.data.tags[TAG_RUN_KIND] == kind and run.info.status == "FINISHED"
        assert {k: run.data.tags[k] for k in group()} == group()  # the parent's tags too
    assert train_run.data.tags[TAG_SEED] == "1"
    assert set(evaluate_run.data.metrics) == {"test_accuracy"}
    # The train run is not reopened: its end stays its own.
    assert train_run.info.end_time <= evaluate_run.info.start_time


def test_a_fold_run_nests_under_its_seed_run(tmp_path: Path, sqlite_store: Any) -> None:
    paths = Paths(tmp_path)
    with tracked_run(
        paths,
        MlflowConfig(experiment="folds"),
        run_name="seed 7",
        tags={TAG_RUN_KIND: "train", TAG_SEED: "7"},
        parent=group(),
    ) as seed:
        for fold in range(2):
            with child_run(seed, f"fold {fold}", {"fakenews.fold": str(fold)}) as run:
                run.log_metrics({"val_f1": 0.5 + fold})
                seed.log_metrics({"fold_done": fold})  # still the seed run's, not the fold's
        seed.log_metrics({"val_f1_mean": 1.0})
    run_ids = replayed(paths).run_ids
    seed_id = run_ids[seed.key]
    folds = [
        sqlite_store.get_run(r.info.run_id)
        for r in sqlite_store.search_runs(
            [sqlite_store.get_experiment_by_name("folds").experiment_id],
            filter_string=tag_filter({TAG_RUN_KIND: "fold"}),
        )
    ]
    assert len(folds) == 2
    for run in folds:
        assert run.data.tags[MLFLOW_PARENT_RUN_ID] == seed_id
        assert run.data.tags[TAG_SEED] == "7" and run.data.tags[TAG_DATASET] == "alpha"
        assert set(run.data.metrics) == {"val_f1"} and run.info.status == "FINISHED"
    seed_run = sqlite_store.get_run(seed_id)
    assert set(seed_run.data.metrics) == {"fold_done", "val_f1_mean"}
    assert seed_run.data.tags[TAG_RUN_KIND] == "train"
    assert seed_run.info.status == "FINISHED"


def test_the_split_is_the_runs_dataset_input(tmp_path: Path, sqlite_store: Any) -> None:
    split_dir = tmp_path / "data" / "splits" / "alpha"
    split_dir.mkdir(parents=True)
    manifest_hash = "0123456789abcdef" * 4
    paths = Paths(tmp_path)
    trackers = []
    for context in ("training", "evaluation"):
        with tracked_run(paths, MlflowConfig(experiment="data"), tags={"k": context}) as tracker:
            tracker.log_split("alpha", split_dir, manifest_hash, context)
        trackers.append(tracker)
    run_ids = replayed(paths).run_ids
    for tracker, context in zip(trackers, ("training", "evaluation"), strict=True):
        (dataset_input,) = sqlite_store.get_run(run_ids[tracker.key]).inputs.dataset_inputs
        dataset = dataset_input.dataset
        assert dataset.name == "alpha-split"
        assert dataset.digest == manifest_hash[:SPLIT_DIGEST_LENGTH]
        assert dataset.source_type == "local" and str(split_dir) in dataset.source
        tags = {t.key: t.value for t in dataset_input.tags}
        assert tags == {"mlflow.data.context": context, "fakenews.manifest_hash": manifest_hash}


def test_the_experiment_opens_in_the_model_training_view(tmp_path: Path, sqlite_store: Any) -> None:
    paths = Paths(tmp_path)
    with tracked_run(paths, MlflowConfig(experiment="new"), tags={"k": "v"}):
        pass
    replayed(paths)
    assert sqlite_store.get_experiment_by_name("new").tags[EXPERIMENT_KIND_TAG] == EXPERIMENT_KIND
    # One made before the tag existed gets it; one whose kind a user chose keeps that.
    old = sqlite_store.create_experiment("old")
    chosen = sqlite_store.create_experiment("chosen", tags={EXPERIMENT_KIND_TAG: "finetuning"})
    for name in ("old", "chosen"):
        with tracked_run(paths, MlflowConfig(experiment=name), tags={"k": "v"}):
            pass
    replayed(paths)
    assert EXPERIMENT_KIND == "custom_model_development"
    assert sqlite_store.get_experiment(old).tags[EXPERIMENT_KIND_TAG] == EXPERIMENT_KIND
    assert sqlite_store.get_experiment(chosen).tags[EXPERIMENT_KIND_TAG] == "finetuning"


def test_the_context_tags_are_mlflows_for_a_stage_script(tmp_path: Path) -> None:
    """A stage script in a git repo (commit, branch, remote with credentials): the tags the
    journal records are the ones MLflow's resolve_tags gives in that process."""
    repo = tmp_path / "repo"
    (repo / "stages").mkdir(parents=True)
    script = repo / "stages" / "train.py"
    script.write_text(
        "import json, sys\n"
        "from fakenews.tracking.journal import run_context_tags\n"
        "from mlflow.tracking.context import registry\n"
        "print(json.dumps([run_context_tags(), registry.resolve_tags()]))\n"
    )
    for command in (
        ["git", "init", "-q", "-b", "main"],
        ["git", "-c", "user.email=t@e", "-c", "user.name=t", "commit", "-q", "--allow-empty",
         "-m", "x"],
        ["git", "remote", "add", "origin", "https://user:token@example.com/x/repo.git"],
    ):  # fmt: skip
        subprocess.run(command, cwd=repo, check=True)
    env = {**os.environ, "MLFLOW_RUN_CONTEXT": json.dumps({"extra": "1"})}
    for argv0 in ("stages/train.py", str(script)):
        out = subprocess.run(
            [sys.executable, argv0], cwd=repo, env=env, capture_output=True, text=True, check=True
        )
        ours, mlflows = json.loads(out.stdout.splitlines()[-1])
        assert ours == mlflows
        assert ours["mlflow.source.git.repoURL"] == "https://example.com/x/repo.git"
        assert ours["mlflow.source.git.branch"] == "main" and ours["extra"] == "1"


def test_tracking_off_in_params_writes_no_journal(tmp_path: Path) -> None:
    paths = Paths(tmp_path)
    with tracked_run(paths, MlflowConfig(enabled=False), tags={"k": "v"}) as tracker:
        tracker.log_metrics({"m": 1.0})
        tracker.log_artifacts(tmp_path)
        with child_run(tracker, "fold 0") as fold:
            fold.log_metrics({"m": 1.0})
    assert not tracker.enabled and not fold.enabled and tracker.published is None
    assert not (tmp_path / SPOOL_NAME).exists()


def test_a_killed_stage_leaves_no_journal_to_replay(tmp_path: Path) -> None:
    code = textwrap.dedent(
        f"""
        import os
        from pathlib import Path
        from fakenews.core.paths import Paths
        from fakenews.tracking.client import MlflowConfig
        from fakenews.tracking.runs import tracked_run

        with tracked_run(Paths(Path({str(tmp_path)!r})), MlflowConfig(), tags={{"k": "v"}}) as t:
            t.log_metrics({{"m": 1.0}})
            os._exit(9)  # as a SIGKILL would: no end, no publish
        """
    )
    subprocess.run([sys.executable, "-c", code], check=False)
    spool = tmp_path / SPOOL_NAME
    assert published(spool) == [] and len(list(spool.glob(".*.tmp"))) == 1
    assert replay_pending(Paths(tmp_path)) == Replay()
    with replay_lock(spool) as held:
        assert held
        drain(spool, print)  # sweeps the dead stage's temporary journal
    assert list(spool.glob(".*.tmp")) == [] and not (tmp_path / "mlflow.db").exists()


def test_a_replay_cut_short_goes_on_without_duplicates(
    tmp_path: Path, sqlite_store: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlflow import MlflowClient

    paths = Paths(tmp_path)
    with tracked_run(paths, MlflowConfig(experiment="cut"), tags={"k": "v"}) as tracker:
        tracker.log_params({"a": 1})
        tracker.log_metrics({"m": 1.0}, step=1)
        tracker.set_tags({"t": "1"})
    real = MlflowClient.log_batch
    calls = []

    def flaky(self: Any, run_id: str, **kwargs: Any) -> None:
        calls.append(kwargs)
        if len(calls) == 2:  # the metrics: params went out, the run exists
            raise ConnectionError("connection reset")
        real(self, run_id, **kwargs)

    monkeypatch.setattr(MlflowClient, "log_batch", flaky)
    with pytest.warns(UserWarning, match="kept for a later replay"):
        assert replay_pending(paths).kept == [tracker.published.name]  # type: ignore[union-attr]
    run_ids = replayed(paths).run_ids
    experiment = sqlite_store.get_experiment_by_name("cut")
    (run,) = sqlite_store.search_runs([experiment.experiment_id])
    assert run.info.run_id == run_ids[tracker.key]
    assert run.data.params == {"a": "1"} and run.data.metrics == {"m": 1.0}
    assert run.data.tags["t"] == "1" and run.info.status == "FINISHED"


def test_a_step_that_keeps_failing_is_skipped_with_a_warning(
    tmp_path: Path, sqlite_store: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlflow import MlflowClient

    paths = Paths(tmp_path)
    with tracked_run(paths, MlflowConfig(experiment="skip"), tags={"k": "v"}) as tracker:
        tracker.set_tags({"bad": "x"})
        tracker.log_metrics({"m": 1.0})

    def refuse(self: Any, run_id: str, **kwargs: Any) -> None:
        raise ValueError("rejected")

    monkeypatch.setattr(MlflowClient, "set_terminated", refuse)
    with pytest.warns(UserWarning) as record:
        for _ in range(MAX_ATTEMPTS):
            replay_pending(paths)
    messages = [str(w.message) for w in record.list]
    assert sum("kept for a later replay" in m for m in messages) == MAX_ATTEMPTS - 1
    assert any(f"skipping end (event 4) after {MAX_ATTEMPTS}" in m for m in messages)
    assert published(tmp_path / SPOOL_NAME) == []
    experiment = sqlite_store.get_experiment_by_name("skip")
    (run,) = sqlite_store.search_runs([experiment.experiment_id])
    assert run.data.metrics == {"m": 1.0} and run.info.status == "RUNNING"


def wait_for_empty(spool: Path, seconds: float = 120) -> None:
    started = time.monotonic()
    while published(spool) and time.monotonic() - started < seconds:
        time.sleep(0.2)  # the replayer imports mlflow (seconds), then replays
    log = spool / LOG_FILE
    assert published(spool) == [], log.read_text() if log.is_file() else "no replay.log"


def test_the_background_replayer_drains_the_spool_and_waits_for_more(
    tmp_path: Path, sqlite_store: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A published journal starts a detached replayer; while it waits for more, the next
    stage starts none and its journal is replayed by the same process."""
    monkeypatch.setenv(REPLAY_VARIABLE, "background")
    paths = Paths(tmp_path)
    spool = tmp_path / SPOOL_NAME
    with tracked_run(paths, MlflowConfig(experiment="bg"), tags={"k": "1"}) as first:
        first.log_metrics({"m": 1.0})
    wait_for_empty(spool)
    experiment = sqlite_store.get_experiment_by_name("bg")
    (run,) = sqlite_store.search_runs([experiment.experiment_id])
    assert run.data.metrics == {"m": 1.0} and run.data.tags["k"] == "1"
    with replay_lock(spool) as free:
        assert not free  # the replayer lingers (LINGER_SECONDS), holding the lock
    assert not start_replayer(spool, tmp_path)
    with tracked_run(paths, MlflowConfig(experiment="bg"), tags={"k": "2"}):
        pass
    wait_for_empty(spool, seconds=replayer.LINGER_SECONDS)
    assert len(sqlite_store.search_runs([experiment.experiment_id])) == 2
    assert replay_pending(paths) == Replay()  # nothing left, and no wait for the replayer
    pids = {line.split()[3] for line in (spool / LOG_FILE).read_text().splitlines()
            if "[replay " in line}  # fmt: skip
    assert len(pids) == 1, (spool / LOG_FILE).read_text()


def test_tag_filter_quotes_values_with_quotes() -> None:
    assert tag_filter({"a": "x", "b": "it's"}) == "tags.`a` = 'x' and tags.`b` = \"it's\""


# --- an unreachable http(s) tracking server ----------------------------------------------------


def closed_port() -> int:
    """A local port nothing listens on (bound, read, released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def silent_server() -> Iterator[str]:
    """A server that accepts connections (the kernel's backlog) but never reads or answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


@contextmanager
def http_server(status: int) -> Iterator[tuple[str, list[str]]]:
    """A local HTTP server answering ``status`` to every GET; yields its URI and the paths hit."""
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"OK")

        def log_message(self, format: str, *args: object) -> None:
            pass  # no request lines in the test output

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", hits
    finally:
        server.shutdown()
        server.server_close()


def mlflow_warnings(record: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in record if str(w.message).startswith("MLflow")]


def use_every_tracker_call(tracker: Tracker, folder: Path) -> None:
    tracker.log_params({"a": 1, "nested": {"b": "x"}})
    tracker.log_metrics({"m": 1.0}, step=1)
    tracker.set_tags({"k2": "v2"})
    tracker.log_split("alpha", folder, "abc", "training")
    tracker.log_artifacts(folder)


def test_with_no_server_the_stage_waits_for_nothing_and_the_replay_warns_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    uri = f"http://127.0.0.1:{closed_port()}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    (tmp_path / "artifact.txt").write_text("x")
    paths = Paths(tmp_path)
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the stage does not even try the server
        for kind in ("train", "evaluate"):
            with tracked_run(
                paths,
                MlflowConfig(),
                run_name=kind,
                tags={TAG_RUN_KIND: kind},
                parent=group(),
                parent_name="alpha/lstm",
            ) as tracker:
                with child_run(tracker, "fold 0") as fold:
                    use_every_tracker_call(fold, tmp_path / "artifact.txt")
                use_every_tracker_call(tracker, tmp_path / "artifact.txt")
    assert time.perf_counter() - started < 2
    assert tracker.enabled and fold.enabled
    started = time.perf_counter()
    with pytest.warns(UserWarning) as record:
        result = replay_pending(paths)
    # Well under a second in fact; the bound only guards against MLflow's minutes of retries.
    assert time.perf_counter() - started < 10
    assert len(result.kept) == 2 and len(published(tmp_path / SPOOL_NAME)) == 2
    (message,) = mlflow_warnings(record.list)
    assert uri in message and "ConnectionRefusedError" in message
    assert "MLFLOW_TRACKING_URI" in message and TIMEOUT_VARIABLE in message
    assert "later replay" in message


def test_a_server_that_never_answers_costs_the_timeout_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TIMEOUT_VARIABLE, "0.5")
    paths = Paths(tmp_path)
    with silent_server() as uri:
        monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
        (tmp_path / "artifact.txt").write_text("x")
        for _ in range(2):
            with tracked_run(paths, MlflowConfig(), tags={"k": "v"}) as t:
                use_every_tracker_call(t, tmp_path / "artifact.txt")
        started = time.perf_counter()
        with pytest.warns(UserWarning) as record:
            assert len(replay_pending(paths).kept) == 2
        elapsed = time.perf_counter() - started
    assert 0.4 < elapsed < 5
    (message,) = mlflow_warnings(record.list)
    assert uri in message and "no answer within 0.5 s" in message


@pytest.mark.parametrize("status", [200, 401, 404])
def test_any_http_answer_means_reachable(status: int) -> None:
    """A proxy's 401 or 404 still answers: only refusals and silence count as unreachable."""
    with http_server(status) as (uri, hits):
        assert probe(uri + "/", timeout=5) is None
        assert hits == ["/health"]
        ensure_reachable(uri)
        ensure_reachable(uri)  # cached: one request for both
    assert hits == ["/health", "/health"]


def test_the_server_is_asked_once_per_replay(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked: list[str] = []

    def refused(uri: str, timeout: float) -> str:
        checked.append(uri)
        return "ConnectionRefusedError: [Errno 111] Connection refused"

    monkeypatch.setattr(replay_module, "probe", refused)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "https://mlflow.example/")
    paths = Paths(tmp_path)
    for value in (1.0, 2.0):  # train, evaluate
        with tracked_run(paths, MlflowConfig(), tags={"k": "v"}) as tracker:
            tracker.log_metrics({"m": value})
    with pytest.warns(UserWarning) as record:
        assert len(replay_pending(paths).kept) == 2
    assert checked == ["https://mlflow.example/"]
    assert len(mlflow_warnings(record.list)) == 1


def test_only_http_uris_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    def never(uri: str, timeout: float) -> str:
        raise AssertionError(f"checked {uri}")

    monkeypatch.setattr(tracking, "probe", never)
    for uri in ("sqlite:///mlflow.db", "file:///tmp/mlruns", "/tmp/mlruns", "databricks"):
        ensure_reachable(uri)
    with pytest.raises(TrackingUnavailable, match="HTTP://x:1 is unreachable"):
        monkeypatch.setattr(tracking, "probe", lambda uri, timeout: "down")
        ensure_reachable("HTTP://x:1")


def test_registration_with_no_server_is_one_warning_for_all_datasets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = Paths(tmp_path)
    datasets = ("alpha", "beta", "gamma")
    for dataset in datasets:  # best_model needs only each model's validation F1
        write_json(
            paths.run(dataset, "tfidf_logreg", 42) / RUN_INFO_FILE,
            {"training": {"val": {"f1_macro": 0.8}}},
        )
    params = Params(
        datasets={d: {} for d in datasets},
        models={
            family_of("tfidf_logreg"): ["tfidf_logreg"]
        },  # stages read only the families they run
        train={"tfidf_logreg": {}},
    )
    uri = f"http://127.0.0.1:{closed_port()}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    started = time.perf_counter()
    with pytest.warns(UserWarning) as record:
        assert register_best_models(params, paths) == {}
        assert register_best_models(params, paths) == {}  # a second pass stays quiet too
    assert time.perf_counter() - started < 10
    (message,) = mlflow_warnings(record.list)
    assert uri in message and "report is unaffected" in message


def test_an_unreachable_registry_server_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Runs in a local sqlite store, models registered on a server that is down."""
    import mlflow

    paths = Paths(tmp_path)
    write_json(
        paths.run("alpha", "tfidf_logreg", 42) / RUN_INFO_FILE,
        {"training": {"val": {"f1_macro": 0.8}}},
    )
    params = Params(
        datasets={"alpha": {}},
        models={
            family_of("tfidf_logreg"): ["tfidf_logreg"]
        },  # stages read only the families they run
        train={"tfidf_logreg": {}},
    )
    uri = f"http://127.0.0.1:{closed_port()}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.setenv("MLFLOW_REGISTRY_URI", uri)
    monkeypatch.chdir(tmp_path)  # MLflow's default artifact root (./mlruns) would go here
    try:
        with pytest.warns(UserWarning, match=f"registry server {uri} is unreachable") as record:
            assert register_best_models(params, paths) == {}
    finally:
        mlflow.set_tracking_uri(None)  # forget this store; monkeypatch restores the environment
    (message,) = mlflow_warnings(record.list)
    assert "unset MLFLOW_REGISTRY_URI" in message


def test_a_bad_timeout_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    for raw in ("soon", "0", "-1", "nan", "inf"):
        monkeypatch.setenv(TIMEOUT_VARIABLE, raw)
        with pytest.warns(UserWarning, match=f"{TIMEOUT_VARIABLE}='{raw}' is not a positive"):
            assert check_timeout() == 5.0
    monkeypatch.setenv(TIMEOUT_VARIABLE, " 0.25 ")
    assert check_timeout() == 0.25
    monkeypatch.delenv(TIMEOUT_VARIABLE)
    assert check_timeout() == 5.0


def test_mlflow_http_retries_are_capped_unless_the_user_set_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from mlflow import environment_variables as mlflow_env

    for name in MLFLOW_HTTP_LIMITS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "300")
    limit_mlflow_retries()
    # The names are MLflow's own, read at each request (so after mlflow is imported, too).
    assert mlflow_env.MLFLOW_HTTP_REQUEST_MAX_RETRIES.get() == 2
    assert mlflow_env.MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR.get() == 1
    assert mlflow_env.MLFLOW_HTTP_REQUEST_TIMEOUT.get() == 300
    assert os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"] == "300"


def test_the_report_summarises_each_parent_run(tmp_path: Path, sqlite_store: Any) -> None:
    from fakenews.tracking.parents import summarise_parent_runs

    paths = Paths(tmp_path)
    params = Params(
        datasets={"alpha": {}},
        models={family_of("lstm"): ["lstm"]},
        train={"lstm": {}},
        mlflow=MlflowConfig(experiment="tree"),
    )
    trackers = []
    for seed in ("42", "43"):
        for kind in ("train", "evaluate"):
            with tracked_run(
                paths,
                params.section("mlflow", MlflowConfig),
                run_name=f"seed-{seed} {kind}",
                tags={TAG_RUN_KIND: kind, TAG_SEED: seed},
                parent=group(),
                parent_name="alpha/lstm",
            ) as child:
                time.sleep(0.01)
            trackers.append(child)
    run_ids = replayed(paths).run_ids
    children = [sqlite_store.get_run(run_ids[t.key]) for t in trackers]
    row = {
        "runs": 2, "seeds": [42, 43], "serving_seed": 43, "val_f1_macro": 0.7,
        **{k: 0.6 for k in ("accuracy", "f1_macro", "roc_auc")},
        **{f"{k}_std": 0.01 for k in ("accuracy", "f1_macro", "roc_auc")},
    }  # fmt: skip
    assert summarise_parent_runs({"alpha": {"lstm": row}}, params, paths) == 1
    parent = sqlite_store.get_run(children[0].data.tags[MLFLOW_PARENT_RUN_ID])
    assert parent.data.metrics["test_f1_macro_mean"] == 0.6
    assert parent.data.metrics["test_f1_macro_std"] == 0.01 and parent.data.metrics["runs"] == 2
    assert parent.data.tags["fakenews.serving_seed"] == "43"
    # The parent now spans its runs: it ends when its last child ended.
    assert parent.info.end_time == max(c.info.end_time for c in children)


def test_a_queued_experiment_tracks_into_the_repository_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fakenews.tracking.client import tracking_home, tracking_uri

    repo = tmp_path / "repo"
    queued = Paths(repo / ".dvc" / "tmp" / "exps" / "tmpab12cd")  # DVC's temporary copy
    assert tracking_home(queued) == Paths(repo)
    assert tracking_home(Paths(repo)) == Paths(repo)
    assert tracking_home(Paths(tmp_path / "exps" / "x")) == Paths(tmp_path / "exps" / "x")
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert tracking_uri(queued) == f"sqlite:///{repo / 'mlflow.db'}"
