"""Source artifacts: text that reveals the label without saying anything about the news.

Two catalogues, kept as data so a new source or rule is one entry:

- :data:`ARTIFACT_RULES` — boilerplate a source adds to one class (ISOT's "WASHINGTON (Reuters) -"
  dateline on real articles, "21st Century Wire says" on fake ones, CONSTRAINT's links and
  handles of official accounts). prepare always counts each rule's matches per class; with
  ``prepare.strip_artifacts`` on it also removes them, so both settings can be compared.
- :data:`LABEL_CHECKS` — markers whose class is known (Reuters wire copy is real news). If most
  rows carrying a marker are labelled the other way, the label mapping is inverted and prepare
  stops with an error naming the dataset, rather than train on flipped labels.

Rules apply to the sources they list; a custom dataset names the ones it wants in params
(``datasets.<name>.artifact_rules`` / ``label_checks``). Patterns run on cleaned text (whitespace
already collapsed to single spaces).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

from fakenews.core.errors import DatasetError

# The dateline that opens Reuters wire copy: optional place names in capitals (accented ones
# included), "(Reuters)", then a hyphen, en or em dash.
_REUTERS_DATELINE = (
    r"^(?:[A-Z\u00c0-\u00de][A-Z\u00c0-\u00de.'/,\- ]{0,80} )?\(Reuters\) ?[-\u2013\u2014] ?"
)


@dataclass(frozen=True)
class ArtifactRule:
    name: str
    pattern: re.Pattern[str]
    sources: frozenset[str]
    description: str


@dataclass(frozen=True)
class LabelCheck:
    name: str
    pattern: re.Pattern[str]
    sources: frozenset[str]
    expected_label: Literal[0, 1]
    description: str


def _rule(name: str, pattern: str, sources: set[str], description: str, flags: int = 0) -> Any:
    return ArtifactRule(name, re.compile(pattern, flags), frozenset(sources), description)


ARTIFACT_RULES: dict[str, ArtifactRule] = {
    rule.name: rule
    for rule in (
        _rule(
            "reuters_dateline",
            _REUTERS_DATELINE,
            {"isot", "welfake"},
            "'WASHINGTON (Reuters) - ' dateline opening every real ISOT article",
        ),
        _rule(
            "century_wire",
            r"\b21st Century Wire says\b:? ?",
            {"isot", "welfake"},
            "'21st Century Wire says' opener of one fake-news site",
            re.IGNORECASE,
        ),
        _rule(
            "featured_image",
            r" ?\bFeatured image\b.{0,200}$",
            {"isot", "welfake", "fakenewsnet_v1"},
            "'Featured image via …' photo credit closing partisan-site articles",
            re.IGNORECASE,
        ),
        _rule(
            "story_highlights",
            r"^Story highlights ?",
            {"fakenewsnet_v1"},
            "'Story highlights' header of CNN pages (real only)",
        ),
        _rule(
            "url",
            r"(?:https?://|www\.|pic\.twitter\.com/)\S+ ?",
            {"constraint", "isot", "welfake"},
            "links (t.co, pic.twitter.com): official accounts post far more of them",
            re.IGNORECASE,
        ),
        _rule(
            "handle",
            r"(?:\bRT )?(?<![\w@])@\w{1,30}:? ?",
            {"constraint", "isot", "welfake"},
            "@-handles and 'RT @account:' retweet prefixes that name the posting account",
        ),
    )
}

LABEL_CHECKS: dict[str, LabelCheck] = {
    check.name: check
    for check in (
        LabelCheck(
            "reuters_dateline_is_real",
            re.compile(_REUTERS_DATELINE),
            frozenset({"isot", "welfake"}),
            0,
            "texts opening with a Reuters dateline are wire copy, i.e. real news",
        ),
        LabelCheck(
            "century_wire_is_fake",
            re.compile(r"\b21st Century Wire says\b", re.IGNORECASE),
            frozenset({"isot", "welfake"}),
            1,
            "'21st Century Wire says' marks ISOT's fake class",
        ),
        LabelCheck(
            "story_highlights_is_real",
            re.compile(r"^Story highlights\b"),
            frozenset({"fakenewsnet_v1"}),
            0,
            "CNN pages ('Story highlights' header) are in the real class",
        ),
        LabelCheck(
            "covid_tracking_update_is_real",
            re.compile(r"^Our (?:daily|\d+ ?[ap]m) update is published", re.IGNORECASE),
            frozenset({"constraint"}),
            0,
            "the COVID Tracking Project's 'Our daily update is published' posts are real",
        ),
    )
}


def check_names(dataset: str, rules: list[str] | None, checks: list[str] | None) -> None:
    """``datasets.<dataset>.artifact_rules`` / ``label_checks`` name known entries."""
    from fakenews.core.config import ParamsError

    for key, names, catalogue in (
        ("artifact_rules", rules, ARTIFACT_RULES),
        ("label_checks", checks, LABEL_CHECKS),
    ):
        unknown = [n for n in names or [] if n not in catalogue]
        if unknown:
            raise ParamsError(
                f"params.yaml: datasets.{dataset}.{key}: unknown name(s) {unknown}; "
                f"known: {', '.join(sorted(catalogue))}"
            )


def rules_for(source: str, names: list[str] | None = None) -> list[ArtifactRule]:
    """The rules that apply: those named (custom datasets), else those listing the source."""
    if names is not None:
        return [ARTIFACT_RULES[n] for n in names]
    return [r for r in ARTIFACT_RULES.values() if source in r.sources]


def checks_for(source: str, names: list[str] | None = None) -> list[LabelCheck]:
    if names is not None:
        return [LABEL_CHECKS[n] for n in names]
    return [c for c in LABEL_CHECKS.values() if source in c.sources]


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
