"""Typed, validated view of ``params.yaml``.

Everything is checked before any work starts: an unknown key, a wrong type or an impossible value
raises :class:`ParamsError` naming the key at fault.
"""

from __future__ import annotations

import codecs
import math
import pkgutil
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from fakenews.core.errors import ParamsError


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatasetConfig(StrictModel):
    """One entry of ``datasets:``. Built-in sources need no options (``{}``)."""

    source: str | None = Field(
        None, description="Source registry name; defaults to the dataset's own name."
    )
    path: str | None = Field(
        None, description="custom: the CSV/TSV/JSON/JSONL/parquet/TXT file to read."
    )
    format: Literal["csv", "tsv", "json", "jsonl", "parquet", "txt"] | None = Field(
        None, description="custom: file format; inferred from the file name when omitted."
    )
    encoding: str | None = Field(
        None,
        description="custom: the file's text encoding (e.g. cp1252); default: UTF-8, else "
        "cp1252 with a warning (the rule of fakenews.sources.tables, shared with predict).",
    )
    text_column: str | None = Field(None, description="custom: column with the article text.")
    title_column: str | None = Field(None, description="custom: column with the title, if any.")
    label_column: str | None = Field(None, description="custom: column with the label.")
    id_column: str | None = Field(None, description="custom: column with a unique id, if any.")
    label_map: dict[str, Literal[0, 1]] | None = Field(
        None,
        description="custom: raw label value, as written in params.yaml -> 1 (fake) or 0 (real).",
    )
    sha256: str | None = Field(
        None, description="custom: expected sha256 of the file; checked when given."
    )
    artifact_rules: list[str] | None = Field(
        None,
        description="Artifact rules (any source's, by name; fakenews/sources/<name>.py) for "
        "this dataset instead of its source's own; [] for none. Mostly for custom datasets.",
    )
    label_checks: list[str] | None = Field(
        None,
        description="Label sanity checks (any source's, by name; fakenews/sources/<name>.py) "
        "for this dataset instead of its source's own; [] for none.",
    )

    @field_validator("label_map", mode="before")
    @classmethod
    def _text_keys(cls, value: Any) -> Any:
        # load_params replaces YAML-typed keys (TRUE, 1) with their text as written; a mapping
        # built in code must use text keys itself.
        if isinstance(value, dict):
            for key in value:
                if not isinstance(key, str):
                    raise ValueError(
                        f"key {key!r} is a {type(key).__name__}, not text; quote it "
                        f'(e.g. {{"{key}": 0}}): labels are compared as text'
                    )
        return value

    @field_validator("encoding")
    @classmethod
    def _known_codec(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                codecs.lookup(value)
            except LookupError:
                raise ValueError(f"unknown encoding {value!r}") from None
        return value

    @field_validator("sha256")
    @classmethod
    def _hex_digest(cls, value: str | None) -> str | None:
        if value is not None and (
            len(value) != 64 or any(c not in "0123456789abcdef" for c in value)
        ):
            raise ValueError("must be 64 lowercase hex digits")
        return value


class PrepareConfig(StrictModel):
    unicode_form: Literal["NFC", "NFKC"] = Field("NFKC", description="Unicode normalisation form.")
    fix_text: bool = Field(True, description="Repair mojibake and HTML entities with ftfy.")
    strip_html: bool = Field(True, description="Remove HTML tags.")
    min_text_chars: int = Field(1, ge=1, description="Rows with less title+text are dropped.")
    drop_duplicates: bool = Field(
        True, description="Drop exact duplicate texts (after normalisation)."
    )
    strip_artifacts: bool = Field(
        True,
        description="Remove the source's artifact rules (class-revealing boilerplate: Reuters "
        "datelines, site openers, links, handles) from the text; matches are counted either way.",
    )
    label_checks: bool = Field(
        True,
        description="Stop when a source's label sanity check fails (an inverted label mapping).",
    )
    label_check_min_rows: int = Field(
        20, ge=1, description="A label check needs at least this many matching rows to judge."
    )


class NearDuplicateConfig(StrictModel):
    """One definition of "near-duplicate", shared by the split, the audit and the overlap."""

    threshold: float = Field(
        0.8,
        gt=0,
        le=1,
        description="Jaccard similarity of two texts' word-shingle sets at or above which they "
        "are near-duplicates.",
    )
    shingle_size: int = Field(
        1,
        ge=1,
        le=10,
        description="Words per shingle. 1 compares sets of words: right for claims and tweets, "
        "where two changed words already break most longer shingles; 3-5 suit long articles.",
    )
    num_perm: int = Field(
        128,
        ge=16,
        le=1024,
        description="MinHash permutations: more miss fewer pairs and cost more time.",
    )
    seed: int = Field(1, description="Seed of the MinHash permutations: same groups every run.")


class ContainmentConfig(StrictModel):
    """overlap stage: a short text found inside a longer one (a claim quoted in an article).

    Jaccard similarity cannot see it: an 18-word claim is a sliver of a 500-word article's
    shingles. Containment divides the shared shingles by the *shorter* text's count instead.
    """

    shingle_size: int = Field(
        3,
        ge=2,
        le=10,
        description="Words per shingle. At 1 a claim's words (mostly stop words) are in any "
        "article; 3 keeps a quoted sentence and drops most chance matches.",
    )
    threshold: float = Field(
        0.6,
        gt=0,
        le=1,
        description="Share of the shorter text's shingles found in the longer one at or above "
        "which the pair is a match.",
    )
    min_shared: int = Field(
        4,
        ge=1,
        description="A match also shares at least this many shingles: a 5-word claim is "
        "'contained' by any article that has 2 of its 3-grams (\"says barack obama is a\").",
    )
    max_examples: int = Field(
        5, ge=0, le=100, description="Matches listed per dataset pair in metrics/overlap.json."
    )


class SplitConfig(StrictModel):
    seed: int = Field(42, description="Seed of the stratified split.")
    train: float = Field(0.70, gt=0, lt=1, description="Train fraction (random splits).")
    val: float = Field(0.15, gt=0, lt=1, description="Validation fraction (random splits).")
    test: float = Field(0.15, gt=0, lt=1, description="Test fraction (random splits).")
    use_official: bool = Field(
        True, description="Use the dataset's official train/valid/test files where it has them."
    )
    group_near_duplicates: bool = Field(
        True,
        description="Keep each near-duplicate group (see `near_duplicates`) whole in one split; "
        "false: only identical texts are kept together.",
    )
    folds: int = Field(
        5, ge=3, le=20, description="k of the k-fold cross-validation of small datasets."
    )
    folds_below_rows: int | None = Field(
        1000,
        ge=0,
        description="A dataset with fewer rows than this is scored by k-fold cross-validation "
        "(every row is a test row once; scores pool the folds) instead of one test split, whose "
        "few rows would make intervals too wide to rank models. null: never.",
    )
    official_leaks: Literal["move_to_earliest", "drop", "keep"] = Field(
        "move_to_earliest",
        description="Official splits: what to do with a (near-)duplicate group spread over "
        "several splits. move_to_earliest: its val/test rows join the earliest split it is in "
        "(train, then val); drop: those rows are dropped; keep: the split as published (the "
        "audit then reports the leaks).",
    )

    @model_validator(mode="after")
    def _fractions_sum_to_one(self) -> SplitConfig:
        total = self.train + self.val + self.test
        if not math.isclose(total, 1.0, abs_tol=1e-6):
            raise ValueError(f"train + val + test must sum to 1, got {total:g}")
        return self


class EvaluateConfig(StrictModel):
    threshold: float = Field(0.5, gt=0, lt=1, description="P(fake) above which we predict fake.")
    roc_points: int = Field(201, ge=3, description="Points kept in the ROC/PR plot files.")
    bootstrap_resamples: int = Field(
        1000, ge=100, description="Paired bootstrap resamples of the test set for the 95% CIs."
    )
    bootstrap_seed: int = Field(
        0, description="Same seed for every model, so CIs resample the same test examples."
    )
    calibration_bins: int = Field(15, ge=2, description="Equal-width bins for the ECE.")
    error_examples: int = Field(
        5, ge=0, description="Most confidently wrong test examples kept per error kind."
    )


class ReportConfig(StrictModel):
    alpha: float = Field(
        0.05,
        gt=0,
        lt=1,
        description="Significance level of the report's Holm-corrected pairwise tests (seed x "
        "row bootstrap) and of the Friedman/Nemenyi ranks across datasets.",
    )


class AuditConfig(StrictModel):
    prefix_tokens: int = Field(
        5, ge=1, le=50, description="Words the first-tokens probe sees from the start of the text."
    )
    length_bins: int = Field(
        10, ge=2, le=100, description="Quantile bins per length feature in the length probe."
    )
    probe_C: float = Field(
        1.0, gt=0, description="Inverse L2 strength of the probes' logistic regressions."
    )
    min_category_count: int = Field(
        2, ge=1, description="Metadata values seen fewer times in train are pooled as 'other'."
    )
    exclude_columns: list[str] = Field(
        default_factory=list,
        description="Metadata columns the metadata probe must not use (label_original, which is "
        "the label itself, is always left out).",
    )
    max_examples: int = Field(
        5, ge=0, le=100, description="Cross-split near-duplicate pairs listed in audit.json."
    )
    max_cross_split_leaks: int | None = Field(
        0,
        ge=0,
        description="Fail when more (near-)duplicate groups than this span two splits; "
        "null: report only.",
    )
    max_near_duplicate_fraction: float | None = Field(
        None,
        ge=0,
        le=1,
        description="Fail when a larger share of rows is a near-duplicate of another row; "
        "null: report only.",
    )
    max_probe_lift: float | None = Field(
        None,
        ge=0,
        le=1,
        description="Fail when any probe's test accuracy beats the majority baseline by more "
        "than this; null: report only.",
    )
    max_cross_dataset_overlap: float | None = Field(
        None,
        ge=0,
        le=1,
        description="overlap stage: fail when a larger share of one dataset's test rows has a "
        "near-duplicate in another dataset's train split; null: report only.",
    )


class MlflowConfig(StrictModel):
    experiment: str = Field("fakenews", min_length=1, description="MLflow experiment name.")
    log_model: bool = Field(True, description="Log the trained model folder as run artifacts.")
    register_best: bool = Field(
        True,
        description="report: register each dataset's best model by validation macro F1 in the "
        "MLflow model registry as `fakenews-<dataset>` (a new version only when it changed).",
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
    return (
        "expected a mapping of family -> list of models, e.g. "
        "{linear: [tfidf_logreg], recurrent: [lstm], transformer: []}"
    )


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
