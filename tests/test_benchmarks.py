"""The benchmarks still run (``--smoke``: their code path on tiny inputs, no timing claim), and
stage_overhead's summary of a `make repro` log is computed as documented."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from helpers import REPO
from helpers.repo import stage_env

BENCHMARKS = sorted((REPO / "benchmarks").glob("*.py"))


def builds_dvc_project(script: Path) -> bool:
    """A benchmark that runs `dvc` (a temporary project and `dvc repro`) takes minutes: slow."""
    return '"dvc"' in script.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "script",
    [
        pytest.param(s, id=s.name, marks=[pytest.mark.slow] if builds_dvc_project(s) else [])
        for s in BENCHMARKS
    ],
)
def test_benchmark_smoke(script: Path) -> None:
    # stage_env: this venv's bin first on PATH (dvc, python), the checkout's src on PYTHONPATH.
    result = subprocess.run(
        [sys.executable, str(script.relative_to(REPO)), "--smoke"],
        cwd=REPO,
        env=stage_env(REPO),
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert result.returncode == 0, f"{script.name} --smoke failed:\n{result.stderr[-4000:]}"


def test_benchmarks_are_found() -> None:
    names = {s.name for s in BENCHMARKS}
    assert {"recurrent_throughput.py", "stage_overhead.py", "domain_check_cost.py"} <= names


@pytest.fixture(scope="module")
def overhead() -> ModuleType:
    """benchmarks/stage_overhead.py as a module (benchmarks/ is not a package)."""
    spec = importlib.util.spec_from_file_location(
        "stage_overhead", REPO / "benchmarks" / "stage_overhead.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["stage_overhead"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def repro_line(**event: Any) -> str:
    return "[repro] " + json.dumps(event)


def done(stage: str, start: float, end: float, core: int, model: tuple[float, float] | None) -> str:
    """A ``done`` event; ``model``: the stage's (fit, predict) seconds, None: no timing line."""
    timing = None
    if model is not None:
        fit, predict = model
        timing = {"startup": 0.5, "fit": fit, "predict": predict, "other": 0.5,
                  "total": fit + predict + 1.0}  # fmt: skip
    status = "failed" if stage.startswith("download") else "ok"
    return repro_line(event="done", stage=stage, start=start, end=end, cores=[core],
                      status=status, timing=timing)  # fmt: skip


TRAIN_FILE = "pipelines/train-recurrent/dvc.yaml"
# An earlier run (ignored: the last run counts), then: a recurrent training 101..111 on core 0
# overlapping a (failed) download 103..107 on core 1, then the report 112..116 alone; wall
# 100..120.
SYNTHETIC_LOG = "\n".join(
    [
        repro_line(event="begin", time=0.0, jobs=1, cores=2, stages=1),
        done("old@x", 1.0, 50.0, 0, None),
        repro_line(event="end", time=60.0, status="ok"),
        "Running stage 'download@a': some other line",
        repro_line(event="begin", time=100.0, jobs=2, cores=2, stages=3),
        done(f"{TRAIN_FILE}:train-recurrent@a-lstm-42", 101.0, 111.0, 0, (6.0, 1.0)),
        "[train-recurrent@a-lstm-42] INFO timing: startup 0.5 s, fit 6.0 s, predict 1.0 s, "
        "other 0.5 s, total 8.0 s",
        done("download@a", 103.0, 107.0, 1, None),
        done("report", 112.0, 116.0, 0, (1.0, 1.0)),
        repro_line(event="end", time=120.0, status="failed"),
    ]
)


def test_stage_kind(overhead: ModuleType) -> None:
    kind = overhead.stage_kind
    assert kind("pipelines/train-recurrent/dvc.yaml:train-recurrent@liar-rnn-42") == (
        "train-recurrent"
    )
    assert kind("download@liar") == "download"
    assert kind("report") == "report"
    assert kind("dvc.yaml:evaluate-linear@liar-tfidf_logreg-42") == "evaluate-linear"


def test_repro_log_summary(overhead: ModuleType) -> None:
    run = overhead.parse(SYNTHETIC_LOG)
    assert (run.begin, run.end, run.cores, run.jobs, run.status) == (100.0, 120.0, 2, 2, "failed")
    assert [s.stage.rpartition(":")[2] for s in run.stages] == [
        "train-recurrent@a-lstm-42",
        "download@a",
        "report",
    ]
    rows = {r["kind"]: r for r in overhead.kind_rows(run.stages)}
    assert rows["train-recurrent"] == {
        "kind": "train-recurrent",
        "stages": 1,
        "failed": 0,
        "median_outside": 3.0,
        "max_outside": 3.0,
        "median_total": 10.0,
        "slow": True,
    }
    assert (rows["download"]["median_outside"], rows["download"]["failed"]) == (4.0, 1)
    assert (rows["report"]["median_outside"], rows["report"]["slow"]) == (2.0, False)  # not > 2
    # Stage time 10 + 4 + 4 = 18 s, fit+predict 7 + 0 + 2 = 9 s; wall 20 s x 2 cores = 40.
    assert overhead.outside_shares(run) == (9 / 18, (40 - 9) / 40)
    # Both cores busy 103..107; at least one 101..111 and 112..116.
    assert overhead.busy_shares(run) == (4 / 20, 14 / 20)


def test_plain_log_falls_back_to_timing_lines(overhead: ModuleType) -> None:
    log = (
        "[split@a] INFO timing: startup 0.7 s, fit 0.00 s, predict 0.00 s, other 2.0 s, "
        "total 2.5 s\nnoise\n"
        "[train-linear@a-tfidf_logreg-42] INFO timing: startup 0.5 s, fit 3.0 s, predict 0.5 s, "
        "other 0.5 s, total 4.5 s\n"
    )
    run = overhead.parse(log, wall=10.0)
    assert [(s.stage, s.outside) for s in run.stages] == [
        ("split@a", 2.5),
        ("train-linear@a-tfidf_logreg-42", 1.0),
    ]
    # One process at a time: the wall's share outside fit/predict is 1 - 3.5 / 10.
    assert overhead.outside_shares(run) == (3.5 / 7.0, (10.0 - 3.5) / 10.0)
    assert overhead.busy_shares(run) is None  # no intervals in a plain log
    assert overhead.parse(log).wall is None


def test_report_prints_every_figure(overhead: ModuleType, capsys: pytest.CaptureFixture) -> None:
    overhead.report(overhead.parse(SYNTHETIC_LOG))
    out = capsys.readouterr().out
    assert "train-recurrent" in out and "SLOW" in out and "(1 failed)" in out
    assert "outside fit/predict: 50.0%" in out
    assert "all 2 cores busy: 20.0% of the wall time; at least one: 70.0%" in out
