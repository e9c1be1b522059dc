"""Where a `dvc repro` spends its time: time outside fitting/predicting, per stage kind.

Reads the log `make repro` (the parallel scheduler) appends: besides other lines, one
``[repro] {json}`` line per event:

    [repro] {"event": "begin", "time": T, "jobs": 2, "cores": 2, "stages": N}
    [repro] {"event": "done", "stage": "pipelines/x/dvc.yaml:train-recurrent@liar-rnn-42",
             "start": T, "end": T, "cores": [0], "status": "ok", "timing": {"startup": s,
             "fit": s, "predict": s, "other": s, "total": s}}   (null: the stage printed none)
    [repro] {"event": "end", "time": T, "status": "ok"}

The last run in the log (from its last ``begin``) is reported: per stage kind (the name after
the last ``:`` and before ``@``) the median and max time outside fit/predict (end - start - fit -
predict: DVC's bookkeeping and process start-up included), the share of the summed stage time
and of the wall time (begin..end, as core-seconds: wall x cores) outside fit/predict, and the
share of the wall time with every core busy (and with at least one).

A log without ``[repro]`` lines (a plain `dvc repro` log) falls back to each stage's own line
(``fakenews.core.stage``), with outside = total - fit - predict and no overlap figures:

    [train-recurrent@liar-lstm-42] INFO timing: startup 0.62 s, fit 9.81 s, predict 0.40 s, ...

    python benchmarks/stage_overhead.py                 # a small generated project, run here
    python benchmarks/stage_overhead.py --log repro.log             # a `make repro` log
    python benchmarks/stage_overhead.py --log dvc.log --wall 1100   # a plain `dvc repro` log

Without ``--log`` it builds a temporary DVC project (this checkout's dvc.yaml and pipelines/,
stages and src; two generated datasets; tfidf_logreg and a small lstm), runs `dvc repro` there,
and reports the same figures for it (from the stages' own lines, with the measured wall time).
``--smoke``: one dataset, tfidf_logreg only.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

REPO = Path(__file__).resolve().parents[1]
TIMING = re.compile(
    r"\[(?P<stage>[^\]]+)\] INFO timing: startup (?P<startup>[\d.]+) s, fit (?P<fit>[\d.]+) s, "
    r"predict (?P<predict>[\d.]+) s, other (?P<other>[\d.]+) s, total (?P<total>[\d.]+) s"
)
REPRO_PREFIX = "[repro] "
SLOW_OUTSIDE_S = 2.0  # a kind whose median time outside fit/predict passes this is flagged


@dataclass
class StageRun:
    """One stage's run: its interval (None from a plain log's timing line) and model time."""

    stage: str
    fit: float
    predict: float
    duration: float  # end - start; a plain log's stage total
    start: float | None = None
    end: float | None = None
    cores: list[int] = field(default_factory=list)
    status: str = "ok"

    @property
    def outside(self) -> float:
        return self.duration - self.fit - self.predict


@dataclass
class Run:
    """One run of the scheduler (``begin`` to ``end``), or a plain log's stages (no interval)."""

    stages: list[StageRun]
    begin: float | None = None
    end: float | None = None
    cores: int | None = None  # None (a plain log): stages ran one at a time, one core's worth
    jobs: int | None = None
    planned: int | None = None
    status: str | None = None

    @property
    def wall(self) -> float | None:
        return None if self.begin is None or self.end is None else self.end - self.begin


def stage_kind(name: str) -> str:
    """``pipelines/x/dvc.yaml:train-recurrent@liar-rnn-42`` -> ``train-recurrent``;
    ``download@liar`` -> ``download``; ``report`` -> ``report``."""
    return name.rpartition(":")[2].partition("@")[0]


def repro_events(log: str) -> list[dict[str, Any]]:
    """The JSON objects of the log's ``[repro] `` lines, in order (other lines are skipped)."""
    events = []
    for line in log.splitlines():
        if line.startswith(REPRO_PREFIX):
            events.append(json.loads(line[len(REPRO_PREFIX) :]))
    return events


