"""Prepared data written directly (no prepare stage): the files split and training read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from fakenews.core.io import write_json, write_parquet
from fakenews.text.cleaning import PrepareConfig
from fakenews.text.preparation import PREPARATION_FILE, TextPreparation


def preparation_json(dataset: str = "demo", **cleaning: Any) -> dict[str, Any]:
    """What prepare records for a dataset with no artifact rules and these settings."""
    preparation = TextPreparation.of(PrepareConfig(**cleaning), []).to_json()
    return {"dataset": dataset, "source": "custom", **preparation}


def write_prepared(folder: Path, frame: pd.DataFrame, dataset: str = "demo") -> Path:
    """``data.parquet`` and ``preparation.json`` in ``folder``, as prepare writes them."""
    write_parquet(Path(folder) / "data.parquet", frame)
    write_json(Path(folder) / PREPARATION_FILE, preparation_json(dataset))
    return Path(folder)
