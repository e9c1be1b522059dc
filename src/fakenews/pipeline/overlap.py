"""overlap: what one dataset's train split shares with another's test rows.

For every ordered pair (A, B) of datasets (B also any evaluation-only dataset), B's test rows that
a model trained on A may have seen. B's test rows are the rows B's score is computed on: its test
split, or every row of a k-fold or evaluation-only dataset (:func:`overlap_rows.scored_splits`).

- **near-duplicates** — the audit's definition (:mod:`fakenews.analysis.near_duplicates`), with all
  datasets grouped in one pass;
- **containment** — a short text inside a long one (:mod:`fakenews.analysis.containment`): a LIAR
  claim quoted in a FakeNewsNet article, which Jaccard similarity cannot see.

Counts and examples go to ``metrics/overlap.json``; the ids of the overlapping test rows go to
``data/overlap/rows.json``, from which transfer scores each model without them as well. Cross-
dataset transfer results can then be read honestly.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from fakenews.analysis.containment import (
    ContainmentConfig,
    Match,
    containment_matches,
    shared_window,
    shingle_matrix,
)
from fakenews.analysis.findings import AuditConfig, combined, failure_message, snippet
from fakenews.analysis.near_duplicates import NearDuplicateConfig, group_keys, near_duplicate_groups
from fakenews.analysis.overlap_rows import scored_splits
from fakenews.core.errors import AuditError
from fakenews.core.io import SPLITS, read_split, rounded, write_json
from fakenews.core.params import Params
from fakenews.core.paths import Paths
from fakenews.text.cleaning import content_key

log = logging.getLogger(__name__)


def _containment_example(
    match: Match,
    train: pd.DataFrame,
    test: pd.DataFrame,
    texts: tuple[list[str], list[str]],
    shingle_size: int,
) -> dict[str, Any]:
    source_text, target_text = texts[0][match.source], texts[1][match.target]
    short, long = (
        (source_text, target_text) if match.shorter == "source" else (target_text, source_text)
    )
    return {
        "ids": [str(train["id"].iloc[match.source]), str(test["id"].iloc[match.target])],
        "labels": [int(train["label"].iloc[match.source]), int(test["label"].iloc[match.target])],
        "containment": match.containment,
        "shared_shingles": match.shared,
        # Which side is the short one: "source" = a train text found inside a test text.
        "shorter": match.shorter,
        "short_text": snippet("", short),
        "in_long_text": snippet("", shared_window(short, long, shingle_size)),
    }


def containment_overlap(
    everything: pd.DataFrame, config: ContainmentConfig, pairs: list[tuple[str, str]]
) -> dict[tuple[str, str], tuple[dict[str, Any], list[str]]]:
    """Per ordered pair (A, B): containment matches between A's train and B's test rows (the
    ``scored`` ones), and the ids of B's test rows in a match (either way round: a claim inside
    an article, or a short text inside a long one)."""
    used = everything[(everything["split"] == "train") | everything["scored"]]
    used = used.reset_index(drop=True)
    # Title and body: the models read both, and a headline may restate the claim.
    texts = [f"{t} {x}".strip() for t, x in zip(used["title"], used["text"], strict=True)]
    matrix = shingle_matrix(texts, config.shingle_size)
    found: dict[tuple[str, str], tuple[dict[str, Any], list[str]]] = {}
    for source, target in pairs:
        train_at = np.flatnonzero((used["dataset"] == source) & (used["split"] == "train"))
        test_at = np.flatnonzero((used["dataset"] == target) & used["scored"])
        train, test = used.iloc[train_at], used.iloc[test_at]
        matches = containment_matches(matrix[train_at], matrix[test_at], config)
        hit_rows = sorted({m.target for m in matches})
        strongest = sorted(matches, key=lambda m: (-m.containment, -m.shared, m.target, m.source))
        pair_texts = ([texts[i] for i in train_at], [texts[i] for i in test_at])
        summary = {
            "matches": len(matches),
            "source_in_target": sum(m.shorter == "source" for m in matches),
            "target_in_source": sum(m.shorter == "target" for m in matches),
            "test_rows": len(hit_rows),
            "fraction": rounded(len(hit_rows) / len(test_at)) if len(test_at) else 0.0,
            "examples": [
                _containment_example(m, train, test, pair_texts, config.shingle_size)
                for m in strongest[: config.max_examples]
            ],
        }
        found[source, target] = summary, [str(test["id"].iloc[i]) for i in hit_rows]
    return found


def dataset_overlap(params: Params, paths: Paths) -> dict[str, Any]:
    """For every ordered pair (A, B): B's test rows with an exact or near twin in A's train,
    and those holding (or held by) one of A's train texts (containment).

    All datasets are grouped in one pass (cost grows with the rows, not the pairs), so "twin"
    means "in the same near-duplicate group", transitively, as in the split. Writes the counts to
    ``metrics/overlap.json`` and the ids of the overlapping test rows to ``data/overlap/rows.json``
    (transfer reports its scores without them too).
    """
    frames = []
    for ds in [*params.datasets, *params.evaluate_on]:
        split_dir = paths.split(ds)
        if params.is_eval_only(ds):
            frame = read_split(split_dir, "test").assign(split="test")
        else:
            frame = combined({name: read_split(split_dir, name) for name in SPLITS})
        scored = frame["split"].isin(scored_splits(split_dir))
        frames.append(frame.assign(dataset=ds, scored=scored))
    everything = pd.concat(frames, ignore_index=True)
    ordered = [
        (source, target)
        for source in params.datasets
        for target in [*params.datasets, *params.evaluate_on]
        if target != source
    ]
    keys = group_keys(everything)
    texts = [
        content_key(t, x) for t, x in zip(everything["title"], everything["text"], strict=True)
    ]
    groups = pd.Series(
        near_duplicate_groups(
            texts, params.section("near_duplicates", NearDuplicateConfig), keys.tolist()
        ),
        index=everything.index,
    )
    contained = containment_overlap(
        everything, params.section("containment", ContainmentConfig), ordered
    )
    pairs: dict[str, dict[str, Any]] = {ds: {} for ds in params.datasets}
    rows: dict[str, dict[str, Any]] = {ds: {} for ds in params.datasets}
    for source, target in ordered:
        in_source, in_target = everything["dataset"] == source, everything["dataset"] == target
        train = in_source & (everything["split"] == "train")
        test = in_target & everything["scored"]
        near_hit = groups[test].isin(set(groups[train]))
        exact_hit = keys[test].isin(set(keys[train]))
        n_test = int(test.sum())
        anywhere = groups[in_source].isin(set(groups[in_target]))
        containment, contained_ids = contained[source, target]
        near_ids = sorted(everything.loc[near_hit.index[near_hit], "id"].astype(str))
        rows[source][target] = {"near_duplicate": near_ids, "containment": contained_ids}
        pairs[source][target] = {
            "test_rows": n_test,
            "exact": int(exact_hit.sum()),
            "near": int(near_hit.sum()),
            "near_fraction": rounded(near_hit.sum() / n_test) if n_test else 0.0,
            "rows_with_twin_anywhere": int(anywhere.sum()),
            "containment": containment,
            # What transfer's "without_overlap" scores leave out: near twins and containment.
            "overlapping_test_rows": len(set(near_ids) | set(contained_ids)),
        }
        log.info(
            "trained on %s, tested on %s: of %d test rows, %d have a twin in train, %d a "
            "containment match (%d matches)",
            source,
            target,
            n_test,
            near_hit.sum(),
            containment["test_rows"],
            containment["matches"],
        )
    worst = max(
        (p["near_fraction"] for targets in pairs.values() for p in targets.values()), default=0.0
    )
    limit = params.section("audit", AuditConfig).max_cross_dataset_overlap
    check = {
        "check": "cross_dataset_overlap",
        "param": "audit.max_cross_dataset_overlap",
        "value": worst,
        "limit": limit,
        "passed": limit is None or worst <= limit,
    }
    method = params.section("containment", ContainmentConfig).model_dump(
        include={"shingle_size", "threshold", "min_shared"}
    )
    result = {"containment": method, "pairs": pairs, "checks": [check], "passed": check["passed"]}
    write_json(paths.overlap_rows, {"pairs": rows})
    write_json(paths.overlap, result)
    if not check["passed"]:
        raise AuditError(failure_message("cross-dataset overlap", [check]))
    return result
