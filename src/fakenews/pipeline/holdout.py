"""holdout@<dataset>: an evaluation-only dataset, every row a test row.

A dataset listed under ``evaluate_on:`` is never trained on: there is nothing to split. Its
prepared rows become ``data/split/<dataset>/test.parquet`` with the same columns, manifest and
``preparation.json`` a split has, so transfer and the overlap stage read it like any test split.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pandas as pd

from fakenews.core.errors import DatasetError
from fakenews.core.io import atomic_dir, rounded, sha256_file, write_json, write_parquet
from fakenews.text.preparation import PREPARATION_FILE, read_preparation

STRATEGY = "evaluation_only"


def holdout_dataset(dataset: str, prepared: Path, out_dir: Path) -> dict[str, Any]:
    """Write every prepared row of ``dataset`` as its test split; return the manifest."""
    frame = pd.read_parquet(Path(prepared) / "data.parquet")
    if frame.empty:
        raise DatasetError(f"dataset {dataset!r}: no rows left after preparation")
    test = frame[[c for c in frame.columns if c != "official_split"]].reset_index(drop=True)
    with atomic_dir(out_dir) as tmp:
        write_parquet(tmp / "test.parquet", test)
        sha = sha256_file(tmp / "test.parquet")
        manifest = {
            "dataset": dataset,
            "strategy": STRATEGY,
            "folds": None,
            "counts": {"test": len(test)},
            "label_balance": {
                "test": {
                    "fake": int((test["label"] == 1).sum()),
                    "real": int((test["label"] == 0).sum()),
                    "fake_fraction": rounded(test["label"].mean()),
                }
            },
            "files": {"test": sha},
            "ids": {"test": test["id"].astype(str).tolist()},
            "hash": hashlib.sha256(f"test:{sha}\n".encode()).hexdigest(),
        }
        write_json(tmp / "manifest.json", manifest)
        write_json(tmp / PREPARATION_FILE, read_preparation(prepared))
    return manifest
