"""MLflow runs of the stages, grouped under one parent run per model configuration.

Runs form a tree in the experiment (MLflow's nested runs, tag ``mlflow.parentRunId``)::

    alpha/lstm                 parent: a container, one per (dataset, model, config hash)
    ├── alpha/lstm seed 1      train child: one per seed, its own true duration
    │   ├── fold 0             fold grandchild (k-fold on small datasets), see child_run
    │   └── fold 1
    └── alpha/lstm evaluate    evaluate child: a run of its own, not the train run reopened

:func:`tracked_run` with ``parent=`` (the tags that identify the group) starts the run under that
group's parent; :func:`child_run` nests a run under an open one. :meth:`Tracker.log_split`
records the split as the run's MLflow dataset input (the UI's Datasets column).

A stage never imports mlflow: a :class:`Tracker` writes every call to a journal
(:mod:`fakenews.tracking.journal`), published when its run ends, and
:mod:`fakenews.tracking.replay` sends it to MLflow afterwards, finding or creating the parent
there. So the MLflow run ids exist only after the replay: :attr:`Tracker.key` names a run in the
replay's result.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import warnings
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from fakenews.core.paths import Paths
from fakenews.tracking.client import (
    RUN_KIND_FOLD,
    TAG_CONFIG_HASH,
    TAG_DATASET,
    TAG_MODEL,
    TAG_RUN_KIND,
    MlflowConfig,
    flatten,
    git_commit,
    numeric_only,
    split_data_hash,
    tracking_home,
    tracking_uri,
)
from fakenews.tracking.journal import (
    Journal,
    now_ms,
    run_context_tags,
    spool_dir,
    start_replayer,
)

log = logging.getLogger(__name__)


def journal_header(paths: Paths, config: MlflowConfig) -> dict[str, Any]:
    """Where and how the journal's runs are tracked, resolved now, in the stage's process."""
    home = tracking_home(paths).root
    default_backend = "MLFLOW_TRACKING_URI" not in os.environ
    return {
        "tracking_uri": tracking_uri(paths),
        "experiment": config.experiment,
        # Keep artifacts beside the database, not wherever the replay happens to run.
        "artifact_location": tracking_home(paths).mlflow_artifacts.as_uri()
        if default_backend
        else None,
        "cwd": os.getcwd(),  # what a relative tracking URI is relative to
        "home": str(home),
        "context": run_context_tags(),
    }


class Tracker:
    """Thin, failure-proof recorder of one MLflow run into its stage's journal.

    Every call is appended to the journal at once (metric rows with their own timestamps,
    artifacts linked in as they are now), so the stage's work never waits for MLflow. Any
    failure to record is one warning and switches tracking off for the rest of the run.
    """

    def __init__(
        self, paths: Paths, config: MlflowConfig, journal: Journal | None, owner: bool
    ) -> None:
        self.paths = paths
        self.config = config
        self.journal = journal
        self.owner = owner  # publishes the journal when its run ends (the stage's top run)
        self.enabled = journal is not None
        self.run: int | None = None  # the run's number in the journal
        self.tags: dict[str, str] = {}  # the run's tags at its start, inherited by children
        self.published: Path | None = None

    @property
    def key(self) -> str | None:
        """``<journal>/<run number>``: the run's key in a replay's ``run_ids``."""
        if self.journal is None or self.run is None:
            return None
        return f"{self.journal.name}/{self.run}"

    def _fail(self, what: str, error: BaseException) -> None:
        if self.enabled:
            warnings.warn(
                f"MLflow: {what} failed ({type(error).__name__}: {error}); "
                "tracking is off for the rest of this run",
                stacklevel=3,
            )
        self.enabled = False

    def _add(self, what: str, event: dict[str, Any]) -> None:
        if not self.enabled or self.journal is None or self.run is None:
            return
        try:
            self.journal.add({**event, "run": self.run})
        except Exception as error:
            self._fail(what, error)

    def start(
        self,
        run_name: str,
        tags: Mapping[str, str],
        *,
        parent: Mapping[str, str] | None = None,
        parent_name: str | None = None,
        parent_run: int | None = None,
    ) -> None:
        """Start the run: under the parent group ``parent`` (its tags; the replay finds or
        creates the group's parent run), under the journal's run ``parent_run``, or at the
        top level when neither is given."""
        if not self.enabled or self.journal is None:
            return
        tags = {k: str(v) for k, v in tags.items()}
        group = {k: str(v) for k, v in parent.items()} if parent is not None else None
        if group is not None:
            tags = {**group, **tags}
        self.run, self.tags = self.journal.new_run(), tags
        self._add(
            "starting a run",
            {
                "event": "start",
                "name": run_name,
                "tags": tags,
                "group": group,
                "group_name": parent_name,
                "parent": parent_run,
                "time": now_ms(),
            },
        )

    def log_params(self, params: Mapping[str, Any]) -> None:
        flat = {k: str(v)[:6000] for k, v in flatten(params).items()}
        self._add("logging params", {"event": "params", "params": flat})

    def log_metrics(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        values, timestamp = numeric_only(metrics), now_ms()
        if values:
            rows = [[key, value, timestamp, step or 0] for key, value in values.items()]
            self._add("logging metrics", {"event": "metrics", "rows": rows})

    def set_tags(self, tags: Mapping[str, str]) -> None:
        self._add("setting tags", {"event": "tags", "tags": {k: str(v) for k, v in tags.items()}})

    def log_split(self, dataset: str, split_dir: Path, manifest_hash: str, context: str) -> None:
        """Record the split as this run's MLflow dataset input (the UI's Datasets column).

        Name ``<dataset>-split``, digest the first
        :data:`~fakenews.tracking.client.SPLIT_DIGEST_LENGTH` characters of ``manifest_hash``
        (the whole hash is the input's tag ``fakenews.manifest_hash``), source the local
        ``split_dir``; ``context`` as MLflow's ``mlflow.data.context`` ("training",
        "evaluation", ...). Runs on the same split show the same name and digest.
        """
        self._add(
            "logging the split",
            {
                "event": "split",
                "dataset": dataset,
                "source": str(Path(split_dir).resolve()),
                "manifest_hash": manifest_hash,
                "context": context,
            },
        )

    def log_artifacts(self, path: Path, artifact_path: str | None = None) -> None:
        """Log a file or a folder's files; they are linked into the journal now, as they are."""
        if not self.enabled or self.journal is None or self.run is None:
            return
        try:
            kept, is_dir = self.journal.keep_artifacts(Path(path))
        except Exception as error:
            self._fail("logging artifacts", error)
            return
        self._add(
            "logging artifacts",
            {"event": "artifacts", "path": kept, "dir": is_dir, "artifact_path": artifact_path},
        )

    def end(self, status: str = "FINISHED") -> None:
        self._add("ending the run", {"event": "end", "status": status, "time": now_ms()})
        if not self.owner or self.journal is None:
            return
        journal, self.journal = self.journal, None  # published once
        if self.run is None:  # nothing was recorded
            journal.discard()
            return
        try:
            self.published = journal.publish()
            # From the tracking home: a `dvc exp run --temp` copy is deleted when it ends.
            started = start_replayer(journal.spool, journal.spool.parent)
            log.info(
                "MLflow: run recorded in %s; %s",
                self.published,
                "a replayer started" if started else "replayed by the running replayer or later",
            )
        except Exception as error:
            self._fail("publishing the run's journal", error)
        self.journal = journal  # keeps self.key readable


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


