"""MLflow tracking for the stages: one run per train execution, evaluation added to it.

The default backend is ``sqlite:///<repo root>/mlflow.db`` (``MLFLOW_TRACKING_URI`` overrides).
Tracking is best effort: any MLflow failure is turned into one warning and the stage goes on.

An ``http(s)://`` tracking server is checked once per process and URI before the first MLflow
call (``GET <uri>/health``; any HTTP answer will do): one that does not answer within
``FAKENEWS_TRACKING_TIMEOUT`` seconds (default 5; an environment variable, not a param, so that
changing it retrains nothing) is one warning, and the stage goes on untracked instead of waiting
minutes for MLflow's retries. For a server that goes away later, this module caps MLflow's own
retries unless the environment sets them: ``MLFLOW_HTTP_REQUEST_MAX_RETRIES=2``,
``MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR=1``, ``MLFLOW_HTTP_REQUEST_TIMEOUT=30`` (MLflow's defaults:
7, 2 and 120 s). MLflow reads them at each request; they are set when this module is imported.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import math
import os
import subprocess
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from fakenews.config import MlflowConfig
from fakenews.paths import Paths

log = logging.getLogger(__name__)

TAG_DATASET = "fakenews.dataset"
TAG_MODEL = "fakenews.model"
TAG_MODEL_HASH = "fakenews.model_hash"
TAG_CONFIG_HASH = "fakenews.config_hash"

TIMEOUT_VARIABLE = "FAKENEWS_TRACKING_TIMEOUT"
DEFAULT_TIMEOUT = 5.0
# MLflow's defaults (7 retries, back-off factor 2, 120 s a request) spend minutes on every call
# to a server that went away mid-run; these bound that to seconds. Strings: MLflow parses ints.
MLFLOW_HTTP_LIMITS = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "30",
}


def limit_mlflow_retries() -> None:
    """Cap MLflow's HTTP retries for this process, keeping whatever the user set."""
    for name, value in MLFLOW_HTTP_LIMITS.items():
        os.environ.setdefault(name, value)


# At import: the stages import this module before they start importing mlflow in the background.
limit_mlflow_retries()


def tracking_uri(paths: Paths) -> str:
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{paths.mlflow_db}"


class TrackingUnavailable(RuntimeError):
    """An http(s) tracking or registry server did not answer; the message says what to do.

    Not a FakenewsError: it must never fail a stage, only switch tracking off.
    """

    def __init__(self, uri: str, reason: str, variable: str = "MLFLOW_TRACKING_URI") -> None:
        self.uri, self.reason, self.variable = uri, reason, variable
        kind = "registry" if variable == "MLFLOW_REGISTRY_URI" else "tracking"
        super().__init__(
            f"{kind} server {uri} is unreachable ({reason}); start the server, or fix or "
            f"unset {variable}, or raise {TIMEOUT_VARIABLE} if it is only slow"
        )


def check_timeout() -> float:
    """Seconds the reachability check may take: ``FAKENEWS_TRACKING_TIMEOUT``, default 5."""
    raw = os.environ.get(TIMEOUT_VARIABLE, "").strip()
    if not raw:
        return DEFAULT_TIMEOUT
    try:
        seconds = float(raw)
    except ValueError:
        seconds = math.nan
    if not 0 < seconds < math.inf:  # NaN fails this too
        warnings.warn(
            f"{TIMEOUT_VARIABLE}={raw!r} is not a positive number of seconds; "
            f"using {DEFAULT_TIMEOUT:g}",
            stacklevel=2,
        )
        return DEFAULT_TIMEOUT
    return min(seconds, threading.TIMEOUT_MAX)


OS_ERROR_MODULES = frozenset({"builtins", "socket", "ssl"})


def root_cause(error: BaseException) -> str:
    """The OS error under requests' and urllib3's wrappers ("ConnectionRefusedError: ...")."""
    found: BaseException = error
    todo, seen = [error], set()
    while todo:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, OSError) and type(current).__module__ in OS_ERROR_MODULES:
            found = current  # the deepest one wins
        links = [current.__cause__, current.__context__, getattr(current, "reason", None)]
        links += list(current.args)
        todo += [link for link in links if isinstance(link, BaseException)]
    return f"{type(found).__name__}: {found}"


def probe(uri: str, timeout: float) -> str | None:
    """None if ``<uri>/health`` gives any HTTP answer within ``timeout`` seconds, else why not.

    Any status counts (a proxy's 401, 403 or 404 too): what matters is only whether MLflow's
    requests would be refused or hang. requests is used for the proxy and CA settings MLflow's
    own requests use. The request runs on a daemon thread, so that the wait is ``timeout`` in
    all: requests applies it to connecting and to each read, and not to resolving the name.
    """
    import requests  # only for http(s) URIs, where mlflow imports it anyway

    url = uri.rstrip("/") + "/health"
    outcome: list[str | None] = []

    def get() -> None:
        try:
            with requests.get(url, timeout=timeout, allow_redirects=False, stream=True):
                outcome.append(None)
        except requests.exceptions.SSLError:
            outcome.append(None)  # it answered: a certificate problem is MLflow's to report
        except requests.exceptions.Timeout:
            outcome.append(f"no answer within {timeout:g} s")
        except Exception as error:
            outcome.append(root_cause(error))

    worker = threading.Thread(target=get, name="fakenews-tracking-check", daemon=True)
    worker.start()
    worker.join(timeout)
    return outcome[0] if outcome else f"no answer within {timeout:g} s"


