"""dvc.yaml's download and prepare stages, kept listing the datasets of params.yaml.

Each dataset's download and prepare depend on its own source module (and what that imports),
not on every source: a new source module then reruns no existing dataset. DVC cannot look a
dataset's source up, nor interpolate a list into deps, so ``tools/generate_dvc_yaml.py`` writes
those stages' ``foreach`` as the datasets themselves, each with its source's code. Adding a
dataset to params.yaml therefore means regenerating dvc.yaml: ``fakenews repro`` does it here,
before DVC reads the file, when a stage's datasets (or a dataset's source) differ from params.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import yaml

from fakenews.core.errors import ParamsError

#: Each dataset stage of the root dvc.yaml and the params.yaml section it iterates.
DATASET_STAGES: Mapping[str, str] = {
    "download": "datasets",
    "prepare": "datasets",
    "download-eval": "evaluate_on",
    "prepare-eval": "evaluate_on",
}
#: The generator, relative to the repo root.
GENERATOR = Path("tools") / "generate_dvc_yaml.py"
SOURCES_DIR = "src/fakenews/sources"


def stale_dataset_stages(root: Path, raw: Mapping[str, object]) -> list[str]:
    """The dataset stages of ``root``'s dvc.yaml whose datasets are not params.yaml's (``raw``),
    in order, or that miss a dataset's source module."""
    path = Path(root) / "dvc.yaml"
    if not path.is_file():
        return []
    stages = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("stages") or {}
    stale = []
    for name, section in DATASET_STAGES.items():
        foreach = (stages.get(name) or {}).get("foreach")
        if not isinstance(foreach, dict):
            continue  # `${section}`: DVC reads the datasets from params.yaml itself
        entries = raw.get(section) or {}
        if not isinstance(entries, dict):
            continue  # the params check names the problem
        if list(foreach) != [str(d) for d in entries]:
            stale.append(name)
            continue
        for dataset, entry in entries.items():
            source = (entry or {}).get("source") if isinstance(entry, dict) else None
            module = f"{SOURCES_DIR}/{source or dataset}.py"
            code = foreach.get(str(dataset))
            if not isinstance(code, dict) or module not in code.values():
                stale.append(name)
                break
    return stale


def sync_dataset_stages(root: Path, raw: Mapping[str, object]) -> bool:
    """Regenerate the dvc.yaml files when their dataset stages are stale; True when it did.
    ParamsError when they are stale and the generator is missing or fails."""
    stale = stale_dataset_stages(root, raw)
    if not stale:
        return False
    generator = Path(root) / GENERATOR
    hint = f"dvc.yaml: stages {', '.join(stale)} do not list the datasets of params.yaml"
    if not generator.is_file():
        raise ParamsError(f"{hint}, and {GENERATOR} is missing to rewrite them")
    result = subprocess.run(
        [sys.executable, str(generator), "--root", str(root)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise ParamsError(f"{hint}; {GENERATOR} failed:\n{result.stderr.strip()}")
    return True
