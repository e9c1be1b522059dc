"""The headline metrics: the few numbers `dvc metrics show/diff` and `dvc exp show` print.

The report stage declares only ``headline/`` as DVC metrics; the per-run detail (``metrics/``:
every run's figures, the transfer scores, the summary with its cross-model ranks) stays
git-tracked beside it, read by the report and by `dvc metrics show <file>`.

One small file per row of `dvc metrics show`, every file with (a subset of) the same few keys,
so the table stays narrow:

- ``headline/<dataset>/<model>.json``: the model's in-domain test accuracy, macro-F1 and ROC-AUC
  on the dataset, mean and std over its runs (seeds). No ``in_domain/`` level: `dvc exp show`
  names a column by its file's path, and 10 more characters a column pushed a one-model
  experiment's view past 200 columns;
- ``headline/transfer/<model>.json``: the mean over every dataset the model trained on, of its
  scores on every other dataset's test rows, evaluation-only datasets included (``transfer``
  stages), and the in-domain minus out-of-domain macro-F1 gap;
- ``headline/lodo/<model>.json``: leave-one-dataset-out, the mean over every union that leaves
  one dataset out of the model's score on that dataset.

Each file depends on its own model's runs only (no rank, no best, no comparison), so a branch
that changes one model's params changes that model's keys alone in `dvc metrics diff`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from fakenews.core.errors import ParamsError
from fakenews.core.io import read_json, rounded, write_json
from fakenews.core.params import Params
from fakenews.core.paths import Paths
from fakenews.reporting.collect import Results

KEYS = ("accuracy", "f1_macro", "roc_auc")


def _mean(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return rounded(float(np.mean(known))) if known else None


def in_domain(results: Results) -> dict[str, dict[str, dict[str, float | None]]]:
    """dataset -> model -> each key's mean and ``<key>_std`` over the model's runs."""
    out: dict[str, dict[str, dict[str, float | None]]] = {}
    for dataset, models in results.items():
        for model, r in models.items():
            row: dict[str, float | None] = {}
            for key in KEYS:
                spread = r.spread(key)
                row[key], row[f"{key}_std"] = spread["mean"], spread["std"]
            out.setdefault(dataset, {})[model] = row
    return out


def transfer(results: Results) -> dict[str, dict[str, float | None]]:
    """model -> mean out-of-domain scores over (training dataset, other target) pairs, and the
    in-domain minus out-of-domain macro-F1 gap (the transferred run's in-domain score)."""
    pairs: dict[str, list[dict[str, Any]]] = {}
    inside: dict[str, list[float | None]] = {}
    for models in results.values():
        for model, r in models.items():
            pairs.setdefault(model, []).extend(r.transfer.values())
            inside.setdefault(model, []).append(r.transfer_run.metrics.get("f1_macro"))
    out: dict[str, dict[str, float | None]] = {}
    for model, scores in pairs.items():
        if not scores:
            continue  # one dataset: nothing to transfer to
        row = {key: _mean([s.get(key) for s in scores]) for key in KEYS}
        ins = _mean(inside[model])
        outs = row["f1_macro"]
        row["f1_macro_gap"] = None if ins is None or outs is None else rounded(ins - outs)
        out[model] = row
    return out


def lodo(params: Params, paths: Paths) -> dict[str, dict[str, float | None]]:
    """model -> mean score on the held-out dataset over every union that leaves exactly one out
    (none when no union does)."""
    held = {u: d for u in params.unions if (d := params.held_out_by(u)) is not None}
    out: dict[str, dict[str, float | None]] = {}
    if not held:
        return out
    for model in params.union_model_names:
        # publish_metrics has checked every union's transfer file is there.
        scores = [
            read_json(paths.transfer(union, model)).get("targets", {}).get(dataset, {})
            for union, dataset in held.items()
        ]
        out[model] = {key: _mean([s.get(key) for s in scores]) for key in KEYS}
    return out


#: The headline folders that are not a dataset's.
AGGREGATES = ("transfer", "lodo")


def headline_files(
    results: Results, params: Params, paths: Paths
) -> dict[str, dict[str, float | None]]:
    """Each headline file (relative to ``headline/``) and its contents."""
    files: dict[str, dict[str, float | None]] = {}
    for dataset, models in in_domain(results).items():
        if dataset in AGGREGATES:
            raise ParamsError(
                f"datasets: a dataset named {dataset!r} would share headline/{dataset}/ with the "
                f"{dataset} headline; rename it (reserved: {', '.join(AGGREGATES)})"
            )
        for model, row in models.items():
            files[f"{dataset}/{model}.json"] = row
    for model, row in transfer(results).items():
        files[f"transfer/{model}.json"] = row
    for model, row in lodo(params, paths).items():
        files[f"lodo/{model}.json"] = row
    return files


def write_headline(results: Results, params: Params, paths: Paths, folder: Path) -> int:
    """Write every headline file into ``folder`` (a staging ``headline/``); return the count."""
    files = headline_files(results, params, paths)
    for relative, row in files.items():
        write_json(folder / relative, row)
    return len(files)
