"""report: metrics/summary.json and reports/report.md from the evaluation files alone.

Nothing run-specific (time stamps, run ids) goes into these files, so a rerun on the same
inputs writes the same bytes.
"""

from __future__ import annotations

from typing import Any

from fakenews.config import Params
from fakenews.errors import FakenewsError
from fakenews.io import read_json, write_json, write_text
from fakenews.paths import Paths

SUMMARY_KEYS = ("accuracy", "f1_macro", "f1_fake", "precision_fake", "recall_fake", "roc_auc", "n")
RANK_KEY = "f1_macro"  # balanced across classes, unlike accuracy


def collect(params: Params, paths: Paths) -> dict[str, dict[str, dict[str, Any]]]:
    results: dict[str, dict[str, dict[str, Any]]] = {}
    for dataset in params.datasets:
        for model in params.models:
            path = paths.evaluation(dataset, model) / "metrics.json"
            if not path.is_file():
                raise FakenewsError(
                    f"no evaluation for {dataset}/{model} ({path}); run `dvc repro`"
                )
            results.setdefault(dataset, {})[model] = read_json(path)
    return results


def best_model(models: dict[str, dict[str, Any]]) -> str:
    # Ties go to the model listed first in params (sorted() is stable on the key only).
    return max(models, key=lambda m: (models[m][RANK_KEY], -list(models).index(m)))


def summarise(results: dict[str, dict[str, dict[str, Any]]]) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for dataset, models in results.items():
        summary[dataset] = {
            model: {k: metrics.get(k) for k in SUMMARY_KEYS} for model, metrics in models.items()
        }
    return summary


def _fmt(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def render_markdown(results: dict[str, dict[str, dict[str, Any]]]) -> str:
    lines = [
        "# Fake-news detection benchmark",
        "",
        "Test-split results per dataset (label 1 = fake). Every model saw the same "
        f"train/validation/test split. ★ marks the best {RANK_KEY} per dataset.",
        "",
    ]
    for dataset, models in results.items():
        best = best_model(models)
        n_test = next(iter(models.values()))["n"]
        lines += [
            f"## {dataset} (n_test = {n_test})",
            "",
            "| model | accuracy | F1 macro | F1 fake | precision fake | recall fake | ROC-AUC "
            "| train s | ms/example |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for model, m in models.items():
            eff = m.get("efficiency", {})
            name = f"★ **{model}**" if model == best else model
            cells = [
                m["accuracy"],
                m["f1_macro"],
                m["f1_fake"],
                m["precision_fake"],
                m["recall_fake"],
                m["roc_auc"],
                eff.get("train_seconds"),
                eff.get("inference_ms_per_example"),
            ]
            lines.append(f"| {name} | " + " | ".join(_fmt(c) for c in cells) + " |")
        lines.append("")
    return "\n".join(lines)


def build_report(params: Params, paths: Paths) -> dict[str, Any]:
    results = collect(params, paths)
    summary = summarise(results)
    write_json(paths.summary, summary)
    write_text(paths.report, render_markdown(results))
    return summary
