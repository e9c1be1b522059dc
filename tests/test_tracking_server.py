"""`dvc repro` against a real MLflow tracking server (``mlflow server``), not the embedded sqlite.

The stages get ``MLFLOW_TRACKING_URI=http://127.0.0.1:<port>``; the test then reads what they
tracked through the server's REST API only: the experiment, the train run and its metrics, the
registered model and its version, and the artifacts the server wrote under its
``--artifacts-destination``. The stages journal their runs and background replayers send them;
the report stage replays what is left before registering. Once the server is stopped, the
stages still succeed within seconds, their runs kept in the spool, and the report warns once that
the server is unreachable; with the server back, `fakenews replay` sends the kept runs. The same
with a PostgreSQL backend store when PostgreSQL and a driver are installed (skipped otherwise).

The server is :func:`helpers.mlflow_server.start_mlflow_server`'s, which starts one on any backend
store URI.
"""

from __future__ import annotations

import importlib.util
import json
import os
import pwd
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers.mlflow_server import MlflowServer, answers, free_port, start_mlflow_server
from helpers.news import custom_datasets
from helpers.params import tiny_params
from helpers.repo import make_repo, stage_env, stages_run, target

pytestmark = pytest.mark.slow

DATASET = "alpha"
MODEL = "tfidf_logreg"
TRAIN_STAGE = f"train-linear@{DATASET}-{MODEL}-42"
EVALUATE_STAGE = f"evaluate-linear@{DATASET}-{MODEL}-42"
# fakenews.tracking.client's tag names and run kind, written out: the test reads the server, not
# the code.
TAG_MODEL, TAG_RUN_KIND = "fakenews.model", "fakenews.run_kind"


# --- an MLflow tracking server ------------------------------------------------------------------


@pytest.fixture
def sqlite_server(tmp_path: Path) -> Iterator[MlflowServer]:
    folder = tmp_path / "server"
    server = start_mlflow_server(f"sqlite:///{folder / 'server.db'}", folder)
    try:
        yield server
    finally:
        server.stop()


# --- PostgreSQL, when installed -----------------------------------------------------------------


def postgres_bin() -> Path | None:
    """The folder holding initdb and pg_ctl: on PATH, else Debian's /usr/lib/postgresql/<v>/bin."""
    found = shutil.which("pg_ctl")
    candidates = [Path(found).resolve().parent] if found else []
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    for folder in candidates:
        if all((folder / name).is_file() for name in ("initdb", "pg_ctl", "postgres")):
            return folder
    return None


def postgres_dialect() -> str | None:
    """The SQLAlchemy URI scheme for an installed PostgreSQL driver, named explicitly: a bare
    ``postgresql://`` means psycopg2 to SQLAlchemy 2.0 and psycopg (3) to SQLAlchemy 2.1."""
    for module, scheme in (("psycopg", "postgresql+psycopg"), ("psycopg2", "postgresql+psycopg2")):
        if importlib.util.find_spec(module) is not None:
            return scheme
    return None


