"""audit@<dataset>: the leaks and shortcuts that make a fake-news benchmark lie.

Run after the split and before training, on the very splits the models will see:

- **duplicates** — exact and near-duplicate groups (MinHash/LSH,
  :mod:`fakenews.analysis.near_duplicates`) in the dataset, and the groups and ids that sit in more
  than one split (a test example whose twin is in train is memorised, not detected);
- **shortcut probes** — small logistic regressions trained on the train split that see only
  (a) the metadata columns, (b) text lengths, (c) the first few words, (d) the title; their test
  accuracy next to the majority baseline. A probe close to the real models means the dataset can
  be solved without reading the news;
- what prepare found: artifact-rule matches per class and label sanity checks (from its
  ``stats.json``).

The cross-dataset version of the duplicate search is the ``overlap`` stage
(:mod:`fakenews.pipeline.overlap`); both share :mod:`fakenews.analysis.findings`.

Thresholds in ``params.yaml`` (``audit.max_*``) turn findings into failures: the stage writes its
report, then stops the pipeline with a message naming each failed check. Outputs hold no timings
or other run-specific values, so a rerun on the same inputs writes the same bytes.
"""

from __future__ import annotations

import itertools
import logging
import re
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from fakenews.analysis.findings import AuditConfig, combined, failure_message, snippet
from fakenews.analysis.near_duplicates import (
    NearDuplicateConfig,
    group_keys,
    jaccard,
    near_duplicate_groups,
    shingle_set,
    words,
)
from fakenews.core.errors import AuditError
from fakenews.core.io import SPLITS, read_json, read_split, rounded, write_json
from fakenews.core.params import Params
from fakenews.core.paths import Paths
from fakenews.text.cleaning import content_key
from fakenews.text.preparation import RAW_COLUMNS

log = logging.getLogger(__name__)

# Never probe features: the text itself, the answer, bookkeeping. LIAR's label_original is the
# six-way label the binary one is derived from.
NOT_METADATA = {
    "id", "title", "text", "label", "label_original", "official_split", *RAW_COLUMNS.values()
}  # fmt: skip
PROBES = ("metadata", "length", "prefix", "title")
_URL_HOST = re.compile(r"^[a-z][a-z0-9+.-]*://(?:www\.)?([^/?#:]+)")
_ISO_DATE = re.compile(r"^(\d{4}-\d{2})-\d{2}")


# --------------------------------------------------------------------------------------------
# Duplicates


