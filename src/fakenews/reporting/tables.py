"""The report's tables as text: headers, rows and the legends that explain them.

Every cell is formatted here, once; :mod:`fakenews.reporting.sections` arranges the tables into
sections, and the renderers only lay them out (Markdown pipes, HTML cells). The audit's tables
are in :mod:`fakenews.reporting.audit_tables`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from fakenews.reporting.collect import (
    TRANSFER_METRICS,
    ModelResult,
    Results,
    transfer_scores,
    transfer_targets,
)
from fakenews.reporting.ranking import Ranking, domain_gaps


def fmt(value: Any, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "n/a"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def with_ci(metrics: dict[str, Any], key: str) -> str:
    ci = metrics.get("ci", {}).get(key)
    value = fmt(metrics.get(key))
    if not ci:
        return value
    return f"{value} [{fmt(ci['low'], 3)}, {fmt(ci['high'], 3)}]"


def _spread_cell(r: ModelResult, key: str) -> str:
    """``mean ± std (min-max)`` over the runs; the value alone for one run."""
    spread = r.spread(key)
    if spread["mean"] is None:
        return "n/a"
    if len(r.runs) == 1:
        return fmt(spread["mean"])
    return (
        f"{fmt(spread['mean'])} ± {fmt(spread['std'])} "
        f"({fmt(spread['min'], 3)}-{fmt(spread['max'], 3)})"
    )


def fmt_bytes(size: Any) -> str:
    """A byte count in MB (one decimal), or the usual dash when unknown."""
    return "—" if size is None else f"{size / 1e6:.1f} MB"


def _runs_cell(r: ModelResult) -> str:
    if r.seed_free:
        return f"{len(r.runs)} (seed-free)"
    return f"{len(r.runs)}" + (" (single seed)" if len(r.runs) == 1 else "")


def _mark(model: str, best: str, against: dict[str, dict[str, Any]]) -> str:
    if model == best:
        return "★"
    test = against.get(model, {})
    if not test.get("tested"):
        return "○"
    return "▼" if test.get("significant") else "≈"


def leaderboard_rows(models: dict[str, ModelResult], ranking: Ranking) -> list[list[str]]:
    best, against = ranking.best, ranking.against_best
    rows = []
    for model, r in models.items():
        m, eff = r.metrics, r.metrics.get("efficiency", {})
        test = against.get(model, {})
        rows.append(
            [
                f"{_mark(model, best, against)} {model}",
                _runs_cell(r),
                fmt(r.val_f1),
                _spread_cell(r, "accuracy"),
                _spread_cell(r, "f1_macro"),
                _spread_cell(r, "roc_auc"),
                f"seed {r.serving.seed}: {with_ci(m, 'f1_macro')}",
                fmt(test.get("p_holm"))
                if test.get("tested")
                else ("—" if model == best else "not tested"),
                fmt(eff.get("parameters")),
                fmt_bytes(eff.get("size_on_disk_bytes")),
            ]
        )
    return rows


LEADERBOARD_HEADER = [
    "model",
    "runs",
    "val F1 macro (mean)",
    "accuracy mean ± std (min-max)",
    "F1 macro mean ± std (min-max)",
    "ROC-AUC mean ± std (min-max)",
    "serving run: F1 macro [95% CI]",
    "p vs ★ (Holm)",
    "parameters",
    "size on disk",
]

LEGEND = (
    "Scores are over each model's runs (one per training seed; `seeds` in params.yaml): mean ± "
    "standard deviation (min-max). ★ the dataset's best model: the best mean {selected_on} over "
    "its runs (the model registered as `fakenews-<dataset>@best`, serving its best-validation "
    "run). ▼ test F1 macro significantly different from ★'s: a bootstrap over runs x test "
    "examples (both sources of noise: training seeds and the test sample), Holm-corrected "
    "across all tested pairs of the dataset, alpha = {alpha}; ≈ not significantly different; "
    "○ not tested: fewer than 3 runs on a side (a seed-free model's one run counts for every "
    "seed). Single-seed models cannot be ranked against each other. Intervals: 95% bootstrap "
    "over the test set, of the serving run. A k-fold dataset's n is every row: each run pools "
    "its folds' test predictions. Parameters and size on disk are the serving run's; speed "
    "figures are not in these outputs (they move from run to run): each MLflow run has them "
    "(`train_seconds`, `test_inference_ms_per_example`), as do the `make repro` log and "
    "`benchmarks/`."
)


def dataset_heading(dataset: str, models: dict[str, ModelResult]) -> str:
    metrics = next(iter(models.values())).metrics
    if metrics.get("folds"):
        return (
            f"{dataset} (n = {metrics['n']}, {metrics['folds']}-fold cross-validation: every row "
            "tested once)"
        )
    return f"{dataset} (n_test = {metrics['n']})"


TRANSFER_LEGEND = (
    "Rows: the dataset a model was trained on; columns: the test split it was scored on (the "
    "diagonal is in-domain). Cells: test macro-F1 and ROC-AUC with 95% bootstrap intervals. "
    "⚠ the model predicts one class for every row of that split: its score reflects the class "
    "balance, not skill. Off the diagonal each model reads the target's raw text (as loaded) "
    "through its own preparation, as a deployed model would: its training data's clean-up and "
    "artifact rules, not the target's (table below). Each row is one run per model: its "
    "family's first seed (on a k-fold dataset, that run's best-validation fold model), and the "
    "diagonal is that run's in-domain score."
)
PREPARATION_HEADER = [
    "trained on",
    "artifact rules it strips",
    "test rows read otherwise than prepare wrote them",
]


def preparation_rows(results: Results) -> list[list[str]]:
    """Per training dataset: the rules its models apply to raw targets, and how many target test
    rows they read differently from the target's own prepared text (e.g. links left in)."""
    rows = []
    for train, models in results.items():
        first = next(iter(models.values()))
        differ = ", ".join(
            f"{target} {t.get('rows_read_differently', 'n/a')} of {t['n']}"
            for target, t in first.transfer.items()
        )
        rows.append([train, ", ".join(first.transfer_rules) or "none", differ or "n/a"])
    return rows


