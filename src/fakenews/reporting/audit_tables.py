"""The audit's tables: leaks and shortcuts per dataset, the cross-dataset overlap, the transfer
scores without the overlapping rows, and how each test split differs from its official release.
"""

from __future__ import annotations

import itertools
from typing import Any

from fakenews.reporting.collect import TRANSFER_METRICS, AuditFindings, Results, transfer_scores
from fakenews.reporting.ranking import best_model
from fakenews.reporting.tables import fmt, with_ci

# A probe within this much accuracy of the best model solves the dataset nearly as well without
# reading the news: the benchmark measures the shortcut, not the detector.
SHORTCUT_MARGIN = 0.05


AUDIT_HEADER = [
    "dataset",
    "rows",
    "exact duplicates dropped",
    "near-duplicate groups (rows)",
    "official-split leaks resolved",
    "groups across splits",
    "ids in two splits",
    "artifact rules: rows fake / real",
    "label checks",
]

PROBE_HEADER = [
    "dataset",
    "majority",
    "metadata",
    "length",
    "first words",
    "title",
    "best model",
]

AUDIT_LEGEND = (
    "Audit of each split before training (`metrics/<dataset>/audit.json`). Near-duplicates: "
    "Jaccard similarity of word-shingle sets ≥ the `near_duplicates.threshold`; groups are kept "
    "whole in one split. Probes: logistic regressions trained on the train split that see only "
    "the metadata columns, the text lengths, the first words or the title; test accuracy next to "
    "the majority baseline and the best model's. ⚠ marks a probe within {margin} of the best "
    "model: that dataset can nearly be solved without reading the news."
)


def _artifact_cell(artifacts: dict[str, Any] | None) -> str:
    if not artifacts or not artifacts.get("rules"):
        return "none"
    cells = [f"{name} {r['fake']} / {r['real']}" for name, r in artifacts["rules"].items()]
    return "; ".join(cells) + (" (stripped)" if artifacts.get("strip") else " (kept)")


def _label_check_cell(checks: dict[str, Any] | None) -> str:
    if checks is None:
        return "off"
    if not checks:
        return "none for this source"
    return "; ".join(f"{name}: {c['status']} ({c['rows']} rows)" for name, c in checks.items())


def _leak_cell(split: dict[str, Any]) -> str:
    leaks = split.get("official_leaks")
    if not leaks:
        return "—"
    rows = leaks.get("rows", {})
    verb = {"move_to_earliest": "moved", "drop": "dropped", "keep": "kept"}[leaks["policy"]]
    val, test = rows.get("val", 0), rows.get("test", 0)
    return f"{leaks['groups']} groups: {val} val + {test} test rows {verb}"


def audit_rows(findings: AuditFindings) -> list[list[str]]:
    rows = []
    for dataset, audit in findings.datasets.items():
        dup = audit["duplicates"]
        prepare = audit.get("prepare") or {}
        rows.append(
            [
                dataset,
                str(sum(audit["rows"].values())),
                fmt(prepare.get("duplicates_dropped")),
                f"{dup['near_groups']} ({dup['near_rows']})",
                _leak_cell(audit.get("split") or {}),
                str(dup["cross_split_groups"]),
                str(dup["ids_in_two_splits"]),
                _artifact_cell(audit.get("artifacts")),
                _label_check_cell(audit.get("label_checks")),
            ]
        )
    return rows


def probe_rows(findings: AuditFindings, results: Results) -> list[list[str]]:
    rows = []
    for dataset, audit in findings.datasets.items():
        probes = audit["probes"]
        best_accuracy: float | None = None
        best_cell = "n/a"
        if dataset in results:
            best = best_model(results[dataset])
            best_accuracy = results[dataset][best].metrics["accuracy"]
            best_cell = f"{fmt(best_accuracy)} ({best})"
        cells = []
        for name in ("metadata", "length", "prefix", "title"):
            probe = probes.get(name, {})
            if "accuracy" not in probe:
                cells.append(f"— ({probe.get('skipped', 'not run')})")
                continue
            near_best = (
                best_accuracy is not None and probe["accuracy"] >= best_accuracy - SHORTCUT_MARGIN
            )
            cells.append(("⚠ " if near_best else "") + fmt(probe["accuracy"]))
        rows.append([dataset, fmt(probes["majority"]["accuracy"]), *cells, best_cell])
    return rows


def overlap_rows(findings: AuditFindings) -> tuple[list[str], list[list[str]]] | None:
    """Rows: trained on (its train split); columns: tested on (its test split)."""
    if not findings.overlap or len(findings.datasets) < 2:
        return None
    pairs = findings.overlap["pairs"]
    datasets = list(findings.datasets)
    rows = []
    for source in datasets:
        row = [source]
        for target in datasets:
            cell = pairs.get(source, {}).get(target)
            if source == target or cell is None:
                row.append("—")
            else:
                row.append(f"{cell['near']} of {cell['test_rows']} ({cell['near_fraction']:.1%})")
        rows.append(row)
    return ["train split of ↓ / test split of →", *datasets], rows


