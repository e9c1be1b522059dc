"""MLflow tracking for the stages: runs grouped under one parent run per model configuration.

Runs form a tree in the experiment (MLflow's nested runs, tag ``mlflow.parentRunId``)::

    alpha/lstm                 parent: a container, one per (dataset, model, config hash)
    ├── alpha/lstm seed 1      train child: one per seed, its own true duration
    │   ├── fold 0             fold grandchild (k-fold on small datasets), see child_run
    │   └── fold 1
    └── alpha/lstm evaluate    evaluate child: a run of its own, not the train run reopened

:func:`tracked_run` with ``parent=`` (the tags that identify the group) finds or creates the
parent and starts the run under it; :func:`child_run` nests a run under an open one.
:meth:`Tracker.log_split` records the split as the run's MLflow dataset input (the UI's
Datasets column). :func:`connect` marks the experiment as a model-training one, so that MLflow 3's
UI opens it in its classic runs view rather than the GenAI overview.

The default backend is ``sqlite:///<repo root>/mlflow.db`` (``MLFLOW_TRACKING_URI`` overrides), also
for an experiment DVC runs in a temporary copy of the repo (its queue).
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
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import yaml

from fakenews.core.config import MlflowConfig
from fakenews.core.paths import Paths

log = logging.getLogger(__name__)

TAG_DATASET = "fakenews.dataset"
TAG_MODEL = "fakenews.model"
TAG_MODEL_HASH = "fakenews.model_hash"
TAG_CONFIG_HASH = "fakenews.config_hash"
TAG_SEED = "fakenews.seed"
TAG_RUN_KIND = "fakenews.run_kind"
RUN_KIND_PARENT = "parent"  # the container of one (dataset, model, config) group
RUN_KIND_TRAIN = "train"
RUN_KIND_EVALUATE = "evaluate"
RUN_KIND_FOLD = "fold"
RUN_KINDS = (RUN_KIND_PARENT, RUN_KIND_TRAIN, RUN_KIND_EVALUATE, RUN_KIND_FOLD)
# MLflow's own tag naming a run's parent: the UI draws the tree from it.
MLFLOW_PARENT_RUN_ID = "mlflow.parentRunId"

# The experiment tag MLflow 3's UI reads to choose the experiment's page: "genai_development"
# opens the GenAI overview (traces, evaluations), "custom_model_development" ("Machine learning")
# the classic runs table. Found in mlflow 3.x's bundled UI,
# mlflow/server/js/build/static/js/main.*.js: the ExperimentKind enum (GENAI_DEVELOPMENT=
# "genai_development", CUSTOM_MODEL_DEVELOPMENT="custom_model_development", ...) and the hook
# reading `e.find(e => "mlflow.experimentKind" === e.key)`; chunk 2809.*.js sets it with
# setExperimentTag({key: "mlflow.experimentKind", ...}) when the user picks a kind. The Python
# side sets the same tag in mlflow/demo/generators/traces.py (to "genai_development").
EXPERIMENT_KIND_TAG = "mlflow.experimentKind"
EXPERIMENT_KIND = "custom_model_development"

# A split's dataset input: name "<dataset>-split", digest this many leading characters of the
# split manifest's hash (MLflow's datasets table holds at most 36; its own digests are 8-10).
SPLIT_DIGEST_LENGTH = 12

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


def tracking_home(paths: Paths) -> Paths:
    """The repository whose ``mlflow.db`` is the default backend.

    `dvc queue start` and `dvc exp run --temp` run an experiment in a temporary copy of the repo
    (``<repo>/.dvc/tmp/exps/...``), deleted when it ends: its runs go to the repository's own
    database, not into that copy.
    """
    for folder in paths.root.parents:
        if (folder.name, folder.parent.name, folder.parent.parent.name) == ("exps", "tmp", ".dvc"):
            return Paths(folder.parent.parent.parent)
    return paths


def tracking_uri(paths: Paths) -> str:
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{tracking_home(paths).mlflow_db}"


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
        artifacts = tracking_home(paths).mlflow_artifacts.as_uri() if default_backend else None
        mlflow.create_experiment(
            config.experiment,
            artifact_location=artifacts,
            tags={EXPERIMENT_KIND_TAG: EXPERIMENT_KIND},
        )
    elif EXPERIMENT_KIND_TAG not in experiment.tags:
        # An experiment made before this tag was set; a kind someone chose in the UI is kept.
        mlflow.MlflowClient().set_experiment_tag(
            experiment.experiment_id, EXPERIMENT_KIND_TAG, EXPERIMENT_KIND
        )
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


def tag_filter(tags: Mapping[str, str]) -> str:
    """An MLflow ``filter_string`` matching runs that carry all ``tags``.

    MLflow's filter strings take no backslash escapes: a value holding ``'`` is double-quoted.
    """

    def quoted(value: str) -> str:
        return f'"{value}"' if "'" in value else f"'{value}'"

    return " and ".join(f"tags.`{k}` = {quoted(str(v))}" for k, v in tags.items())


class Tracker:
    """Thin, failure-proof wrapper over one MLflow run.

    The run opens lazily: calls made while mlflow is still importing in the background are kept
    (metrics with their own timestamps) and replayed once it is ready, at the first call after
    that or at the end. So a long fit shows live curves from its first epochs on, and a short
    stage never waits for the import before its work.

    Every call names its run (``run_id``) instead of relying on MLflow's active run, so that a
    tracker keeps logging to its own run while a child run (:func:`child_run`) is open.
    """

    def __init__(self, paths: Paths, config: MlflowConfig) -> None:
        self.paths = paths
        self.config = config
        self.enabled = True
        self._mlflow: Any = None
        self._mlflow_client: Any = None
        self.run_id: str | None = None
        self.parent_run_id: str | None = None
        self.tags: dict[str, str] = {}  # the run's tags at its start, inherited by children
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

    def _store(self) -> Any:
        """An ``MlflowClient``, for the calls the fluent API makes only on the active run."""
        if self._mlflow_client is None:
            self._mlflow_client = self._client().MlflowClient()
        return self._mlflow_client

    def find_or_create_parent(self, tags: Mapping[str, str], run_name: str | None) -> str:
        """The id of the newest parent run carrying all ``tags``, created (and ended) if none.

        The parent is only a container: created FINISHED at once, it holds no metrics of its
        own and never becomes MLflow's active run. Raises on MLflow failures (the caller warns).
        """
        mlflow = self._client()
        wanted = {**tags, TAG_RUN_KIND: RUN_KIND_PARENT}
        runs = mlflow.search_runs(
            experiment_names=[self.config.experiment],
            filter_string=tag_filter(wanted),
            order_by=["attributes.start_time DESC"],
            max_results=1,
            output_format="list",
        )
        if runs:
            return str(runs[0].info.run_id)
        from mlflow.tracking.context import registry as context_registry

        client = self._store()
        experiment = mlflow.get_experiment_by_name(self.config.experiment)
        name = run_name or "/".join(str(v) for v in tags.values()) or "group"
        # The context tags (user, source, git commit) a fluent start_run would add.
        run_tags = context_registry.resolve_tags({**wanted, "mlflow.runName": name})
        run = client.create_run(experiment.experiment_id, tags=run_tags, run_name=name)
        client.set_terminated(run.info.run_id, "FINISHED")
        return str(run.info.run_id)

    def start(
        self,
        run_name: str,
        tags: Mapping[str, str],
        *,
        parent: Mapping[str, str] | None = None,
        parent_name: str | None = None,
        parent_run_id: str | None = None,
    ) -> None:
        """Start the run: under the parent group ``parent`` (its tags), under the run
        ``parent_run_id``, or at the top level when neither is given."""
        try:
            mlflow = self._client()
            tags = dict(tags)
            if parent is not None:
                parent_run_id = self.find_or_create_parent(parent, parent_name)
                tags = {**parent, **tags}
            run = mlflow.start_run(
                run_name=run_name,
                tags=tags,
                parent_run_id=parent_run_id,
                nested=parent_run_id is not None,
            )
            self.run_id, self.parent_run_id, self.tags = run.info.run_id, parent_run_id, tags
        except Exception as error:
            self._fail("starting a run", error)

    def open_later(self, opener: Callable[[], None], preload: threading.Thread | None) -> None:
        """Run ``opener`` (start the run) once ``preload`` has imported mlflow (None: now)."""
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
                    self._mlflow.log_params(flat, run_id=self.run_id)
                except Exception as error:
                    self._fail("logging params", error)

        self._call(call)

    def log_metrics(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        values, timestamp = numeric_only(metrics), int(time.time() * 1000)

        def call() -> None:
            if self.enabled:
                try:
                    self._mlflow.log_metrics(
                        values, step=step, timestamp=timestamp, run_id=self.run_id
                    )
                except Exception as error:
                    self._fail("logging metrics", error)

        self._call(call)

    def set_tags(self, tags: Mapping[str, str]) -> None:
        tags = dict(tags)

        def call() -> None:
            if self.enabled:
                try:
                    from mlflow.entities import RunTag

                    run_tags = [RunTag(k, str(v)) for k, v in tags.items()]
                    self._store().log_batch(self.run_id, tags=run_tags)
                except Exception as error:
                    self._fail("setting tags", error)

        self._call(call)

    def log_split(self, dataset: str, split_dir: Path, manifest_hash: str, context: str) -> None:
        """Record the split as this run's MLflow dataset input (the UI's Datasets column).

        Name ``<dataset>-split``, digest the first :data:`SPLIT_DIGEST_LENGTH` characters of
        ``manifest_hash`` (the whole hash is the input's tag ``fakenews.manifest_hash``), source
        the local ``split_dir``; ``context`` as MLflow's ``mlflow.data.context`` ("training",
        "evaluation", ...). Runs on the same split show the same name and digest.
        """
        source_uri = str(Path(split_dir).resolve())

        def call() -> None:
            if self.enabled:
                try:
                    from mlflow.data.meta_dataset import MetaDataset
                    from mlflow.data.sources import LocalArtifactDatasetSource
                    from mlflow.entities import DatasetInput, InputTag
                    from mlflow.utils.mlflow_tags import MLFLOW_DATASET_CONTEXT

                    dataset_entity = MetaDataset(
                        LocalArtifactDatasetSource(source_uri),
                        name=f"{dataset}-split",
                        digest=manifest_hash[:SPLIT_DIGEST_LENGTH],
                    )._to_mlflow_entity()
                    input_tags = [
                        InputTag(MLFLOW_DATASET_CONTEXT, context),
                        InputTag("fakenews.manifest_hash", manifest_hash),
                    ]
                    self._store().log_inputs(
                        self.run_id, datasets=[DatasetInput(dataset_entity, input_tags)]
                    )
                except Exception as error:
                    self._fail("logging the split", error)

        self._call(call)

    def log_artifacts(self, path: Path, artifact_path: str | None = None) -> None:
        # Files are copied when the call runs: callers log only outputs already final.
        def call() -> None:
            if self.enabled:
                try:
                    if Path(path).is_dir():
                        self._mlflow.log_artifacts(
                            str(path), artifact_path=artifact_path, run_id=self.run_id
                        )
                    else:
                        self._mlflow.log_artifact(
                            str(path), artifact_path=artifact_path, run_id=self.run_id
                        )
                except Exception as error:
                    self._fail("logging artifacts", error)

        self._call(call)

    def end(self, status: str = "FINISHED") -> None:
        if self.enabled:
            self._ready(wait=True)
        if self._mlflow is not None and self.run_id is not None:
            try:
                active = self._mlflow.active_run()
                if active is not None and active.info.run_id == self.run_id:
                    self._mlflow.end_run(status=status)
                else:  # not the innermost active run (ended out of order, or another thread)
                    self._store().set_terminated(self.run_id, status)
            except Exception as error:
                self._fail("ending the run", error)


@contextmanager
def _run_block(tracker: Tracker) -> Iterator[Tracker]:
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


def tracked_run(
    paths: Paths,
    config: MlflowConfig,
    *,
    run_name: str | None = None,
    tags: Mapping[str, str],
    parent: Mapping[str, str] | None = None,
    parent_name: str | None = None,
    preload: threading.Thread | None = None,
) -> AbstractContextManager[Tracker]:
    """A run for the duration of the block; marked FAILED if the block raises.

    ``parent``: the tags identifying the run's group (e.g. dataset, model and config hash). The
    run then starts as a child of the newest run with all those tags and ``fakenews.run_kind =
    parent``, which is created first (named ``parent_name``, ended at once) when there is none;
    the child carries the parent's tags too.
    ``preload``: a thread importing mlflow (:func:`import_in_background`); the run then opens
    once it has finished (see :class:`Tracker`), so the block's work starts at once.
    """
    tracker = Tracker(paths, config)
    tracker.open_later(
        lambda: tracker.start(run_name or "run", tags, parent=parent, parent_name=parent_name),
        preload,
    )
    return _run_block(tracker)


def child_run(
    tracker: Tracker, run_name: str, tags: Mapping[str, str] | None = None
) -> AbstractContextManager[Tracker]:
    """A run nested under ``tracker``'s open run for the duration of the block (a fold under its
    seed run, say); marked FAILED if the block raises.

    It carries ``tracker``'s start tags overridden by ``tags``, with ``fakenews.run_kind =
    fold`` unless ``tags`` name another kind. It opens when ``tracker``'s run does (after the
    same background import), and is off, silently, when ``tracker`` is: that has warned already.
    Nest the blocks (the child's inside the parent's), as MLflow's active runs are a stack.
    """
    child = Tracker(tracker.paths, tracker.config)
    extra = dict(tags or {})

    def opener() -> None:
        tracker._ready(wait=True)
        if not tracker.enabled or tracker.run_id is None:
            child.enabled = False
            return
        child._mlflow, child._mlflow_client = tracker._mlflow, tracker._mlflow_client
        inherited = {k: v for k, v in tracker.tags.items() if not k.startswith("mlflow.")}
        child_tags = {**inherited, TAG_RUN_KIND: RUN_KIND_FOLD, **extra}
        child.start(run_name, child_tags, parent_run_id=tracker.run_id)

    if not tracker.enabled:
        child.enabled = False
    else:
        waiting = tracker._opener is not None
        child.open_later(opener, tracker._import if waiting else None)
    return _run_block(child)


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