def last_run(events: Sequence[dict[str, Any]]) -> Run:
    """The last run in an appended log: the events from its last ``begin``. A run cut short
    (no ``end``) ends at its last stage's end."""
    begins = [i for i, e in enumerate(events) if e.get("event") == "begin"]
    begin = events[begins[-1]] if begins else {}
    run = Run(
        stages=[],
        begin=begin.get("time"),
        cores=int(begin.get("cores", 2)),
        jobs=begin.get("jobs"),
        planned=begin.get("stages"),
    )
    for event in events[begins[-1] if begins else 0 :]:
        if event.get("event") == "done":
            timing = event.get("timing") or {}
            start, end = float(event["start"]), float(event["end"])
            run.stages.append(
                StageRun(
                    stage=event["stage"],
                    fit=float(timing.get("fit", 0.0)),
                    predict=float(timing.get("predict", 0.0)),
                    duration=end - start,
                    start=start,
                    end=end,
                    cores=list(event.get("cores") or []),
                    status=event.get("status", "ok"),
                )
            )
        elif event.get("event") == "end":
            run.end, run.status = float(event["time"]), event.get("status")
    if run.end is None and run.stages:
        run.end = max(s.end for s in run.stages if s.end is not None)
    if run.begin is None and run.stages:
        run.begin = min(s.start for s in run.stages if s.start is not None)
    return run


def timing_lines(log: str) -> list[StageRun]:
    """The fallback: the stages' own ``timing:`` lines (a plain `dvc repro` log)."""
    return [
        StageRun(m["stage"], float(m["fit"]), float(m["predict"]), float(m["total"]))
        for m in TIMING.finditer(log)
    ]


def parse(log: str, wall: float | None = None) -> Run:
    """The log's last ``[repro]`` run, else its timing lines (``wall``: a plain log's wall)."""
    events = repro_events(log)
    if events:
        return last_run(events)
    run = Run(stages=timing_lines(log))
    if wall is not None:
        run.begin, run.end = 0.0, wall
    return run


def kind_rows(stages: Sequence[StageRun]) -> list[dict[str, Any]]:
    """Per stage kind (first-seen order): count, median/max outside fit+predict, median total."""
    kinds: dict[str, list[StageRun]] = defaultdict(list)
    for stage in stages:
        kinds[stage_kind(stage.stage)].append(stage)
    rows = []
    for kind, group in kinds.items():
        outside = [s.outside for s in group]
        rows.append(
            {
                "kind": kind,
                "stages": len(group),
                "failed": sum(s.status != "ok" for s in group),
                "median_outside": float(np.median(outside)),
                "max_outside": max(outside),
                "median_total": float(np.median([s.duration for s in group])),
                "slow": float(np.median(outside)) > SLOW_OUTSIDE_S,
            }
        )
    return rows


def outside_shares(run: Run) -> tuple[float, float | None]:
    """Share outside fit/predict of the summed stage time, and of the wall's core-seconds
    (wall x cores; stages' fit+predict weighted by their cores, one if none are listed).
    With one core (or one stage at a time on one core) both are the familiar 1 - model / time."""
    total = sum(s.duration for s in run.stages)
    model = sum(s.fit + s.predict for s in run.stages)
    of_stages = (total - model) / total if total else 0.0
    wall = run.wall
    if not wall:
        return of_stages, None
    capacity = wall * (run.cores or 1)
    weighted = sum((s.fit + s.predict) * max(len(s.cores), 1) for s in run.stages)
    return of_stages, (capacity - weighted) / capacity


