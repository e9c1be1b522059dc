"""Source artifacts: text that reveals the label without saying anything about the news.

The mechanism; the rules themselves live with their source (``fakenews/sources/<name>.py``, its
``SOURCE.artifact_rules`` and ``label_checks``), so a new source or rule is one module's entry:

- :class:`ArtifactRule` — boilerplate a source adds to one class (ISOT's "WASHINGTON (Reuters) -"
  dateline on real articles, "21st Century Wire says" on fake ones, CONSTRAINT's links and
  handles of official accounts). prepare always counts each rule's matches per class; with
  ``prepare.strip_artifacts`` on it also removes them, so both settings can be compared.
- :class:`LabelCheck` — markers whose class is known (Reuters wire copy is real news). If most
  rows carrying a marker are labelled the other way, the label mapping is inverted and prepare
  stops with an error naming the dataset, rather than train on flipped labels.

A dataset gets its source's rules; one may name others instead in params
(``datasets.<name>.artifact_rules`` / ``label_checks``, any rule of any source), as custom
datasets do. Patterns run on cleaned text (whitespace already collapsed to single spaces).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

from fakenews.core.errors import DatasetError


@dataclass(frozen=True)
class ArtifactRule:
    name: str
    pattern: re.Pattern[str]
    description: str

    @classmethod
    def of(cls, name: str, pattern: str, description: str, flags: int = 0) -> ArtifactRule:
        return cls(name, re.compile(pattern, flags), description)


@dataclass(frozen=True)
class LabelCheck:
    name: str
    pattern: re.Pattern[str]
    expected_label: Literal[0, 1]
    description: str

    @classmethod
    def of(
        cls,
        name: str,
        pattern: str,
        expected_label: Literal[0, 1],
        description: str,
        flags: int = 0,
    ) -> LabelCheck:
        return cls(name, re.compile(pattern, flags), expected_label, description)


def class_counts(mask: pd.Series, labels: pd.Series) -> dict[str, int]:
    return {
        "rows": int(mask.sum()),
        "fake": int((mask & (labels == 1)).sum()),
        "real": int((mask & (labels == 0)).sum()),
    }


def count_artifacts(frame: pd.DataFrame, rules: list[ArtifactRule]) -> dict[str, Any]:
    """Each rule's matches per class, on the text as loaded (before any rule strips).

    Stripping itself is :meth:`fakenews.text.preparation.TextPreparation.strip_artifacts`, the
    one transform prepare and every trained model share.
    """
    counts: dict[str, Any] = {}
    for rule in rules:
        matched = frame["text"].map(lambda value, r=rule: r.pattern.search(value) is not None)
        counts[rule.name] = {
            **class_counts(matched, frame["label"]),
            "description": rule.description,
        }
    return counts


def check_labels(
    dataset: str, frame: pd.DataFrame, checks: list[LabelCheck], min_rows: int
) -> dict[str, Any]:
    """Run the label checks; raise when a marker's rows are mostly labelled the other way."""
    results: dict[str, Any] = {}
    failures = []
    for check in checks:
        matched = frame["text"].map(lambda value, c=check: c.pattern.search(value) is not None)
        labels = frame.loc[matched, "label"]
        n = len(labels)
        share = float((labels == check.expected_label).mean()) if n else None
        if n < min_rows:
            status = "too_few_rows"
        elif share is not None and share < 0.5:
            status = "failed"
            failures.append((check, n, share))
        else:
            status = "passed"
        results[check.name] = {
            "rows": n,
            "expected_label": check.expected_label,
            "share_expected": None if share is None else round(share, 6),
            "status": status,
        }
    if failures:
        lines = []
        for check, n, share in failures:
            expected = "fake (1)" if check.expected_label == 1 else "real (0)"
            lines.append(
                f"{check.name}: only {share:.0%} of the {n} rows matching it are labelled "
                f"{expected} ({check.description})"
            )
        raise DatasetError(
            f"dataset {dataset!r}: label sanity check failed — the label mapping looks inverted "
            f"(1 must mean fake). {'; '.join(lines)}. Check the loader's label map, or "
            "`label_map` for a custom dataset; set prepare.label_checks: false only if the data "
            "really is labelled this way."
        )
    return results
