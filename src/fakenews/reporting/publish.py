"""The committed record: every cached result's copy under ``metrics/``, for `dvc metrics diff`.

The expensive stages (audit, overlap, evaluate, transfer) write only DVC-cached outputs, because
`dvc push --run-cache` pushes only cached outputs: another machine can restore a stage from the
run-cache only if it can fetch every output. The report stage, cheap and rerun whenever anything
changes,
copies their metrics here byte for byte: ``metrics/`` is git-tracked, its paths are those the
stages wrote before, so `dvc metrics diff main my-branch` compares branches as it always has.
Which files are copied comes from params (the runs `dvc.yaml` defines), never from a folder
listing: a leftover output of a model no longer in params is not published.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from fakenews.core.errors import InputError
from fakenews.core.params import Params
from fakenews.core.paths import Paths


def published_files(params: Params, paths: Paths) -> dict[Path, Path]:
    """Each committed copy (relative to ``metrics/``) and the cached file it copies."""
    pairs: dict[Path, Path] = {paths.overlap_metrics: paths.overlap}
    for dataset in params.datasets:
        pairs[paths.audit_metrics(dataset)] = paths.audit(dataset)
        for model in params.model_names:
            for seed in params.seeds_of(model):
                pairs[paths.metrics(dataset, model, seed)] = (
                    paths.evaluation(dataset, model, seed) / "metrics.json"
                )
            pairs[paths.transfer_metrics(dataset, model)] = paths.transfer(dataset, model)
    for union in params.unions:
        for model in params.union_model_names:
            pairs[paths.transfer_metrics(union, model)] = paths.transfer(union, model)
    return {copy.relative_to(paths.metrics_root): cached for copy, cached in pairs.items()}


def publish_metrics(params: Params, paths: Paths, folder: Path) -> int:
    """Copy every cached result into ``folder`` (a staging ``metrics/``); return the count."""
    pairs = published_files(params, paths)
    missing = sorted(str(cached.relative_to(paths.root)) for cached in pairs.values()
                     if not cached.is_file())  # fmt: skip
    if missing:
        shown = ", ".join(missing[:5]) + (
            f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        )
        raise InputError(
            f"cannot publish metrics: {len(missing)} cached result(s) missing ({shown}); "
            "run `dvc repro` (or `dvc pull`) so the stages that write them have run"
        )
    for relative, cached in sorted(pairs.items()):
        target = folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(cached, target)
    return len(pairs)