def busy_shares(run: Run, need: int | None = None) -> tuple[float, float] | None:
    """Shares of the wall time (begin..end) during which the running stages' cores sum to at
    least ``need`` (default: every core of the run), and to at least one. None without
    intervals."""
    wall = run.wall
    timed = [s for s in run.stages if s.start is not None and s.end is not None]
    if not wall or not timed or run.begin is None or run.end is None:
        return None
    need = (run.cores or 1) if need is None else need
    changes: dict[float, int] = defaultdict(int)
    for s in timed:
        assert s.start is not None and s.end is not None
        start, end = max(s.start, run.begin), min(s.end, run.end)  # clip to the run
        if end > start:
            changes[start] += len(s.cores)
            changes[end] -= len(s.cores)
    full = some = 0.0
    busy, previous = 0, run.begin
    for moment in sorted(changes):  # sweep: between two changes the busy count is constant
        span = moment - previous
        full += span if busy >= need else 0.0
        some += span if busy >= 1 else 0.0
        busy, previous = busy + changes[moment], moment
    return full / wall, some / wall


def report(run: Run) -> None:
    if not run.stages:
        sys.exit("no `[repro]` events or `timing:` lines found: is this a repro log?")
    header = f"{'stage kind':<28}{'stages':>7}{'outside median':>16}{'max':>9}{'total median':>14}"
    print(f"{header}  outside median > {SLOW_OUTSIDE_S:.1f} s")
    for row in kind_rows(run.stages):
        failed = f" ({row['failed']} failed)" if row["failed"] else ""
        print(
            f"{row['kind']:<28}{row['stages']:>7}{row['median_outside']:>14.2f} s"
            f"{row['max_outside']:>7.2f} s{row['median_total']:>12.2f} s"
            f"  {'SLOW' if row['slow'] else '-'}{failed}"
        )
    fit = sum(s.fit for s in run.stages)
    predict = sum(s.predict for s in run.stages)
    total = sum(s.duration for s in run.stages)
    planned = f" of {run.planned} planned" if run.planned is not None else ""
    print(f"\nstages: {len(run.stages)}{planned}; fit {fit:.1f} s, predict {predict:.1f} s")
    of_stages, of_wall = outside_shares(run)
    print(f"summed stage time {total:.1f} s; outside fit/predict: {of_stages:.1%}")
    if of_wall is None or run.wall is None:
        print("wall time unknown (a plain log: pass --wall)")
        return
    facts = [f"{run.cores} cores"] if run.cores else []
    facts += [f"-j {run.jobs}"] if run.jobs is not None else []
    facts += [f"status {run.status}"] if run.status else []
    about = f" ({', '.join(facts)})" if facts else ""
    print(
        f"wall time {run.wall:.1f} s{about}; outside fit/predict: {of_wall:.1%} of its "
        f"{'core-' if run.cores else ''}seconds"
    )
    busy = busy_shares(run)
    if busy is not None:
        print(f"all {run.cores} cores busy: {busy[0]:.1%} of the wall time; "
              f"at least one: {busy[1]:.1%}")  # fmt: skip


def copy_pipeline(source: Path, target: Path) -> None:
    """dvc.yaml, its template and, once the pipeline is split into pipelines/<group>/dvc.yaml,
    that folder (regenerated for the project's datasets by :func:`small_project`)."""
    shutil.copy(source / "dvc.yaml", target / "dvc.yaml")
    shutil.copy(source / "dvc.template.yaml", target / "dvc.template.yaml")
    if (source / "pipelines").is_dir():
        shutil.copytree(source / "pipelines", target / "pipelines")


def generated(seed: int, n_per_class: int = 150) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    fake = ["shocking", "secret", "hoax", "miracle", "banned", "exposed", "cure", "plot"]
    real = ["officials", "reported", "statement", "according", "agency", "percent", "data"]
    common = ["the", "a", "of", "in", "today", "people", "new", "government", "city", "health"]
    rows = []
    for label, words in (("FAKE", fake), ("TRUE", real)):
        for i in range(n_per_class):
            body = rng.choice(words + common, size=int(rng.integers(20, 60))).tolist()
            title = " ".join(rng.choice(words + common, size=6).tolist())
            rows.append({"headline": title, "body": f"{' '.join(body)} {i}", "verdict": label})
    return pd.DataFrame(rows)