def duplicate_audit(
    splits: dict[str, pd.DataFrame], near: NearDuplicateConfig, max_examples: int
) -> dict[str, Any]:
    """Exact and near-duplicate groups in the dataset, and those that cross split boundaries."""
    frame = combined(splits)
    exact = group_keys(frame)
    texts = [content_key(t, x) for t, x in zip(frame["title"], frame["text"], strict=True)]
    groups = pd.Series(near_duplicate_groups(texts, near, exact.tolist()), index=frame.index)

    exact_sizes = exact.value_counts()
    group_sizes = groups.value_counts()
    distinct_texts = exact.groupby(groups).nunique()
    near_groups = distinct_texts.index[distinct_texts > 1]
    split_sets = frame["split"].groupby(groups).agg(lambda s: frozenset(s))
    crossing = split_sets[split_sets.map(len) > 1]
    exact_crossing = frame["split"].groupby(exact).nunique()

    by_pair = {
        f"{a}-{b}": int(sum(1 for s in crossing if a in s and b in s))
        for a, b in itertools.combinations(SPLITS, 2)
    }
    rows_with_twin: dict[str, int] = {}
    for later, earlier in (("val", "train"), ("test", "train"), ("test", "val")):
        has_earlier = split_sets.map(lambda s, e=earlier: e in s)
        in_later = (frame["split"] == later) & groups.map(has_earlier).astype(bool)
        rows_with_twin[f"{later}_rows_with_{earlier}_twin"] = int(in_later.sum())

    ids = frame["id"].astype(str)
    ids_per_split = frame.groupby(ids)["split"].nunique()

    examples = []
    for group in sorted(crossing.index)[:max_examples]:
        members = frame.index[groups == group]
        first = members[0]
        second = next(i for i in members if frame.at[i, "split"] != frame.at[first, "split"])
        similarity = jaccard(
            shingle_set(texts[first], near.shingle_size),
            shingle_set(texts[second], near.shingle_size),
        )
        examples.append(
            {
                "splits": [str(frame.at[first, "split"]), str(frame.at[second, "split"])],
                "ids": [str(frame.at[first, "id"]), str(frame.at[second, "id"])],
                "labels": [int(frame.at[first, "label"]), int(frame.at[second, "label"])],
                "jaccard": rounded(similarity),
                "texts": [
                    snippet(frame.at[first, "title"], frame.at[first, "text"]),
                    snippet(frame.at[second, "title"], frame.at[second, "text"]),
                ],
            }
        )

    in_groups = group_sizes[group_sizes > 1]
    redundant = int((in_groups - 1).sum())  # rows beyond the first of each group
    return {
        "rows": len(frame),
        "exact_groups": int((exact_sizes > 1).sum()),
        "exact_rows": int(exact_sizes[exact_sizes > 1].sum()),
        "near_groups": len(near_groups),
        "near_rows": int(groups.isin(near_groups).sum()),
        "near_duplicate_fraction": rounded(redundant / len(frame)) if len(frame) else 0.0,
        "label_conflict_groups": int((frame["label"].groupby(groups).nunique() > 1).sum()),
        "cross_split_groups": len(crossing),
        "cross_split_exact_groups": int((exact_crossing > 1).sum()),
        "cross_split_by_pair": by_pair,
        **rows_with_twin,
        "ids_in_two_splits": int((ids_per_split > 1).sum()),
        "examples": examples,
    }


# --------------------------------------------------------------------------------------------
# Shortcut probes


def metadata_columns(frame: pd.DataFrame, exclude: list[str]) -> list[str]:
    return [c for c in frame.columns if c not in NOT_METADATA and c not in exclude]


def _quantile_codes(train: np.ndarray, other: np.ndarray, bins: int) -> tuple[list[str], list[str]]:
    """Bin both arrays by the train quantiles; codes as text (missing values: "nan")."""
    known = train[~np.isnan(train)]
    cuts = np.quantile(known, np.linspace(0, 1, bins + 1)[1:-1]) if len(known) else []
    edges = np.unique(cuts)

    def codes(values: np.ndarray) -> list[str]:
        binned = np.digitize(values, edges)
        return ["nan" if np.isnan(v) else str(c) for v, c in zip(values, binned, strict=True)]

    return codes(train), codes(other)


def _category(value: Any) -> str:
    """A metadata value as a category: URLs by host, ISO dates by month, the rest as text."""
    text = str(value).strip().lower()
    if match := _URL_HOST.match(text):
        return "host:" + match.group(1)
    if match := _ISO_DATE.match(text):
        return "month:" + match.group(1)
    return text[:200]


def _metadata_features(
    train: pd.DataFrame, test: pd.DataFrame, config: AuditConfig
) -> tuple[Any, Any, list[str]] | str:
    columns = metadata_columns(train, config.exclude_columns)
    if not columns:
        return "no metadata columns"
    train_table, test_table = {}, {}
    for column in columns:
        a, b = train[column], test[column]
        if pd.api.types.is_numeric_dtype(a) and not pd.api.types.is_bool_dtype(a):
            train_table[column], test_table[column] = _quantile_codes(
                a.to_numpy(dtype=float), b.to_numpy(dtype=float), config.length_bins
            )
        else:
            train_table[column] = a.map(_category).tolist()
            test_table[column] = b.map(_category).tolist()
    from sklearn.preprocessing import OneHotEncoder  # sklearn: lazily, ~2 s to import

    encoder = OneHotEncoder(
        handle_unknown="infrequent_if_exist", min_frequency=config.min_category_count
    )
    x_train = encoder.fit_transform(pd.DataFrame(train_table))
    return x_train, encoder.transform(pd.DataFrame(test_table)), columns


