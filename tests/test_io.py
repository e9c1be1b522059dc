"""Atomic writes: a process killed at any point never leaves a half-written target (it is the old
version, the new one, or, killed between the two renames of a folder swap, absent), and its
temporary files are hidden from DVC and removed by the next write to the same target."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from fakenews.core.io import (
    atomic_dir,
    atomic_path,
    remove_stale_temps,
    sweep_stale_temps,
    write_json,
)

# Runs in a child process: write `target` atomically, SIGKILL itself at the Nth os.replace.
WRITER = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from fakenews.core.io import atomic_dir, atomic_path, write_json

    kind, target, kill_at = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
    calls = 0
    real_replace = os.replace

    def replace(src, dst):
        global calls
        calls += 1
        if calls == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        real_replace(src, dst)

    os.replace = replace
    if kind == "dir":
        with atomic_dir(target) as tmp:
            write_json(tmp / "a.json", {"version": "new"})
            write_json(tmp / "b.json", {"version": "new"})
    else:
        with atomic_path(target) as tmp:
            tmp.write_text("new")
    """
)


def killed_write(kind: str, target: Path, kill_at: int) -> None:
    result = subprocess.run(
        [sys.executable, "-c", WRITER, kind, str(target), str(kill_at)], capture_output=True
    )
    assert result.returncode == -signal.SIGKILL, result.stderr.decode()


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


@pytest.mark.parametrize("kill_at", [1, 2, 3, 4])
def test_killed_folder_write_keeps_old_or_new_and_is_cleaned(tmp_path: Path, kill_at: int) -> None:
    # Replaces: a.json, b.json (inside the temporary folder), old folder aside, new folder in.
    target = tmp_path / "out" / "dataset"
    with atomic_dir(target) as tmp:
        write_json(tmp / "a.json", {"version": "old"})
    killed_write("dir", target, kill_at)
    assert leftovers(target.parent), "the kill left no temporary file: it came too late"
    if target.exists():  # killed before the swap: the old folder is whole
        assert sorted(p.name for p in target.iterdir()) == ["a.json"]
    with atomic_dir(target) as tmp:
        write_json(tmp / "a.json", {"version": "next"})
    assert leftovers(target.parent) == []
    assert sorted(p.name for p in target.parent.iterdir()) == ["dataset"]
    assert (target / "a.json").read_text() == '{\n  "version": "next"\n}\n'


def test_killed_file_write_is_cleaned_by_the_next(tmp_path: Path) -> None:
    target = tmp_path / "predictions.csv"
    target.write_text("old")
    killed_write("file", target, 1)
    assert target.read_text() == "old" and len(leftovers(tmp_path)) == 1
    with atomic_path(target) as tmp:
        tmp.write_text("next")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["predictions.csv"]


def test_live_writers_temps_are_kept(tmp_path: Path) -> None:
    """Another process still writing the same target keeps its temporary file."""
    target = tmp_path / "x.json"
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        live = tmp_path / f".x.json.{sleeper.pid}.abc.tmp"
        live.write_text("partial")
        dead = tmp_path / ".x.json.999999999.abc.tmp"  # above any pid_max: never alive
        dead.write_text("partial")
        unrelated = tmp_path / ".y.json.999999999.abc.tmp"
        unrelated.write_text("partial")
        assert remove_stale_temps(target) == [dead]
        assert live.exists() and unrelated.exists()
    finally:
        sleeper.kill()
        sleeper.wait()


def test_temps_are_hidden_from_dvc(tmp_path: Path) -> None:
    """`.dvcignore` covers the temporary names, so leftovers never change a folder's hash."""
    root = Path(__file__).resolve().parents[1]
    subprocess.run(["dvc", "init", "--no-scm", "-q"], cwd=tmp_path, check=True)
    shutil.copy(root / ".dvcignore", tmp_path / ".dvcignore")
    names = [
        "data/split/.liar.1234.k2j_x.tmp/train.parquet",
        "models/liar/.tfidf_logreg.77.old.tmp",
        "metrics/.summary.json.1234.abc.tmp",
        "data/split/liar/train.parquet",
        "metrics/summary.json",
    ]
    result = subprocess.run(
        ["dvc", "check-ignore", *names], cwd=tmp_path, capture_output=True, text=True
    )
    assert result.stdout.split() == names[:3]


def test_python_bytecode_is_hidden_from_dvc(tmp_path: Path) -> None:
    """Importing the code writes __pycache__/ into the code folders stages depend on: hidden, it
    leaves their hashes as a clone (or PYTHONDONTWRITEBYTECODE) has them."""
    root = Path(__file__).resolve().parents[1]
    subprocess.run(["dvc", "init", "--no-scm", "-q"], cwd=tmp_path, check=True)
    shutil.copy(root / ".dvcignore", tmp_path / ".dvcignore")
    names = [
        "src/fakenews/core/__pycache__/paths.cpython-311.pyc",
        "src/fakenews/core/stray.pyc",
        "src/fakenews.egg-info/PKG-INFO",
        "src/fakenews/core/paths.py",
        "src/fakenews/core/pycache_notes.json",
    ]
    result = subprocess.run(
        ["dvc", "check-ignore", *names], cwd=tmp_path, capture_output=True, text=True
    )
    assert result.stdout.split() == names[:3]


def test_sweep_removes_dead_processes_temps_anywhere_below(tmp_path: Path) -> None:
    dead = [
        tmp_path / "data" / "split" / ".liar.999999999.ab_c1.tmp",
        tmp_path / "plots" / "liar" / "lstm" / ".training.json.999999999.x1.tmp",
        tmp_path / "models" / "liar" / ".lstm.999999999.old.tmp",
    ]
    live = tmp_path / "metrics" / f".summary.json.{os.getpid()}.k.tmp"
    kept = [live, tmp_path / "data" / "split" / "liar" / "train.parquet"]
    for path in dead[:1] + dead[2:]:
        (path / "inner").mkdir(parents=True)
        (path / "inner" / ".x.json.999999999.y.tmp").write_text("partial")
    for path in [dead[1], *kept]:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("data")
    removed = sweep_stale_temps([tmp_path / d for d in ("data", "models", "metrics", "plots")])
    assert sorted(removed) == sorted(dead)
    assert all(not p.exists() for p in dead) and all(p.exists() for p in kept)
