"""`fakenews repro`: what it runs, in which order, on which cores, and what it prints."""

from __future__ import annotations

import io
import json
import os
import re
import sys
import time
from pathlib import Path

import pytest

from fakenews.core.paths import Paths
from fakenews.orchestration import scheduler as scheduler_module
from fakenews.orchestration.scheduler import (
    Plan,
    Scheduler,
    Snapshot,
    StageTimes,
    critical_path,
    parse_timing,
    repro,
    stage_kind,
    stage_name,
)

# A data stage feeding two chains of different length, joined by a report.
UPSTREAM = {
    "prepare@a": set(),
    "pipelines/train-x/dvc.yaml:train-x@a-long-1": {"prepare@a"},
    "pipelines/evaluate-x/dvc.yaml:evaluate-x@a-long-1": {
        "pipelines/train-x/dvc.yaml:train-x@a-long-1"
    },
    "pipelines/train-x/dvc.yaml:train-x@a-short-1": {"prepare@a"},
    "report": {
        "pipelines/evaluate-x/dvc.yaml:evaluate-x@a-long-1",
        "pipelines/train-x/dvc.yaml:train-x@a-short-1",
    },
}
SECONDS = {
    "prepare@a": 1.0,
    "train-x@a-long-1": 3.0,
    "evaluate-x@a-long-1": 1.0,
    "train-x@a-short-1": 1.0,
    "report": 1.0,
}


def study_plan() -> Plan:
    return Plan(list(UPSTREAM), {k: set(v) for k, v in UPSTREAM.items()}, total=7)


def test_names_and_kinds_drop_the_dvc_yaml() -> None:
    assert stage_name("pipelines/train-x/dvc.yaml:train-x@a-long-1") == "train-x@a-long-1"
    assert stage_kind("pipelines/train-x/dvc.yaml:train-x@a-long-1") == "train-x"
    assert stage_kind("report") == "report"


def test_critical_path_and_estimates_for_stages_never_timed() -> None:
    times = StageTimes({"train-x@a-long-1": 3.0, "train-x@b-long-1": 5.0, "report": 1.0})
    assert times.estimate("pipelines/train-x/dvc.yaml:train-x@c-new-1") == 4.0  # kind median
    assert times.estimate("prepare@a") == 10.0  # a kind never timed: the default
    lengths = critical_path(study_plan(), StageTimes(SECONDS))
    assert lengths["prepare@a"] == 1 + 3 + 1 + 1
    assert lengths["pipelines/train-x/dvc.yaml:train-x@a-short-1"] == 2.0
    assert study_plan().downstream()["prepare@a"] == set(UPSTREAM) - {"prepare@a"}


def test_timing_line_is_parsed() -> None:
    line = "[x] INFO timing: startup 0.61 s, fit 9.80 s, predict 0.40 s, other 1.20 s, total 11.4 s"
    assert parse_timing("noise\n" + line) == {
        "startup": 0.61, "fit": 9.8, "predict": 0.4, "other": 1.2, "total": 11.4,
    }  # fmt: skip
    assert parse_timing("no timing here") is None


def fake_dvc(tmp_path: Path, fail: str | None = None) -> list[str]:
    """A stand-in for `dvc repro -s <stage>`: records the stage, its cores and the time, sleeps
    the stage's seconds / 10, prints a timing line; exits 1 for ``fail``."""
    script = tmp_path / "fake_dvc.py"
    script.write_text(
        "import json, os, sys, time\n"
        f"seconds = {json.dumps(SECONDS)}\n"
        "stage = sys.argv[1]\n"
        "name = stage.rpartition(':')[2]\n"
        "with open(os.path.join(os.path.dirname(__file__), 'calls.jsonl'), 'a') as f:\n"
        "    f.write(json.dumps([stage, sorted(os.sched_getaffinity(0)), time.time()]) + '\\n')\n"
        "time.sleep(seconds[name] / 10)\n"
        "print(f'[{name}] INFO timing: startup 0.10 s, fit {seconds[name] / 10:.2f} s, '\n"
        "      'predict 0.00 s, other 0.01 s, total 0.11 s')\n"
        f"sys.exit(1 if name == {fail!r} else 0)\n"
    )
    return [sys.executable, str(script)]


