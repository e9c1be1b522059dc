"""fake_or_real_news.csv (McIntire): 6,335 articles labelled REAL/FAKE."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from fakenews.sources.base import (
    FAKE_REAL,
    ROW,
    Archive,
    RemoteFile,
    Source,
    finish,
    index_column,
    lower,
    map_labels,
    read_rows,
    require_columns,
    standard_frame,
)
from fakenews.sources.options import DatasetConfig


def load(raw_dir: Path, options: DatasetConfig) -> pd.DataFrame:
    path = raw_dir / "fake_or_real_news.csv"
    table = read_rows(path)
    require_columns(table, path, ("title", "text", "label"))
    index = index_column(table)
    ids = table[index].str.strip() if index else "row-" + table[ROW].astype(str)
    return finish(
        [
            standard_frame(
                table,
                ids=ids,
                label=map_labels(lower(table["label"]), FAKE_REAL, table[ROW], path),
                title=table["title"],
                text=table["text"],
            )
        ]
    )


SOURCE = Source(
    name="fake_or_real_news",
    title="fake_or_real_news.csv (McIntire; 6,335 articles, REAL/FAKE)",
    homepage="https://github.com/joolsa/fake_real_news_dataset",
    archive=Archive(
        url="https://github.com/joolsa/fake_real_news_dataset/raw/master/fake_or_real_news.csv.zip"
    ),
    files=(
        RemoteFile(
            "fake_or_real_news.csv",
            sha256="bb7fa746dd7148b63b0a10e47b329f4b4825afc85b206d3fea18ecfce28ee731",
            size=30696129,
        ),
    ),
    load=load,
)