@functools.cache
def unreachable(uri: str) -> str | None:
    """Why ``uri`` cannot be reached, None if it answers: checked once per process and URI."""
    return probe(uri, check_timeout())


# URIs already warned about: one warning per process, however many runs or datasets follow.
_warned: set[str] = set()


def forget_reachability() -> None:
    """Check and warn afresh at the next :func:`connect` (tests; long-lived processes)."""
    unreachable.cache_clear()
    _warned.clear()


def ensure_reachable(uri: str, variable: str = "MLFLOW_TRACKING_URI") -> None:
    """Raise :class:`TrackingUnavailable` if ``uri`` is an http(s) server that does not answer.

    Other URIs (sqlite, file paths, databricks, ...) are not checked: nothing there retries for
    minutes the way MLflow's HTTP client does.
    """
    if not uri.lower().startswith(("http://", "https://")):
        return
    reason = unreachable(uri)
    if reason is not None:
        raise TrackingUnavailable(uri, reason, variable)


def warn_unavailable(error: TrackingUnavailable, consequence: str, stacklevel: int = 2) -> None:
    """Warn about ``error`` once per URI and process; later runs and registrations stay quiet."""
    if error.uri in _warned:
        log.debug("MLflow: %s", error)
        return
    _warned.add(error.uri)
    warnings.warn(f"MLflow: {error}; {consequence}", stacklevel=stacklevel + 1)


def connect(paths: Paths, config: MlflowConfig) -> Any:
    """The ``mlflow`` module pointed at this project's backend, with its experiment set.

    Raises :class:`TrackingUnavailable` (cached, so at once after the first time) when an
    http(s) server does not answer, before importing mlflow.
    """
    ensure_reachable(tracking_uri(paths))
    logging.getLogger("alembic").setLevel(logging.WARNING)
    import mlflow

    # Read before set_tracking_uri, which exports MLFLOW_TRACKING_URI itself.
    default_backend = "MLFLOW_TRACKING_URI" not in os.environ
    mlflow.set_tracking_uri(tracking_uri(paths))
    experiment = mlflow.get_experiment_by_name(config.experiment)
    if experiment is None:
        # Keep artifacts beside the database, not wherever the stage happens to run.
        artifacts = paths.mlflow_artifacts.as_uri() if default_backend else None
        mlflow.create_experiment(config.experiment, artifact_location=artifacts)
    mlflow.set_experiment(config.experiment)
    return mlflow


def git_commit(root: Path) -> str:
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        )
        return result.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def split_data_hash(paths: Paths, dataset: str) -> str | None:
    """The md5 DVC recorded in dvc.lock for this dataset's split output."""
    try:
        lock = yaml.safe_load(paths.dvc_lock.read_text(encoding="utf-8"))
        outs = lock["stages"][f"split@{dataset}"]["outs"]
        return str(outs[0]["md5"])
    except (OSError, KeyError, IndexError, TypeError, yaml.YAMLError):
        return None


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def numeric_only(data: Mapping[str, Any]) -> dict[str, float]:
    return {
        k: float(v)
        for k, v in flatten(data).items()
        if isinstance(v, int | float) and not isinstance(v, bool) and v == v
    }


