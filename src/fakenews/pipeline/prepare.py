"""prepare@<dataset>: raw files -> one clean parquet in the standard schema, plus its counts."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pandas as pd

from fakenews.core.errors import DatasetError
from fakenews.core.io import atomic_dir, write_json, write_parquet
from fakenews.sources import check_names, checks_for, load_source, rules_for, source_for
from fakenews.sources.options import DatasetConfig
from fakenews.text.artifacts import (
    ArtifactRule,
    LabelCheck,
    check_labels,
    class_counts,
    count_artifacts,
)
from fakenews.text.cleaning import PrepareConfig, content_key
from fakenews.text.preparation import PREPARATION_FILE, RAW_COLUMNS, TextPreparation

log = logging.getLogger(__name__)

STANDARD_COLUMNS = ["id", "title", "text", "label"]
SPLIT_ORDER = {"train": 0, "val": 1, "test": 2}


def clean_frame(
    frame: pd.DataFrame,
    config: PrepareConfig,
    *,
    dataset: str = "dataset",
    rules: list[ArtifactRule] | None = None,
    checks: list[LabelCheck] | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Normalise text, check labels, strip artifacts, drop empty rows and duplicates.

    Returns the frame and what each step found or dropped. Label checks run before stripping,
    because the markers they look for are the artifacts stripping removes.
    """
    stats: dict[str, Any] = {"rows_loaded": len(frame)}
    if "official_split" in frame:  # as released, before any row is dropped (the report says so)
        stats["official_split_loaded"] = {
            k: int(v) for k, v in frame["official_split"].value_counts().sort_index().items()
        }
    frame = frame.copy()
    preparation = TextPreparation.of(config, rules or [])
    changed = 0
    for column, raw_column in RAW_COLUMNS.items():
        raw = frame[column].fillna("").astype(str)
        cleaned = raw.map(lambda v: preparation.clean(v))
        changed += int((cleaned != raw).sum())
        frame[raw_column], frame[column] = raw, cleaned
    stats["fields_changed_by_cleaning"] = changed

    if config.label_checks:
        stats["label_checks"] = check_labels(
            dataset, frame, checks or [], config.label_check_min_rows
        )
    else:
        stats["label_checks"] = None
    counts = count_artifacts(frame, rules or [])
    if config.strip_artifacts:
        stripped = frame["text"].map(preparation.strip_artifacts)
        stats["artifacts"] = {
            "strip": True,
            "rows_changed": class_counts(stripped != frame["text"], frame["label"]),
            "rules": counts,
        }
        frame["text"] = stripped
    else:
        stats["artifacts"] = {"strip": False, "rows_changed": None, "rules": counts}

    length = frame["title"].str.len() + frame["text"].str.len()
    empty = length < config.min_text_chars
    stats["empty_dropped"] = int(empty.sum())
    frame = frame.loc[~empty]

    stats["duplicates_dropped"] = 0
    stats["conflicting_duplicates_dropped"] = 0
    if config.drop_duplicates:
        keys = [content_key(t, x) for t, x in zip(frame["title"], frame["text"], strict=True)]
        frame = frame.assign(_key=keys, _order=range(len(frame)))
        if "official_split" in frame:
            # Keep the copy in the earliest official split (train, then val, then test).
            frame["_rank"] = frame["official_split"].map(SPLIT_ORDER)
            frame = frame.sort_values(["_rank", "_order"], kind="stable")
        n_labels = frame.groupby("_key")["label"].transform("nunique")
        conflicting = n_labels > 1
        stats["conflicting_duplicates_dropped"] = int(conflicting.sum())
        frame = frame.loc[~conflicting]
        duplicated = frame.duplicated("_key", keep="first")
        stats["duplicates_dropped"] = int(duplicated.sum())
        frame = frame.loc[~duplicated].sort_values("_order", kind="stable")
        frame = frame.drop(columns=[c for c in ("_key", "_order", "_rank") if c in frame])

    frame = frame.reset_index(drop=True)
    stats["rows_kept"] = len(frame)
    stats["label_counts"] = {
        "fake": int((frame["label"] == 1).sum()),
        "real": int((frame["label"] == 0).sum()),
    }
    if "official_split" in frame:
        stats["official_split_counts"] = {
            k: int(v) for k, v in frame["official_split"].value_counts().sort_index().items()
        }
    return frame, stats


def prepare_dataset(
    dataset: str,
    options: DatasetConfig,
    config: PrepareConfig,
    raw_dir: Path,
    out_dir: Path,
    both_classes: bool = True,
) -> dict[str, Any]:
    """Load, clean and write one dataset. ``both_classes``: refuse a dataset left with one class
    (a training set must have both; an evaluation-only one may be, e.g., known fakes only)."""
    source = source_for(dataset, options).name
    check_names(dataset, options.artifact_rules, options.label_checks)
    rules = rules_for(source, options.artifact_rules)
    frame = load_source(dataset, source, raw_dir, options)
    missing = [c for c in STANDARD_COLUMNS if c not in frame]
    if missing:
        raise DatasetError(f"dataset {dataset!r}: loader returned no column(s) {missing}")
    frame, stats = clean_frame(
        frame,
        config,
        dataset=dataset,
        rules=rules,
        checks=checks_for(source, options.label_checks),
    )
    if frame.empty:
        raise DatasetError(f"dataset {dataset!r}: no rows left after cleaning ({stats})")
    if both_classes and frame["label"].nunique() < 2:
        raise DatasetError(
            f"dataset {dataset!r}: only one class left after cleaning ({stats['label_counts']}); "
            "a detector needs both fake and real examples"
        )
    ordered = STANDARD_COLUMNS + [c for c in frame.columns if c not in STANDARD_COLUMNS]
    frame = frame[ordered]
    stats = {"dataset": dataset, "source": source, **stats}
    preparation = TextPreparation.of(config, rules).to_json()
    preparation = {"dataset": dataset, "source": source, **preparation}
    with atomic_dir(out_dir) as tmp:
        write_parquet(tmp / "data.parquet", frame)
        write_json(tmp / "stats.json", stats)
        write_json(tmp / PREPARATION_FILE, preparation)
    log.info("dataset %r: %d rows kept of %d", dataset, stats["rows_kept"], stats["rows_loaded"])
    return stats
