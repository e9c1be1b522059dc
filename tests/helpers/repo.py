"""A temporary git + DVC copy of the project (code, pipeline, generated data) and running
commands in it as DVC runs the stages."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from helpers import REPO
from helpers.news import SEEDS, write_news
from helpers.params import family_of


def stage_env(repo: Path) -> dict[str, str]:
    """The environment commands run in: this venv, the repo's own package, default backends."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {"MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI", "FAKENEWS_DATA_MIRROR", "DVC_ROOT"}
    }
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    # Stages import the package copied into the repo, not whichever checkout is installed.
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(repo / "src"), env.get("PYTHONPATH", "")) if p
    )
    return env


def run(repo: Path, *args: str) -> str:
    """Run a command in ``repo`` (:func:`stage_env`); fail the test unless it succeeds. Returns
    its stdout and stderr."""
    result = subprocess.run(args, cwd=repo, env=stage_env(repo), capture_output=True, text=True)
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{' '.join(args)} failed:\n{output}"
    return output


def stages_run(output: str) -> set[str]:
    """The stages a `dvc repro` / `dvc exp run` output says it ran."""
    return plain_names(re.findall(r"Running stage '([^']+)'", output))


#: The params.yaml sections dvc.yaml's download and prepare stages list (each dataset with its
#: source's code): changing one means regenerating dvc.yaml, as `fakenews repro` does.
DATASET_SECTIONS = ("datasets", "evaluate_on")


def write_params(repo: Path, params: dict[str, Any]) -> None:
    """Write params.yaml; when its datasets change, regenerate the dvc.yaml files from the
    template (what `make dvc-yaml` and `fakenews repro` do)."""
    path = repo / "params.yaml"
    before = yaml.safe_load(path.read_text()) if path.is_file() else {}
    path.write_text(yaml.safe_dump(params, sort_keys=False))
    if any((before or {}).get(s) != params.get(s) for s in DATASET_SECTIONS):
        generate_dvc_yaml(repo)


def generate_dvc_yaml(repo: Path) -> None:
    """`make dvc-yaml` in ``repo``: the dvc.yaml files from its template, code and params."""
    if (repo / "dvc.template.yaml").is_file():
        run(repo, sys.executable, str(REPO / "tools" / "generate_dvc_yaml.py"), "--root", str(repo))


def make_repo(root: Path, params: dict[str, Any]) -> Path:
    """A git + DVC repo at ``root``: the project's code and pipeline, these params, and
    generated CSVs for the datasets alpha, beta and gamma in data/external/."""
    root.mkdir(parents=True)
    for name in ("dvc.template.yaml", "dvc.yaml", ".dvcignore", ".gitignore"):
        shutil.copy(REPO / name, root / name)
    shutil.copytree(REPO / "pipelines", root / "pipelines")  # the model stages' dvc.yaml files
    shutil.copytree(REPO / "stages", root / "stages")
    shutil.copytree(REPO / "src", root / "src", ignore=shutil.ignore_patterns("__pycache__"))
    for name, seed in SEEDS.items():
        write_news(root, name, seed)
    write_params(root, params)  # dvc.yaml's download and prepare stages list these datasets
    run(root, "git", "init", "-q")
    run(root, "git", "config", "user.email", "test@example.com")
    run(root, "git", "config", "user.name", "test")
    run(root, "dvc", "init", "-q")
    run(root, "dvc", "config", "core.analytics", "false")
    shutil.copytree(REPO / ".dvc" / "plots", root / ".dvc" / "plots")  # custom plot templates
    run(root, "git", "add", "-A")
    run(root, "git", "commit", "-q", "-m", "init")
    return root


def stage_name(stage: str, dataset: str, model: str, seed: int | None = None) -> str:
    """A model's stage: ``<stage>-<family>@<dataset>-<model>``, then ``-<seed>`` for the train
    and evaluate stages (one per seed; transfer stages have none)."""
    name = f"{stage}-{family_of(model)}@{dataset}-{model}"
    return name if seed is None else f"{name}-{seed}"


def target(name: str) -> str:
    """A stage name as a DVC target: model stages live in pipelines/<group>/dvc.yaml."""
    group = name.partition("@")[0]
    if group.startswith(("train-", "calibrate-", "evaluate-", "transfer-")):
        return f"pipelines/{group}/dvc.yaml:{name}"
    return name


def plain_names(addressings: Any) -> set[str]:
    """Stage names without their dvc.yaml (DVC prints ``pipelines/<group>/dvc.yaml:<name>``)."""
    return {a.rpartition(":")[2] for a in addressings}


def lock_entry(repo: Path, name: str) -> dict[str, Any]:
    """A stage's entry in the dvc.lock beside its dvc.yaml."""
    file, _, name = target(name).rpartition(":")
    lock = (repo / (file or "dvc.yaml")).with_name("dvc.lock")
    return yaml.safe_load(lock.read_text())["stages"][name]
