from __future__ import annotations

import os
import socket
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from fakenews.core.config import Params
from fakenews.core.io import write_json
from fakenews.core.paths import RUN_INFO_FILE, Paths
from fakenews.core.settings import MlflowConfig
from fakenews.tracking import client as tracking
from fakenews.tracking.client import (
    EXPERIMENT_KIND,
    EXPERIMENT_KIND_TAG,
    MLFLOW_HTTP_LIMITS,
    MLFLOW_PARENT_RUN_ID,
    SPLIT_DIGEST_LENGTH,
    TAG_CONFIG_HASH,
    TAG_DATASET,
    TAG_MODEL,
    TAG_RUN_KIND,
    TAG_SEED,
    TIMEOUT_VARIABLE,
    TrackingUnavailable,
    check_timeout,
    ensure_reachable,
    flatten,
    limit_mlflow_retries,
    numeric_only,
    probe,
    tag_filter,
)
from fakenews.tracking.model_registry import register_best_models
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
    import mlflow

    runs = mlflow.search_runs(experiment_names=["t"], output_format="list")
    assert [run.info.run_id for run in runs] == [t.run_id]

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


# --- parent runs, children, the split as a dataset input, the experiment kind ----------------


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

    assert train.parent_run_id and train.parent_run_id == evaluate.parent_run_id
    assert other.parent_run_id and other.parent_run_id != train.parent_run_id
    experiment = sqlite_store.get_experiment_by_name("tree")
    parents = sqlite_store.search_runs(
        [experiment.experiment_id], filter_string=tag_filter({TAG_RUN_KIND: "parent"})
    )
    assert sorted(r.data.tags[TAG_CONFIG_HASH] for r in parents) == ["c1", "c2"]
    parent = sqlite_store.get_run(train.parent_run_id)
    assert parent.info.run_name == "alpha/lstm" and parent.info.status == "FINISHED"
    assert parent.data.tags[TAG_RUN_KIND] == "parent" and not parent.data.metrics
    assert MLFLOW_PARENT_RUN_ID not in parent.data.tags
    for child, kind in ((train, "train"), (evaluate, "evaluate")):
        run = sqlite_store.get_run(child.run_id)
        assert run.data.tags[MLFLOW_PARENT_RUN_ID] == train.parent_run_id
        assert run.data.tags[TAG_RUN_KIND] == kind and run.info.status == "FINISHED"
        assert {k: run.data.tags[k] for k in group()} == group()  # the parent's tags too
    assert sqlite_store.get_run(train.run_id).data.tags[TAG_SEED] == "1"
    assert set(sqlite_store.get_run(evaluate.run_id).data.metrics) == {"test_accuracy"}
    # The train run is not reopened: its end stays its own.
    assert sqlite_store.get_run(train.run_id).info.end_time < (
        sqlite_store.get_run(evaluate.run_id).info.start_time + 1
    )


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
    folds = [
        sqlite_store.get_run(r.info.run_id)
        for r in sqlite_store.search_runs(
            [sqlite_store.get_experiment_by_name("folds").experiment_id],
            filter_string=tag_filter({TAG_RUN_KIND: "fold"}),
        )
    ]
    assert len(folds) == 2
    for run in folds:
        assert run.data.tags[MLFLOW_PARENT_RUN_ID] == seed.run_id
        assert run.data.tags[TAG_SEED] == "7" and run.data.tags[TAG_DATASET] == "alpha"
        assert set(run.data.metrics) == {"val_f1"} and run.info.status == "FINISHED"
    seed_run = sqlite_store.get_run(seed.run_id)
    assert set(seed_run.data.metrics) == {"fold_done", "val_f1_mean"}
    assert seed_run.data.tags[MLFLOW_PARENT_RUN_ID] == seed.parent_run_id
    assert seed_run.info.status == "FINISHED"


