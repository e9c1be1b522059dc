"""Where a `dvc repro` spends its time: stage start-up and everything outside fitting/predicting.

Every stage logs one line at its end (``fakenews.core.stage``):

    [train@liar-lstm] INFO timing: startup 0.62 s, fit 9.81 s, predict 0.40 s, other 1.20 s, ...

``startup`` runs from process start to the stage's first work (interpreter, imports, params
validation); ``fit``/``predict`` are the model calls; ``other`` is the rest (reading data,
metrics, MLflow, writing outputs). This script reads those lines from a `dvc repro` log.

    python benchmarks/stage_overhead.py                 # a small generated project, run here
    python benchmarks/stage_overhead.py --log repro.log --wall 1100   # a full run's log

Without ``--log`` it builds a temporary DVC project (this checkout's dvc.yaml, stages and src; two
generated datasets; tfidf_logreg and a small lstm), runs `dvc repro` there, and reports the same
figures for it: start-up per stage kind, and the share of wall time outside fitting and
predicting (DVC's own work between stages included, since the wall time is measured around it).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

REPO = Path(__file__).resolve().parents[1]
TIMING = re.compile(
    r"\[(?P<stage>[^\]]+)\] INFO timing: startup (?P<startup>[\d.]+) s, fit (?P<fit>[\d.]+) s, "
    r"predict (?P<predict>[\d.]+) s, other (?P<other>[\d.]+) s, total (?P<total>[\d.]+) s"
)
STARTUP_TARGET_S = 1.0  # issue 12: download/prepare/split/audit/overlap and TF-IDF stages


def stage_kind(name: str) -> str:
    """`train@liar-lstm-42` -> `train (lstm)`; `transfer@liar-lstm` -> `transfer (lstm)`;
    `prepare@liar` -> `prepare`."""
    group, _, item = name.partition("@")
    if group in ("train", "evaluate", "transfer"):
        parts = item.split("-")
        if group != "transfer" and parts[-1].isdigit():  # one stage per seed
            parts = parts[:-1]
        return f"{group} ({parts[-1]})"
    return group


def parse(log: str) -> list[dict[str, float | str]]:
    return [
        {"stage": m["stage"], **{k: float(m[k]) for k in ("startup", "fit", "predict", "total")}}
        for m in TIMING.finditer(log)
    ]


def report(rows: list[dict[str, float | str]], wall: float | None) -> None:
    if not rows:
        sys.exit("no `timing:` lines found: was the log written by this version of fakenews?")
    kinds: dict[str, list[dict[str, float | str]]] = defaultdict(list)
    for row in rows:
        kinds[stage_kind(str(row["stage"]))].append(row)
    print(f"{'stage kind':<28}{'runs':>5}{'start-up mean':>15}{'max':>8}{'total mean':>12}")
    for kind, group in kinds.items():
        startups = [float(r["startup"]) for r in group]
        totals = [float(r["total"]) for r in group]
        print(
            f"{kind:<28}{len(group):>5}{np.mean(startups):>13.2f} s{max(startups):>6.2f} s"
            f"{np.mean(totals):>10.2f} s"
        )
    fit = sum(float(r["fit"]) for r in rows)
    predict = sum(float(r["predict"]) for r in rows)
    in_stages = sum(float(r["total"]) for r in rows)
    startup = sum(float(r["startup"]) for r in rows)
    print(
        f"\nstages: {len(rows)}; fit {fit:.1f} s, predict {predict:.1f} s, start-up {startup:.1f} s"
    )
    print(f"time inside stage processes: {in_stages:.1f} s")
    basis = wall if wall is not None else in_stages
    label = "wall time" if wall is not None else "stage time (no --wall given)"
    outside = basis - fit - predict
    print(f"{label}: {basis:.1f} s; outside fitting and predicting: {outside:.1f} s = "
          f"{100 * outside / basis:.1f}%")  # fmt: skip
    cheap = [
        r
        for r in rows
        if stage_kind(str(r["stage"])).split(" ")[0] in {"download", "prepare", "split", "audit",
                                                          "overlap"}
        or stage_kind(str(r["stage"])).endswith("(tfidf_logreg)")
    ]  # fmt: skip
    if cheap:
        worst = max(cheap, key=lambda r: float(r["startup"]))
        print(
            f"start-up of data and tfidf_logreg stages: max {float(worst['startup']):.2f} s "
            f"({worst['stage']}); target <= {STARTUP_TARGET_S:.1f} s"
        )


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


def small_project(root: Path) -> None:
    for name in ("dvc.yaml", ".dvcignore", ".gitignore"):
        shutil.copy(REPO / name, root / name)
    shutil.copytree(REPO / "stages", root / "stages")
    shutil.copytree(REPO / "src", root / "src", ignore=shutil.ignore_patterns("__pycache__"))
    params = yaml.safe_load((REPO / "params.yaml").read_text(encoding="utf-8"))
    params["datasets"] = {}
    for name, seed in (("alpha", 1), ("beta", 2)):
        folder = root / "data" / "external" / name
        folder.mkdir(parents=True)
        generated(seed).to_csv(folder / f"{name}.csv", index=False)
        params["datasets"][name] = {
            "source": "custom",
            "path": f"data/external/{name}/{name}.csv",
            "text_column": "body",
            "title_column": "headline",
            "label_column": "verdict",
            "label_map": {"FAKE": 1, "TRUE": 0},
        }
    params["models"] = {"linear": ["tfidf_logreg"], "recurrent": ["lstm"], "transformer": []}
    params["train"]["lstm"].update(epochs=2, max_len=64, embedding_dim=16, hidden_sizes=[16])
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")
    for command in (
        ["git", "init", "-q"],
        ["git", "-c", "user.email=b@example.com", "-c", "user.name=b", "commit", "-q",
         "--allow-empty", "-m", "init"],
        ["dvc", "init", "-q"],
        ["dvc", "config", "core.analytics", "false"],
    ):  # fmt: skip
        subprocess.run(command, cwd=root, check=True)


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
    parser.add_argument("--wall", type=float, help="with --log: the run's wall time in seconds")
    args = parser.parse_args()
    if args.log:
        report(parse(args.log.read_text(encoding="utf-8", errors="replace")), args.wall)
        return
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        small_project(root)
        log, wall = run_repro(root)
        print(f"small generated project: `dvc repro` took {wall:.1f} s\n")
        report(parse(log), wall)
        _, noop_wall = run_repro(root)
        print(f"\nno-op `dvc repro`: {noop_wall:.2f} s")


if __name__ == "__main__":
    main()
