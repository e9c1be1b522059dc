"""MLflow runs of the stages, grouped under one parent run per model configuration.

Runs form a tree in the experiment (MLflow's nested runs, tag ``mlflow.parentRunId``)::

    alpha/lstm                 parent: a container, one per (dataset, model, config hash)
    ├── alpha/lstm seed 1      train child: one per seed, its own true duration
    │   ├── fold 0             fold grandchild (k-fold on small datasets), see child_run
    │   └── fold 1
    └── alpha/lstm evaluate    evaluate child: a run of its own, not the train run reopened

:func:`tracked_run` with ``parent=`` (the tags that identify the group) finds or creates the
parent and starts the run under it; :func:`child_run` nests a run under an open one.
:meth:`Tracker.log_split` records the split as the run's MLflow dataset input (the UI's
Datasets column). :func:`~fakenews.tracking.client.connect` marks the experiment as a
model-training one, so that MLflow 3's UI opens it in its classic runs view rather than the GenAI
overview. The connection itself (backend, reachability, tags) is :mod:`fakenews.tracking.client`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from fakenews.core.paths import Paths
from fakenews.core.settings import MlflowConfig
from fakenews.tracking.client import (
    RUN_KIND_FOLD,
    RUN_KIND_PARENT,
    SPLIT_DIGEST_LENGTH,
    TAG_CONFIG_HASH,
    TAG_DATASET,
    TAG_MODEL,
    TAG_RUN_KIND,
    TrackingUnavailable,
    connect,
    flatten,
    git_commit,
    numeric_only,
    split_data_hash,
    tag_filter,
    warn_unavailable,
)

log = logging.getLogger(__name__)


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
                    from mlflow.entities import Param

                    # The one client's log_batch (it chunks to MLflow's limits): the fluent
                    # call builds a client each time, for the same rows.
                    rows = [Param(k, v) for k, v in flat.items()]
                    self._store().log_batch(self.run_id, params=rows)
                except Exception as error:
                    self._fail("logging params", error)

        self._call(call)

    def log_metrics(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        values, timestamp = numeric_only(metrics), int(time.time() * 1000)
        if not self.enabled or not values:
            return
        rows = [(key, value, timestamp, step or 0) for key, value in values.items()]
        if not self._ready():
            # Metrics logged while mlflow imports (a curve's epochs) go out as one batch.
            if self._pending and isinstance(self._pending[-1], _MetricBatch):
                self._pending[-1].rows += rows
            else:
                self._pending.append(_MetricBatch(self, rows))
            return
        _MetricBatch(self, rows)()

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


class _MetricBatch:
    """Metric rows (key, value, timestamp, step) sent to a tracker's run in one ``log_batch``.

    The same rows the fluent ``mlflow.log_metrics`` would send (no logged-model or dataset
    links: the stages log neither), without its ``get_run`` round trip per call.
    """

    def __init__(self, tracker: Tracker, rows: list[tuple[str, float, int, int]]) -> None:
        self.tracker, self.rows = tracker, rows

    def __call__(self) -> None:
        tracker = self.tracker
        if not tracker.enabled:
            return
        try:
            from mlflow.entities import Metric

            metrics = [Metric(*row, run_id=tracker.run_id) for row in self.rows]
            tracker._store().log_batch(tracker.run_id, metrics=metrics)
        except Exception as error:
            tracker._fail("logging metrics", error)


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