def transfer_cell(scores: dict[str, Any] | None) -> str:
    if scores is None:
        return "n/a"
    cells = []
    for key in TRANSFER_METRICS:
        label = "F1" if key == "f1_macro" else "AUC"
        cells.append(f"{label} {with_ci(scores, key)}")
    return ("⚠ " if scores.get("constant") else "") + "; ".join(cells)


def transfer_rows(results: Results, model: str) -> list[list[str]]:
    targets = transfer_targets(results)
    return [
        [train, *(transfer_cell(transfer_scores(results, train, model, t)) for t in targets)]
        for train in results
    ]


READING_LEGEND = (
    "Share of each test text's tokens, counted with the model's own tokenizer, that the model "
    "reads: the mean over texts, the least, and the share of texts read whole. TF-IDF reads "
    "every token; the recurrent models the first `max_len` words; the transformers the whole "
    "text in windows of `max_len` tokens (`max_chunks` caps the windows). A model that reads "
    "less of long texts is scored on less of them."
)
FIRST_WINDOW_LEGEND = (
    "The same fine-tuned transformer scored twice on the test split: reading every window of "
    "each text (its leaderboard score), and reading only the first window, as plain truncation "
    "to `max_len` tokens would. Only texts longer than one window differ. 95% bootstrap "
    "intervals."
)
FIRST_WINDOW_HEADER = [
    "dataset",
    "model",
    "F1 macro, whole text",
    "F1 macro, first window",
    "ROC-AUC, whole text",
    "ROC-AUC, first window",
    "tokens read: whole text / first window (mean)",
]


def _reading_cell(reading: dict[str, Any] | None) -> str:
    if not reading:
        return "n/a"
    whole = 100 * reading["share_of_texts_read_fully"]
    # Rounded down: "100% whole" only when every text is read whole (not 99.95%).
    whole_text = f"{whole:.0f}%" if whole.is_integer() else f"{math.floor(whole * 10) / 10:.1f}%"
    return (
        f"{fmt(reading['mean_share'], 3)} (min {fmt(reading['min_share'], 3)}; {whole_text} whole)"
    )


def reading_rows(results: Results) -> tuple[list[str], list[list[str]]]:
    """Header and rows: per model, the share of each dataset's test texts it reads."""
    datasets = list(results)
    models = list(dict.fromkeys(m for ms in results.values() for m in ms))
    rows = [
        [model]
        + [
            _reading_cell(results[d][model].metrics.get("reading") if model in results[d] else None)
            for d in datasets
        ]
        for model in models
    ]
    return ["model", *datasets], rows