def _lengths(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    return {
        "text_chars": frame["text"].str.len().to_numpy(dtype=float),
        "text_words": frame["text"].str.split().str.len().fillna(0).to_numpy(dtype=float),
        "title_chars": frame["title"].str.len().to_numpy(dtype=float),
    }


def _length_features(
    train: pd.DataFrame, test: pd.DataFrame, config: AuditConfig
) -> tuple[Any, Any, list[str]] | str:
    train_lengths, test_lengths = _lengths(train), _lengths(test)
    # A constant feature (no titles at all) says nothing; leave it out.
    used = [k for k, v in train_lengths.items() if np.ptp(v) > 0]
    if not used:
        return "every text has the same length"
    train_table, test_table = {}, {}
    for key in used:
        train_table[key], test_table[key] = _quantile_codes(
            train_lengths[key], test_lengths[key], config.length_bins
        )
    from sklearn.preprocessing import OneHotEncoder

    encoder = OneHotEncoder(handle_unknown="ignore")
    x_train = encoder.fit_transform(pd.DataFrame(train_table))
    return x_train, encoder.transform(pd.DataFrame(test_table)), used


def prefix_tokens(frame: pd.DataFrame, k: int) -> list[list[str]]:
    """The first ``k`` words of the text (of the title when there is no text)."""
    return [words(x or t)[:k] for t, x in zip(frame["title"], frame["text"], strict=True)]


def _prefix_analyzer(tokens: list[str]) -> list[str]:
    # Each word both at its position and anywhere in the prefix: "0:washington", "any:reuters".
    return [f"{i}:{w}" for i, w in enumerate(tokens)] + [f"any:{w}" for w in tokens]


def _prefix_features(
    train: pd.DataFrame, test: pd.DataFrame, config: AuditConfig
) -> tuple[Any, Any, list[str]] | str:
    k = config.prefix_tokens
    train_docs, test_docs = prefix_tokens(train, k), prefix_tokens(test, k)
    from sklearn.feature_extraction.text import CountVectorizer

    vectorizer = CountVectorizer(analyzer=_prefix_analyzer, binary=True, min_df=2)
    try:
        x_train = vectorizer.fit_transform(train_docs)
    except ValueError:  # no prefix word seen twice: nothing a probe could learn
        return "no prefix word occurs twice in train"
    return x_train, vectorizer.transform(test_docs), [f"first {k} words"]


def _title_features(
    train: pd.DataFrame, test: pd.DataFrame, config: AuditConfig
) -> tuple[Any, Any, list[str]] | str:
    if (train["title"].str.strip() != "").mean() < 0.5:
        return "no titles"
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    try:
        x_train = vectorizer.fit_transform(train["title"])
    except ValueError:
        return "no title word occurs twice in train"
    return x_train, vectorizer.transform(test["title"]), ["title"]


FeatureBuilder = Callable[
    [pd.DataFrame, pd.DataFrame, AuditConfig], tuple[Any, Any, list[str]] | str
]
FEATURES: dict[str, FeatureBuilder] = {
    "metadata": _metadata_features,
    "length": _length_features,
    "prefix": _prefix_features,
    "title": _title_features,
}


def run_probes(
    train: pd.DataFrame, test: pd.DataFrame, config: AuditConfig
) -> dict[str, dict[str, Any]]:
    """Majority baseline and each probe's test accuracy (skipped probes say why)."""
    from scipy import sparse
    from sklearn.linear_model import LogisticRegression

    y_train = train["label"].to_numpy(dtype=int)
    y_test = test["label"].to_numpy(dtype=int)
    # Ties go to fake, as in the split's group labels.
    majority_label = int(np.mean(y_train) >= 0.5)
    majority = float(np.mean(y_test == majority_label))
    results: dict[str, dict[str, Any]] = {
        "majority": {"accuracy": rounded(majority), "label": majority_label}
    }
    for name in PROBES:
        built = FEATURES[name](train, test, config)
        if isinstance(built, str):
            results[name] = {"skipped": built}
            continue
        x_train, x_test, used = built
        if len(set(y_train)) < 2:
            results[name] = {"skipped": "one class in train"}
            continue
        model = LogisticRegression(C=config.probe_C, max_iter=2000)
        model.fit(sparse.csr_matrix(x_train), y_train)
        accuracy = float(np.mean(model.predict(sparse.csr_matrix(x_test)) == y_test))
        results[name] = {
            "accuracy": rounded(accuracy),
            "lift": rounded(accuracy - majority),
            "features": used,
            "dimensions": int(x_train.shape[1]),
        }
    return results


# --------------------------------------------------------------------------------------------
# Checks and the stage


def evaluate_checks(report: dict[str, Any], config: AuditConfig) -> list[dict[str, Any]]:
    """Every threshold, its value and whether it held; a null limit only reports."""
    duplicates, probes = report["duplicates"], report["probes"]
    lifts = [p["lift"] for p in probes.values() if "lift" in p]
    items: list[tuple[str, str | None, float, float | None]] = [
        # A row id in two splits is always a bug, whatever the params say.
        ("ids_in_two_splits", None, duplicates["ids_in_two_splits"], 0),
        (
            "cross_split_leaks",
            "max_cross_split_leaks",
            duplicates["cross_split_groups"],
            config.max_cross_split_leaks,
        ),
        (
            "near_duplicate_fraction",
            "max_near_duplicate_fraction",
            duplicates["near_duplicate_fraction"],
            config.max_near_duplicate_fraction,
        ),
        ("probe_lift", "max_probe_lift", max(lifts, default=0.0), config.max_probe_lift),
    ]
    return [
        {
            "check": check,
            "param": f"audit.{param}" if param else None,
            "value": value,
            "limit": limit,
            "passed": limit is None or value <= limit,
        }
        for check, param, value, limit in items
    ]


def audit_dataset(dataset: str, params: Params, paths: Paths) -> dict[str, Any]:
    """Audit one dataset's split; write the report, then raise if a threshold is exceeded."""
    started = time.perf_counter()
    config = params.section("audit", AuditConfig)
    split_dir = paths.split(dataset)
    splits = {name: read_split(split_dir, name) for name in SPLITS}
    manifest = read_json(split_dir / "manifest.json")
    stats_file = paths.prepared(dataset) / "stats.json"
    prepared = read_json(stats_file) if stats_file.is_file() else {}

    report: dict[str, Any] = {
        "dataset": dataset,
        "rows": {name: len(splits[name]) for name in SPLITS},
        "prepare": {
            key: prepared.get(key)
            for key in (
                "rows_loaded",
                "empty_dropped",
                "duplicates_dropped",
                "conflicting_duplicates_dropped",
                "official_split_loaded",
                "official_split_counts",
            )
        },
        "artifacts": prepared.get("artifacts"),
        "label_checks": prepared.get("label_checks"),
        "split": {
            "strategy": manifest.get("strategy"),
            "near_duplicates": manifest.get("near_duplicates"),
            "official_leaks": manifest.get("official_leaks"),
        },
        "duplicates": duplicate_audit(
            splits, params.section("near_duplicates", NearDuplicateConfig), config.max_examples
        ),
        "probes": run_probes(splits["train"], splits["test"], config),
    }
    report["checks"] = evaluate_checks(report, config)
    report["passed"] = all(c["passed"] for c in report["checks"])
    write_json(paths.audit(dataset), report)
    log.info(
        "%s: %d near-duplicate groups, %d across splits; probes %s (majority %.3f); %.1fs",
        dataset,
        report["duplicates"]["near_groups"],
        report["duplicates"]["cross_split_groups"],
        {k: v.get("accuracy") for k, v in report["probes"].items() if k != "majority"},
        report["probes"]["majority"]["accuracy"],
        time.perf_counter() - started,
    )
    if not report["passed"]:
        raise AuditError(failure_message(f"dataset {dataset!r}", report["checks"]))
    # Training depends on this small file only: it changes with the split, not with audit
    # params or code, so tuning the audit never retrains a model.
    write_json(paths.audit_passed(dataset), {"dataset": dataset, "split_hash": manifest["hash"]})
    return report