class Tracker:
    """Thin, failure-proof wrapper over one MLflow run.

    The run opens lazily: calls made while mlflow is still importing in the background are kept
    (metrics with their own timestamps) and replayed once it is ready, at the first call after
    that or at the end. So a long fit shows live curves from its first epochs on, and a short
    stage never waits for the import before its work.
    """

    def __init__(self, paths: Paths, config: MlflowConfig) -> None:
        self.paths = paths
        self.config = config
        self.enabled = True
        self._mlflow: Any = None
        self.run_id: str | None = None
        self._opener: Callable[[], None] | None = None
        self._pending: list[Callable[[], None]] = []
        self._import: threading.Thread | None = None

    def _fail(self, what: str, error: BaseException) -> None:
        if self.enabled and isinstance(error, TrackingUnavailable):
            warn_unavailable(error, "this stage goes on untracked", stacklevel=3)
        elif self.enabled:
            warnings.warn(
                f"MLflow: {what} failed ({type(error).__name__}: {error}); "
                "tracking is off for the rest of this stage",
                stacklevel=3,
            )
        self.enabled = False

    def _client(self) -> Any:
        if self._mlflow is None:
            self._mlflow = connect(self.paths, self.config)
        return self._mlflow

    def start(self, run_name: str, tags: dict[str, str]) -> None:
        try:
            mlflow = self._client()
            run = mlflow.start_run(run_name=run_name, tags=tags)
            self.run_id = run.info.run_id
        except Exception as error:
            self._fail("starting a run", error)

    def resume(self, tags: dict[str, str]) -> bool:
        """Reopen the newest run carrying all ``tags`` (the train run of this model)."""
        try:
            mlflow = self._client()
            query = " and ".join(f"tags.`{k}` = '{v}'" for k, v in tags.items())
            runs = mlflow.search_runs(
                experiment_names=[self.config.experiment],
                filter_string=query,
                order_by=["attributes.start_time DESC"],
                max_results=1,
                output_format="list",
            )
            if not runs:
                log.warning("MLflow: no train run with %s; evaluation is not logged", tags)
                self.enabled = False
                return False
            self.run_id = runs[0].info.run_id
            mlflow.start_run(run_id=self.run_id)
            return True
        except Exception as error:
            self._fail("finding the train run", error)
            return False

    def open_later(self, opener: Callable[[], None], preload: threading.Thread | None) -> None:
        """Run ``opener`` (start or resume) once ``preload`` has imported mlflow (None: now)."""
        self._opener, self._import = opener, preload
        if preload is None:
            self._ready()

    def _ready(self, wait: bool = False) -> bool:
        """True when the run is open (opening it now if mlflow has finished importing)."""
        if self._opener is None:
            return True
        if self._import is not None:
            if not wait and self._import.is_alive():
                return False
            self._import.join()  # never import in two threads at once
        opener, self._opener = self._opener, None
        opener()
        pending, self._pending = self._pending, []
        for call in pending:
            call()
        return True

    def _call(self, call: Callable[[], None]) -> None:
        if not self.enabled:
            return
        if self._ready():
            call()
        else:
            self._pending.append(call)

    def log_params(self, params: Mapping[str, Any]) -> None:
        flat = {k: str(v)[:6000] for k, v in flatten(params).items()}

        def call() -> None:
            if self.enabled:
                try:
                    self._mlflow.log_params(flat)
                except Exception as error:
                    self._fail("logging params", error)

        self._call(call)

    def log_metrics(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        values, timestamp = numeric_only(metrics), int(time.time() * 1000)

        def call() -> None:
            if self.enabled:
                try:
                    self._mlflow.log_metrics(values, step=step, timestamp=timestamp)
                except Exception as error:
                    self._fail("logging metrics", error)

        self._call(call)

    def set_tags(self, tags: Mapping[str, str]) -> None:
        tags = dict(tags)

        def call() -> None:
            if self.enabled:
                try:
                    self._mlflow.set_tags(tags)
                except Exception as error:
                    self._fail("setting tags", error)

        self._call(call)

    def log_artifacts(self, path: Path, artifact_path: str | None = None) -> None:
        # Files are copied when the call runs: callers log only outputs already final.
        def call() -> None:
            if self.enabled:
                try:
                    if Path(path).is_dir():
                        self._mlflow.log_artifacts(str(path), artifact_path=artifact_path)
                    else:
                        self._mlflow.log_artifact(str(path), artifact_path=artifact_path)
                except Exception as error:
                    self._fail("logging artifacts", error)

        self._call(call)

    def end(self, status: str = "FINISHED") -> None:
        if self.enabled:
            self._ready(wait=True)
        if self._mlflow is not None and self.run_id is not None:
            try:
                self._mlflow.end_run(status=status)
            except Exception as error:
                self._fail("ending the run", error)


@contextmanager
def tracked_run(
    paths: Paths,
    config: MlflowConfig,
    *,
    run_name: str | None = None,
    tags: dict[str, str],
    resume: bool = False,
    preload: threading.Thread | None = None,
) -> Iterator[Tracker]:
    """A run for the duration of the block; marked FAILED if the block raises.

    ``preload``: a thread importing mlflow (:func:`import_in_background`); the run then opens
    once it has finished (see :class:`Tracker`), so the block's work starts at once.
    """
    tracker = Tracker(paths, config)
    if resume:
        tracker.open_later(lambda: tracker.resume(tags), preload)
    else:
        tracker.open_later(lambda: tracker.start(run_name or "run", tags), preload)
    try:
        yield tracker
    except BaseException:
        tracker.end("FAILED")
        raise
    tracker.end()


def parent_tags(dataset: str, model_name: str, config: Any) -> dict[str, str]:
    """What groups a model's runs in MLflow: the same dataset, model and config but the seed."""
    settings = config.model_dump(mode="json")
    settings.pop("seed", None)
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:12]
    return {TAG_DATASET: dataset, TAG_MODEL: model_name, TAG_CONFIG_HASH: digest}


def train_tags(paths: Paths, dataset: str, model: str) -> dict[str, str]:
    tags = {
        TAG_DATASET: dataset,
        TAG_MODEL: model,
        "git_commit": git_commit(paths.root),
    }
    data_hash = split_data_hash(paths, dataset)
    if data_hash:
        tags["data_hash"] = data_hash
    exp_name = os.environ.get("DVC_EXP_NAME")
    if exp_name:
        tags["dvc_experiment"] = exp_name
    return tags
