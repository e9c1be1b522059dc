"""`fakenews repro`: `dvc repro` with every core busy, and progress a person can read.

DVC runs one stage at a time, so a single-threaded stage (data preparation, TF-IDF, a logistic
regression, DVC's own bookkeeping) leaves the other cores idle. This runs the stages that
`dvc status` finds changed, and everything downstream of them, as separate
``dvc repro --single-item <stage>`` processes, each pinned to its own cores (its CPU affinity,
so two stages never share a core; a stage's thread count comes from params, so its results do
not depend on the cores it gets). DVC itself
records each stage (dvc.lock, run-cache) exactly as a plain `dvc repro` would; its repo lock is
released while a stage's command runs, and ``--wait-for-lock`` queues the short bookkeeping.

The order: a stage starts once all of its upstream stages are done, the one with the longest
remaining chain (recorded stage times) first, so the longest fine-tune does not start last.
Stage times are recorded in ``logs/stage_seconds.json`` (``Paths.stage_seconds``, git-ignored)
after every run; a clone that has none starts from the committed ``pipelines/stage_estimates.json``
(``Paths.stage_estimates``), which no run rewrites, so a run leaves git status clean.

Before anything else it validates all of params.yaml (``fakenews check``), so a mistake is
reported in our words before DVC reads the file. A no-op is answered without DVC: when `dvc
status` finds nothing to run, a digest of everything it read (every file's path, size, mtime and
inode under the root, DVC's config files, the cache's folders) is kept in
``logs/clean-status.json`` (``Paths.clean_status``); the next run that finds the same digest has
nothing to check or run. Any change under the root (a params edit, a touched file) means a full
check, as before.

Each line it writes to its log (``logs/repro.log``, ``Paths.repro_log``) that starts with
``[repro] `` holds one JSON event (``begin``; ``done`` per stage: its start, end, cores and the
stage's own timing line; ``end``): `python benchmarks/stage_overhead.py --log` reads them.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median
from typing import IO, Any

from fakenews.core.errors import InputError
from fakenews.core.paths import Paths

DEFAULT_SECONDS = 10.0  # a stage never timed, of a kind never timed
_TIMING = re.compile(
    r"INFO timing: startup (?P<startup>[\d.]+) s, fit (?P<fit>[\d.]+) s, "
    r"predict (?P<predict>[\d.]+) s, other (?P<other>[\d.]+) s, total (?P<total>[\d.]+) s"
)


def stage_name(addressing: str) -> str:
    """``pipelines/<group>/dvc.yaml:<name>`` -> ``<name>``."""
    return addressing.rpartition(":")[2]


def stage_kind(addressing: str) -> str:
    """The stage group: ``train-recurrent``, ``download``, ``report``."""
    return stage_name(addressing).partition("@")[0]


@dataclass(frozen=True)
class Snapshot:
    """What `dvc status` reads, as one digest: a workspace with the digest of a clean status is
    still clean. The cache folder and DVC config files come from the repo, so a later run can
    compute the digest without opening it."""

    digest: str
    cache: str
    configs: tuple[str, ...]

    @classmethod
    def take(cls, root: Path, cache: str, configs: Sequence[str], skip: Path) -> Snapshot:
        """The digest of everything under ``root`` but ``skip`` (the snapshot's own file), .git/,
        DVC's folder and a virtualenv (each file's size, mtime, inode, and a YAML/TOML/lock
        file's content); DVC's config files; the cache's folder listing times (a removed object
        changes its folder's mtime: status reports it "not in cache")."""
        import dvc

        digest = hashlib.sha256(f"dvc {dvc.__version__}\n".encode())
        top = str(root)
        excluded = {os.path.join(top, ".git"), os.path.join(top, ".dvc"), str(skip)}
        for folder, dirs, files in os.walk(top):
            dirs[:] = sorted(
                d
                for d in dirs
                if os.path.join(folder, d) not in excluded
                and not os.path.exists(os.path.join(folder, d, "pyvenv.cfg"))
            )
            digest.update(f"d {os.path.relpath(folder, top)}\n".encode())
            for name in sorted(files):
                path = os.path.join(folder, name)
                if path not in excluded:
                    digest.update(_stat_line(path, os.path.relpath(path, top)))
        for path in configs:
            digest.update(_stat_line(path, path))
        try:
            with os.scandir(cache) as entries:
                listing = sorted((e.name, e.stat().st_mtime_ns) for e in entries if e.is_dir())
        except OSError:
            listing = []
        digest.update(f"c {cache} {listing}\n".encode())
        return cls(digest.hexdigest(), cache, tuple(configs))

    @classmethod
    def load(cls, path: Path) -> Snapshot | None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(str(data["digest"]), str(data["cache"]), tuple(map(str, data["configs"])))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {"digest": self.digest, "cache": self.cache, "configs": list(self.configs)}
        path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")

    def still(self, root: Path, skip: Path) -> bool:
        """The workspace under ``root`` is as it was when this snapshot was taken."""
        return Snapshot.take(root, self.cache, self.configs, skip) == self


# DVC hashes a file again only when its size, mtime or inode changed (its state database), but
# parses every dvc.yaml, dvc.lock and params file anew: their content goes into the digest too.
_PARSED = (".yaml", ".yml", ".toml", ".lock")
_PARSED_MAX_BYTES = 4 << 20


def _stat_line(path: str, name: str) -> bytes:
    try:
        info = os.stat(path)
    except OSError:
        return f"f {name} missing\n".encode()
    line = f"f {name} {info.st_size} {info.st_mtime_ns} {info.st_ino}"
    if name.endswith(_PARSED) and info.st_size <= _PARSED_MAX_BYTES:
        try:
            with open(path, "rb") as handle:
                line += " " + hashlib.sha256(handle.read()).hexdigest()
        except OSError:
            line += " unreadable"
    return (line + "\n").encode()


@dataclass
class Plan:
    """What to run: stages in an order DVC could run them, and each one's upstream stages."""

    stages: list[str]
    upstream: dict[str, set[str]]
    total: int
    """Stages in the pipeline (run or not)."""
    snapshot: Snapshot | None = None
    """The workspace as DVC's status saw it (taken first); None when some dep or out lies
    outside the root, where the digest cannot see it."""

    def downstream(self) -> dict[str, set[str]]:
        """Each stage's stages to run below it, transitively."""
        below: dict[str, set[str]] = {s: set() for s in self.stages}
        for stage in reversed(self.stages):
            for up in self.upstream[stage]:
                below[up] |= {stage} | below[stage]
        return below


def plan(root: Path, skip: Path | None = None) -> Plan:
    """The changed stages (`dvc status`) and everything downstream of them, in run order; with
    the workspace's :class:`Snapshot` (``skip``: its file) taken before the status."""
    import networkx as nx
    from dvc.repo import Repo, lock_repo

    # One repo lock around both: DVC drops its index whenever it takes the lock, so a bare
    # `repo.status()` after `repo.index` parsed every dvc.yaml, dvc.lock and params.yaml twice
    # (~3 s of a 180-stage no-op); under one lock the status reuses the graph's index.
    with Repo(str(root)) as repo, lock_repo(repo):
        snapshot = None
        if skip is not None:
            configs = [str(p) for p in repo.config.files.values()]
            snapshot = Snapshot.take(root, str(repo.cache.local.path), configs, skip)
        graph = repo.index.graph  # an edge runs from a stage to a stage it depends on
        top = os.path.realpath(repo.root_dir)
        if snapshot is not None and not all(
            os.path.realpath(item.fs_path).startswith(top + os.sep)
            for stage in graph
            for item in (*stage.deps, *stage.outs)
        ):
            snapshot = None  # the digest covers the root only
        changed = set(repo.status())
        order = [s.addressing for s in reversed(list(nx.topological_sort(graph)))]
        upstream_all = {s.addressing: {d.addressing for d in graph.successors(s)} for s in graph}
    unknown = changed - set(order)
    if unknown:
        raise InputError(f"dvc status names stages not in the graph: {sorted(unknown)}")
    run: set[str] = set()
    for stage in order:  # upstream first: a stage runs if it changed or anything above it runs
        if stage in changed or upstream_all[stage] & run:
            run.add(stage)
    stages = [s for s in order if s in run]
    return Plan(stages, {s: upstream_all[s] & run for s in stages}, len(order), snapshot)


class StageTimes:
    """Recorded seconds per stage, and estimates for stages never timed (their kind's median)."""

    def __init__(self, seconds: Mapping[str, float]) -> None:
        self.seconds = dict(seconds)
        kinds: dict[str, list[float]] = {}
        for name, value in self.seconds.items():
            kinds.setdefault(stage_kind(name), []).append(value)
        self._kind = {kind: median(values) for kind, values in kinds.items()}

    @classmethod
    def load(cls, path: Path, fallback: Path | None = None) -> StageTimes:
        """The times in ``path``; without that file, the ``fallback`` file's (estimates)."""
        path = fallback if fallback is not None and not path.is_file() else path
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}
        return cls({str(k): float(v) for k, v in data.items()} if isinstance(data, dict) else {})

    def estimate(self, addressing: str) -> float:
        name = stage_name(addressing)
        if name in self.seconds:
            return self.seconds[name]
        return self._kind.get(stage_kind(addressing), DEFAULT_SECONDS)

    def save(self, path: Path, measured: Mapping[str, float]) -> None:
        """Record ``measured`` (whole seconds) with the other stages' times, in ``path``."""
        self.seconds.update({stage_name(k): float(round(v)) for k, v in measured.items()})
        path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps({k: self.seconds[k] for k in sorted(self.seconds)}, indent=1) + "\n"
        with tempfile.NamedTemporaryFile(
            "w", dir=path.parent, prefix=f".{path.name}.", suffix=".tmp", delete=False
        ) as handle:
            handle.write(text)
        os.replace(handle.name, path)


