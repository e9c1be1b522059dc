"""Replays the stages' run journals (:mod:`fakenews.tracking.journal`) into MLflow.

One process at a time replays a spool (the lock ``replay.lock``): the detached replayer a stage
starts (:mod:`fakenews.tracking.replayer`, output in ``replay.log``), or, in-process,
:func:`replay_pending`, which whatever reads MLflow calls first (the report stage, the end of
``fakenews repro``, ``fakenews replay``). Journals are replayed oldest first and deleted once
replayed, so each becomes its runs exactly once:

- runs are created with the stage's start time, tags (the context tags MLflow would have added
  in the stage included) and run name, under their parent (the group's parent run, found or
  created as the stages did before, or the journal's own run for a fold), and ended with the
  stage's status and end time; metric rows keep their steps and timestamps;
- progress is saved after each step (``state.json`` in the journal), so a replay cut short (the
  server went away, the process was killed) goes on where it stopped, creating no run twice;
- an http(s) server that does not answer keeps every journal for it (one warning) and the
  replay stops there: the next stage's replayer or :func:`replay_pending` tries again;
- any other MLflow error keeps the journal for a later try; a step that fails
  :data:`MAX_ATTEMPTS` times is skipped with a warning, as a failing call was before.

The detached replayer is :mod:`fakenews.tracking.replayer`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fakenews.core.io import sweep_stale_temps, write_json
from fakenews.core.paths import Paths
from fakenews.tracking.client import (
    EXPERIMENT_KIND,
    EXPERIMENT_KIND_TAG,
    MLFLOW_PARENT_RUN_ID,
    RUN_KIND_PARENT,
    SPLIT_DIGEST_LENGTH,
    TAG_RUN_KIND,
    TrackingUnavailable,
    check_timeout,
    is_server,
    probe,
    tag_filter,
    warn_unavailable,
)
from fakenews.tracking.journal import (
    EVENTS_FILE,
    FAILED_DIR,
    JOURNAL_VERSION,
    published,
    replay_lock,
    spool_dir,
)

log = logging.getLogger(__name__)

STATE_FILE = "state.json"
MAX_ATTEMPTS = 3
POLL_SECONDS = 0.25
RUN_NAME_TAG = "mlflow.runName"


class JournalKept(Exception):
    """A journal stays in the spool for a later replay (the reason is the message)."""


class UnreadableJournal(Exception):
    """A journal that no replay could use: moved to ``failed/``."""


@dataclass
class Replay:
    """What one drain of the spool did."""

    replayed: list[str] = field(default_factory=list)  # journal names
    kept: list[str] = field(default_factory=list)
    run_ids: dict[str, str] = field(default_factory=dict)  # Tracker.key -> MLflow run id

    def merge(self, other: Replay) -> None:
        self.replayed += other.replayed
        self.kept += other.kept
        self.run_ids.update(other.run_ids)


class Session:
    """MLflow clients, experiments and server answers shared by a drain's journals."""

    def __init__(self) -> None:
        self.clients: dict[str, Any] = {}
        self.experiments: dict[tuple[str, str], str] = {}
        self.down: dict[str, str] = {}  # http(s) URI -> why it does not answer

    def client(self, uri: str) -> Any:
        if uri not in self.clients:
            from mlflow import MlflowClient

            self.clients[uri] = MlflowClient(tracking_uri=uri)
        return self.clients[uri]

    def check(self, uri: str, fresh: bool = False) -> None:
        """Raise :class:`TrackingUnavailable` if ``uri`` is an http(s) server that does not
        answer (asked once per drain, or again when ``fresh``)."""
        if not is_server(uri):
            return
        if fresh or uri not in self.down:
            reason = probe(uri, check_timeout())
            if reason is None:
                self.down.pop(uri, None)
                return
            self.down[uri] = reason
        if uri in self.down:
            raise TrackingUnavailable(uri, self.down[uri])

    def experiment(self, uri: str, header: dict[str, Any]) -> str:
        """The journal's experiment id, created as the stages created it (model-training kind,
        artifacts beside the default database) when missing."""
        name = str(header["experiment"])
        if (uri, name) in self.experiments:
            return self.experiments[(uri, name)]
        client = self.client(uri)
        experiment = client.get_experiment_by_name(name)
        if experiment is None:
            experiment_id = client.create_experiment(
                name,
                artifact_location=header.get("artifact_location"),
                tags={EXPERIMENT_KIND_TAG: EXPERIMENT_KIND},
            )
        else:
            experiment_id = experiment.experiment_id
            if EXPERIMENT_KIND_TAG not in experiment.tags:
                # Made before this tag was set; a kind someone chose in the UI is kept.
                client.set_experiment_tag(experiment_id, EXPERIMENT_KIND_TAG, EXPERIMENT_KIND)
        self.experiments[(uri, name)] = str(experiment_id)
        return str(experiment_id)


