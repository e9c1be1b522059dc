"""The README's results table, rendered from the committed ``metrics/summary.json``.

The README quotes the leaderboard of the default study; copying it by hand let it drift from the
report (a model row missing, ★ on the wrong model). The table between the README's
``<!-- results:start -->`` and ``<!-- results:end -->`` markers is this module's output, and
``tests/test_readme.py`` fails when the two differ.

    python tools/readme_results.py          # rewrite the README's table from metrics/summary.json
    python tools/readme_results.py --check  # exit 1 with a diff if the README's table is stale
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
SUMMARY = ROOT / "metrics" / "summary.json"
PARAMS = ROOT / "params.yaml"
START, END = "<!-- results:start -->", "<!-- results:end -->"
HEADER = (
    "| dataset | test rows | model | runs | accuracy | F1 macro | ROC-AUC |\n"
    "|---|---|---|---|---|---|---|"
)
METRICS = ("accuracy", "f1_macro", "roc_auc")
DASH = "\N{EN DASH}"  # ranges as the README prints them


def mark(result: Mapping[str, Any]) -> str:
    """The report's mark: ★ best, ▼ significantly worse than ★, ≈ not, ○ not tested."""
    if result["best"]:
        return "★"
    if not result["tested_against_best"]:
        return "○"
    return "▼" if result["significantly_worse_than_best"] else "≈"


def runs_cell(result: Mapping[str, Any]) -> str:
    if result["seed_free"]:
        return f"{result['runs']} (seed-free)"
    return f"{result['runs']} (single seed)" if result["runs"] == 1 else str(result["runs"])


def score_cell(result: Mapping[str, Any], key: str) -> str:
    """Mean ± std (min-max) over the runs; the plain score for one run."""
    if result["runs"] == 1:
        return f"{result[key]:.3f}"
    return (
        f"{result[key]:.3f} ± {result[f'{key}_std']:.3f} "
        f"({result[f'{key}_min']:.3f}{DASH}{result[f'{key}_max']:.3f})"
    )


def dataset_models(summary: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The per-dataset leaderboards of the summary (its other keys are cross-dataset)."""
    return {
        name: models
        for name, models in summary.items()
        if isinstance(models, dict)
        and models
        and all(isinstance(r, dict) and "best" in r for r in models.values())
    }


def render(summary: Mapping[str, Any], order: list[str] | None = None) -> str:
    """The table: datasets in ``order`` (params.yaml's; others after), models by name."""
    rows = [HEADER]
    tables = dataset_models(summary)
    ranked = sorted(tables, key=lambda d: (order or []).index(d) if d in (order or []) else 1e9)
    for dataset in ranked:
        models = tables[dataset]
        for model in sorted(models):
            result = models[model]
            folds = result.get("folds")
            label = f"{dataset} ({folds}-fold)" if folds else dataset
            cells = [
                label,
                f"{result['n']:,}",
                f"{mark(result)} {model}",
                runs_cell(result),
                *(score_cell(result, key) for key in METRICS),
            ]
            rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def current_table() -> str:
    """The table for the committed summary, datasets in params.yaml's order."""
    order = list(yaml.safe_load(PARAMS.read_text(encoding="utf-8"))["datasets"])
    return render(json.loads(SUMMARY.read_text(encoding="utf-8")), order)


def replace_block(readme: str, table: str) -> str:
    before, start, rest = readme.partition(START)
    _, end, after = rest.partition(END)
    if not start or not end:
        raise SystemExit(f"{README.name}: no {START} ... {END} block")
    return f"{before}{START}\n{table}\n{END}{after}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 if stale")
    args = parser.parse_args(argv)
    readme = README.read_text(encoding="utf-8")
    wanted = replace_block(readme, current_table())
    if wanted == readme:
        return 0
    if args.check:
        sys.stdout.writelines(
            difflib.unified_diff(
                readme.splitlines(keepends=True),
                wanted.splitlines(keepends=True),
                "README.md",
                "README.md (from metrics/summary.json)",
            )
        )
        print("\nREADME's results table is stale: run `python tools/readme_results.py`")
        return 1
    README.write_text(wanted, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
