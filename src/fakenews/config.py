"""Typed, validated view of ``params.yaml``.

Everything is checked before any work starts: an unknown key, a wrong type or an impossible value
raises :class:`ParamsError` naming the key at fault.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator


class ParamsError(ValueError):
    """params.yaml is invalid; the message names the key."""


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatasetConfig(StrictModel):
    """One entry of ``datasets:``. Built-in sources need no options (``{}``)."""

    source: str | None = Field(
        None, description="Source registry name; defaults to the dataset's own name."
    )
    path: str | None = Field(None, description="custom: the CSV/TSV/parquet/JSONL file to read.")
    format: Literal["csv", "tsv", "parquet", "jsonl"] | None = Field(
        None, description="custom: file format; inferred from the file name when omitted."
    )
    text_column: str | None = Field(None, description="custom: column with the article text.")
    title_column: str | None = Field(None, description="custom: column with the title, if any.")
    label_column: str | None = Field(None, description="custom: column with the label.")
    id_column: str | None = Field(None, description="custom: column with a unique id, if any.")
    label_map: dict[str, Literal[0, 1]] | None = Field(
        None, description="custom: raw label value (as text) -> 1 (fake) or 0 (real)."
    )
    sha256: str | None = Field(
        None, description="custom: expected sha256 of the file; checked when given."
    )
    artifact_rules: list[str] | None = Field(
        None,
        description="Artifact rules (names in fakenews.data.artifacts.ARTIFACT_RULES) for this "
        "dataset instead of its source's own; [] for none. Mostly for custom datasets.",
    )
    label_checks: list[str] | None = Field(
        None,
        description="Label sanity checks (names in fakenews.data.artifacts.LABEL_CHECKS) for "
        "this dataset instead of its source's own; [] for none.",
    )

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
        0.05, gt=0, lt=1, description="Significance level for Holm-corrected McNemar tests."
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


class Params(StrictModel):
    datasets: dict[str, DatasetConfig] = Field(min_length=1)
    models: list[str] = Field(min_length=1)
    prepare: PrepareConfig = PrepareConfig()
    near_duplicates: NearDuplicateConfig = NearDuplicateConfig()
    split: SplitConfig = SplitConfig()
    audit: AuditConfig = AuditConfig()
    train: dict[str, dict[str, Any]] = Field(default_factory=dict)
    evaluate: EvaluateConfig = EvaluateConfig()
    report: ReportConfig = ReportConfig()
    mlflow: MlflowConfig = MlflowConfig()

    @field_validator("datasets", mode="before")
    @classmethod
    def _empty_entries(cls, value: Any) -> Any:
        # `liar:` with nothing after it parses as None; treat it as `{}`.
        if isinstance(value, dict):
            return {k: ({} if v is None else v) for k, v in value.items()}
        return value

    def dataset(self, name: str) -> DatasetConfig:
        if name not in self.datasets:
            raise ParamsError(f"datasets: no dataset named {name!r} (have {sorted(self.datasets)})")
        return self.datasets[name]

    def source_of(self, name: str) -> str:
        return self.dataset(name).source or name

    def model_config_for(self, model: str, dataset: str | None = None) -> Any:
        """``train.<model>``, with ``per_dataset.<dataset>`` overrides applied when given."""
        from fakenews.models import get_model_class

        if model not in self.train:
            raise ParamsError(f"train.{model}: missing section for model {model!r}")
        return get_model_class(model).Config(**model_section(self.train[model], dataset))


# Inside train.<model>: {dataset: {key: value}} overrides for one dataset only, e.g. more epochs
# on a tiny dataset. DVC tracks the whole train.<model> section, so they retrain that model only.
PER_DATASET = "per_dataset"


def model_section(section: dict[str, Any], dataset: str | None) -> dict[str, Any]:
    base = {k: v for k, v in section.items() if k != PER_DATASET}
    overrides = (section.get(PER_DATASET) or {}).get(dataset) if dataset else None
    return {**base, **(overrides or {})}


def _format_validation_error(error: ValidationError, prefix: str = "") -> str:
    lines = []
    for item in error.errors():
        key = ".".join(str(part) for part in (*([prefix] if prefix else []), *item["loc"]))
        message = "unknown key" if item["type"] == "extra_forbidden" else item["msg"]
        lines.append(f"{key or '<root>'}: {message}")
    return "; ".join(lines)


def parse_params(raw: Any, source: str = "params.yaml") -> Params:
    """Validate a params mapping; raise ParamsError naming the key at fault."""
    from fakenews.data.artifacts import ARTIFACT_RULES, LABEL_CHECKS
    from fakenews.data.sources import SOURCES
    from fakenews.models import MODEL_NAMES, get_model_class

    if not isinstance(raw, dict):
        raise ParamsError(f"{source}: expected a mapping at the top level")
    try:
        params = Params(**raw)
    except ValidationError as error:
        raise ParamsError(f"{source}: {_format_validation_error(error)}") from None

    for name, dataset in params.datasets.items():
        source_name = dataset.source or name
        if source_name not in SOURCES:
            key = f"datasets.{name}.source" if dataset.source else f"datasets.{name}"
            raise ParamsError(
                f"{source}: {key}: unknown dataset source {source_name!r}; "
                f"known sources: {', '.join(sorted(SOURCES))}"
            )
        SOURCES[source_name].check_options(name, dataset)
        for key, catalogue in (("artifact_rules", ARTIFACT_RULES), ("label_checks", LABEL_CHECKS)):
            unknown = [n for n in getattr(dataset, key) or [] if n not in catalogue]
            if unknown:
                raise ParamsError(
                    f"{source}: datasets.{name}.{key}: unknown name(s) {unknown}; "
                    f"known: {', '.join(sorted(catalogue))}"
                )

    if len(set(params.models)) != len(params.models):
        raise ParamsError(f"{source}: models: duplicate model names in {params.models}")
    for model in params.models:
        if model not in MODEL_NAMES:
            raise ParamsError(
                f"{source}: models: unknown model {model!r}; known models: {', '.join(MODEL_NAMES)}"
            )
        if model not in params.train:
            raise ParamsError(
                f"{source}: train.{model}: missing; every model in `models` needs a section "
                "(use `{}` for the defaults)"
            )
    for model, section in params.train.items():
        if model not in MODEL_NAMES:
            raise ParamsError(
                f"{source}: train.{model}: unknown model; known models: {', '.join(MODEL_NAMES)}"
            )
        if not isinstance(section, dict):
            raise ParamsError(f"{source}: train.{model}: expected a mapping")
        per_dataset = section.get(PER_DATASET) or {}
        if not isinstance(per_dataset, dict) or not all(
            isinstance(v, dict) for v in per_dataset.values()
        ):
            raise ParamsError(
                f"{source}: train.{model}.{PER_DATASET}: expected {{dataset: {{key: value}}}}"
            )
        for dataset in (None, *per_dataset):
            prefix = f"train.{model}" + (f".{PER_DATASET}.{dataset}" if dataset else "")
            try:
                get_model_class(model).Config(**model_section(section, dataset))
            except ValidationError as error:
                raise ParamsError(
                    f"{source}: {_format_validation_error(error, prefix=prefix)}"
                ) from None
    return params


def load_params(path: Path) -> Params:
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ParamsError(f"{path}: not found") from None
    except yaml.YAMLError as error:
        raise ParamsError(f"{path}: not valid YAML: {error}") from None
    if isinstance(raw, dict) and isinstance(raw.get("train"), dict):
        raw["train"] = {k: ({} if v is None else v) for k, v in raw["train"].items()}
    return parse_params(raw, source=path.name)
