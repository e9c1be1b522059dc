"""``fakenews check``: validate all of params.yaml at once, before `dvc repro` starts.

Stages validate only the sections they read, so they stay cheap to start and their dvc.yaml deps
stay exact; this check runs every owner's validation (each dataset's source and artifact rules,
each model's config — importing every listed model, torch included) so that a mistake anywhere is
reported before the first stage runs. `fakenews repro` (`make repro`) runs it first.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from fakenews.analysis.containment import ContainmentConfig
from fakenews.analysis.findings import AuditConfig
from fakenews.analysis.near_duplicates import NearDuplicateConfig
from fakenews.analysis.stats import EvaluateConfig
from fakenews.core.errors import ParamsError
from fakenews.core.params import (
    PER_DATASET,
    Params,
    StrictModel,
    format_validation_error,
    load_params,
)
from fakenews.core.paths import Paths
from fakenews.models import check_model_params, known_models
from fakenews.models.families import FAMILIES
from fakenews.orchestration.unions import LEAVE_ONE_OUT, derived_unions
from fakenews.pipeline.explain import ExplainConfig
from fakenews.pipeline.split import SplitConfig
from fakenews.reporting.report import ReportConfig
from fakenews.sources import check_names, source_for
from fakenews.sources.options import DatasetConfig
from fakenews.text.cleaning import PrepareConfig
from fakenews.tracking.client import MlflowConfig


def check_params(paths: Paths) -> Params:
    """Validate ``params.yaml`` under ``paths.root`` fully; ParamsError names the first fault."""
    params = load_params(paths.params_file)
    study = validate_study(params)
    for section, datasets in (("datasets", study.datasets), ("evaluate_on", study.evaluate_on)):
        check_datasets(paths, section, datasets)
    check_model_params(params)
    return params


def validate_study(params: Params) -> StudyParams:
    """Every section of ``params`` by its owner's schema; ParamsError names the key at fault."""
    source = params.source
    try:
        raw = {**params.raw, **({"train": params.train} if "train" in params.raw else {})}
        study = StudyParams(**raw)
    except ValidationError as error:
        raise ParamsError(f"{source}: {format_validation_error(error)}") from None
    for model in study.model_names:
        if model not in study.train:
            raise ParamsError(
                f"{source}: train.{model}: missing; every model in `models` needs a section "
                "(use `{}` for the defaults)"
            )
    for model, section in study.train.items():
        if not isinstance(section, dict):
            raise ParamsError(f"{source}: train.{model}: expected a mapping")
        per_dataset = section.get(PER_DATASET) or {}
        if not isinstance(per_dataset, dict) or not all(
            isinstance(v, dict) for v in per_dataset.values()
        ):
            raise ParamsError(
                f"{source}: train.{model}.{PER_DATASET}: expected {{dataset: {{key: value}}}}"
            )
    return study


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


def _models_example() -> str:
    example = ", ".join(f"{family}: [{model}]" for family, model in FAMILIES.items())
    return f"expected a mapping of family -> list of models, e.g. {{{example}}}"


