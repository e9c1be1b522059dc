"""What the audit and overlap stages share: all splits in one frame, a text's excerpt for a
finding, and the message that names each failed check."""

from __future__ import annotations

from typing import Any

import pandas as pd
from pydantic import Field

from fakenews.core.io import SPLITS
from fakenews.core.params import StrictModel

SNIPPET_CHARS = 160


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


def snippet(title: str, text: str) -> str:
    body = text or title
    return body if len(body) <= SNIPPET_CHARS else body[: SNIPPET_CHARS - 1] + "…"


def combined(splits: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """All splits in one frame, in split order, with a ``split`` column."""
    return pd.concat(
        [splits[name].assign(split=name) for name in SPLITS], ignore_index=True, sort=False
    )


def failure_message(subject: str, checks: list[dict[str, Any]]) -> str:
    failed = [c for c in checks if not c["passed"]]
    parts = []
    for c in failed:
        where = f" (raise {c['param']} to accept)" if c["param"] else ""
        parts.append(f"{c['check']} = {c['value']} exceeds {c['limit']}{where}")
    return f"{subject}: audit failed: {'; '.join(parts)}"
