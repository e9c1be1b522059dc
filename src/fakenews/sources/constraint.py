"""CONSTRAINT@AAAI-2021 English: COVID-19 fake-news tweets (Patwa et al. 2021), official splits."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from fakenews.sources.base import (
    FAKE_REAL,
    GITHUB_RAW,
    ROW,
    SPLIT_COLUMN,
    RemoteFile,
    Source,
    finish,
    lower,
    map_labels,
    read_rows,
    require_columns,
    standard_frame,
)
from fakenews.sources.options import DatasetConfig
from fakenews.text.artifacts import ArtifactRule, LabelCheck

# Tweets' links and handles: ISOT and WELFake articles embed tweets too, so they use both.
URL = ArtifactRule.of(
    "url",
    r"(?:https?://|www\.|pic\.twitter\.com/)\S+ ?",
    "links (t.co, pic.twitter.com): official accounts post far more of them",
    re.IGNORECASE,
)
HANDLE = ArtifactRule.of(
    "handle",
    r"(?:\bRT )?(?<![\w@])@\w{1,30}:? ?",
    "@-handles and 'RT @account:' retweet prefixes that name the posting account",
)
COVID_TRACKING_UPDATE_IS_REAL = LabelCheck.of(
    "covid_tracking_update_is_real",
    r"^Our (?:daily|\d+ ?[ap]m) update is published",
    0,
    "the COVID Tracking Project's 'Our daily update is published' posts are real",
    re.IGNORECASE,
)

_FILES = {
    "Constraint_Train.csv": "train",
    "Constraint_Val.csv": "val",
    "english_test_with_labels.csv": "test",
}
_MIRROR = f"{GITHUB_RAW}/diptamath/covid_fake_news/main/data/"


def load(raw_dir: Path, options: DatasetConfig) -> pd.DataFrame:
    parts = []
    for name, split in _FILES.items():
        path = raw_dir / name
        table = read_rows(path)
        require_columns(table, path, ("id", "tweet", "label"))
        parts.append(
            standard_frame(
                table,
                # Ids restart at 1 in every file.
                ids=split + "-" + table["id"].str.strip(),
                label=map_labels(lower(table["label"]), FAKE_REAL, table[ROW], path),
                text=table["tweet"],
                extra={SPLIT_COLUMN: split},
            )
        )
    return finish(parts)


SOURCE = Source(
    name="constraint",
    title="COVID-19 fake news, CONSTRAINT@AAAI-2021 English (Patwa et al. 2021)",
    homepage="https://competitions.codalab.org/competitions/26655",
    files=(
        RemoteFile(
            "Constraint_Train.csv",
            url=_MIRROR + "Constraint_Train.csv",
            sha256="441f3985bb76eb69d1e488cf292f80add96c4dddfa43ba7c060889607837ddce",
            size=1253562,
        ),
        RemoteFile(
            "Constraint_Val.csv",
            url=_MIRROR + "Constraint_Val.csv",
            sha256="c610931d0641fe1d9b9495c453f99ae7aa45bf294c7db6333ec84ecebb0b6c3c",
            size=412789,
        ),
        RemoteFile(
            "english_test_with_labels.csv",
            url=_MIRROR + "english_test_with_labels.csv",
            sha256="7152fc681884a22013218c5dd9a73c6fd99d4b084705723e1e49d18c97ca8281",
            size=424950,
        ),
    ),
    official_splits=True,
    citation="Patwa et al. 2021, 'Fighting an Infodemic', CONSTRAINT@AAAI.",
    notes=("CodaLab needs registration; files come from a participant's public mirror.",),
    load=load,
    artifact_rules=(URL, HANDLE),
    label_checks=(COVID_TRACKING_UPDATE_IS_REAL,),
)