@pytest.mark.skipif(not hasattr(__import__("os"), "sched_setaffinity"), reason="Linux only")
def test_runs_every_stage_after_its_upstream_longest_chain_first_one_core_each(
    tmp_path: Path,
) -> None:
    log, said = io.StringIO(), []
    scheduler = Scheduler(
        tmp_path, study_plan(), StageTimes(SECONDS), cores=(0, 1), jobs=2, log=log,
        say=said.append, command=fake_dvc(tmp_path),
    )  # fmt: skip
    assert scheduler.run()
    calls = [json.loads(line) for line in (tmp_path / "calls.jsonl").read_text().splitlines()]
    started = {stage: (cores, at) for stage, cores, at in calls}
    assert set(started) == set(UPSTREAM)
    done = {e["stage"]: e for e in events(log) if e["event"] == "done"}
    for stage, upstream in UPSTREAM.items():
        for up in upstream:
            assert done[up]["end"] <= started[stage][1], (up, stage)
    # After prepare, the long chain starts first; two stages at a time get one core each.
    order = [stage for stage, _, _ in calls]
    assert order.index("pipelines/train-x/dvc.yaml:train-x@a-long-1") < order.index(
        "pipelines/train-x/dvc.yaml:train-x@a-short-1"
    )
    assert started["pipelines/train-x/dvc.yaml:train-x@a-long-1"][0] == [0]
    assert started["pipelines/train-x/dvc.yaml:train-x@a-short-1"][0] == [1]
    # Alone with nothing else to start before it ends: every core.
    assert started["prepare@a"][0] == [0, 1] and started["report"][0] == [0, 1]
    assert done["report"]["timing"]["fit"] == 0.1
    # Progress: stages done / total, and the time left.
    assert said[0].startswith("[1/5] done prepare@a in ")
    assert "left" in said[0] and said[-1].startswith("[5/5] done report in ")
    kinds = [e["event"] for e in events(log)]
    assert kinds[0] == "begin" and kinds[-1] == "end" and kinds.count("done") == 5


@pytest.mark.skipif(not hasattr(__import__("os"), "sched_setaffinity"), reason="Linux only")
def test_a_failed_stage_stops_what_depends_on_it_and_says_why(tmp_path: Path) -> None:
    log, said = io.StringIO(), []
    scheduler = Scheduler(
        tmp_path, study_plan(), StageTimes(SECONDS), cores=(0, 1), jobs=2, log=log,
        say=said.append, command=fake_dvc(tmp_path, fail="train-x@a-short-1"),
    )  # fmt: skip
    assert not scheduler.run()
    assert scheduler.failed == ["pipelines/train-x/dvc.yaml:train-x@a-short-1"]
    ran = {json.loads(line)[0] for line in (tmp_path / "calls.jsonl").read_text().splitlines()}
    assert "report" not in ran
    assert any("FAILED train-x@a-short-1" in line for line in said)
    assert any("failed (exit 1)" in line and "timing:" in line for line in said)
    assert events(log)[-1] == {**events(log)[-1], "event": "end", "status": "failed"}


def events(log: io.StringIO) -> list[dict]:
    return [
        json.loads(line.removeprefix("[repro] "))
        for line in log.getvalue().splitlines()
        if line.startswith("[repro] ")
    ]


def test_stage_times_are_saved_whole_seconds_and_merged(tmp_path: Path) -> None:
    path = tmp_path / "logs" / "stage_seconds.json"
    StageTimes({"a@x": 3.0}).save(path, {"pipelines/t/dvc.yaml:t@y": 12.4})
    assert json.loads(path.read_text()) == {"a@x": 3.0, "t@y": 12.0}
    assert StageTimes.load(path).estimate("t@y") == 12.0
    path.write_text("not json")
    assert StageTimes.load(path).seconds == {}


