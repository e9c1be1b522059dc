"""ISOT Fake News (Ahmed, Traore & Saad 2017): Reuters articles (real) vs flagged sites (fake)."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from fakenews.sources.base import (
    KAGGLE_HOWTO,
    ROW,
    RemoteFile,
    Source,
    finish,
    read_rows,
    require_columns,
    standard_frame,
)
from fakenews.sources.constraint import HANDLE, URL
from fakenews.sources.options import DatasetConfig
from fakenews.text.artifacts import ArtifactRule, LabelCheck

# The dateline that opens Reuters wire copy: optional place names in capitals (accented ones
# included), "(Reuters)", then a hyphen, en or em dash.
_REUTERS_DATELINE = (
    r"^(?:[A-Z\u00c0-\u00de][A-Z\u00c0-\u00de.'/,\- ]{0,80} )?\(Reuters\) ?[-\u2013\u2014] ?"
)
REUTERS_DATELINE = ArtifactRule.of(
    "reuters_dateline",
    _REUTERS_DATELINE,
    "'WASHINGTON (Reuters) - ' dateline opening every real ISOT article",
)
CENTURY_WIRE = ArtifactRule.of(
    "century_wire",
    r"\b21st Century Wire says\b:? ?",
    "'21st Century Wire says' opener of one fake-news site",
    re.IGNORECASE,
)
FEATURED_IMAGE = ArtifactRule.of(
    "featured_image",
    r" ?\bFeatured image\b.{0,200}$",
    "'Featured image via …' photo credit closing partisan-site articles",
    re.IGNORECASE,
)
ARTIFACT_RULES = (REUTERS_DATELINE, CENTURY_WIRE, FEATURED_IMAGE, URL, HANDLE)
LABEL_CHECKS = (
    LabelCheck.of(
        "reuters_dateline_is_real",
        _REUTERS_DATELINE,
        0,
        "texts opening with a Reuters dateline are wire copy, i.e. real news",
    ),
    LabelCheck.of(
        "century_wire_is_fake",
        r"\b21st Century Wire says\b",
        1,
        "'21st Century Wire says' marks ISOT's fake class",
        re.IGNORECASE,
    ),
)

_FILES = {"Fake.csv": 1, "True.csv": 0}


def load(raw_dir: Path, options: DatasetConfig) -> pd.DataFrame:
    parts = []
    for name, label in _FILES.items():
        path = raw_dir / name
        table = read_rows(path)
        require_columns(table, path, ("title", "text", "subject", "date"))
        prefix = Path(name).stem.lower()
        parts.append(
            standard_frame(
                table,
                ids=[f"{prefix}-{row}" for row in table[ROW]],
                label=pd.Series(label, index=table.index, dtype="int64"),
                title=table["title"],
                text=table["text"],
                extra={"subject": table["subject"], "date": table["date"]},
            )
        )
    return finish(parts)


SOURCE = Source(
    name="isot",
    title="ISOT Fake News (Ahmed, Traore & Saad 2017)",
    homepage="https://www.kaggle.com/datasets/clmentbisaillon/fake-and-real-news-dataset",
    files=(
        RemoteFile(
            "Fake.csv",
            sha256="bebf8bcfe95678bf2c732bf413a2ce5f621af0102c82bf08083b2e5d3c693d0c",
            size=62789876,
        ),
        RemoteFile(
            "True.csv",
            sha256="ba0844414a65dc6ae7402b8eee5306da24b6b56488d6767135af466c7dcb2775",
            size=53582940,
        ),
    ),
    manual=KAGGLE_HOWTO.format(
        page="https://www.kaggle.com/datasets/clmentbisaillon/fake-and-real-news-dataset "
        "(or https://onlineacademiccommunity.uvic.ca/isot/)",
        files="Fake.csv and True.csv",
        name="isot",
    ),
    citation="Ahmed, Traore & Saad 2017, ISDDC.",
    notes=("Real articles start with a 'CITY (Reuters) -' dateline: a known shortcut.",),
    load=load,
    artifact_rules=ARTIFACT_RULES,
    label_checks=LABEL_CHECKS,
)