def test_a_child_run_waits_for_the_background_import(tmp_path: Path, sqlite_store: Any) -> None:
    release = threading.Event()
    preload = threading.Thread(target=release.wait, daemon=True)  # stands in for the import
    preload.start()
    with tracked_run(
        Paths(tmp_path), MlflowConfig(experiment="lazy"), tags={"k": "v"}, preload=preload
    ) as seed:
        with child_run(seed, "fold 0") as fold:
            fold.log_metrics({"m": 1.0})
            assert seed.run_id is None and fold.run_id is None
            release.set()
        assert fold.run_id is not None and seed.run_id is not None
    run = sqlite_store.get_run(fold.run_id)
    assert run.data.tags[MLFLOW_PARENT_RUN_ID] == seed.run_id and run.data.metrics == {"m": 1.0}
    assert run.data.tags["k"] == "v" and run.data.tags[TAG_RUN_KIND] == "fold"


def test_the_split_is_the_runs_dataset_input(tmp_path: Path, sqlite_store: Any) -> None:
    split_dir = tmp_path / "data" / "splits" / "alpha"
    split_dir.mkdir(parents=True)
    manifest_hash = "0123456789abcdef" * 4
    paths = Paths(tmp_path)
    run_ids = []
    for context in ("training", "evaluation"):
        with tracked_run(paths, MlflowConfig(experiment="data"), tags={"k": context}) as tracker:
            tracker.log_split("alpha", split_dir, manifest_hash, context)
        run_ids.append(tracker.run_id)
    for run_id, context in zip(run_ids, ("training", "evaluation"), strict=True):
        (dataset_input,) = sqlite_store.get_run(run_id).inputs.dataset_inputs
        dataset = dataset_input.dataset
        assert dataset.name == "alpha-split"
        assert dataset.digest == manifest_hash[:SPLIT_DIGEST_LENGTH]
        assert dataset.source_type == "local" and str(split_dir) in dataset.source
        tags = {t.key: t.value for t in dataset_input.tags}
        assert tags == {"mlflow.data.context": context, "fakenews.manifest_hash": manifest_hash}


def test_the_experiment_opens_in_the_model_training_view(tmp_path: Path, sqlite_store: Any) -> None:
    import mlflow

    paths = Paths(tmp_path)
    with tracked_run(paths, MlflowConfig(experiment="new"), tags={"k": "v"}):
        pass
    assert sqlite_store.get_experiment_by_name("new").tags[EXPERIMENT_KIND_TAG] == EXPERIMENT_KIND
    # One made before the tag existed gets it; one whose kind a user chose keeps that.
    old = sqlite_store.create_experiment("old")
    chosen = sqlite_store.create_experiment("chosen", tags={EXPERIMENT_KIND_TAG: "finetuning"})
    for name in ("old", "chosen"):
        with tracked_run(paths, MlflowConfig(experiment=name), tags={"k": "v"}):
            pass
    assert EXPERIMENT_KIND == "custom_model_development"
    assert sqlite_store.get_experiment(old).tags[EXPERIMENT_KIND_TAG] == EXPERIMENT_KIND
    assert sqlite_store.get_experiment(chosen).tags[EXPERIMENT_KIND_TAG] == "finetuning"
    assert mlflow.get_experiment_by_name("new").tags[EXPERIMENT_KIND_TAG] == EXPERIMENT_KIND


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
    tracker.log_artifacts(folder)


