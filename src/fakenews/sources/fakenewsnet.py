"""FakeNewsNet minimal CSVs (Shu et al. 2018): PolitiFact and GossipCop titles and URLs."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from fakenews.sources.base import (
    FAKE_REAL,
    GITHUB_RAW,
    RemoteFile,
    Source,
    finish,
    read_rows,
    require_columns,
    standard_frame,
)
from fakenews.sources.options import DatasetConfig


def load_file(path: Path, platform: str, label: int) -> pd.DataFrame:
    """One of the four CSVs; the label comes from the file name, not a column."""
    table = read_rows(path)
    require_columns(table, path, ("id", "news_url", "title", "tweet_ids"))
    # tweet_ids is a tab-separated list, empty when no tweet was collected.
    n_tweets = table["tweet_ids"].map(lambda v: sum(1 for t in v.split("\t") if t.strip()))
    return standard_frame(
        table,
        ids=table["id"].str.strip(),
        label=pd.Series(label, index=table.index, dtype="int64"),
        title=table["title"],
        extra={
            "platform": platform,
            "news_url": table["news_url"],
            "n_tweets": n_tweets.astype("int64"),
        },
    )


def load(raw_dir: Path, options: DatasetConfig) -> pd.DataFrame:
    parts = []
    for platform in ("politifact", "gossipcop"):
        for kind in ("fake", "real"):
            path = raw_dir / f"{platform}_{kind}.csv"
            parts.append(load_file(path, platform, FAKE_REAL[kind]))
    return finish(parts)


SOURCE = Source(
    name="fakenewsnet",
    title="FakeNewsNet minimal CSVs (PolitiFact + GossipCop titles, Shu et al. 2018)",
    homepage="https://github.com/KaiDMML/FakeNewsNet",
    files=tuple(
        RemoteFile(
            f"{name}.csv",
            url=f"{GITHUB_RAW}/KaiDMML/FakeNewsNet/master/dataset/{name}.csv",
            sha256=digest,
            size=size,
        )
        for name, digest, size in (
            (
                "politifact_fake",
                "abe7fe7aad801b1e2ab5fc963cbd0881d9670190262ae3df85e91c3380bd004c",
                3286418,
            ),
            (
                "politifact_real",
                "2500f86a7addca0f59fe8cf089c0f802d3eca6980f53538992b3b0e9687dbae0",
                8278658,
            ),
            (
                "gossipcop_fake",
                "c6932bffadb1230bc61c66bb2ca298f4ef28ce849d268313ad2eed41d18d4c99",
                12538704,
            ),
            (
                "gossipcop_real",
                "d721e9a8b7e660da05c089691743c33fecb25367074e936b5fab3d85cdcbe79f",
                19978126,
            ),
        )
    ),
    citation="Shu et al. 2018, 'FakeNewsNet', arXiv:1809.01286.",
    notes=("Only titles and URLs: the article texts are not redistributed.",),
    load=load,
)
