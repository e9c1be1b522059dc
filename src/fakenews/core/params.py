"""The raw view of ``params.yaml`` every stage gets, and the helpers each section's schema uses.

Core holds no section's schema: each lives with the code that reads it (a dataset's options with
the sources, ``train.<model>`` with the model, ``split`` with the split, ...), and a stage
validates only the sections it reads, through :meth:`Params.section`, so a stage's code deps
name only the schemas it uses. ``fakenews check`` (run by ``fakenews repro``) validates the whole
file at once. The study's layout (``datasets``, ``evaluate_on``, ``unions``, ``models``,
``seeds``, ``train``) is read here with shape checks only: what a family or a source accepts is
theirs to check.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from fakenews.core.errors import ParamsError


class StrictModel(BaseModel):
    """Base of every section's schema: an unknown key is an error, a value never changes."""

    model_config = ConfigDict(extra="forbid", frozen=True)


Schema = TypeVar("Schema", bound=BaseModel)


class Params:
    """``params.yaml`` as read, with each section validated when a stage asks for it."""

    def __init__(
        self,
        raw: Mapping[str, Any] | None = None,
        /,
        *,
        source: str = "params.yaml",
        **sections: Any,
    ) -> None:
        data = {**(raw or {}), **sections}
        # Tests and callers may pass a section as its validated model: keep its plain values.
        self.raw: dict[str, Any] = {
            k: v.model_dump(mode="json") if isinstance(v, BaseModel) else v for k, v in data.items()
        }
        self.source = source

    def updated(self, **sections: Any) -> Params:
        """A copy with ``sections`` replaced."""
        return Params(self.raw, source=self.source, **sections)

    def section(self, key: str, schema: type[Schema]) -> Schema:
        """The section ``key`` validated by its owner's ``schema`` (its defaults when absent)."""
        return validate(schema, self.raw.get(key), key, self.source)

    def _mapping(self, key: str) -> dict[str, Any]:
        value = self.raw.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise ParamsError(f"{self.source}: {key}: expected a mapping, got {value!r}")
        return value

    def _names(self, key: str) -> dict[str, dict[str, Any]]:
        # `liar:` with nothing after it parses as None; treat it as `{}`.
        return {k: ({} if v is None else v) for k, v in self._mapping(key).items()}

    @property
    def datasets(self) -> dict[str, dict[str, Any]]:
        """The training datasets' options, as written (their source validates them)."""
        return self._names("datasets")

    @property
    def evaluate_on(self) -> dict[str, dict[str, Any]]:
        """The evaluation-only datasets' options, as written."""
        return self._names("evaluate_on")

    @property
    def unions(self) -> dict[str, list[str]]:
        """``unions``: training sets made of other datasets' splits, {name: [member, ...]}."""
        unions = self._mapping("unions")
        for name, members in unions.items():
            if not isinstance(members, list) or not all(isinstance(m, str) for m in members):
                raise ParamsError(f"{self.source}: unions.{name}: expected a list of datasets")
        return unions

    @property
    def models(self) -> dict[str, list[str]]:
        """``models``: family -> the models that run, in the file's order."""
        return {k: list(v or []) for k, v in self._mapping("models").items()}

    @property
    def union_models(self) -> dict[str, list[str]] | None:
        value = self.raw.get("union_models")
        return None if value is None else {k: list(v or []) for k, v in value.items()}

    @property
    def train(self) -> dict[str, dict[str, Any]]:
        return {k: ({} if v is None else v) for k, v in self._mapping("train").items()}

    @property
    def model_names(self) -> list[str]:
        """Every model that runs, family by family (the file's order)."""
        return [m for names in self.models.values() for m in names]

    @property
    def union_model_names(self) -> list[str]:
        """The models trained on every union (``union_models``; all models when unset)."""
        chosen = self.union_models
        if chosen is None:
            return self.model_names
        return [m for f, names in self.models.items() for m in names if m in chosen.get(f, [])]

    def family_of(self, model: str) -> str:
        """The ``models:`` key listing ``model``."""
        for family, names in self.models.items():
            if model in names:
                return family
        raise ParamsError(f"{self.source}: models: no family lists model {model!r}")

    def seeds_of(self, model: str) -> list[int]:
        """The seeds ``model`` trains with (its family's); the first is its reference run."""
        family = self.family_of(model)
        seeds = self._mapping("seeds").get(family, [42]) if "seeds" in self.raw else [42]
        if not isinstance(seeds, list) or not seeds or not all(isinstance(s, int) for s in seeds):
            raise ParamsError(f"{self.source}: seeds.{family}: expected a non-empty list of ints")
        return list(seeds)

    def dataset(self, name: str) -> dict[str, Any]:
        """A training or evaluation-only dataset's options, as written."""
        for datasets in (self.datasets, self.evaluate_on):
            if name in datasets:
                return datasets[name]
        have = sorted([*self.datasets, *self.evaluate_on])
        raise ParamsError(f"{self.source}: datasets: no dataset named {name!r} (have {have})")

    def is_eval_only(self, name: str) -> bool:
        return name in self.evaluate_on

    def members_of(self, name: str) -> list[str]:
        """A union's member datasets; a dataset is its own single member."""
        unions = self.unions
        return list(unions[name]) if name in unions else [name]

    def held_out_by(self, union: str) -> str | None:
        """The one dataset a union leaves out (its leave-one-dataset-out test), if exactly one."""
        members = self.unions.get(union, list(self.datasets))
        left = [d for d in self.datasets if d not in members]
        return left[0] if len(left) == 1 else None

    def model_section(self, model: str, dataset: str | None = None) -> dict[str, Any]:
        """``train.<model>`` with ``per_dataset.<dataset>`` applied (validated by the model)."""
        train = self.train
        if model not in train:
            raise ParamsError(f"{self.source}: train.{model}: missing section for model {model!r}")
        section = train[model]
        per_dataset = section.get(PER_DATASET) or {}
        if not isinstance(per_dataset, dict) or not all(
            isinstance(v, dict) for v in per_dataset.values()
        ):
            raise ParamsError(
                f"{self.source}: train.{model}.{PER_DATASET}: expected {{dataset: {{key: value}}}}"
            )
        return model_section(section, dataset)


def validate(schema: type[Schema], value: Any, key: str, source: str = "params.yaml") -> Schema:
    """``value`` (None: the defaults) as ``schema``; ParamsError names the key at fault."""
    try:
        return schema.model_validate({} if value is None else value)
    except ValidationError as error:
        raise ParamsError(f"{source}: {format_validation_error(error, prefix=key)}") from None


def parse_params(raw: Any, source: str = "params.yaml") -> Params:
    """A params mapping as :class:`Params` (each section is validated when it is read)."""
    if not isinstance(raw, dict):
        raise ParamsError(f"{source}: expected a mapping at the top level")
    return Params(raw, source=source)


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
    return parse_params(raw, source=path.name)