def find_or_create_parent(
    client: Any,
    experiment_id: str,
    group: dict[str, str],
    name: str | None,
    context: dict[str, str],
    start_time: int,
) -> str:
    """The id of the newest parent run carrying all ``group`` tags, created (and ended) if none.

    The parent is only a container: created FINISHED at once (at its first child's start), it
    holds no metrics until the report stage summarises its runs.
    """
    wanted = {**group, TAG_RUN_KIND: RUN_KIND_PARENT}
    runs = client.search_runs(
        [experiment_id],
        filter_string=tag_filter(wanted),
        order_by=["attributes.start_time DESC"],
        max_results=1,
    )
    if runs:
        return str(runs[0].info.run_id)
    name = name or "/".join(str(v) for v in group.values()) or "group"
    run = client.create_run(
        experiment_id,
        start_time=start_time,
        tags={**context, **wanted, RUN_NAME_TAG: name},
        run_name=name,
    )
    client.set_terminated(run.info.run_id, "FINISHED", end_time=start_time)
    return str(run.info.run_id)


def read_events(folder: Path) -> list[dict[str, Any]]:
    try:
        lines = (folder / EVENTS_FILE).read_text(encoding="utf-8").splitlines()
        events = [json.loads(line) for line in lines if line.strip()]
    except (OSError, ValueError) as error:
        raise UnreadableJournal(f"{type(error).__name__}: {error}") from error
    if not events or events[0].get("event") != "journal":
        raise UnreadableJournal("no journal header")
    if events[0].get("version") != JOURNAL_VERSION:
        raise UnreadableJournal(f"journal version {events[0].get('version')!r}")
    return events


def steps(events: list[dict[str, Any]], start: int) -> Iterator[tuple[int, int]]:
    """``(i, j)``: the events ``i..j-1`` replayed as one call. Consecutive metric rows of one
    run go out as one batch (a curve's epochs), everything else one by one."""
    i = start
    while i < len(events):
        j = i + 1
        if events[i]["event"] == "metrics":
            while (
                j < len(events)
                and events[j]["event"] == "metrics"
                and events[j]["run"] == events[i]["run"]
            ):
                j += 1
        yield i, j
        i = j