def open_journal(paths: Paths, config: MlflowConfig) -> Journal | None:
    """A new journal for a stage's run; None (no journal at all) when tracking is off in params
    or the spool cannot be written (one warning: tracking never fails a stage)."""
    if not config.enabled:
        return None
    try:
        return Journal(spool_dir(paths), journal_header(paths, config))
    except Exception as error:
        warnings.warn(
            f"MLflow: cannot write the run's journal ({type(error).__name__}: {error}); "
            "this stage goes on untracked",
            stacklevel=3,
        )
        return None


def tracked_run(
    paths: Paths,
    config: MlflowConfig,
    *,
    run_name: str | None = None,
    tags: Mapping[str, str],
    parent: Mapping[str, str] | None = None,
    parent_name: str | None = None,
) -> AbstractContextManager[Tracker]:
    """A run for the duration of the block; marked FAILED if the block raises. Its journal (its
    child runs' too) is published when the block ends, and a replayer started.

    ``parent``: the tags identifying the run's group (e.g. dataset, model and config hash). The
    run is replayed as a child of the newest run with all those tags and ``fakenews.run_kind =
    parent``, which is created first (named ``parent_name``, ended at once) when there is none;
    the child carries the parent's tags too.
    """
    tracker = Tracker(paths, config, open_journal(paths, config), owner=True)
    tracker.start(run_name or "run", tags, parent=parent, parent_name=parent_name)
    return _run_block(tracker)


def child_run(
    tracker: Tracker, run_name: str, tags: Mapping[str, str] | None = None
) -> AbstractContextManager[Tracker]:
    """A run nested under ``tracker``'s open run for the duration of the block (a fold under its
    seed run, say), in the same journal; marked FAILED if the block raises.

    It carries ``tracker``'s start tags overridden by ``tags``, with ``fakenews.run_kind =
    fold`` unless ``tags`` name another kind. It is off, silently, when ``tracker`` is: that has
    warned already. Nest the blocks (the child's inside the parent's).
    """
    enabled = tracker.enabled and tracker.run is not None
    child = Tracker(tracker.paths, tracker.config, tracker.journal if enabled else None, False)
    inherited = {k: v for k, v in tracker.tags.items() if not k.startswith("mlflow.")}
    child_tags = {**inherited, TAG_RUN_KIND: RUN_KIND_FOLD, **(tags or {})}
    child.start(run_name, child_tags, parent_run=tracker.run)
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
