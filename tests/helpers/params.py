"""The project's own params.yaml, shrunk to a tiny study: tests override what they need (which
datasets, models, seeds, sizes) and keep every other setting as the project ships it, rather
than inventing a config of their own."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

import yaml

from helpers import REPO


def project_params() -> dict[str, Any]:
    """A fresh copy of the project's params.yaml, as parsed YAML."""
    return yaml.safe_load((REPO / "params.yaml").read_text(encoding="utf-8"))


def tiny_params(
    datasets: Mapping[str, Mapping[str, Any]],
    models: Iterable[str],
    *,
    seeds: int | Mapping[str, list[int]] | None = None,
    train: Mapping[str, Mapping[str, Any]] | None = None,
    unions: Mapping[str, list[str]] | None = None,
    evaluate_on: Mapping[str, Mapping[str, Any]] | None = None,
    **sections: Mapping[str, Any],
) -> dict[str, Any]:
    """The project's params.yaml, shrunk.

    ``datasets``: params.yaml's ``datasets``, whole (e.g. ``helpers.news.custom_datasets``).
    ``models``: the models that run, each kept in the family params.yaml lists it under; every
    other model is dropped (a family with none left stays, as ``[]``).
    ``seeds``: one seed for every family, or per family (families not named keep theirs);
    ``None`` keeps params.yaml's.
    ``train``: per model, settings that update its ``train.<model>`` section.
    ``unions``, ``evaluate_on``: replace those sections (default: none).
    ``sections``: any other section (``split``, ``mlflow``...), updated with these settings.
    """
    params = project_params()
    params["datasets"] = copy.deepcopy(dict(datasets))
    wanted = list(models)
    listed = {m for family in params["models"].values() for m in family}
    unknown = [m for m in wanted if m not in listed]
    assert not unknown, f"not in params.yaml's models: {unknown}"
    params["models"] = {
        family: [m for m in names if m in wanted] for family, names in params["models"].items()
    }
    # Every model that runs trains on the unions here (params.yaml leaves some out for CPU time).
    params["union_models"] = copy.deepcopy(params["models"])
    if isinstance(seeds, int):
        params["seeds"] = {family: [seeds] for family in params["seeds"]}
    elif seeds is not None:
        params["seeds"] = {**params["seeds"], **copy.deepcopy(dict(seeds))}
    for model, settings in (train or {}).items():
        params["train"][model] = {**(params["train"].get(model) or {}), **settings}
    # The tests choose their unions (most none, for time): not the ones derived from `datasets`.
    params["union_rule"] = "custom"
    params["unions"] = copy.deepcopy(dict(unions or {}))
    params["evaluate_on"] = copy.deepcopy(dict(evaluate_on or {}))
    for name, settings in sections.items():
        params[name] = {**(params.get(name) or {}), **settings}
    return params


def family_of(model: str) -> str:
    """The family params.yaml lists ``model`` under (its dvc.yaml stage group)."""
    (family,) = [f for f, names in project_params()["models"].items() if model in names]
    return family