class StudyParams(StrictModel):
    """All of params.yaml, each section by its owner's schema (for `fakenews check`)."""

    datasets: dict[str, DatasetConfig] = Field(min_length=1)
    evaluate_on: dict[str, DatasetConfig] = Field(
        default_factory=dict,
        description="Evaluation-only datasets (same options as `datasets`): downloaded, prepared, "
        "checked for overlap with every training split and scored by every trained model, "
        "never trained on.",
    )
    union_rule: Literal["leave_one_out", "custom"] = Field(
        LEAVE_ONE_OUT,
        description="leave_one_out: `unions` is derived from `datasets` (`all`, and with 3 or "
        "more datasets one `without_<name>` each), written by `fakenews repro`; custom: as "
        "written.",
    )
    unions: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Training datasets made of other datasets' splits: {name: [member, ...]}. "
        "A union of every dataset but D is D's leave-one-dataset-out training set.",
    )
    models: dict[str, list[str]] = Field(
        description="Which models run, per family: {linear: [...], recurrent: [...], "
        "transformer: [...]}; every family key present, `[]` for none."
    )
    union_models: dict[str, list[str]] | None = Field(
        default=None,
        description="Which models train on the unions, per family (each a subset of that "
        "family's `models`; `[]` for none); null: every model. dvc.yaml reads every family key.",
    )
    prepare: PrepareConfig = PrepareConfig()
    near_duplicates: NearDuplicateConfig = NearDuplicateConfig()
    containment: ContainmentConfig = ContainmentConfig()
    split: SplitConfig = SplitConfig()
    audit: AuditConfig = AuditConfig()
    seeds: dict[str, list[int]] = Field(
        default_factory=lambda: {family: [42] for family in FAMILIES},
        description="Training seeds per family: each (dataset, model, seed) trains and is "
        "evaluated in its own stage; the first seed's model is the one transferred.",
    )
    train: dict[str, dict[str, Any]] = Field(default_factory=dict)
    evaluate: EvaluateConfig = EvaluateConfig()
    explain: ExplainConfig = ExplainConfig()
    report: ReportConfig = ReportConfig()
    mlflow: MlflowConfig = MlflowConfig()

    @field_validator("datasets", "evaluate_on", mode="before")
    @classmethod
    def _empty_entries(cls, value: Any) -> Any:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise ValueError(
                "expected a mapping of dataset name -> options, e.g. {liar: {}, my_news: "
                "{source: custom, path: ...}}"
            )
        # `liar:` with nothing after it parses as None; treat it as `{}`.
        return {k: ({} if v is None else v) for k, v in value.items()}

    @field_validator("models", mode="before")
    @classmethod
    def _models_by_family(cls, value: Any) -> Any:
        names_known = known_models()  # one listing of the models folder, not one per name
        known = f"known models: {', '.join(names_known)}"
        if not isinstance(value, dict):
            raise ValueError(f"{_models_example()}; {known}")
        missing = [f for f in FAMILIES if f not in value]
        unknown = [f for f in value if f not in FAMILIES]
        if missing or unknown:
            raise ValueError(
                f"families must be exactly {list(FAMILIES)} (dvc.yaml has stages for each; use "
                f"[] for a family you do not run); missing {missing}, unknown {unknown}"
            )
        problems = []
        for family, names in value.items():
            if names is None:
                continue
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                example = FAMILIES.get(family, "tfidf_logreg")
                problems.append(
                    f"models.{family}: expected a list of model names, e.g. [{example}] or [], "
                    f"got {names!r}"
                )
                continue
            for name in names:
                if name not in names_known:
                    problems.append(f"models.{family}: unknown model {name!r}")
        if problems:
            # Raised as one message (pydantic would prefix `models`): each names its key.
            raise ValueError(f"{'; '.join(problems)}; {known}")
        return {k: ([] if v is None else v) for k, v in value.items()}

    @field_validator("seeds", mode="before")
    @classmethod
    def _seeds_by_family(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            raise ValueError(
                "expected a mapping of family -> list of seeds, e.g. "
                "{linear: [42], recurrent: [42, 43, 44], transformer: [42]}"
            )
        missing = [f for f in FAMILIES if f not in value]
        unknown = [f for f in value if f not in FAMILIES]
        if missing or unknown:
            raise ValueError(
                f"families must be exactly {list(FAMILIES)} (dvc.yaml runs one stage per seed "
                f"of each); missing {missing}, unknown {unknown}"
            )
        for family, seeds in value.items():
            if (
                not isinstance(seeds, list)
                or not seeds
                or not all(isinstance(s, int) and not isinstance(s, bool) for s in seeds)
            ):
                raise ValueError(
                    f"seeds.{family}: expected a non-empty list of integers, e.g. [42, 43, 44], "
                    f"got {seeds!r}"
                )
            if len(set(seeds)) != len(seeds):
                raise ValueError(f"seeds.{family}: a seed is listed twice in {seeds}")
        return value

    @field_validator("train", mode="after")
    @classmethod
    def _no_seed_in_train(cls, value: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        for model, section in value.items():
            if isinstance(section, dict) and "seed" in section:
                raise ValueError(
                    f"train.{model}.seed: seeds are set per family in `seeds:` (one stage each); "
                    "remove this key"
                )
        return value

    @field_validator("unions", mode="before")
    @classmethod
    def _union_lists(cls, value: Any) -> Any:
        if value is None:
            return {}
        if not isinstance(value, dict) or not all(
            isinstance(m, list) and m and all(isinstance(x, str) for x in m) for m in value.values()
        ):
            raise ValueError(
                "expected a mapping of union name -> non-empty list of datasets, e.g. "
                "{all: [liar, constraint], no_liar: [constraint]}"
            )
        return value

    @model_validator(mode="after")
    def _dataset_names(self) -> StudyParams:
        for name in self.evaluate_on:
            if name in self.datasets:
                raise ValueError(
                    f"evaluate_on.{name}: also listed in `datasets`; a dataset is trained on "
                    "or evaluation-only, not both"
                )
        for name, members in self.unions.items():
            if name in self.datasets or name in self.evaluate_on:
                raise ValueError(f"unions.{name}: the name is already a dataset's")
            for member in members:
                if member not in self.datasets:
                    where = " (evaluation-only)" if member in self.evaluate_on else ""
                    raise ValueError(
                        f"unions.{name}: {member!r} is not in `datasets`{where}; a union is "
                        f"made of training datasets: {sorted(self.datasets)}"
                    )
            if len(set(members)) != len(members):
                raise ValueError(f"unions.{name}: a dataset is listed twice in {members}")
        return self

    @model_validator(mode="after")
    def _unions_derived(self) -> StudyParams:
        wanted = derived_unions(list(self.datasets))
        if self.union_rule == LEAVE_ONE_OUT and self.unions != wanted:
            raise ValueError(
                f"unions: not the unions derived from `datasets` ({wanted}); `fakenews repro` "
                "rewrites them (union_rule: leave_one_out), or set `union_rule: custom` to keep "
                "your own"
            )
        return self

    @model_validator(mode="after")
    def _models_once(self) -> StudyParams:
        names = self.model_names
        if not names:
            raise ValueError("models: no model in any family")
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"models: listed more than once: {duplicates}")
        return self

    @model_validator(mode="after")
    def _union_models_listed(self) -> StudyParams:
        if self.union_models is None:
            return self
        missing = [f for f in FAMILIES if f not in self.union_models]
        unknown = [f for f in self.union_models if f not in FAMILIES]
        if missing or unknown:
            raise ValueError(
                f"union_models: expected exactly the families {list(FAMILIES)} (dvc.yaml reads "
                f"each; `[]` for none), missing {missing}, unknown {unknown}"
            )
        for family, names in self.union_models.items():
            extra = [n for n in names if n not in self.models.get(family, [])]
            if extra:
                raise ValueError(
                    f"union_models.{family}: {extra} not in models.{family} "
                    f"{self.models.get(family, [])}: only a model that runs can train on unions"
                )
        return self

    @property
    def model_names(self) -> list[str]:
        """Every model that runs, family by family."""
        return [m for family in FAMILIES for m in self.models.get(family, [])]
