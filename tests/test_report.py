"""The report ranks distributions over runs: spreads, ★ on mean validation, seed-aware tests;
and report.md and report.html render one list of sections: same headings, order and tables."""

from __future__ import annotations

import itertools
import re
from html import unescape

import numpy as np
import pandas as pd
import pytest
from helpers.params import family_of
from helpers.report_study import write_study

from fakenews.core.params import Params
from fakenews.core.paths import Paths
from fakenews.reporting import audit_tables, html, sections, tables
from fakenews.reporting.collect import ModelResult, RunResult
from fakenews.reporting.ranking import across_datasets, rank, summarise
from fakenews.reporting.report import build_report
from fakenews.reporting.sections import across_section

N = 400


def runs(dataset: str, model: str, accuracies: list[float], seed_free: bool = False) -> ModelResult:
    """A model whose runs get ``accuracies`` on the same N test rows (val F1 = test accuracy)."""
    labels = np.tile([0, 1], N // 2)
    results = []
    for i, accuracy in enumerate(accuracies):
        rng = np.random.default_rng([sum(map(ord, model)), i])
        wrong = rng.permutation(N)[: round(N * (1 - accuracy))]
        preds = labels.copy()
        preds[wrong] = 1 - preds[wrong]
        predictions = pd.DataFrame(
            {"id": [str(k) for k in range(N)], "label": labels, "prob_fake": preds * 0.8 + 0.1,
             "pred": preds}
        )  # fmt: skip
        metrics = {
            "accuracy": float((preds == labels).mean()),
            "f1_macro": float((preds == labels).mean()),
            "roc_auc": float((preds == labels).mean()),
            "n": N,
            "folds": None,
            "seed_free": seed_free,
            "family": family_of("tfidf_logreg" if seed_free else "lstm"),
            "efficiency": {"parameters": 1000},
        }
        results.append(RunResult(42 + i, metrics, predictions, val_f1=accuracy))
    serving = max(results, key=lambda r: r.val_f1 or 0)
    return ModelResult(dataset, model, metrics["family"], runs=results, serving=serving)


def test_spread_ranking_and_marks() -> None:
    models = {
        "tfidf_logreg": runs("d", "tfidf_logreg", [0.80], seed_free=True),
        "lstm": runs("d", "lstm", [0.70, 0.72, 0.71]),
        "gru": runs("d", "gru", [0.79, 0.81]),  # two runs: never tested
    }
    lstm = models["lstm"]
    spread = lstm.spread("accuracy")
    assert spread["mean"] == pytest.approx(0.71) and spread["min"] == 0.70
    assert spread["std"] == pytest.approx(np.std([0.70, 0.72, 0.71], ddof=1), abs=1e-6)
    assert lstm.serving.seed == 43 and lstm.val_f1 == pytest.approx(0.71)

    ranking = rank({"d": models}, alpha=0.05)["d"]
    # ★ on the best *mean* validation score; gru's 0.80 ties tfidf's: the first listed wins.
    assert ranking.best == "tfidf_logreg"
    against = ranking.against_best
    assert against["lstm"]["tested"] and against["lstm"]["significant"]  # a seed-free 1-run side
    assert not against["gru"]["tested"] and not against["gru"]["significant"]
    rows = {row[0]: row for row in tables.leaderboard_rows(models, ranking)}
    assert set(rows) == {"★ tfidf_logreg", "▼ lstm", "○ gru"}
    assert rows["▼ lstm"][1] == "3" and rows["★ tfidf_logreg"][1] == "1 (seed-free)"
    assert rows["○ gru"][7] == "not tested"
    assert rows["▼ lstm"][4].startswith("0.7100 ± 0.0100 (0.700-0.720)")

    summary = summarise({"d": models}, {"d": ranking})["d"]
    assert summary["lstm"]["runs"] == 3 and summary["lstm"]["seeds"] == [42, 43, 44]
    assert summary["lstm"]["f1_macro"] == pytest.approx(0.71)
    assert summary["lstm"]["f1_macro_std"] == pytest.approx(0.01, abs=1e-6)
    assert summary["lstm"]["significantly_worse_than_best"] is True
    assert summary["gru"]["tested_against_best"] is False
    assert summary["tfidf_logreg"]["best"] is True and summary["tfidf_logreg"]["seed_free"]


def test_across_datasets_ranks_and_draws_the_diagram() -> None:
    results = {
        d: {
            "a": runs(d, "a", [0.90, 0.91, 0.92]),
            "b": runs(d, "b", [0.80 + 0.01 * i, 0.81, 0.80]),
            "c": runs(d, "c", [0.60, 0.61, 0.62]),
        }
        for i, d in enumerate(["d1", "d2", "d3", "d4"])
    }
    across = across_datasets(results, alpha=0.05)
    assert across is not None
    assert across["average_ranks"] == {"a": 1.0, "b": 2.0, "c": 3.0}
    assert across["p_value"] == pytest.approx(np.exp(-4.0), rel=1e-6)  # chi2(2) = 8: p = e^-4
    page = "\n".join(html.section_parts(across_section(across)))
    assert "<svg" in page and "Friedman" in page and "critical difference" in page
    assert across_datasets({"d1": results["d1"]}, alpha=0.05) is None


# --- One list of sections, two renderings -----------------------------------------------------

# Figure galleries and example texts: only report.html has them (README: "the same plus figures").
HTML_ONLY = {"confusion", "curves", "training", "efficiency", "errors"}


def md_headings(text: str) -> list[tuple[int, str]]:
    return [(len(m[1]), m[2]) for m in re.finditer(r"^(#{2,6}) (.+)$", text, flags=re.MULTILINE)]


def html_headings(page: str, skip: set[str] = HTML_ONLY) -> list[tuple[int, str]]:
    """Headings below the title, leaving out the top-level sections whose anchor is in ``skip``."""
    headings, skipping = [], False
    for m in re.finditer(r"<h([2-6])(?: id='([^']*)')?>(.*?)</h\1>", page):
        level, anchor, title = int(m[1]), m[2], unescape(m[3])
        if level == 2:
            skipping = anchor in skip
        if not skipping:
            headings.append((level, title))
    return headings


def md_table_headers(text: str) -> list[list[str]]:
    lines = text.splitlines()
    return [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line, below in itertools.pairwise(lines)
        if line.startswith("| ") and below.startswith("|---|")
    ]


def html_table_headers(page: str, skip: set[str] = HTML_ONLY) -> list[list[str]]:
    kept = "".join(
        part
        for part in re.split(r"(?=<h2 )", page)
        if not any(part.startswith(f"<h2 id='{a}'>") for a in skip)
    )
    return [
        [unescape(h) for h in re.findall(r"<th>(.*?)</th>", head)]
        for head in re.findall(r"<thead><tr>(.*?)</tr></thead>", kept)
    ]


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> tuple[Params, Paths]:
    return write_study(tmp_path_factory.mktemp("study"))


@pytest.fixture(scope="module")
def rendered(study: tuple[Params, Paths]) -> tuple[str, str]:
    params, paths = study
    build_report(params, paths)
    return paths.report.read_text(), paths.report_html.read_text()


def test_markdown_and_html_have_the_same_headings_in_the_same_order(
    rendered: tuple[str, str],
) -> None:
    md, page = rendered
    headings = md_headings(md)
    assert headings == html_headings(page)
    # Every top-level section of the fixture study, in SECTIONS order, in both files.
    top = [title for level, title in html_headings(page, skip=set()) if level == 2]
    assert top == [title for _, title in sections.SECTIONS]
    assert [title for level, title in headings if level == 2] == [
        title for anchor, title in sections.SECTIONS if anchor not in HTML_ONLY
    ]
    # The transfer block's subsections, in one order in both files.
    assert ("### " + sections.WITHOUT_OVERLAP_TITLE) in md
    assert (3, "In-domain minus out-of-domain macro-F1 per model family") in headings


def test_markdown_and_html_tables_have_the_same_headers(rendered: tuple[str, str]) -> None:
    md, page = rendered
    md_headers = md_table_headers(md)
    assert md_headers == html_table_headers(page)
    for header in (
        tables.LEADERBOARD_HEADER,
        tables.SIGNIFICANCE_HEADER,
        tables.ACROSS_HEADER,
        tables.GAP_HEADER,
        tables.PREPARATION_HEADER,
        audit_tables.AUDIT_HEADER,
        audit_tables.PROBE_HEADER,
        audit_tables.WITHOUT_OVERLAP_HEADER,
    ):
        assert header in md_headers, header
    # The example texts stay in the HTML report only.
    assert tables.ERRORS_HEADER not in md_headers
    assert tables.ERRORS_HEADER in html_table_headers(page, skip=set())


def test_a_section_renamed_in_one_place_is_renamed_in_both_reports(
    study: tuple[Params, Paths], rendered: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    params, paths = study
    old = dict(sections.SECTIONS)["audit"]
    new = "Leaks, shortcuts and other audit findings"
    renamed = [(a, new if a == "audit" else title) for a, title in sections.SECTIONS]
    monkeypatch.setattr(sections, "SECTIONS", renamed)
    build_report(params, paths)
    md, page = paths.report.read_text(), paths.report_html.read_text()
    assert f"## {new}\n" in md and f"## {old}\n" not in md
    assert f"<h2 id='audit'>{new}</h2>" in page and f">{old}<" not in page
    assert f"<a href='#audit'>{new}</a>" in page  # the table of contents follows
    # Nothing else moved: the reports differ from the first build only by that title.
    before_md, before_html = rendered
    assert md == before_md.replace(f"## {old}\n", f"## {new}\n")
    assert page == before_html.replace(f">{old}<", f">{new}<")


def test_calibration_and_domain_tables(rendered: tuple[str, str]) -> None:
    """Before → after per model (in domain; mean over the targets it never trained on), the
    reliability diagrams before and after (HTML), and the domain check's rows per target."""
    md, page = rendered
    calibration = md.split("## Calibration", 1)[1].split("\n## ", 1)[0]
    assert "| alpha | lstm | temperature | 0.1500 → 0.0500 | 0.1200 → 0.1000 |" in calibration
    assert "0.3000 → 0.1000 | 0.2200 → 0.2000 | 1 |" in calibration
    assert "Reliability, before calibration" in page and "Reliability, calibrated" in page
    domain = md.split("## Domain check", 1)[1].split("\n## ", 1)[0]
    assert "| alpha | lstm | own test | 0.050 | 0.4000 (3) |" in domain
    assert "| alpha | lstm | beta | 0.600 | 0.4000 (3) |" in domain
    assert domain.rstrip().endswith("| 0.500 / 0.850 | 0.900 |")