OVERLAP_LEGEND = (
    "Test rows of the column's dataset with an exact or near-duplicate in the row's train split: "
    "a transfer score on such rows measures memory, not generalisation."
)


WITHOUT_OVERLAP_LEGEND = (
    "Per pair (trained on the first dataset's train split, tested on the second's test split): "
    "test rows with a near-duplicate in that train split; containment matches, where at least "
    "{threshold:.0%} of the shorter text's word {size}-grams (and at least {min_shared}) occur "
    "in the longer one, such as a claim quoted in an article, counted as train text inside a "
    "test text / test text inside a train text; and the test rows with either, which the "
    '"without" scores leave out. Scores: macro-F1 and ROC-AUC with 95% bootstrap intervals, '
    "on every test row and without the overlapping ones. A pair with nothing to remove keeps "
    "its scores."
)
WITHOUT_OVERLAP_HEADER = [
    "trained on → tested on",
    "near-duplicates",
    "containment: train in test / test in train",
    "rows removed",
    "model",
    "F1 all rows",
    "F1 without",
    "AUC all rows",
    "AUC without",
]


def _without_cell(without: dict[str, Any] | None, key: str) -> str:
    if without is None:
        return "n/a"  # a transfer output from before the overlap rows existed
    if without.get("reason"):
        return f"n/a ({without['reason']})"
    return with_ci(without, key)


def without_overlap_rows(findings: AuditFindings, results: Results) -> list[list[str]]:
    """One row per pair and model where rows were removed; one row for a pair with none."""
    if not findings.overlap:
        return []
    pairs = findings.overlap["pairs"]
    models = list(next(iter(results.values()), {}))
    rows = []
    for source, target in itertools.permutations(results, 2):
        pair = pairs.get(source, {}).get(target)
        if pair is None:
            continue
        contained = pair.get("containment", {})
        removed = pair.get("overlapping_test_rows", pair["near"])
        counts = [
            f"{source} → {target}",
            str(pair["near"]),
            f"{contained.get('source_in_target', 0)} / {contained.get('target_in_source', 0)}",
            f"{removed} of {pair['test_rows']}",
        ]
        if not removed:
            rows.append([*counts, "all", *(["unchanged"] * 4)])
            continue
        for model in models:
            scores = transfer_scores(results, source, model, target) or {}
            without = scores.get("without_overlap")
            cells = []
            for key in TRANSFER_METRICS:
                cells += [with_ci(scores, key) if scores else "n/a", _without_cell(without, key)]
            rows.append([*counts, model, *cells])
    return rows


def without_overlap_legend(overlap: dict[str, Any]) -> str:
    method = overlap.get("containment", {})  # the params the overlap stage ran with
    return WITHOUT_OVERLAP_LEGEND.format(
        size=method.get("shingle_size", "?"),
        threshold=method.get("threshold", 0.0),
        min_shared=method.get("min_shared", "?"),
    )


OFFICIAL_NUMBERS = (
    "To score on the official splits as released, set `prepare.strip_artifacts: false`, "
    "`prepare.drop_duplicates: false` and `split.official_leaks: keep` (e.g. `dvc exp run -S "
    "prepare.strip_artifacts=false -S prepare.drop_duplicates=false -S "
    "split.official_leaks=keep`); the audit then reports the leaks it no longer resolves."
)


def split_provenance(dataset: str, audit: dict[str, Any]) -> str:
    """How this dataset's test split differs from the released one, in a sentence or three."""
    prepare, split = audit.get("prepare") or {}, audit.get("split") or {}
    rows, artifacts = audit.get("rows") or {}, audit.get("artifacts") or {}
    if split.get("strategy") != "official":
        text = (
            f"**{dataset}**: no official split; a stratified random split "
            f"({rows.get('train')}/{rows.get('val')}/{rows.get('test')} rows), near-duplicate "
            "groups kept whole."
        )
    else:
        released = (prepare.get("official_split_loaded") or {}).get("test")
        prepared = (prepare.get("official_split_counts") or {}).get("test")
        leaks = split.get("official_leaks") or {}
        moved = (leaks.get("rows") or {}).get("test", 0)
        steps = []
        if released is not None and prepared is not None and released != prepared:
            steps.append(
                f"prepare dropped {released - prepared} test rows (exact duplicates of an earlier "
                "row, kept in the earliest split, and empty texts)"
            )
        if moved:
            verb = "dropped" if leaks.get("policy") == "drop" else "moved to train/validation"
            steps.append(
                f"{moved} test rows that near-duplicate a train or validation row were {verb} "
                f"(`split.official_leaks: {leaks.get('policy')}`)"
            )
        text = (
            f"**{dataset}**: official split; test {released if released is not None else '?'} "
            f"rows as released, {rows.get('test')} here"
            + (": " + "; ".join(steps) if steps else "")
            + "."
        )
    changed = (artifacts.get("rows_changed") or {}).get("rows")
    if artifacts.get("strip") and changed:
        rules = ", ".join(sorted(artifacts.get("rules") or {}))
        text += (
            f" Source artifacts ({rules}) were stripped from {changed} rows' text "
            "(`prepare.strip_artifacts`)."
        )
    return text
