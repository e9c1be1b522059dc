"""Typed, validated view of ``params.yaml``.

Everything is checked before any work starts: an unknown key, a wrong type or an impossible value
raises :class:`ParamsError` naming the key at fault.
"""

from __future__ import annotations

import pkgutil
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, field_validator, model_validator

from fakenews.core.errors import ParamsError
from fakenews.core.settings import (
    AuditConfig,
    ContainmentConfig,
    DatasetConfig,
    EvaluateConfig,
    MlflowConfig,
    NearDuplicateConfig,
    PrepareConfig,
    ReportConfig,
    SplitConfig,
    StrictModel,
)

# The model families, in report order, each with an example model for error messages. Each has
# its own train/evaluate/transfer stage groups in dvc.yaml (`train-<family>@<dataset>-<model>`,
# generated per family by tools/generate_dvc_yaml.py), whose deps name only that family's code,
# so an edit to one family reruns only its stages. A model module declares its family
# (`Model.family`). Adding a family: an entry here, its `models:` and `seeds:` keys in params.yaml,
# then `make dvc-yaml` (README "Adding a family").
FAMILIES: dict[str, str] = {
    "linear": "tfidf_logreg",
    "recurrent": "lstm",
    "transformer": "minilm",
    "embedding": "minilm_embed",
}

# Model names are the public modules of fakenews/models/ (its registry imports this listing).
# Listed, not imported, so that checking `models:` needs no model code (nor torch).
MODELS_DIR = Path(__file__).parents[1] / "models"
NOT_MODELS = frozenset({"base"})


def known_models() -> list[str]:
    return sorted(
        m.name
        for m in pkgutil.iter_modules([str(MODELS_DIR)])
        if not m.name.startswith("_") and m.name not in NOT_MODELS
    )


def _models_example() -> str:
    example = ", ".join(f"{family}: [{model}]" for family, model in FAMILIES.items())
    return f"expected a mapping of family -> list of models, e.g. {{{example}}}"


class Params(StrictModel):
    datasets: dict[str, DatasetConfig] = Field(min_length=1)
    evaluate_on: dict[str, DatasetConfig] = Field(
        default_factory=dict,
        description="Evaluation-only datasets (same options as `datasets`): downloaded, prepared, "
        "checked for overlap with every training split and scored by every trained model, "
        "never trained on.",
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
    def _dataset_names(self) -> Params:
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
    def _models_once(self) -> Params:
        names = self.model_names
        if not names:
            raise ValueError("models: no model in any family")
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"models: listed more than once: {duplicates}")
        return self

    @model_validator(mode="after")
    def _union_models_listed(self) -> Params:
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
    def union_model_names(self) -> list[str]:
        """The models trained on every union (``union_models``; all models when unset)."""
        if self.union_models is None:
            return self.model_names
        return [m for f in FAMILIES for m in self.models.get(f, []) if m in self.union_models[f]]

    @property
    def model_names(self) -> list[str]:
        """Every model that runs, family by family (the report's order)."""
        return [m for family in FAMILIES for m in self.models.get(family, [])]

    def family_of(self, model: str) -> str:
        for family in FAMILIES:
            if model in self.models.get(family, []):
                return family
        raise ParamsError(f"models: no family lists model {model!r}")

    def seeds_of(self, model: str) -> list[int]:
        """The seeds ``model`` trains with (its family's); the first is its reference run."""
        return list(self.seeds[self.family_of(model)])

    def dataset(self, name: str) -> DatasetConfig:
        """A training or evaluation-only dataset's options."""
        if name in self.datasets:
            return self.datasets[name]
        if name in self.evaluate_on:
            return self.evaluate_on[name]
        have = sorted([*self.datasets, *self.evaluate_on])
        raise ParamsError(f"datasets: no dataset named {name!r} (have {have})")

    def is_eval_only(self, name: str) -> bool:
        return name in self.evaluate_on

    def members_of(self, name: str) -> list[str]:
        """A union's member datasets; a dataset is its own single member."""
        return list(self.unions[name]) if name in self.unions else [name]

    def held_out_by(self, union: str) -> str | None:
        """The one dataset a union leaves out (its leave-one-dataset-out test), if exactly one."""
        left = [d for d in self.datasets if d not in self.unions.get(union, list(self.datasets))]
        return left[0] if len(left) == 1 else None

    def source_of(self, name: str) -> str:
        return self.dataset(name).source or name

    def model_section(self, model: str, dataset: str | None = None) -> dict[str, Any]:
        """``train.<model>`` with ``per_dataset.<dataset>`` applied (validated by the model)."""
        if model not in self.train:
            raise ParamsError(f"train.{model}: missing section for model {model!r}")
        return model_section(self.train[model], dataset)


# Inside train.<model>: {dataset: {key: value}} overrides for one dataset only, e.g. more epochs
# on a tiny dataset. DVC tracks the whole train.<model> section, so they retrain that model only.
PER_DATASET = "per_dataset"


def model_section(section: dict[str, Any], dataset: str | None) -> dict[str, Any]:
    base = {k: v for k, v in section.items() if k != PER_DATASET}
    overrides = (section.get(PER_DATASET) or {}).get(dataset) if dataset else None
    return {**base, **(overrides or {})}