def test_a_closed_port_is_one_warning_and_no_wait(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    uri = f"http://127.0.0.1:{closed_port()}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    (tmp_path / "artifact.txt").write_text("x")
    started = time.perf_counter()
    with (
        pytest.warns(UserWarning) as record,
        tracked_run(Paths(tmp_path), MlflowConfig(), run_name="r", tags={"k": "v"}) as tracker,
    ):
        use_every_tracker_call(tracker, tmp_path)
    # Well under a second in fact; the bound only guards against MLflow's minutes of retries.
    assert time.perf_counter() - started < 10
    (message,) = mlflow_warnings(record.list)
    assert uri in message and "ConnectionRefusedError" in message
    assert "MLFLOW_TRACKING_URI" in message and TIMEOUT_VARIABLE in message
    assert "untracked" in message
    assert not tracker.enabled and tracker.run_id is None


def test_parents_children_and_splits_with_no_server_are_one_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    uri = f"http://127.0.0.1:{closed_port()}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    started = time.perf_counter()
    with pytest.warns(UserWarning) as record:
        for kind in ("train", "evaluate"):
            with tracked_run(
                Paths(tmp_path),
                MlflowConfig(),
                run_name=kind,
                tags={TAG_RUN_KIND: kind},
                parent=group(),
                parent_name="alpha/lstm",
            ) as tracker:
                tracker.log_split("alpha", tmp_path, "abc", "training")
                with child_run(tracker, "fold 0") as fold:
                    use_every_tracker_call(fold, tmp_path)
                use_every_tracker_call(tracker, tmp_path)
    assert time.perf_counter() - started < 10
    (message,) = mlflow_warnings(record.list)
    assert uri in message and "untracked" in message
    assert not tracker.enabled and not fold.enabled and fold.run_id is None


def test_a_server_that_never_answers_costs_the_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TIMEOUT_VARIABLE, "0.5")
    with silent_server() as uri:
        monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
        started = time.perf_counter()
        with (
            pytest.warns(UserWarning) as record,
            tracked_run(Paths(tmp_path), MlflowConfig(), tags={"k": "v"}) as t,
        ):
            use_every_tracker_call(t, tmp_path)
        elapsed = time.perf_counter() - started
    assert 0.4 < elapsed < 5
    (message,) = mlflow_warnings(record.list)
    assert uri in message and "no answer within 0.5 s" in message
    assert not t.enabled


@pytest.mark.parametrize("status", [200, 401, 404])
def test_any_http_answer_means_reachable(status: int) -> None:
    """A proxy's 401 or 404 still answers: only refusals and silence count as unreachable."""
    with http_server(status) as (uri, hits):
        assert probe(uri + "/", timeout=5) is None
        assert hits == ["/health"]
        ensure_reachable(uri)
        ensure_reachable(uri)  # cached: one request for both
    assert hits == ["/health", "/health"]


def test_the_check_runs_once_per_process_and_uri(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked: list[str] = []

    def refused(uri: str, timeout: float) -> str:
        checked.append(uri)
        return "ConnectionRefusedError: [Errno 111] Connection refused"

    monkeypatch.setattr(tracking, "probe", refused)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "https://mlflow.example/")
    paths = Paths(tmp_path)
    with pytest.warns(UserWarning) as record:
        with tracked_run(paths, MlflowConfig(), tags={"k": "v"}) as first:  # train
            first.log_metrics({"m": 1.0})
        with tracked_run(paths, MlflowConfig(), tags={"k": "v"}) as second:  # evaluate
            second.log_metrics({"m": 2.0})
        warnings.warn("something else", stacklevel=1)  # pytest.warns needs one it expects
    assert checked == ["https://mlflow.example/"]
    assert len(mlflow_warnings(record.list)) == 1
    assert not first.enabled and not second.enabled


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
        models={"linear": ["tfidf_logreg"], "recurrent": [], "transformer": [], "embedding": []},
        train={"tfidf_logreg": {}},
    )
    uri = f"http://127.0.0.1:{closed_port()}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    started = time.perf_counter()
    with pytest.warns(UserWarning) as record:
        assert register_best_models(params, paths) == {}
        assert register_best_models(params, paths) == {}  # a second pass stays quiet too
        with tracked_run(paths, params.mlflow, tags={"k": "v"}) as tracker:
            tracker.log_metrics({"m": 1.0})
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
        models={"linear": ["tfidf_logreg"], "recurrent": [], "transformer": [], "embedding": []},
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
        models={"linear": [], "recurrent": ["lstm"], "transformer": [], "embedding": []},
        train={"lstm": {}},
        mlflow=MlflowConfig(experiment="tree"),
    )
    children = []
    for seed in ("42", "43"):
        for kind in ("train", "evaluate"):
            with tracked_run(
                paths,
                params.mlflow,
                run_name=f"seed-{seed} {kind}",
                tags={TAG_RUN_KIND: kind, TAG_SEED: seed},
                parent=group(),
                parent_name="alpha/lstm",
            ) as child:
                time.sleep(0.01)
            children.append(sqlite_store.get_run(child.run_id))
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