def first_window_rows(results: Results) -> list[list[str]]:
    """Whole-text versus first-window scores of each model evaluated both ways."""
    rows = []
    for dataset, models in results.items():
        for model, r in models.items():
            first = r.metrics.get("first_window")
            if not first:
                continue
            read = r.metrics.get("reading", {}).get("mean_share")
            rows.append(
                [
                    dataset,
                    model,
                    with_ci(r.metrics, "f1_macro"),
                    with_ci(first, "f1_macro"),
                    with_ci(r.metrics, "roc_auc"),
                    with_ci(first, "roc_auc"),
                    f"{fmt(read, 3)} / {fmt(first['reading']['mean_share'], 3)}",
                ]
            )
    return rows


SIGNIFICANCE_LEGEND = (
    "Δ F1: model A's mean test F1 macro over its runs minus model B's. Two-level bootstrap: "
    "each resample draws the test examples (the same for both models) and each model's runs, "
    "with replacement, so the p-value and the 95% interval of Δ include seed-to-seed training "
    "noise, not only test-sample noise. Holm correction across the tested pairs of each dataset "
    "(alpha = {alpha}). Not tested: a side has fewer than 3 runs (a seed-free model's one run "
    "counts for every seed)."
)
SIGNIFICANCE_HEADER = [
    "model A",
    "model B",
    "runs",
    "Δ F1 [95% CI]",
    "p",
    "p (Holm)",
    "significant",
]


def significance_rows(ranking: Ranking) -> list[list[str]]:
    rows = []
    for r in ranking.pairs:
        runs = f"{r.get('runs_a', '?')} / {r.get('runs_b', '?')}"
        if not r.get("tested"):
            rows.append(
                [r["model_a"], r["model_b"], runs, "—", "—", "—", f"not tested: {r['reason']}"]
            )
            continue
        rows.append(
            [
                r["model_a"],
                r["model_b"],
                runs,
                f"{r['difference']:+.4f} [{r['ci_low']:+.3f}, {r['ci_high']:+.3f}]",
                fmt(r["p_value"]),
                fmt(r["p_holm"]),
                "yes" if r["significant"] else "no",
            ]
        )
    return rows


ACROSS_LEGEND = (
    "Models ranked on each dataset by mean test F1 macro over their runs (rank 1 = best), "
    "averaged over the datasets. Friedman test of the null hypothesis that every model has the "
    "same average rank; Nemenyi critical difference (CD) at alpha = {alpha}: models whose average "
    "ranks differ by less than CD, joined by a bar, are not told apart (Demšar 2006). With few "
    "datasets the test has little power: a non-significant result says the datasets cannot rank "
    "the models, not that the models are equal."
)


def across_rows(across: dict[str, Any]) -> list[list[str]]:
    ranks = sorted(across["average_ranks"].items(), key=lambda kv: kv[1])
    return [[model, fmt(rank, 2)] for model, rank in ranks]


def across_summary(across: dict[str, Any]) -> str:
    if across.get("p_value") is None:
        return f"Friedman test not run: {across.get('reason', 'too few datasets or models')}."
    return (
        f"{across['n_models']} models on {across['n_datasets']} datasets: Friedman "
        f"χ² = {fmt(across['statistic'], 3)}, p = {fmt(across['p_value'])}; "
        f"critical difference {fmt(across['critical_difference'], 3)}."
    )


ACROSS_HEADER = ["model", "average rank"]
GAP_HEADER = ["family", "in-domain F1 macro", "out-of-domain F1 macro", "gap"]


def gap_rows(results: Results) -> list[list[str]]:
    """Per model family: mean in-domain and out-of-domain macro-F1 and their gap."""
    return [
        [family, fmt(g["in_domain_f1_macro"]), fmt(g["out_of_domain_f1_macro"]), fmt(g["gap"])]
        for family, g in domain_gaps(results).items()
    ]


def transfer_header(results: Results) -> list[str]:
    return ["trained on ↓ / tested on →", *transfer_targets(results)]


ERRORS_HEADER = ["error", "id", "P(fake)", "text"]


def error_rows(r: ModelResult) -> list[list[str]]:
    """The serving run's most confident false positives, then its false negatives."""
    return [
        [kind.replace("_", " "), e["id"], fmt(e["prob_fake"], 3), e["text"]]
        for kind in ("false_positives", "false_negatives")
        for e in r.errors.get(kind, [])
    ]