def critical_path(plan_: Plan, times: StageTimes) -> dict[str, float]:
    """Each stage's estimated seconds to the end of the longest chain it starts."""
    below: dict[str, list[str]] = {s: [] for s in plan_.stages}
    for stage in plan_.stages:
        for up in plan_.upstream[stage]:
            below[up].append(stage)
    length: dict[str, float] = {}
    for stage in reversed(plan_.stages):
        length[stage] = times.estimate(stage) + max((length[d] for d in below[stage]), default=0.0)
    return length


def parse_timing(output: str) -> dict[str, float] | None:
    """The stage's own ``timing:`` line (fakenews.core.stage), if it printed one."""
    matches = list(_TIMING.finditer(output))
    return {k: float(v) for k, v in matches[-1].groupdict().items()} if matches else None


def _minutes(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    hours, rest = divmod(seconds, 3600)
    return f"{hours} h {rest // 60:02d} min" if hours else f"{rest // 60} min {rest % 60:02d} s"


@dataclass
class _Running:
    stage: str
    process: subprocess.Popen[bytes]
    cores: tuple[int, ...]
    started: float
    output: IO[bytes]


@dataclass
class Scheduler:
    """Runs a :class:`Plan` with ``jobs`` stages at a time over ``cores``."""

    root: Path
    plan: Plan
    times: StageTimes
    cores: tuple[int, ...]
    jobs: int
    log: IO[str]
    say: Callable[[str], None] = print
    command: Sequence[str] = (sys.executable, "-m", "dvc", "--wait-for-lock", "repro", "-s")
    done: dict[str, float] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)

    def run(self) -> bool:
        stages = self.plan.stages
        priority = critical_path(self.plan, self.times)
        downstream = self.plan.downstream()
        waiting = list(stages)
        running: list[_Running] = []
        started = time.time()
        self._event(
            event="begin",
            time=started,
            jobs=self.jobs,
            cores=len(self.cores),
            stages=len(stages),
            total=self.plan.total,
        )
        try:
            while waiting or running:
                done = set(self.done)
                ready = [s for s in waiting if not self.failed and self.plan.upstream[s] <= done]
                ready.sort(key=lambda s: -priority[s])
                while ready and len(running) < self.jobs:
                    free = [c for c in self.cores if not any(c in r.cores for r in running)]
                    stage = ready.pop(0)
                    # Alone, and nothing else can start before it ends: it takes every free core.
                    alone = not running and set(waiting) - {stage} <= downstream[stage]
                    share = max(1, len(self.cores) // self.jobs)
                    cores = tuple(free if alone else free[:share])
                    waiting.remove(stage)
                    running.append(self._start(stage, cores))
                if not running:
                    break  # a failure: nothing more starts
                finished = self._wait(running)
                running.remove(finished)
                self._finish(finished, started, waiting, running)
        except KeyboardInterrupt:
            for job in running:
                job.process.terminate()
            for job in running:
                job.process.wait()
            self._event(event="end", time=time.time(), status="interrupted")
            raise
        ok = not self.failed and not waiting
        self._event(event="end", time=time.time(), status="ok" if ok else "failed")
        return ok

    def _start(self, stage: str, cores: tuple[int, ...]) -> _Running:
        output = tempfile.TemporaryFile()  # noqa: SIM115 (closed in _finish)
        process = subprocess.Popen(
            [*self.command, stage],
            cwd=self.root,
            stdout=output,
            stderr=subprocess.STDOUT,
            preexec_fn=(lambda: os.sched_setaffinity(0, cores))
            if hasattr(os, "sched_setaffinity")
            else None,
        )
        return _Running(stage, process, cores, time.time(), output)

    @staticmethod
    def _wait(running: list[_Running]) -> _Running:
        while True:
            for job in running:
                if job.process.poll() is not None:
                    return job
            time.sleep(0.2)

    def _finish(
        self, job: _Running, started: float, waiting: list[str], running: list[_Running]
    ) -> None:
        ended = time.time()
        job.output.seek(0)
        text = job.output.read().decode("utf-8", errors="replace")
        job.output.close()
        ok = job.process.returncode == 0
        self.log.write(text if text.endswith("\n") or not text else text + "\n")
        self._event(
            event="done",
            stage=job.stage,
            start=job.started,
            end=ended,
            cores=list(job.cores),
            status="ok" if ok else "failed",
            timing=parse_timing(text),
        )
        if ok:
            self.done[job.stage] = ended - job.started
        else:
            self.failed.append(job.stage)
        count = len(self.done) + len(self.failed)
        left = self._time_left(waiting, running, ended)
        status = "done" if ok else "FAILED"
        self.say(
            f"[{count}/{len(self.plan.stages)}] {status} {stage_name(job.stage)} in "
            f"{_minutes(ended - job.started)} · elapsed {_minutes(ended - started)} · "
            + (f"about {_minutes(left)} left" if waiting or running else "all run")
        )
        if not ok:
            tail = "\n".join(text.rstrip().splitlines()[-30:])
            self.say(f"--- {job.stage} failed (exit {job.process.returncode}):\n{tail}\n---")

    def _time_left(self, waiting: list[str], running: list[_Running], now: float) -> float:
        """Recorded times of what is left, spread over the jobs, but never less than the longest
        remaining chain."""
        remaining = {s: self.times.estimate(s) for s in waiting}
        for job in running:
            remaining[job.stage] = max(0.0, self.times.estimate(job.stage) - (now - job.started))
        chain = critical_path(
            Plan(
                [s for s in self.plan.stages if s in remaining],
                {s: self.plan.upstream[s] & set(remaining) for s in remaining},
                self.plan.total,
            ),
            StageTimes({stage_name(s): v for s, v in remaining.items()}),
        )
        return max(sum(remaining.values()) / self.jobs, max(chain.values(), default=0.0))

    def _event(self, **event: Any) -> None:
        self.log.write("[repro] " + json.dumps(event) + "\n")
        self.log.flush()


def repro(
    paths: Paths,
    jobs: int | None = None,
    log_path: Path | None = None,
    check: Callable[[Paths], object] | None = None,
) -> int:
    """Run what changed, ``jobs`` stages at a time (default: one per core); 0 when all ran.

    ``check`` (the command line passes ``fakenews check``'s; none: no check) validates
    params.yaml first; it is skipped, like
    DVC's status, when the workspace is the one the last clean status saw (its params.yaml passed
    then)."""
    root = paths.root
    cores = tuple(sorted(os.sched_getaffinity(0))) if hasattr(os, "sched_getaffinity") else (0,)
    jobs = max(1, min(jobs or len(cores), len(cores)))
    started = time.time()
    stamp = paths.clean_status
    last = Snapshot.load(stamp)
    if last is not None and last.still(root, stamp):
        print(f"Data and pipelines are up to date (nothing changed since the last check, "
              f"{time.time() - started:.1f} s)")  # fmt: skip
        return 0
    if check is not None:
        check(paths)
    stamp.parent.mkdir(parents=True, exist_ok=True)  # before the digest: saving must not add it
    work = plan(root, stamp)
    if not work.stages:
        if work.snapshot is not None:
            work.snapshot.save(stamp)
        print(f"Data and pipelines are up to date ({work.total} stages, checked in "
              f"{time.time() - started:.1f} s)")  # fmt: skip
        return 0
    times = StageTimes.load(paths.stage_seconds, paths.stage_estimates)
    chain = max(critical_path(work, times).values())
    expected = max(sum(map(times.estimate, work.stages)) / jobs, chain)
    print(
        f"{len(work.stages)} of {work.total} stages to run, {jobs} at a time on {len(cores)} "
        f"cores; about {_minutes(expected)} by the recorded stage times"
    )
    log_path = log_path or paths.repro_log
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("w", encoding="utf-8") as log:
        scheduler = Scheduler(root, work, times, cores, jobs, log)
        ok = scheduler.run()
    times.save(paths.stage_seconds, scheduler.done)
    elapsed = _minutes(time.time() - started)
    if not ok:
        print(
            f"stopped after {elapsed}: {', '.join(map(stage_name, scheduler.failed))} failed; "
            f"the stages that finished are recorded (dvc.lock), rerun `make repro` to go on. "
            f"Log: {log_path}"
        )
        return 1
    print(f"all {len(work.stages)} stages ran in {elapsed}; log: {log_path}")
    _replay_runs(paths)
    _where_to_look(paths)
    return 0


def _replay_runs(paths: Paths) -> None:
    """Every stage's MLflow runs in MLflow before the last lines point there: the journals a
    background replay has not sent yet are sent now (report does too, but a run without it)."""
    from fakenews.tracking.replay import replay_pending

    left = replay_pending(paths).kept
    if left:
        print(
            f"MLflow: {len(left)} stage runs not replayed yet (warning above); they stay in "
            "the spool and go at the next stage or `fakenews replay`"
        )


def _where_to_look(paths: Paths) -> None:
    """The last lines: where the report and the MLflow runs are."""
    from fakenews.tracking.client import is_server
    from fakenews.tracking.ui import ui_target

    print(f"report: {paths.report_html} (and {paths.report.name}); metrics: {paths.root}/metrics")
    target = ui_target(paths)  # the runs table: MLflow 3's UI opens experiments on GenAI pages
    if is_server(target.uri):
        print(f"MLflow runs: {target.page()}")
    else:
        print(f"MLflow runs: {target.uri}; browse: make mlflow-ui, then {target.page()}")