def test_a_run_records_its_times_out_of_git_starting_from_the_committed_estimates(
    tmp_path: Path,
) -> None:
    paths = Paths(tmp_path)
    # A run records where git does not look; the committed estimates file stays as it was.
    assert paths.stage_seconds.relative_to(tmp_path).parts[0] == "logs"
    paths.stage_estimates.parent.mkdir(parents=True)
    paths.stage_estimates.write_text(json.dumps({"a@x": 50.0, "b@x": 7.0}))
    before = paths.stage_estimates.read_bytes()
    times = StageTimes.load(paths.stage_seconds, paths.stage_estimates)  # nothing recorded yet
    assert (times.estimate("a@x"), times.estimate("b@x")) == (50.0, 7.0)
    times.save(paths.stage_seconds, {"a@x": 20.2})
    assert paths.stage_estimates.read_bytes() == before
    again = StageTimes.load(paths.stage_seconds, paths.stage_estimates)
    assert (again.estimate("a@x"), again.estimate("b@x")) == (20.0, 7.0)
    # No file at all: no estimate, the default.
    assert StageTimes.load(tmp_path / "none.json", tmp_path / "none2.json").seconds == {}


def workspace(root: Path) -> tuple[Path, Path]:
    """A workspace with a file, a venv, .git/ and a cache folder; its stamp path and cache."""
    (root / "data" / "split").mkdir(parents=True)
    (root / "data" / "split" / "a.json").write_text("1")
    (root / "params.yaml").write_text("a: 1\n")
    for skipped in (".git/objects", ".venv/lib", ".dvc/tmp", "logs"):
        (root / skipped).mkdir(parents=True)
    (root / ".venv" / "pyvenv.cfg").write_text("home = /usr\n")
    cache = root / ".dvc" / "cache" / "files" / "md5"
    (cache / "ab").mkdir(parents=True)
    (cache / "ab" / "cdef").write_text("1")
    return root / "logs" / "clean-status.json", cache


def same_stat(path: Path, text: str) -> None:
    """Rewrite ``path`` in place keeping its size and mtime (its inode too)."""
    info = path.stat()
    assert len(text.encode()) == info.st_size
    path.write_text(text)
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))


def test_a_snapshot_changes_with_any_file_status_reads_and_only_those(tmp_path: Path) -> None:
    stamp, cache = workspace(tmp_path)
    config = tmp_path / ".dvc" / "config"

    def take() -> Snapshot:
        return Snapshot.take(tmp_path, str(cache), [str(config)], stamp)

    first = take()
    assert first.still(tmp_path, stamp)
    # What status does not read: git's objects, a virtualenv, DVC's tmp/, the stamp itself.
    for ignored in (
        ".git/objects/x",
        ".venv/lib/y.py",
        ".dvc/tmp/rwlock",
        "logs/clean-status.json",
    ):
        (tmp_path / ignored).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / ignored).write_text("new")
    assert first.still(tmp_path, stamp)
    first.save(stamp)
    assert Snapshot.load(stamp) == first
    # Each of these is a change `dvc status` could see.
    changes = [
        lambda: (tmp_path / "params.yaml").write_text("a: 2\n"),  # same size: the mtime tells
        lambda: same_stat(tmp_path / "params.yaml", "a: 3\n"),  # what DVC parses: the content
        lambda: (tmp_path / "data" / "split" / "b.json").write_text("2"),
        lambda: (tmp_path / "data" / "split" / "a.json").unlink(),
        lambda: (tmp_path / "data" / "empty").mkdir(),
        lambda: config.write_text("[core]\n"),
        lambda: (cache / "ab" / "cdef").unlink(),  # an output no longer in the cache
    ]
    for change in changes:
        before = take()
        time.sleep(0.01)  # a new mtime even on coarse clocks
        change()
        assert not before.still(tmp_path, stamp)
    stamp.write_text("not json")
    assert Snapshot.load(stamp) is None


def test_repro_answers_a_noop_from_the_snapshot_and_checks_after_a_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stamp, cache = workspace(tmp_path)
    calls: list[str] = []

    def fake_plan(root: Path, skip: Path | None = None) -> Plan:
        calls.append("plan")
        assert skip == stamp and skip.parent.is_dir()  # the stamp's folder is in the digest
        return Plan([], {}, 7, Snapshot.take(root, str(cache), [], stamp))

    def check(paths: Paths) -> None:
        calls.append("check")

    monkeypatch.setattr(scheduler_module, "plan", fake_plan)
    paths = Paths(tmp_path)
    assert repro(paths, check=check) == 0
    assert calls == ["check", "plan"]  # params checked before DVC reads them
    assert "(7 stages, checked in" in capsys.readouterr().out
    assert repro(paths, check=check) == 0
    assert calls == ["check", "plan"]  # nothing changed: neither runs again
    assert "nothing changed since the last check" in capsys.readouterr().out
    (tmp_path / "params.yaml").write_text("a: 22\n")
    assert repro(paths, check=check) == 0
    assert calls == ["check", "plan"] * 2


