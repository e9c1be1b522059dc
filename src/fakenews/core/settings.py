"""The typed sections of ``params.yaml`` that a stage reads on its own (one model each: the
dataset options, prepare, near_duplicates, containment, split, evaluate, report, audit, mlflow).

:mod:`fakenews.core.config` assembles them into :class:`~fakenews.core.config.Params`; each
validates its own keys, so an unknown key, a wrong type or an impossible value names the key.
"""

from __future__ import annotations

import codecs
import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


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
    enabled: bool = Field(
        True,
        description="Track runs in MLflow. Off: the stages record nothing (no journal) and the "
        "report registers nothing; their DVC outputs are the same either way.",
    )
    experiment: str = Field("fakenews", min_length=1, description="MLflow experiment name.")
    log_model: bool = Field(True, description="Log the trained model folder as run artifacts.")
    register_best: bool = Field(
        True,
        description="report: register each dataset's best model by validation macro F1 in the "
        "MLflow model registry as `fakenews-<dataset>` (a new version only when it changed).",
    )