def format_validation_error(error: ValidationError, prefix: str = "") -> str:
    lines = []
    for item in error.errors():
        key = ".".join(str(part) for part in (*([prefix] if prefix else []), *item["loc"]))
        message = "unknown key" if item["type"] == "extra_forbidden" else item["msg"]
        message = message.removeprefix("Value error, ")
        # A validator's message that already names a key below this one stands as it is.
        lines.append(f"{key}: {message}" if key and not message.startswith(f"{key}.") else message)
    return "; ".join(lines)


def parse_params(raw: Any, source: str = "params.yaml") -> Params:
    """Validate the shape of a params mapping; raise ParamsError naming the key at fault.

    Only what every stage shares is checked here. Each dataset source and each model family
    validates its own section where it is used (and `fakenews check` runs them all), so this
    module imports no source, artifact rule or model: a stage imports only what it uses.
    """
    if not isinstance(raw, dict):
        raise ParamsError(f"{source}: expected a mapping at the top level")
    try:
        params = Params(**raw)
    except ValidationError as error:
        raise ParamsError(f"{source}: {format_validation_error(error)}") from None
    for model in params.model_names:
        if model not in params.train:
            raise ParamsError(
                f"{source}: train.{model}: missing; every model in `models` needs a section "
                "(use `{}` for the defaults)"
            )
    for model, section in params.train.items():
        if not isinstance(section, dict):
            raise ParamsError(f"{source}: train.{model}: expected a mapping")
        per_dataset = section.get(PER_DATASET) or {}
        if not isinstance(per_dataset, dict) or not all(
            isinstance(v, dict) for v in per_dataset.values()
        ):
            raise ParamsError(
                f"{source}: train.{model}.{PER_DATASET}: expected {{dataset: {{key: value}}}}"
            )
    return params


def read_yaml(text: str, source: str) -> tuple[Any, Any]:
    """``text`` parsed as DVC parses params (ruamel, YAML 1.2), and with every scalar as written.

    The same parser as DVC's, so that both read the same values (PyYAML's YAML 1.1 would read
    `yes`/`no` as booleans where DVC reads text). The as-written copy gives label_map keys back
    as the user typed them.
    """
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        return YAML(typ="safe").load(text), YAML(typ="base").load(text)
    except YAMLError as error:
        # One line: ruamel's own message spans several, with a link about duplicate keys.
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise ParamsError(f"{source}: not valid YAML{where}: {problem}") from None


# datasets.<name> options that are text whatever YAML makes of them: a column named 2020, a
# sha256 of digits only. Taken as written in the file.
TEXT_OPTIONS = (
    "source", "path", "text_column", "title_column", "label_column", "id_column", "sha256",
)  # fmt: skip


def _datasets_as_written(typed: Any, written: Any, source: str) -> None:
    """Give each dataset's text options and label_map keys their text as written in the file:
    ``TRUE`` stays "TRUE" and ``0123`` stays "0123"."""
    for key in ("datasets", "evaluate_on"):
        datasets = typed.get(key) if isinstance(typed, dict) else None
        if isinstance(datasets, dict):
            _options_as_written(datasets, written[key], source, key)


def _options_as_written(datasets: Any, written: Any, source: str, section: str) -> None:
    # Same document, so the same order: the typed and the as-written mappings pair up in turn.
    for (name, options), (_, options_text) in zip(datasets.items(), written.items(), strict=True):
        if not isinstance(options, dict):
            continue
        for key in TEXT_OPTIONS:
            if isinstance(options.get(key), int | float | bool):
                options[key] = options_text[key]
        label_map = options.get("label_map")
        if not isinstance(label_map, dict) or all(isinstance(k, str) for k in label_map):
            continue
        pairs = list(options_text["label_map"].items())
        try:
            # DVC hashes params with sorted keys: a mapping it cannot sort stops `dvc repro`
            # ("'<' not supported between instances of 'bool' and 'str'") before any stage runs.
            sorted(label_map)
        except TypeError:
            misread = ", ".join(
                f"{text} as {'a boolean' if isinstance(key, bool) else 'a number'}"
                for key, (text, _) in zip(label_map, pairs, strict=True)
                if not isinstance(key, str)
            )
            quoted = ", ".join(f'"{k}": {v}' for k, v in pairs)
            raise ParamsError(
                f"{source}: {section}.{name}.label_map: YAML reads {misread} next to text keys, "
                "a mix DVC cannot hash; quote every key: "
                f"label_map: {{{quoted}}}"
            ) from None
        options["label_map"] = dict(zip([k for k, _ in pairs], label_map.values(), strict=True))


def load_params(path: Path) -> Params:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ParamsError(f"{path}: not found") from None
    raw, written = read_yaml(text, path.name)
    _datasets_as_written(raw, written, path.name)
    if isinstance(raw, dict) and isinstance(raw.get("train"), dict):
        raw["train"] = {k: ({} if v is None else v) for k, v in raw["train"].items()}
    return parse_params(raw, source=path.name)
