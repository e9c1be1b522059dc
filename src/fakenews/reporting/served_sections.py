"""The report's calibration and domain-check sections: calibrated P(fake) before and after, in
domain and on the transfer targets, and whether the domain check flags the rows a model gets
wrong. Built from evaluate's metrics and predictions and transfer's results only."""

from __future__ import annotations

from typing import Any

import numpy as np

from fakenews.analysis import stats
from fakenews.reporting.collect import ModelResult, Results
from fakenews.reporting.model import Figures, Paragraph, Section, Table
from fakenews.reporting.tables import fmt

# Targets a model never trained on (a union's members are scored but are its own data).
OUT_OF_DOMAIN_ROLES = frozenset({"other", "held_out", "eval_only"})

CALIBRATION_LEGEND = (
    "P(fake) is calibrated on each run's validation split (temperature scaling for the neural "
    "families, Platt scaling for the logistic regressions), and every score in this report is "
    "of the calibrated P(fake). ECE (15 bins) and Brier score, lower is better, before → after "
    "calibration: on the serving run's test split, and averaged over the transfer targets "
    "(datasets the model never trained on, scored by its transfer run)."
)
CALIBRATION_HEADER = [
    "dataset",
    "model",
    "method",
    "ECE in domain",
    "Brier in domain",
    "ECE transfer (mean)",
    "Brier transfer (mean)",
    "targets",
]
RELIABILITY_NOTE = (
    "Reliability diagrams before (raw P(fake)) and after calibration: mean predicted P(fake) "
    "per bin against the observed share of fake examples; the diagonal is perfect calibration."
)
DOMAIN_LEGEND = (
    "Does the domain check flag the rows the model gets wrong? Each text gets an in-domain "
    "score (its TF-IDF similarity to the model's training texts); a text scoring below the "
    "threshold that 95% of validation texts pass is flagged as out of domain. Per model and "
    "target: the share flagged, accuracy (and ROC-AUC) on flagged versus unflagged rows, and "
    "the AUROC of the in-domain score at telling the training set's own test texts from the "
    "target's (1: always apart, 0.5: no better than chance). `own test` is the in-domain test "
    "split (about 5% flagged by design)."
)
DOMAIN_HEADER = [
    "trained on",
    "model",
    "target",
    "flagged",
    "accuracy flagged (n)",
    "accuracy unflagged (n)",
    "AUC flagged / unflagged",
    "AUROC own vs target",
]


def _before_after(calibration: dict[str, Any], key: str) -> str:
    before, after = calibration["before"].get(key), calibration["after"].get(key)
    return f"{fmt(before)} → {fmt(after)}"


def _mean(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return round(float(np.mean(known)), 6) if known else None


def transfer_calibration(r: ModelResult) -> dict[str, Any] | None:
    """Mean ECE and Brier before/after over the model's out-of-domain transfer targets."""
    parts = [
        t["calibration"]
        for t in r.transfer.values()
        if t.get("role") in OUT_OF_DOMAIN_ROLES and "before" in t.get("calibration", {})
    ]
    if not parts:
        return None
    return {
        side: {k: _mean([p[side].get(k) for p in parts]) for k in ("ece", "brier")}
        for side in ("before", "after")
    } | {"targets": len(parts)}


def calibration_rows(results: Results) -> list[list[str]]:
    rows = []
    for dataset, models in results.items():
        for model, r in models.items():
            own = r.metrics.get("calibration", {})
            if "before" not in own:
                continue  # evaluated before calibration existed
            moved = transfer_calibration(r)
            rows.append(
                [
                    dataset,
                    model,
                    str(own.get("method", "n/a")),
                    _before_after(own, "ece"),
                    _before_after(own, "brier"),
                    _before_after(moved, "ece") if moved else "n/a",
                    _before_after(moved, "brier") if moved else "n/a",
                    str(moved["targets"]) if moved else "0",
                ]
            )
    return rows


def reliability_figures(results: Results) -> list[str]:
    """Per dataset, one reliability diagram of the raw P(fake) and one of the calibrated."""
    from fakenews.reporting import figures

    svgs = []
    for dataset, models in results.items():
        for column, label in (("prob_raw", "before calibration"), ("prob_fake", "calibrated")):
            series = {
                m: [
                    (b["mean_predicted"], b["observed_fraction"])
                    for b in stats.reliability_diagram(
                        r.labels, r.predictions[column].to_numpy(dtype=float)
                    )
                ]
                for m, r in models.items()
                if column in r.predictions
            }
            if series:
                svgs.append(
                    figures.curves(
                        series,
                        f"Reliability, {label} — {dataset}",
                        "mean predicted P(fake)",
                        "observed fraction fake",
                        diagonal=True,
                    )
                )
    return svgs


def calibration_section(results: Results, title: str, anchor: str) -> Section:
    """Before/after table (both renderers) and reliability diagrams (HTML)."""
    return Section(
        title,
        anchor=anchor,
        blocks=[
            Paragraph(CALIBRATION_LEGEND),
            Table(CALIBRATION_HEADER, calibration_rows(results)),
            Paragraph(RELIABILITY_NOTE),
            Figures(reliability_figures(results)),
        ],
    )


def _part(split: dict[str, Any]) -> str:
    return f"{fmt(split.get('accuracy'))} ({split.get('n', 0)})"


def domain_row(train: str, model: str, target: str, d: dict[str, Any]) -> list[str]:
    flagged, unflagged = d.get("flagged", {}), d.get("unflagged", {})
    return [
        train,
        model,
        target,
        fmt(d.get("flagged_share"), 3),
        _part(flagged),
        _part(unflagged),
        f"{fmt(flagged.get('roc_auc'), 3)} / {fmt(unflagged.get('roc_auc'), 3)}",
        fmt(d.get("auroc_own_test_vs_target"), 3),
    ]


def domain_rows(results: Results) -> list[list[str]]:
    rows = []
    for dataset, models in results.items():
        for model, r in models.items():
            own = r.metrics.get("domain")
            if own is None:
                continue
            rows.append(domain_row(dataset, model, "own test", own))
            for target, t in r.transfer.items():
                if t.get("role") in OUT_OF_DOMAIN_ROLES and "domain" in t:
                    rows.append(domain_row(dataset, model, target, t["domain"]))
    return rows


def domain_section(results: Results, title: str, anchor: str) -> Section | None:
    """One table: per model and target, does the flag find the rows the model gets wrong?"""
    rows = domain_rows(results)
    if not rows:
        return None
    return Section(
        title, anchor=anchor, blocks=[Paragraph(DOMAIN_LEGEND), Table(DOMAIN_HEADER, rows)]
    )