def test_repro_keeps_no_snapshot_when_status_cannot_be_covered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A dep outside the root (plan gives no snapshot): every run asks DVC."""
    stamp, _ = workspace(tmp_path)
    calls: list[str] = []
    monkeypatch.setattr(
        scheduler_module, "plan", lambda root, skip=None: calls.append("plan") or Plan([], {}, 1)
    )
    for _ in range(2):
        assert repro(Paths(tmp_path), check=lambda paths: None) == 0
    assert calls == ["plan", "plan"] and not stamp.exists()


@pytest.mark.slow
def test_fakenews_repro_runs_the_study_as_dvc_repro_would(tmp_path: Path) -> None:
    """Same metrics as a plain `dvc repro`, every stage recorded, then nothing left to run."""
    from helpers.news import custom_datasets
    from helpers.params import tiny_params
    from helpers.repo import make_repo, run

    params = tiny_params(custom_datasets("alpha"), ["tfidf_logreg"])
    plain, parallel = (make_repo(tmp_path / name, params) for name in ("plain", "parallel"))
    run(plain, "dvc", "repro")
    output = run(parallel, "fakenews", "repro")
    lines = output.splitlines()
    assert "stages to run, 2 at a time" in lines[0], lines[0]
    progress = [line for line in lines if line.startswith("[")]
    total = len(progress)
    assert progress[-1].startswith(f"[{total}/{total}] done report in ")
    assert lines[-2].startswith("report: ") and "report.html" in lines[-2]
    assert lines[-1].startswith("MLflow runs: sqlite:///") and "make mlflow-ui" in lines[-1]
    assert re.search(r"http://127\.0\.0\.1:5000/#/experiments/\d+/runs\b", lines[-1]), lines[-1]
    assert "Data and pipelines are up to date" in run(parallel, "dvc", "status")
    assert (parallel / "pipelines" / "train-linear" / "dvc.lock").is_file()
    assert "Data and pipelines are up to date (" in run(parallel, "fakenews", "repro")
    done = [
        json.loads(line.removeprefix("[repro] "))
        for line in (parallel / "logs" / "repro.log").read_text().splitlines()
        if line.startswith("[repro] ")
    ]
    assert sum(e["event"] == "done" and e["timing"] is not None for e in done) == total
    # The stage times went to the git-ignored log folder; the committed estimates are untouched.
    recorded = json.loads((parallel / "logs" / "stage_seconds.json").read_text())
    assert "report" in recorded and "train-linear@alpha-tfidf_logreg-42" in recorded
    estimates = Path(__file__).resolve().parents[1] / "pipelines" / "stage_estimates.json"
    assert (parallel / "pipelines" / "stage_estimates.json").read_bytes() == estimates.read_bytes()
    # No wall time in a published file: the two runs wrote the same bytes.
    for name in ("summary.json", "alpha/tfidf_logreg/seed-42.json"):
        a, b = ((repo / "metrics" / name).read_bytes() for repo in (plain, parallel))
        assert a == b, name
    assert files_under(plain / "headline") == files_under(parallel / "headline")
    # The clean status was recorded: nothing changed, so DVC is not asked again ...
    assert "nothing changed since the last check" in run(parallel, "fakenews", "repro")
    # ... until a param a stage reads changes: then that stage and what follows it run.
    params_file = parallel / "params.yaml"
    params_file.write_text(params_file.read_text().replace("threshold: 0.5", "threshold: 0.4"))
    rerun = run(parallel, "fakenews", "repro")
    assert "stages to run" in rerun.splitlines()[0], rerun
    assert any("done evaluate-linear@alpha-tfidf_logreg-42" in line for line in rerun.splitlines())


def files_under(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}  # fmt: skip
