"""The README's results table is the committed summary's, rendered (tools/readme_results.py)."""

from __future__ import annotations

import copy
import importlib.util
import json
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]


def readme_results() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "readme_results", ROOT / "tools/readme_results.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_readme_table_is_the_committed_summary() -> None:
    tool = readme_results()
    readme = tool.README.read_text(encoding="utf-8")
    assert tool.replace_block(readme, tool.current_table()) == readme, (
        "README's results table differs from metrics/summary.json: "
        "run `python tools/readme_results.py`"
    )


def test_every_model_of_the_summary_has_a_row_with_its_mark() -> None:
    tool = readme_results()
    summary = json.loads(tool.SUMMARY.read_text(encoding="utf-8"))
    table = tool.render(summary)
    for dataset, models in tool.dataset_models(summary).items():
        for model, result in models.items():
            rows = [r for r in table.splitlines() if f" {model} |" in r and f"| {dataset}" in r]
            assert len(rows) == 1, (dataset, model)
            assert f"| {tool.mark(result)} {model} |" in rows[0]


def test_a_changed_best_model_changes_the_table() -> None:
    tool = readme_results()
    summary = json.loads(tool.SUMMARY.read_text(encoding="utf-8"))
    dataset, models = next(iter(tool.dataset_models(summary).items()))
    best = next(m for m, r in models.items() if r["best"])
    other = next(m for m in models if m != best)
    changed = copy.deepcopy(summary)
    changed[dataset][best]["best"], changed[dataset][other]["best"] = False, True
    changed[dataset][best]["tested_against_best"] = False
    assert tool.render(changed) != tool.render(summary)
    assert f"★ {other} |" in tool.render(changed)
