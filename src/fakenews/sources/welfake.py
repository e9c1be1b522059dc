"""WELFake (Verma et al. 2021): 72k articles merged from four corpora, ISOT among them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from fakenews.sources import isot
from fakenews.sources.base import (
    ROW,
    RemoteFile,
    Source,
    finish,
    index_column,
    map_labels,
    read_rows,
    require_columns,
    standard_frame,
)
from fakenews.sources.options import DatasetConfig

# WELFake's Zenodo record says 0 = fake, 1 = real, but the same record counts 37,106 fake
# articles, and 37,106 is exactly how many rows carry label 1 in the file; independent checks of
# the texts agree. So in the file 1 = fake, which is already our convention: map 1 -> 1, 0 -> 0.
_LABELS = {"1": 1, "0": 0}


def load(raw_dir: Path, options: DatasetConfig) -> pd.DataFrame:
    path = raw_dir / "WELFake_Dataset.csv"
    table = read_rows(path)
    require_columns(table, path, ("title", "text", "label"))
    index = index_column(table)
    ids = table[index].str.strip() if index else table[ROW].astype(str)
    labels = table["label"].str.strip().str.removesuffix(".0")  # tolerate "1.0" from re-exports
    return finish(
        [
            standard_frame(
                table,
                ids="welfake-" + ids,
                label=map_labels(labels, _LABELS, table[ROW], path),
                title=table["title"],
                text=table["text"],
            )
        ]
    )


SOURCE = Source(
    name="welfake",
    title="WELFake (Verma et al. 2021): 72k articles merged from four corpora",
    homepage="https://zenodo.org/records/4561253",
    files=(
        RemoteFile(
            "WELFake_Dataset.csv",
            url="https://zenodo.org/records/4561253/files/WELFake_Dataset.csv?download=1",
            md5="73c9675a4b3d09f86a6933d0b8d7d908",
        ),
    ),
    citation="Verma et al. 2021, IEEE TCSS.",
    notes=(
        "The record says 0 = fake, 1 = real, yet its own counts (37,106 rows labelled 1 = "
        "its fake count) show 1 = fake in the file; the loader keeps 1 = fake.",
    ),
    load=load,
    # It contains ISOT, so it carries ISOT's artifacts.
    artifact_rules=isot.ARTIFACT_RULES,
    label_checks=isot.LABEL_CHECKS,
)
