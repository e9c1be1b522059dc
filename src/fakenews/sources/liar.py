"""LIAR (Wang, ACL 2017): PolitiFact statements with six truthfulness labels, official splits."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

from fakenews.sources.base import (
    FILE,
    ROW,
    SPLIT_COLUMN,
    Archive,
    RemoteFile,
    Source,
    finish,
    map_labels,
    read_rows,
    standard_frame,
)
from fakenews.sources.options import DatasetConfig

_FILES = {"train.tsv": "train", "valid.tsv": "val", "test.tsv": "test"}
_COLUMNS = (
    "id", "label_original", "text", "subject", "speaker", "speaker_job", "state", "party",
    "barely_true_count", "false_count", "half_true_count", "mostly_true_count",
    "pants_on_fire_count", "context",
)  # fmt: skip
# The credit-history counts include the statement's own label: keeping them leaks the answer.
_LEAKY = {c for c in _COLUMNS if c.endswith("_count")}
_LABELS = {
    "pants-fire": 1, "false": 1, "barely-true": 1,
    "half-true": 0, "mostly-true": 0, "true": 0,
}  # fmt: skip


def load(raw_dir: Path, options: DatasetConfig) -> pd.DataFrame:
    parts = []
    for name, split in _FILES.items():
        path = raw_dir / name
        # Statements hold bare double quotes, so quoting must be off.
        table = read_rows(
            path, sep="\t", header=False, quoting=csv.QUOTE_NONE, n_fields=len(_COLUMNS)
        )
        table.columns = [*_COLUMNS, FILE, ROW]
        original = table["label_original"].str.strip()
        metadata = [c for c in _COLUMNS[3:] if c not in _LEAKY]
        parts.append(
            standard_frame(
                table,
                ids=table["id"].str.strip().str.removesuffix(".json"),
                label=map_labels(original, _LABELS, table[ROW], path),
                text=table["text"],
                extra={
                    SPLIT_COLUMN: split,
                    "label_original": original,
                    **{c: table[c] for c in metadata},
                },
            )
        )
    return finish(parts)


SOURCE = Source(
    name="liar",
    title="LIAR (Wang, ACL 2017): 12.8k PolitiFact statements, six truthfulness labels",
    homepage="https://www.cs.ucsb.edu/~william/data/liar_dataset.zip",
    archive=Archive(url="https://www.cs.ucsb.edu/~william/data/liar_dataset.zip"),
    files=(
        RemoteFile(
            "train.tsv",
            sha256="23ef8cb7ff57b25c941100d0744039cebc595d65a67ea190f72b330a658d8c36",
            size=2408165,
        ),
        RemoteFile(
            "valid.tsv",
            sha256="8dd3d7ed1a11e78ed7df090c9eddb0f91147f895850c78d49dd7b4e88fd09a16",
            size=301556,
        ),
        RemoteFile(
            "test.tsv",
            sha256="ee41e2c741e0019216952625145af8c4aa8c8d3057ec68284b134267bb845e6f",
            size=301118,
        ),
    ),
    official_splits=True,
    citation="Wang 2017, 'Liar, Liar Pants on Fire', ACL.",
    notes=("No checksum is published for the zip; the extracted TSVs are verified.",),
    load=load,
)
