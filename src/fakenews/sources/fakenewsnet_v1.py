"""FakeNewsNet old version (Shu et al. 2017): BuzzFeed and PolitiFact full-text articles, one JSON
file per article."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from fakenews.core.errors import DatasetError
from fakenews.sources.base import (
    FILE,
    GITHUB_RAW,
    ROW,
    RemoteFile,
    Source,
    checksum_list,
    finish,
)
from fakenews.sources.isot import FEATURED_IMAGE
from fakenews.sources.options import DatasetConfig
from fakenews.sources.tables import read_text
from fakenews.text.artifacts import ArtifactRule, LabelCheck

# Files shipped inside the package that this module reads (relative to this folder); the
# dependency check (tools/depcheck.py) makes every stage importing it declare them.
PACKAGE_DATA = ("checksums/fakenewsnet_v1.sha256",)

STORY_HIGHLIGHTS = ArtifactRule.of(
    "story_highlights",
    r"^Story highlights ?",
    "'Story highlights' header of CNN pages (real only)",
)
STORY_HIGHLIGHTS_IS_REAL = LabelCheck.of(
    "story_highlights_is_real",
    r"^Story highlights\b",
    0,
    "CNN pages ('Story highlights' header) are in the real class",
)

_UPSTREAM = f"{GITHUB_RAW}/KaiDMML/FakeNewsNet/old-version/"
_PLATFORMS = ("BuzzFeed", "PolitiFact")
_FOLDERS = {"FakeNewsContent": 1, "RealNewsContent": 0}
_SUFFIX = "-Webpage.json"


def _order(path: Path) -> tuple[int, str]:
    # "BuzzFeed_Fake_10" must follow "BuzzFeed_Fake_9": sort on the trailing number.
    match = re.search(r"_(\d+)$", path.name.removesuffix(_SUFFIX))
    return (int(match.group(1)) if match else 1 << 62, path.name)


def _format_date(value: Any) -> str:
    """publish_date is ``{"$date": <epoch ms>}`` (a Mongo export), a number or null."""
    if value is None:
        return ""
    if isinstance(value, dict) and "$date" in value:
        return _format_date(value["$date"])
    if isinstance(value, int | float) and not isinstance(value, bool):
        # Epoch milliseconds as exported; small values can only be seconds.
        seconds = value / 1000 if abs(value) >= 1e11 else value
        try:
            return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        except (OverflowError, OSError, ValueError):
            return str(value)
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _text_field(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def _read_article(path: Path, platform: str, label: int) -> dict[str, Any]:
    try:
        article = json.loads(read_text(path))
    except json.JSONDecodeError as error:
        raise DatasetError(
            f"{path}: malformed JSON (line {error.lineno}, column {error.colno}): {error.msg}"
        ) from None
    if not isinstance(article, dict):
        raise DatasetError(f"{path}: expected a JSON object, found {type(article).__name__}")
    missing = [k for k in ("title", "text") if k not in article]
    if missing:
        raise DatasetError(f"{path}: missing key(s) {missing}; keys found: {sorted(article)}")
    authors = article.get("authors") or []
    return {
        "id": path.name.removesuffix(_SUFFIX),
        "title": _text_field(article["title"]),
        "text": _text_field(article["text"]),
        "label": label,
        "platform": platform.lower(),
        "url": _text_field(article.get("url")),
        "source": _text_field(article.get("source")),
        "authors": "; ".join(map(str, authors)) if isinstance(authors, list) else str(authors),
        "publish_date": _format_date(article.get("publish_date")),
        FILE: str(path),
        ROW: 0,  # one article per file: no row to name
    }


def load(raw_dir: Path, options: DatasetConfig) -> pd.DataFrame:
    records = []
    for platform in _PLATFORMS:
        for folder, label in _FOLDERS.items():
            directory = raw_dir / "Data" / platform / folder
            paths = sorted(directory.glob(f"*{_SUFFIX}"), key=_order)
            if not paths:
                state = "has no *-Webpage.json files" if directory.is_dir() else "not found"
                raise DatasetError(f"{directory}: folder {state}")
            records.extend(_read_article(path, platform, label) for path in paths)
    return finish([pd.DataFrame.from_records(records)])


SOURCE = Source(
    name="fakenewsnet_v1",
    title="FakeNewsNet old version: BuzzFeed + PolitiFact full-text articles (Shu et al. 2017)",
    homepage="https://github.com/KaiDMML/FakeNewsNet/tree/old-version/Data",
    files=tuple(
        RemoteFile(path, url=_UPSTREAM + path, sha256=digest)
        for path, digest in sorted(checksum_list(__package__, PACKAGE_DATA[0]).items())
    ),
    citation="Shu et al. 2017, 'Fake News Detection on Social Media', SIGKDD Explorations.",
    load=load,
    artifact_rules=(FEATURED_IMAGE, STORY_HIGHLIGHTS),
    label_checks=(STORY_HIGHLIGHTS_IS_REAL,),
)
