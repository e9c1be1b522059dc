"""Wall time of a queued grid of 4 experiments under `dvc queue start -j 1` and `-j 2`.

    python benchmarks/queue_parallel.py [--jobs 1 2] [--keep]

Builds a temporary DVC project (this checkout's dvc.yaml, stages and src; one generated dataset;
tfidf_logreg), runs the baseline once, then for each ``-j`` queues 4 experiments with values of
``train.tfidf_logreg.C`` no other round used (so the run-cache skips none of their train stages,
only the shared data stages) and times `dvc queue start -j N` until the queue is empty. Prints
each wall time and its ratio to ``-j 1``, measured in the same run. ``--smoke``: ``-j 2`` only,
2 experiments instead of 4 (the same code path; no timing worth reading).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from helpers.news import custom_options  # noqa: E402
from helpers.repo import make_repo, run, stage_env  # noqa: E402

GRIDS = {1: "0.25,0.5,1.0,2.0", 2: "0.3,0.6,1.2,2.4", 3: "0.35,0.7,1.4,2.8", 4: "0.4,0.8,1.6,3.2"}


def tiny_params() -> dict[str, Any]:
    params = yaml.safe_load((REPO / "params.yaml").read_text(encoding="utf-8"))
    params["datasets"] = {"alpha": custom_options("alpha")}
    params["models"] = {"linear": ["tfidf_logreg"], "recurrent": [], "transformer": [],
                        "embedding": []}  # fmt: skip
    params["unions"], params["evaluate_on"] = {}, {}
    params["union_models"] = params["models"]
    params["split"] = {**params["split"], "folds": 3}
    return params


def run_queue(repo: Path, jobs: int, experiments: int = 4) -> float:
    grid = ",".join(GRIDS[jobs].split(",")[:experiments])
    run(repo, "dvc", "exp", "run", "--queue", "-S", f"train.tfidf_logreg.C={grid}")
    start = time.perf_counter()
    subprocess.run(["dvc", "queue", "start", "-j", str(jobs)], cwd=repo, env=stage_env(repo),
                   check=True, capture_output=True)  # fmt: skip
    while re.search(r"\b(Queued|Running)\b", status := run(repo, "dvc", "queue", "status")):
        if "Running" not in status and ": 0 active" in status:  # treeverse/dvc#10562
            run(repo, "dvc", "queue", "start", "-j", str(jobs))
        time.sleep(1)
    wall = time.perf_counter() - start
    status = run(repo, "dvc", "queue", "status")
    done = len(re.findall(r"\bSuccess\b", status))
    subprocess.run(["dvc", "queue", "stop"], cwd=repo, env=stage_env(repo), capture_output=True)
    run(repo, "dvc", "queue", "remove", "--success")
    if done != experiments:
        raise SystemExit(f"-j {jobs}: {done} of {experiments} experiments succeeded:\n{status}")
    return wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2], choices=sorted(GRIDS))
    parser.add_argument("--keep", action="store_true", help="keep the temporary project")
    parser.add_argument("--smoke", action="store_true", help="-j 2 only, 2 experiments")
    args = parser.parse_args()
    experiments = 2 if args.smoke else 4
    if args.smoke:
        args.jobs = [2]
    folder = Path(tempfile.mkdtemp(prefix="queue-bench-"))
    try:
        # make_repo copies the pipeline and regenerates its dvc.yaml for these datasets.
        repo = make_repo(folder / "repo", tiny_params())
        run(repo, "git", "add", "-f", "data/external", "dvc.yaml")  # queued copies come from git
        if (repo / "pipelines").is_dir():
            run(repo, "git", "add", "pipelines")
        run(repo, "dvc", "repro")
        run(repo, "git", "add", "-A")
        run(repo, "git", "commit", "-q", "-m", "baseline")
        walls = {jobs: run_queue(repo, jobs, experiments) for jobs in args.jobs}
        reference = walls.get(1)
        for jobs, wall in walls.items():
            ratio = f"  ({wall / reference:.2f}x the -j 1 time)" if reference else ""
            print(f"dvc queue start -j {jobs}: {experiments} experiments in {wall:.1f} s{ratio}")
    finally:
        if args.keep:
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