def small_project(root: Path, smoke: bool = False) -> None:
    """``smoke``: one dataset and tfidf_logreg only (the same stages, fewer of them)."""
    for name in (".dvcignore", ".gitignore"):
        shutil.copy(REPO / name, root / name)
    copy_pipeline(REPO, root)
    shutil.copytree(REPO / "stages", root / "stages")
    shutil.copytree(REPO / "src", root / "src", ignore=shutil.ignore_patterns("__pycache__"))
    params = yaml.safe_load((REPO / "params.yaml").read_text(encoding="utf-8"))
    params["datasets"] = {}
    for name, seed in (("alpha", 1), ("beta", 2))[: 1 if smoke else 2]:
        folder = root / "data" / "external" / name
        folder.mkdir(parents=True)
        generated(seed, 40 if smoke else 150).to_csv(folder / f"{name}.csv", index=False)
        params["datasets"][name] = {
            "source": "custom",
            "path": f"data/external/{name}/{name}.csv",
            "text_column": "body",
            "title_column": "headline",
            "label_column": "verdict",
            "label_map": {"FAKE": 1, "TRUE": 0},
        }
    wanted = {"linear": ["tfidf_logreg"], "recurrent": [] if smoke else ["lstm"]}
    # Every family params.yaml has stays listed (empty), else its stage group has no matrix.
    params["models"] = {family: wanted.get(family, []) for family in params["models"]}
    params["seeds"] = {family: seeds[:1] for family, seeds in params["seeds"].items()}
    params["unions"], params["evaluate_on"] = {}, {}  # they name the project's own datasets
    params["union_rule"] = "custom"  # none (not the ones derived from `datasets`)
    params["union_models"] = params["models"]
    params["train"]["lstm"].update(epochs=2, max_len=64, embedding_dim=16, hidden_sizes=[16])
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")
    # dvc.yaml's download and prepare stages list the datasets: `make dvc-yaml` for these.
    generator = REPO / "tools" / "generate_dvc_yaml.py"
    subprocess.run([sys.executable, str(generator), "--root", str(root)], check=True)
    for command in (
        ["git", "init", "-q"],
        ["git", "-c", "user.email=b@example.com", "-c", "user.name=b", "commit", "-q",
         "--allow-empty", "-m", "init"],
        ["dvc", "init", "-q"],
        ["dvc", "config", "core.analytics", "false"],
    ):  # fmt: skip
        subprocess.run(command, cwd=root, check=True)
    shutil.copytree(REPO / ".dvc" / "plots", root / ".dvc" / "plots")  # custom plot templates


def run_repro(root: Path) -> tuple[str, float]:
    env = {k: v for k, v in os.environ.items() if k not in {"MLFLOW_TRACKING_URI", "DVC_ROOT"}}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = str(root / "src")
    started = time.perf_counter()
    result = subprocess.run(
        ["dvc", "repro"], cwd=root, env=env, capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"dvc repro failed:\n{result.stdout}{result.stderr}")
    return result.stdout + result.stderr, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--log", type=Path, help="a `dvc repro` log to read (default: run one)")
    parser.add_argument(
        "--wall", type=float, help="with a plain `dvc repro` --log: its wall time in seconds"
    )
    parser.add_argument("--smoke", action="store_true", help="one dataset, tfidf_logreg only")
    args = parser.parse_args()
    if args.log:
        report(parse(args.log.read_text(encoding="utf-8", errors="replace"), args.wall))
        return
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        small_project(root, args.smoke)
        log, wall = run_repro(root)
        print(f"small generated project: `dvc repro` took {wall:.1f} s\n")
        report(parse(log, wall))
        _, noop_wall = run_repro(root)
        print(f"\nno-op `dvc repro`: {noop_wall:.2f} s")


if __name__ == "__main__":
    main()