class JournalReplay:
    """One journal's events sent to MLflow, with its progress saved after every step."""

    def __init__(self, folder: Path, session: Session, warn: Callable[[str], None]) -> None:
        self.folder, self.session, self.warn = folder, session, warn
        self.events = read_events(folder)
        self.header = header = self.events[0]
        try:
            self.uri = str(header["tracking_uri"])
            self.context: dict[str, str] = dict(header.get("context") or {})
            header["experiment"]
        except (KeyError, TypeError, ValueError) as error:
            raise UnreadableJournal(f"bad journal header ({error!r})") from error
        state_file = folder / STATE_FILE
        self.state: dict[str, Any] = {"done": 1, "runs": {}, "failures": 0}
        if state_file.is_file():
            with contextlib.suppress(OSError, ValueError):
                self.state.update(json.loads(state_file.read_text(encoding="utf-8")))

    def save(self) -> None:
        write_json(self.folder / STATE_FILE, self.state)

    def run_id(self, number: Any) -> str | None:
        return self.state["runs"].get(str(number)) if number is not None else None

    def replay(self) -> dict[str, str]:
        """Send what is left of the journal; return its runs' ids by journal run number."""
        self.session.check(self.uri)
        if self.state["done"] < len(self.events):
            with _cwd(self.header.get("cwd")):  # a relative tracking URI meant the stage's
                try:
                    client = self.session.client(self.uri)
                    experiment_id = self.session.experiment(self.uri, self.header)
                except Exception as error:
                    self.session.check(self.uri, fresh=True)
                    raise JournalKept(f"{type(error).__name__}: {error}") from error
                for i, j in steps(self.events, int(self.state["done"])):
                    self.step(client, experiment_id, i, j)
        return dict(self.state["runs"])

    def step(self, client: Any, experiment_id: str, i: int, j: int) -> None:
        try:
            self.apply(client, experiment_id, self.events[i:j])
        except Exception as error:
            self.session.check(self.uri, fresh=True)  # a server gone away: keep it all
            self.state["failures"] = int(self.state.get("failures", 0)) + 1
            what = f"{self.events[i]['event']} (event {i})"
            if self.state["failures"] < MAX_ATTEMPTS:
                self.save()
                raise JournalKept(f"{what}: {type(error).__name__}: {error}") from error
            self.warn(
                f"MLflow: {self.folder.name}: skipping {what} after {MAX_ATTEMPTS} failed "
                f"attempts ({type(error).__name__}: {error})"
            )
        self.state["done"], self.state["failures"] = j, 0
        self.save()

    def apply(self, client: Any, experiment_id: str, events: list[dict[str, Any]]) -> None:
        from mlflow.entities import Metric, Param, RunTag

        event = events[0]
        kind = event["event"]
        if kind == "start":
            self.start(client, experiment_id, event)
            return
        run_id = self.run_id(event["run"])
        if run_id is None:  # its start was skipped (and warned about): so is the rest
            return
        if kind == "params":
            client.log_batch(run_id, params=[Param(k, v) for k, v in event["params"].items()])
        elif kind == "metrics":
            rows = [row for e in events for row in e["rows"]]
            client.log_batch(run_id, metrics=[Metric(*row, run_id=run_id) for row in rows])
        elif kind == "tags":
            client.log_batch(run_id, tags=[RunTag(k, v) for k, v in event["tags"].items()])
        elif kind == "split":
            client.log_inputs(run_id, datasets=[split_input(event)])
        elif kind == "artifacts":
            local = self.folder / event["path"]
            if event["dir"]:
                client.log_artifacts(run_id, str(local), event["artifact_path"])
            else:
                client.log_artifact(run_id, str(local), event["artifact_path"])
        elif kind == "end":
            client.set_terminated(run_id, event["status"], end_time=event["time"])
        else:
            raise ValueError(f"unknown journal event {kind!r}")

    def start(self, client: Any, experiment_id: str, event: dict[str, Any]) -> None:
        """Create the run as MLflow's ``start_run`` did in the stage: its tags over the
        context's, its parent's id and its name as tags, the stage's start time."""
        tags = dict(event["tags"])
        parent_id: str | None = None
        if event.get("group") is not None:
            parent_id = find_or_create_parent(
                client,
                experiment_id,
                event["group"],
                event.get("group_name"),
                self.context,
                event["time"],
            )
        elif event.get("parent") is not None:
            parent_id = self.run_id(event["parent"])
            if parent_id is None:
                return  # the parent's start was skipped: its children go with it
        if parent_id is not None:
            tags[MLFLOW_PARENT_RUN_ID] = parent_id
        tags[RUN_NAME_TAG] = event["name"]
        run = client.create_run(
            experiment_id,
            start_time=event["time"],
            tags={**self.context, **tags},
            run_name=event["name"],
        )
        self.state["runs"][str(event["run"])] = run.info.run_id


def split_input(event: dict[str, Any]) -> Any:
    """The split as an MLflow dataset input (name ``<dataset>-split``, digest the manifest
    hash's first characters, source the split folder)."""
    from mlflow.data.meta_dataset import MetaDataset
    from mlflow.data.sources import LocalArtifactDatasetSource
    from mlflow.entities import DatasetInput, InputTag
    from mlflow.utils.mlflow_tags import MLFLOW_DATASET_CONTEXT

    manifest_hash = str(event["manifest_hash"])
    dataset = MetaDataset(
        LocalArtifactDatasetSource(event["source"]),
        name=f"{event['dataset']}-split",
        digest=manifest_hash[:SPLIT_DIGEST_LENGTH],
    )._to_mlflow_entity()
    tags = [
        InputTag(MLFLOW_DATASET_CONTEXT, event["context"]),
        InputTag("fakenews.manifest_hash", manifest_hash),
    ]
    return DatasetInput(dataset, tags)


