"""Where the MLflow UI shows this project's training runs, and starting it on that page.

MLflow 3's UI opens an experiment on its GenAI overview (traces) unless the URL names another
page: the ``mlflow.experimentKind`` tag the stages set does not choose it (3.17's bundled UI
decides by a ``workflowType`` it keeps in the browser's local storage, GenAI by default, and has
no server option for it). ``#/experiments/<id>/runs`` always opens the runs table, so every
pointer to the UI (the end of `fakenews repro`, `fakenews mlflow-ui`, `make mlflow-ui`) is that
URL, with the experiment's id looked up in the tracking store: ids are given in creation order,
so a store that held another experiment first gives ``fakenews`` another id than 1.
"""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from fakenews.core.errors import InputError, ParamsError
from fakenews.core.params import load_params
from fakenews.core.paths import Paths
from fakenews.tracking.client import (
    MlflowConfig,
    TrackingUnavailable,
    ensure_reachable,
    is_server,
    tracking_uri,
)

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 5000
# The sidebar follows this query parameter: without it, a browser that never chose "Model
# training" shows the runs table under a GenAI sidebar.
RUNS_PAGE = "#/experiments/{id}/runs?workflowType=machine_learning"


def runs_table_url(base: str, experiment_id: str) -> str:
    """The page of ``base``'s UI that lists the experiment's training runs."""
    return f"{base.rstrip('/')}/{RUNS_PAGE.format(id=experiment_id)}"


def sqlite_file(uri: str) -> Path | None:
    """The database file of a ``sqlite:///`` URI, None for any other store."""
    prefix = "sqlite:///"
    return Path(uri[len(prefix) :]) if uri.startswith(prefix) else None


def experiment_id(uri: str, name: str) -> str | None:
    """The id of the active experiment ``name`` in the store at ``uri``; None when the store or
    the experiment does not exist yet (nothing was tracked), or the server does not answer."""
    database = sqlite_file(uri)
    if database is not None and not database.is_file():
        return None  # MlflowClient would create an empty database here
    try:
        ensure_reachable(uri)
    except TrackingUnavailable:
        return None
    logging.getLogger("alembic").setLevel(logging.WARNING)
    from mlflow.tracking import MlflowClient

    try:
        experiment = MlflowClient(tracking_uri=uri).get_experiment_by_name(name)
    except Exception as error:  # tracking is best effort: a broken store is a warning here
        log.warning("MLflow: could not look up experiment %r in %s: %s", name, uri, error)
        return None
    if experiment is None or experiment.lifecycle_stage != "active":
        return None
    return str(experiment.experiment_id)


def experiment_name(paths: Paths) -> str:
    return load_params(paths.params_file).section("mlflow", MlflowConfig).experiment


@dataclass(frozen=True)
class UiTarget:
    """What to open: the store, the UI serving it, and the runs page (None: nothing tracked)."""

    uri: str
    experiment: str
    base: str
    url: str | None

    def page(self) -> str:
        return self.url or self.base

    def missing(self) -> str:
        """Why there is no runs page yet: one line."""
        return (
            f"no MLflow experiment '{self.experiment}' in {self.uri} yet (run `make repro`), "
            "or its server does not answer"
        )


def ui_target(
    paths: Paths, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, experiment: str | None = None
) -> UiTarget:
    """The project's runs page: on its tracking server, or on a local `mlflow ui` at host:port."""
    uri = tracking_uri(paths)
    name = experiment or experiment_name(paths)
    base = uri if is_server(uri) else f"http://{host}:{port}"
    found = experiment_id(uri, name)
    return UiTarget(uri, name, base, runs_table_url(base, found) if found else None)


def ui_command(uri: str, host: str, port: int) -> list[str]:
    """`mlflow ui` on the project's store, from this environment's mlflow."""
    mlflow = Path(sys.executable).with_name("mlflow")
    program = str(mlflow) if mlflow.is_file() else "mlflow"
    return [program, "ui", "--backend-store-uri", uri, "--host", host, "--port", str(port)]


def start_ui(target: UiTarget, host: str, port: int) -> None:
    """Replace this process with `mlflow ui` (Ctrl-C stops it, as when started by hand)."""
    command = ui_command(target.uri, host, port)
    # No GenAI job runner (six huey consumer processes on `mlflow ui`'s start): nothing here
    # runs MLflow jobs, and they compete with the stages for the cores.
    os.environ.setdefault("MLFLOW_SERVER_ENABLE_JOB_EXECUTION", "false")
    sys.stdout.flush()
    os.execvp(command[0], command)


def open_ui(paths: Paths, host: str, port: int, url_only: bool = False) -> bool:
    """`fakenews mlflow-ui`: print the runs page, then start `mlflow ui` on a local store (a
    tracking server serves its own). False when nothing is tracked yet and only the URL was
    asked for (the UI is still started otherwise: it shows the store as it fills)."""
    try:
        target = ui_target(paths, host, port)
    except ParamsError as error:  # the experiment's name is params.yaml's mlflow.experiment
        raise InputError(str(error)) from None
    if target.url is None:
        print(f"fakenews: {target.missing()}", file=sys.stderr)
    if url_only:
        print(target.page())
        return target.url is not None
    if is_server(target.uri):
        print(f"MLflow runs: {target.page()} (served by the tracking server)")
        return True
    print(f"MLflow runs: {target.page()} once `mlflow ui` below is up (Ctrl-C stops it)")
    start_ui(target, host, port)
    return True
