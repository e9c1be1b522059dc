"""report: the leaderboard, significance, transfer and cost of every dataset x model.

Reads only the evaluate, transfer, audit and overlap stages' outputs
(:mod:`fakenews.reporting.collect`) and writes ``metrics/summary.json`` (beside every cached
result's committed copy: :mod:`fakenews.reporting.publish`), the headline metrics DVC shows
(``headline/``: :mod:`fakenews.reporting.headline`), ``reports/report.md`` and a
self-contained ``reports/report.html`` (inline SVG figures, no server, no network). Both
reports render one list of sections (:mod:`fakenews.reporting.sections`). Nothing run-specific
(time stamps, run ids) goes into these files, so a rerun on the same inputs writes the same
bytes and DVC's no-op stays a no-op.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field

from fakenews.analysis import stats
from fakenews.analysis.generalisation import collect_generalisation
from fakenews.core.io import write_json, write_text
from fakenews.core.params import Params, StrictModel
from fakenews.core.paths import Paths
from fakenews.reporting import html, markdown
from fakenews.reporting.collect import Results, collect, collect_audit
from fakenews.reporting.explanations import collect_explanations
from fakenews.reporting.headline import write_headline
from fakenews.reporting.ranking import across_datasets, domain_gaps, rank, summarise
from fakenews.reporting.sections import INTRO, TITLE, ReportInputs, build_sections


class ReportConfig(StrictModel):
    alpha: float = Field(
        0.05,
        gt=0,
        lt=1,
        description="Significance level of the report's Holm-corrected pairwise tests (seed x "
        "row bootstrap) and of the Friedman/Nemenyi ranks across datasets.",
    )


def curve_rows(results: Results, kind: str) -> list[dict[str, Any]]:
    """ROC or PR points of every dataset x model in one long table, for DVC's overlay plots."""
    points = stats.roc_points if kind == "roc" else stats.pr_points
    rows = []
    for dataset, models in results.items():
        for model, r in models.items():
            for i, point in enumerate(points(r.labels, r.probs)):
                rows.append({"dataset": dataset, "model": model, "point": i, **point})
    return rows


def build_report(
    params: Params,
    paths: Paths,
    summary_file: Path | None = None,
    headline_dir: Path | None = None,
) -> dict[str, Any]:
    """Write the summary, the headline metrics (into ``headline_dir``, when given), the reports
    and the overlay curves; return the summary."""
    alpha = params.section("report", ReportConfig).alpha
    results = collect(params, paths)
    audit = collect_audit(params, paths)
    rankings = rank(results, alpha)
    across = across_datasets(results, alpha)
    summary = summarise(results, rankings)
    if len(results) > 1:
        summary["domain_gap"] = domain_gaps(results)
    if across is not None:
        summary["across_datasets"] = across
    in_domain = {
        m: {d: models[m].transfer_run.metrics for d, models in results.items()}
        for m in params.model_names
    }
    general = collect_generalisation(params, paths, in_domain)
    if general.has_anything:
        summary["generalisation"] = general.summary()
    write_json(summary_file or paths.summary, summary)
    if headline_dir is not None:
        write_headline(results, params, paths, headline_dir)
    explained = collect_explanations(params, paths)
    inputs = ReportInputs(results, rankings, alpha, audit, across, general, explained)
    sections = build_sections(inputs)
    write_text(paths.report, markdown.render(TITLE, INTRO, sections))
    write_text(paths.report_html, html.render(TITLE, INTRO, sections))
    for kind in ("roc", "pr"):
        write_json(paths.curves(kind), {kind: curve_rows(results, kind)})
    return summary
