"""The report's "What the models rely on" section: per dataset, each model's top cues (the
explain stage's data/explanations/<dataset>/<model>.json) beside the audit's shortcut probes, and
the faithfulness table (deleting the top-K units versus K random ones) for every model."""

from __future__ import annotations

from typing import Any

from fakenews.core.io import read_json
from fakenews.core.params import Params
from fakenews.core.paths import Paths
from fakenews.inference.explain import explanations_path
from fakenews.reporting.collect import AuditFindings
from fakenews.reporting.model import Paragraph, Section, Table

ANCHOR = "reliance"  # its title: sections.SECTIONS
CUES_SHOWN = 5

LEGEND = (
    "For each model's reference run (its family's first seed; on a k-fold dataset its serving "
    "fold, on that fold's test rows), the explain stage attributes every test text's log-odds of "
    "fake to its words (the linear model: to its n-gram features, exactly; the torch families: "
    "integrated gradients). **Faithfulness**: deleting a text's top-K units (towards its "
    "predicted class) should lower P(predicted class) more than deleting K random units it "
    "reads; the table gives both mean drops, the share of texts where the top-K drop is larger, "
    "and a paired one-sided Wilcoxon p-value. A p-value that is not small means the explanations "
    "are no better than chance for that model."
)
FAITHFULNESS_HEADER = [
    "dataset",
    "model",
    "method",
    "texts",
    "drop, top-K",
    "drop, K random",
    "top-K larger",
    "p (Wilcoxon)",
]
CUES_LEGEND = (
    "The units with the largest summed contribution over the explained texts (found in at "
    "least 3 of them), towards fake and towards real. Compare them with the audit's shortcut "
    "probes: a model leaning on a dataset's openings, handles or lengths shows it here."
)
CUES_HEADER = ["model", "towards fake", "towards real"]
PROBE_NAMES = {
    "metadata": "metadata",
    "length": "length",
    "prefix": "first words",
    "title": "title",
}


def collect_explanations(params: Params, paths: Paths) -> dict[str, dict[str, dict[str, Any]]]:
    """dataset -> model -> the explain stage's output, for every one that exists."""
    found: dict[str, dict[str, dict[str, Any]]] = {}
    for dataset in params.datasets:
        for model in params.model_names:
            path = explanations_path(paths, dataset, model)
            if path.is_file():
                found.setdefault(dataset, {})[model] = read_json(path)
    return found


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1e-3 and value != 0 else f"{value:.3f}"
    return str(value)


def faithfulness_rows(explained: dict[str, dict[str, dict[str, Any]]]) -> list[list[str]]:
    rows = []
    for dataset, models in explained.items():
        for model, out in models.items():
            f = out["faithfulness"]
            method = out.get("method") or "—"
            if out.get("ig_steps_median"):
                method += f" (median {out['ig_steps_median']:g} steps)"
            rows.append(
                [
                    dataset,
                    model,
                    method,
                    f"{f['texts']}",
                    _fmt(f["top_k_drop"]),
                    _fmt(f["random_drop"]),
                    _fmt(f["share_top_k_beats_random"]),
                    _fmt(f["wilcoxon_p"]),
                ]
            )
    return rows


def _cues_cell(cues: list[dict[str, Any]]) -> str:
    return ", ".join(f"{c['unit']} ({c['total']:+.2f})" for c in cues[:CUES_SHOWN]) or "—"


def cue_rows(models: dict[str, dict[str, Any]]) -> list[list[str]]:
    return [
        [model, _cues_cell(out["cues"]["towards_fake"]), _cues_cell(out["cues"]["towards_real"])]
        for model, out in models.items()
    ]


def probes_line(audit: dict[str, Any] | None) -> str:
    """The audit's shortcut probes of a dataset, as one sentence."""
    if audit is None:
        return "No audit for this dataset."
    probes = audit.get("probes", {})
    parts = []
    for key, name in PROBE_NAMES.items():
        probe = probes.get(key, {})
        if "accuracy" in probe:
            parts.append(f"{name} {probe['accuracy']:.3f}")
    majority = probes.get("majority", {}).get("accuracy")
    base = f" (majority baseline {majority:.3f})" if majority is not None else ""
    return (
        "Audit shortcut probes, test accuracy from that feature alone"
        + base
        + ": "
        + (", ".join(parts) or "none run")
        + "."
    )


def reliance_section(
    explained: dict[str, dict[str, dict[str, Any]]], audit: AuditFindings | None, title: str
) -> Section | None:
    if not explained:
        return None
    per_dataset = []
    for dataset, models in explained.items():
        audit_of = audit.datasets.get(dataset) if audit is not None else None
        blocks = [Paragraph(probes_line(audit_of)), Table(CUES_HEADER, cue_rows(models))]
        per_dataset.append(Section(dataset, blocks))
    top_k = next(iter(next(iter(explained.values())).values()))["top_k"]
    faithful = Section(
        f"Faithfulness (K = {top_k})",
        [Table(FAITHFULNESS_HEADER, faithfulness_rows(explained), wrap=(2,))],
    )
    return Section(
        title,
        anchor=ANCHOR,
        blocks=[Paragraph(LEGEND), Paragraph(CUES_LEGEND)],
        subsections=[faithful, *per_dataset],
    )