@pytest.fixture
def postgres_uri() -> Iterator[str]:
    """A throwaway PostgreSQL cluster (trust auth, 127.0.0.1 and a socket in its own folder);
    yields the SQLAlchemy URI of its ``postgres`` database. initdb refuses to run as root: as
    root, the cluster runs as the ``postgres`` user (else ``nobody``), in a folder under the
    system temp dir that user owns (pytest's tmp_path is private to root)."""
    binaries, dialect = postgres_bin(), postgres_dialect()
    if binaries is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl, postgres) not found")
    if dialect is None:
        pytest.skip("no PostgreSQL driver (psycopg or psycopg2) for SQLAlchemy")
    as_user: dict[str, Any] = {}
    if os.geteuid() == 0:
        for name in ("postgres", "nobody"):
            try:
                user = pwd.getpwnam(name)
                break
            except KeyError:
                continue
        else:
            pytest.skip("running as root with no postgres or nobody user to run PostgreSQL as")
        as_user = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
    folder = Path(tempfile.mkdtemp(prefix="fakenews-pg-"))
    if as_user:
        os.chown(folder, as_user["user"], as_user["group"])
    data, log, port = folder / "data", folder / "postgres.log", free_port()
    env = {"PATH": os.environ.get("PATH", ""), "LANG": "C", "LC_ALL": "C"}

    def pg(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            args, cwd=folder, env=env, capture_output=True, text=True, timeout=120, **as_user
        )

    def logs(result: subprocess.CompletedProcess[str]) -> str:
        server_log = log.read_text(errors="replace")[-3000:] if log.is_file() else ""
        return f"{' '.join(result.args)}:\n{result.stdout}{result.stderr}\n{server_log}"

    try:
        init = pg(str(binaries / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                  "--no-locale", "-E", "UTF8", "--no-sync")  # fmt: skip
        assert init.returncode == 0, logs(init)
        options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        start = pg(str(binaries / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options,
                   "-w", "-t", "60", "start")  # fmt: skip
        assert start.returncode == 0, logs(start)
        try:
            yield f"{dialect}://postgres@127.0.0.1:{port}/postgres"
        finally:
            pg(str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# --- the pipeline's repo and the server's REST API ----------------------------------------------


def tiny_repo(tmp_path: Path) -> Path:
    """test_pipeline's repo, shrunk further: one dataset (k-fold, 3 folds), the baseline only."""
    params = tiny_params(custom_datasets(DATASET), [MODEL], seeds=42, split={"folds": 3})
    return make_repo(tmp_path / "repo", params)


def tracked(
    repo: Path, uri: str, *args: str, env: dict[str, str] | None = None
) -> tuple[int, str, float]:
    """Run a command as ``helpers.repo.run`` does, with MLflow pointed at ``uri`` (and ``env``
    added): its exit status, its stdout and stderr interleaved (a stage's warnings follow its
    "Running stage" line), and the seconds it took."""
    env = {**stage_env(repo), "MLFLOW_TRACKING_URI": uri, **(env or {})}
    started = time.monotonic()
    result = subprocess.run(
        args, cwd=repo, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    return result.returncode, result.stdout, time.monotonic() - started


def api(server: MlflowServer, path: str, body: dict[str, Any] | None = None, **query: str) -> Any:
    """One REST call: GET with ``query``, or POST ``body`` as JSON."""
    url = f"{server.uri}/api/2.0/mlflow/{path}"
    if query:
        url += "?" + urllib.parse.urlencode(query)
    request = urllib.request.Request(
        url,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="GET" if body is None else "POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        raise AssertionError(f"{request.method} {url}: {error.code} {error.read()!r}") from error


def tags_of(entity: dict[str, Any]) -> dict[str, str]:
    return {t["key"]: t["value"] for t in entity.get("data", entity).get("tags", [])}


def on_disk(server: MlflowServer, artifact_uri: str) -> Path:
    """Where the server keeps ``mlflow-artifacts:/<path>``: <artifacts destination>/<path>."""
    parsed = urllib.parse.urlparse(artifact_uri)
    assert parsed.scheme == "mlflow-artifacts", artifact_uri
    return server.artifacts / parsed.path.lstrip("/")


def files_under(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def assert_tracked_on_server(server: MlflowServer, experiment_name: str) -> str:
    """The experiment, the train run with its metrics and model artifacts, and the registered
    best model of DATASET, all read back through the REST API; returns the train run's id."""
    experiment = api(server, "experiments/get-by-name", experiment_name=experiment_name)
    experiment = experiment["experiment"]
    assert experiment["artifact_location"].startswith("mlflow-artifacts:"), experiment

    found = api(
        server,
        "runs/search",
        {
            "experiment_ids": [experiment["experiment_id"]],
            "filter": f"tags.`{TAG_MODEL}` = '{MODEL}' and tags.`{TAG_RUN_KIND}` = 'train'",
        },
    )
    (train,) = found.get("runs", [])  # one train stage ran, with one seed
    assert train["info"]["status"] == "FINISHED", train["info"]
    metrics = {m["key"]: m["value"] for m in train["data"].get("metrics", [])}
    assert metrics, train
    model_files = on_disk(server, train["info"]["artifact_uri"]) / "model"
    assert files_under(model_files), f"no model files under {model_files}"

    name = f"fakenews-{DATASET}"
    registered = api(server, "registered-models/get", name=name)["registered_model"]
    assert registered["name"] == name
    versions = api(server, "model-versions/search", filter=f"name = '{name}'")
    versions = versions.get("model_versions", [])
    assert versions, f"{name} has no version"
    for version in versions:
        register_run = api(server, "runs/get", run_id=version["run_id"])["run"]
        register_tags = tags_of(register_run)
        assert register_tags[TAG_MODEL] == MODEL and register_tags[TAG_RUN_KIND] == "register"
        assert register_tags["train_run_id"] == train["info"]["run_id"]
        # The pyfunc the version serves: an MLflow 3 logged model (source models:/<model id>;
        # the REST answer has no model_id field) stored under the experiment's artifacts.
        assert version["status"] == "READY" and version["source"].startswith("models:/"), version
        model_id = version["source"].removeprefix("models:/")
        logged = api(server, f"logged-models/{model_id}")["model"]
        pyfunc = on_disk(server, logged["info"]["artifact_uri"])
        stored = files_under(pyfunc)
        assert "MLmodel" in stored, f"no MLmodel under {pyfunc}: {stored}"
        assert any(f.startswith("artifacts/") for f in stored), stored  # the model folder
        # ... bundled with its calibrator and domain profile: the served model.
        assert "artifacts/model_dir/calibration.json" in stored, stored
        assert "artifacts/model_dir/domain/profile.json" in stored, stored
    return str(train["info"]["run_id"])


# --- the tests ----------------------------------------------------------------------------------


def spooled(repo: Path) -> list[str]:
    """The run journals waiting in the repo's spool (fakenews.tracking.journal's names)."""
    spool = repo / ".mlflow-spool"
    return sorted(p.name for p in spool.iterdir() if p.is_dir() and p.name[0].isdigit())


def evaluate_runs(server: MlflowServer, experiment_name: str) -> list[dict[str, Any]]:
    experiment = api(server, "experiments/get-by-name", experiment_name=experiment_name)
    found = api(
        server,
        "runs/search",
        {
            "experiment_ids": [experiment["experiment"]["experiment_id"]],
            "filter": f"tags.`{TAG_RUN_KIND}` = 'evaluate'",
        },
    )
    return list(found.get("runs", []))


def test_the_pipeline_tracks_to_a_server_and_survives_losing_it(
    tmp_path: Path, real_params: dict[str, Any], sqlite_server: MlflowServer
) -> None:
    repo = tiny_repo(tmp_path)
    experiment = real_params["mlflow"]["experiment"]
    # As `dvc repro` runs for a user: each stage starts a background replayer.
    background = {"FAKENEWS_TRACKING_REPLAY": "background"}
    code, output, _ = tracked(repo, sqlite_server.uri, "dvc", "repro", "report", env=background)
    assert code == 0, output
    assert {TRAIN_STAGE, EVALUATE_STAGE, "report"} <= stages_run(output)
    assert "is unreachable" not in output and "Warning: MLflow" not in output, output
    assert_tracked_on_server(sqlite_server, experiment)
    # Everything went to the server: no embedded store in the repo, nothing left to replay.
    assert not (repo / "mlflow.db").exists() and not (repo / "mlartifacts").exists()
    assert spooled(repo) == []
    assert len(evaluate_runs(sqlite_server, experiment)) == 1

    # The server goes away: the stages run as before, their runs wait in the spool, and the
    # report (which replays and registers) warns once.
    sqlite_server.stop()
    assert not answers(f"{sqlite_server.uri}/health")
    outputs = [
        repo / "metrics" / DATASET / MODEL / "seed-42.json",
        repo / "reports" / "report.md",
        repo / "metrics" / "summary.json",
    ]
    before = {path: path.stat().st_mtime_ns for path in outputs}
    code, output, seconds = tracked(
        repo, sqlite_server.uri, "dvc", "repro", "-f", "-s", target(EVALUATE_STAGE), "report"
    )
    assert code == 0, output
    assert stages_run(output) == {EVALUATE_STAGE, "report"}, output
    warning = f"tracking server {sqlite_server.uri} is unreachable"
    evaluate_part, report_part = output.split("Running stage '")[1:]
    assert warning not in evaluate_part and "Warning: MLflow" not in evaluate_part, output
    assert report_part.count(warning) == 1 and "ConnectionRefusedError" in report_part, output
    # The check fails at once on a refused connection: seconds, not MLflow's minutes of retries.
    assert seconds < 90, f"{seconds:.0f} s:\n{output}"
    for path in outputs:
        assert path.stat().st_mtime_ns > before[path], f"{path} was not rewritten"
    assert json.loads(outputs[0].read_text())["accuracy"] > 0.8
    assert not (repo / "mlflow.db").exists()
    assert len(spooled(repo)) == 1  # the evaluate stage's run

    # Back on the same address: a later replay sends the kept run.
    port = int(sqlite_server.uri.rsplit(":", 1)[1])
    folder = sqlite_server.artifacts.parent
    server = start_mlflow_server(f"sqlite:///{folder / 'server.db'}", folder, port=port)
    try:
        code, output, _ = tracked(repo, server.uri, "fakenews", "replay")
        assert code == 0 and "1 stage journals replayed, 0 kept" in output, output
        assert spooled(repo) == []
        runs = evaluate_runs(server, experiment)
        assert len(runs) == 2 and all(r["info"]["status"] == "FINISHED" for r in runs)
    finally:
        server.stop()


def test_the_pipeline_tracks_to_a_server_on_postgresql(
    tmp_path: Path, real_params: dict[str, Any], postgres_uri: str
) -> None:
    server = start_mlflow_server(postgres_uri, tmp_path / "server", timeout=120)
    try:
        repo = tiny_repo(tmp_path)
        code, output, _ = tracked(repo, server.uri, "dvc", "repro", "report")
        assert code == 0, output
        assert "is unreachable" not in output and "Warning: MLflow" not in output, output
        assert_tracked_on_server(server, real_params["mlflow"]["experiment"])
        assert not (repo / "mlflow.db").exists()
    finally:
        server.stop()
