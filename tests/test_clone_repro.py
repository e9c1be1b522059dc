"""A clone that has the committed outputs does nothing: after `dvc pull` from a remote holding a
full run, `fakenews repro` (`make repro`) runs no stage and changes no file.

End to end on a tiny generated study in temporary git repos: repro, commit the results, push
to a local DVC remote (outputs and run-cache), clone that commit, pull, repro, `git status`.
The commands and their output are printed (`pytest -s` shows them): the transcript of issue 30.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpers.news import custom_datasets
from helpers.params import tiny_params
from helpers.repo import make_repo, run

pytestmark = pytest.mark.slow


def shown(repo: Path, *args: str) -> str:
    """Run a command in ``repo`` (it must succeed) and print it with its output."""
    output = run(repo, *args)
    print(f"$ {' '.join(args)}    # in {repo.name}/\n{output.rstrip()}\n", flush=True)
    return output


def test_a_fresh_clone_that_pulls_the_outputs_runs_nothing_and_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As on a user's machine: Python writes __pycache__/ beside the code the stages depend on.
    monkeypatch.delenv("PYTHONDONTWRITEBYTECODE", raising=False)
    params = tiny_params(
        custom_datasets("alpha", "beta"),
        ["tfidf_logreg", "lstm"],
        seeds=42,
        train={"lstm": {"epochs": 1, "max_len": 32, "embedding_dim": 8, "hidden_sizes": [8]}},
        split={"folds": 3},
    )
    origin = make_repo(tmp_path / "origin", params)
    shown(origin, "dvc", "remote", "add", "-d", "shared", str(tmp_path / "remote"))
    shown(origin, "fakenews", "repro")
    shown(origin, "git", "add", "-A")
    shown(origin, "git", "commit", "-q", "-m", "results")
    assert shown(origin, "git", "status", "--porcelain") == ""
    shown(origin, "dvc", "push", "--run-cache")

    clone = tmp_path / "clone"
    shown(tmp_path, "git", "clone", "-q", str(origin), str(clone))
    # The hand-placed source files git never carries (data/external/, as for ISOT's).
    shutil.copytree(origin / "data" / "external", clone / "data" / "external", dirs_exist_ok=True)
    shown(clone, "dvc", "pull")
    output = shown(clone, "fakenews", "repro")
    assert output.startswith("Data and pipelines are up to date"), output
    assert shown(clone, "git", "status", "--porcelain") == ""
    assert (clone / "src" / "fakenews" / "core" / "__pycache__").is_dir()  # written, ignored
    assert shown(clone, "dvc", "metrics", "diff") == ""
    # A second run finds the clean-status snapshot the first one left: still nothing to do.
    assert "nothing changed since the last check" in shown(clone, "fakenews", "repro")
    assert shown(clone, "git", "status", "--porcelain") == ""
