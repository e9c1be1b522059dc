"""MLflow connection: which backend (the repo's ``mlflow.db`` unless ``MLFLOW_TRACKING_URI``
says otherwise), whether it answers, the tag names, and small helpers the runs
(:mod:`fakenews.tracking.runs`), their replay (:mod:`fakenews.tracking.replay`) and the registry
share. The stages only resolve the backend here (into their run journals); what talks to MLflow
is the replay and the report stage.

The default backend is ``sqlite:///<repo root>/mlflow.db`` (``MLFLOW_TRACKING_URI`` overrides), also
for an experiment DVC runs in a temporary copy of the repo (its queue).
Tracking is best effort: any MLflow failure is turned into one warning and the stage goes on.

An ``http(s)://`` tracking server is checked before the first MLflow call (``GET <uri>/health``;
any HTTP answer will do), once per process and URI (a replay asks once per drain): one that does
not answer within ``FAKENEWS_TRACKING_TIMEOUT`` seconds (default 5; an environment variable, not
a param, so that changing it retrains nothing) is one warning, and the replay keeps the runs for
later (the registry skips them) instead of waiting minutes for MLflow's retries. For a server
that goes away later, this module caps MLflow's own retries unless the environment sets them:
``MLFLOW_HTTP_REQUEST_MAX_RETRIES=2``, ``MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR=1``,
``MLFLOW_HTTP_REQUEST_TIMEOUT=30`` (MLflow's defaults: 7, 2 and 120 s). MLflow reads them at each
request; they are set when this module is imported.
"""

from __future__ import annotations

import functools
import logging
import math
import os
import subprocess
import threading
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field

from fakenews.core.params import StrictModel
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


class MlflowConfig(StrictModel):
    enabled: bool = Field(
        True,
        description="Track runs in MLflow. Off: the stages record nothing (no journal) and the "
        "report registers nothing; their DVC outputs are the same either way.",
    )
    experiment: str = Field("fakenews", min_length=1, description="MLflow experiment name.")
    log_model: bool = Field(True, description="Log the trained model folder as run artifacts.")
    register_best: bool = Field(
        True,
        description="report: register each dataset's best model by validation macro F1 in the "
        "MLflow model registry as `fakenews-<dataset>` (a new version only when it changed).",
    )


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


def is_server(uri: str) -> bool:
    """An http(s) tracking server (it serves its own UI and is probed before use); any other
    store (sqlite, a file path, ...) is opened in-process."""
    return uri.lower().startswith(("http://", "https://"))


def ensure_reachable(uri: str, variable: str = "MLFLOW_TRACKING_URI") -> None:
    """Raise :class:`TrackingUnavailable` if ``uri`` is an http(s) server that does not answer.

    Other URIs (sqlite, file paths, databricks, ...) are not checked: nothing there retries for
    minutes the way MLflow's HTTP client does.
    """
    if not is_server(uri):
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


# libyaml's loader where PyYAML has it: the same data, many times faster than pure Python.
_YAML_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def lock_stage_text(lock_text: str, stage: str) -> str | None:
    """``stage``'s entry cut out of dvc.lock's text as a YAML document of its own, or None.

    dvc.lock holds every stage (hundreds of kB): parsing all of it cost a train stage ~3 s of
    pure-Python YAML. DVC writes each stage as a key indented two spaces under ``stages:``;
    its entry runs to the next line at that indent or less.
    """
    lines = lock_text.splitlines(keepends=True)
    try:
        start = lines.index(f"  {stage}:\n")
    except ValueError:
        return None
    end = start + 1
    while end < len(lines) and (lines[end].startswith("   ") or not lines[end].strip()):
        end += 1
    return "stages:\n" + "".join(lines[start:end])


def split_data_hash(paths: Paths, dataset: str) -> str | None:
    """The md5 DVC recorded in dvc.lock for this dataset's split output."""
    stage = f"split@{dataset}"
    try:
        text = paths.dvc_lock.read_text(encoding="utf-8")
        # The whole file only when the entry is not where DVC writes it (quoted, say).
        lock = yaml.load(lock_stage_text(text, stage) or text, Loader=_YAML_LOADER)
        outs = lock["stages"][stage]["outs"]
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
