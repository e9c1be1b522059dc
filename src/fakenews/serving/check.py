"""``fakenews check``: validate all of params.yaml at once, before `dvc repro` starts.

Stages validate only the sections they read, so they stay cheap to start and their dvc.yaml deps
stay exact; this check runs every owner's validation (each dataset's source and artifact rules,
each model's config — importing every listed model, torch included) so that a mistake anywhere is
reported before the first stage runs. `fakenews repro` (`make repro`) runs it first.
"""

from __future__ import annotations

from fakenews.core.config import Params, load_params
from fakenews.core.errors import ParamsError
from fakenews.core.paths import Paths
from fakenews.core.settings import DatasetConfig
from fakenews.models import check_model_params
from fakenews.sources import source_for
from fakenews.text.artifacts import check_names


def check_params(paths: Paths) -> Params:
    """Validate ``params.yaml`` under ``paths.root`` fully; ParamsError names the first fault."""
    params = load_params(paths.params_file)
    for section, datasets in (("datasets", params.datasets), ("evaluate_on", params.evaluate_on)):
        check_datasets(paths, section, datasets)
    check_model_params(params)
    return params


def check_datasets(paths: Paths, section: str, datasets: dict[str, DatasetConfig]) -> None:
    for name, options in datasets.items():
        source_for(name, options)
        check_names(name, options.artifact_rules, options.label_checks)
        folder = paths.external(name)
        if not folder.is_dir():
            relative = folder.relative_to(paths.root)
            raise ParamsError(
                f"{section}.{name}: folder {relative}/ does not exist. "
                f"download@{name} depends on it (files placed by hand, a custom dataset's file): "
                f"create it (`mkdir -p {relative}`), commit a README.md in it if "
                "it holds no files you want in git"
            )