@contextlib.contextmanager
def _cwd(folder: str | None) -> Iterator[None]:
    try:
        previous = os.getcwd()
    except OSError:  # this process's folder is gone: nothing to come back to
        previous = None
    if not folder or not os.path.isdir(folder) or folder == previous or previous is None:
        yield
        return
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(previous)


def _remove_journal(folder: Path) -> None:
    """Delete a replayed journal: renamed first (atomic), so that a replayer killed while
    deleting leaves a temporary folder (swept later), never a half journal."""
    doomed = folder.with_name(f".{folder.name}.{os.getpid()}.done.tmp")
    os.replace(folder, doomed)
    shutil.rmtree(doomed, ignore_errors=True)


def drain(spool: Path, warn: Callable[[str], None], skip: frozenset[str] = frozenset()) -> Replay:
    """Replay every published journal of ``spool`` (but ``skip``), oldest first, until none is
    left that this call has not tried. The caller holds the replay lock."""
    sweep_stale_temps([spool])  # journals of stages killed while writing them
    result, session = Replay(), Session()
    tried, warned = set(skip), set[str]()
    while True:
        pending = [p for p in published(spool) if p.name not in tried]
        if not pending:
            return result
        for folder in pending:
            tried.add(folder.name)
            try:
                journal = JournalReplay(folder, session, warn)
                runs = journal.replay()
            except UnreadableJournal as error:
                failed = spool / FAILED_DIR
                failed.mkdir(exist_ok=True)
                os.replace(folder, failed / folder.name)
                warn(f"MLflow: {folder.name} is unreadable ({error}); moved to {failed}")
                continue
            except TrackingUnavailable as error:
                result.kept.append(folder.name)
                if error.uri in warned:  # one warning per server, however many journals
                    continue
                warned.add(error.uri)
                if warn is _warn_here:  # shared with the registry's: one per server and process
                    warn_unavailable(error, f"its runs stay in {spool} for a later replay", 3)
                else:
                    warn(f"MLflow: {error}; its runs stay in {spool} for a later replay")
                continue
            except JournalKept as error:
                result.kept.append(folder.name)
                warn(f"MLflow: {folder.name} kept for a later replay: {error}")
                continue
            except Exception as error:  # a replay never fails its caller (the report stage)
                result.kept.append(folder.name)
                warn(
                    f"MLflow: {folder.name} kept for a later replay: "
                    f"{type(error).__name__}: {error}"
                )
                continue
            _remove_journal(folder)
            result.replayed.append(folder.name)
            result.run_ids.update({f"{folder.name}/{n}": run_id for n, run_id in runs.items()})
            log.info("MLflow: replayed %s (%d runs)", folder.name, len(runs))


def _warn_here(message: str) -> None:
    warnings.warn(message, stacklevel=4)


def replay_pending(paths: Paths, wait: float = 600.0) -> Replay:
    """Replay every journal left in ``paths``' spool, here and now; return what was done.

    Whatever needs complete MLflow state calls it first. A replayer that holds the lock is
    waited for (at most ``wait`` seconds; it replays what was published before this call),
    then what is left is replayed in this process. MLflow problems are warnings: nothing here
    raises for them. mlflow is imported only when there is a journal to replay.
    """
    spool = spool_dir(paths)
    result = Replay()
    deadline = time.monotonic() + wait
    while published(spool):
        with replay_lock(spool) as held:
            if held:
                result.merge(drain(spool, _warn_here))
                return result
        if time.monotonic() > deadline:
            warnings.warn(
                f"MLflow: a replay of {spool} is still running after {wait:g} s; "
                "runs may still be missing",
                stacklevel=2,
            )
            break
        time.sleep(POLL_SECONDS)
    return result
