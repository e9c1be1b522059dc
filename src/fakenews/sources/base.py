"""What every source module is made of, and the helpers their loaders share.

A source (``fakenews/sources/<name>.py``, one module per source; see :mod:`fakenews.sources`)
defines ``SOURCE``: a :class:`Source` with its upstream URL(s), published checksums (sha256, or
md5 where that is all upstream publishes), archive handling, for sources behind a login how to
place the files by hand, its loader and its artifact rules. Checksums are those of the extracted
files, so the same check serves a download, an offline mirror (``FAKENEWS_DATA_MIRROR``) and
hand-placed files alike.

Every loader returns, in file order with a fresh 0..n-1 index:

- ``id`` (str, unique within the dataset), ``title`` (str, "" when none), ``text`` (str, "" when
  none), ``label`` (int64: 1 = fake, 0 = real, for every dataset);
- ``official_split`` ("train"/"val"/"test") only for sources that ship official splits;
- the source's metadata columns, snake_case, as str (or int where numeric).

No text is cleaned there: :mod:`fakenews.pipeline.prepare` normalises and dedupes later, so the
loaders stay faithful to the files. Every problem raises :class:`DatasetError` naming the file
and, where it applies, the row (data rows counted from 1, header not counted) and the value at
fault; :func:`fakenews.sources.load_source` adds the dataset name.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from fakenews.core.errors import DatasetError
from fakenews.sources.tables import read_delimited

if TYPE_CHECKING:
    from fakenews.sources.options import DatasetConfig
    from fakenews.text.artifacts import ArtifactRule, LabelCheck

EXTERNAL_DIR = "data/external"  # <root>/data/external/<dataset>/: files a user places by hand
# Options only the custom source takes (a built-in source refuses them).
CUSTOM_OPTIONS = (
    "path",
    "format",
    "encoding",
    "text_column",
    "title_column",
    "label_column",
    "id_column",
    "label_map",
    "sha256",
)

Loader = Callable[[Path, "DatasetConfig"], pd.DataFrame]

STANDARD_COLUMNS = ("id", "title", "text", "label")
SPLIT_COLUMN = "official_split"
RESERVED = {*STANDARD_COLUMNS, SPLIT_COLUMN}
# Bookkeeping columns carried until finish, so late checks (duplicate ids) can name file and row.
FILE, ROW = "_file", "_row"

FAKE_REAL = {"fake": 1, "real": 0}


@dataclass(frozen=True)
class RemoteFile:
    """One file of a source, as it lies under ``data/raw/<dataset>/`` once downloaded."""

    path: str
    url: str | None = None  # None: the file comes out of the source's archive
    sha256: str | None = None
    md5: str | None = None
    size: int | None = None


@dataclass(frozen=True)
class Archive:
    """A zip that upstream ships; ``files`` are extracted from it (matched by member path)."""

    url: str
    sha256: str | None = None
    md5: str | None = None
    strip_prefix: str = ""  # leading folder of every member, removed on extraction


@dataclass(frozen=True)
class Source:
    name: str
    title: str
    homepage: str
    files: tuple[RemoteFile, ...]
    archive: Archive | None = None
    manual: str | None = None  # set when upstream needs a login: how to place the files
    official_splits: bool = False
    citation: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)
    load: Loader | None = None  # raw folder + options -> the standard frame
    # Applied in this order (the order prepare strips them and preparation.json records).
    artifact_rules: tuple[ArtifactRule, ...] = ()
    label_checks: tuple[LabelCheck, ...] = ()

    def check_options(self, dataset: str, options: DatasetConfig) -> None:
        from fakenews.core.errors import ParamsError

        custom_keys = [key for key in CUSTOM_OPTIONS if getattr(options, key) is not None]
        if custom_keys:
            raise ParamsError(
                f"params.yaml: datasets.{dataset}.{custom_keys[0]}: only the 'custom' source "
                f"takes file options; {self.name!r} is a built-in source"
            )


def checksum_list(package: str, path: str) -> dict[str, str]:
    """A ``sha256sum``-style file shipped in ``package`` (listed in its PACKAGE_DATA)."""
    text = resources.files(package).joinpath(path).read_text("utf-8")
    entries = {}
    for line in text.splitlines():
        if line.strip():
            digest, name = line.split(maxsplit=1)
            entries[name.strip()] = digest
    return entries


KAGGLE_HOWTO = (
    "This source needs a Kaggle login, so it cannot be downloaded automatically. Download it "
    "from {page}, then place {files} in data/external/{name}/ (or in <mirror>/{name}/ with "
    "FAKENEWS_DATA_MIRROR set) and rerun `dvc repro`; the files are verified by checksum."
)
GITHUB_RAW = "https://raw.githubusercontent.com"


# --------------------------------------------------------------------------------------------
# Loader helpers: reading, checking, assembling the standard frame


def where(path: Path | str, row: int | None = None) -> str:
    return f"{path}, row {row}" if row else f"{path}"


def with_rows(table: pd.DataFrame, path: Path) -> pd.DataFrame:
    """``table`` plus the bookkeeping columns naming its file and data rows (from 1)."""
    table[FILE] = str(path)
    table[ROW] = np.arange(1, len(table) + 1)
    return table


def read_rows(
    path: Path,
    *,
    sep: str = ",",
    header: bool = True,
    quoting: int = csv.QUOTE_MINIMAL,
    n_fields: int | None = None,
) -> pd.DataFrame:
    """A built-in source's CSV/TSV as all-str columns, plus ``_file`` and ``_row``."""
    table = read_delimited(path, sep=sep, header=header, quoting=quoting, n_fields=n_fields)
    return with_rows(table, path)


def require_columns(frame: pd.DataFrame, path: Path, columns: Iterable[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        found = [c for c in frame.columns if c not in (FILE, ROW)]
        raise DatasetError(f"{path}: missing column(s) {missing}; columns found: {found}")


def first_bad(mask: pd.Series) -> int:
    return int(np.flatnonzero(mask.to_numpy())[0])


def map_labels(
    raw: pd.Series, mapping: Mapping[str, int], rows: pd.Series, path: Path, *, custom: bool = False
) -> pd.Series:
    """Map raw label strings to 1/0; the first value not in ``mapping`` raises with its row."""
    mapped = raw.map(mapping)
    bad = mapped.isna()
    if bad.any():
        pos = first_bad(bad)
        value = raw.iloc[pos]
        known = ", ".join(repr(k) for k in mapping)
        if custom:
            what = f"label {value!r} is not in label_map (keys: {known})"
        else:
            what = f"unknown label {value!r} (expected one of {known})"
        raise DatasetError(
            f"{where(path, int(rows.iloc[pos]))}: {what}; {int(bad.sum())} row(s) like this"
        )
    return mapped.astype("int64")


def lower(series: pd.Series) -> pd.Series:
    # Built-in labels are compared trimmed and case-folded: "REAL", "real " and "Real" agree.
    return series.astype(str).str.strip().str.lower()


def standard_frame(
    table: pd.DataFrame,
    *,
    ids: Iterable[str] | pd.Series,
    label: pd.Series,
    title: Iterable[str] | pd.Series | str = "",
    text: Iterable[str] | pd.Series | str = "",
    extra: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Assemble the standard columns (plus extras) aligned with ``table``'s rows."""
    n = len(table)

    def column(values: Any) -> Any:
        if isinstance(values, str):
            return [values] * n
        return list(values)

    out = {
        "id": column(ids),
        "title": column(title),
        "text": column(text),
        "label": list(label),
    }
    for name, values in (extra or {}).items():
        out[name] = values if np.isscalar(values) else list(values)
    out[FILE] = list(table[FILE])
    out[ROW] = list(table[ROW])
    return pd.DataFrame(out)


def finish(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate per-file frames, check ids, order the columns, drop the bookkeeping."""
    frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0].copy()
    for name in ("id", "title", "text"):
        frame[name] = frame[name].astype(str)
    frame["label"] = frame["label"].astype("int64")

    empty = frame["id"].str.strip() == ""
    if empty.any():
        pos = first_bad(empty)
        raise DatasetError(f"{where(frame[FILE].iloc[pos], frame[ROW].iloc[pos])}: empty id")
    duplicated = frame["id"].duplicated(keep="first")
    if duplicated.any():
        pos = first_bad(duplicated)
        value = frame["id"].iloc[pos]
        first = first_bad(frame["id"] == value)
        raise DatasetError(
            f"{where(frame[FILE].iloc[pos], frame[ROW].iloc[pos])}: duplicate id {value!r} "
            f"(first seen in {where(frame[FILE].iloc[first], frame[ROW].iloc[first])}); "
            f"{int(duplicated.sum())} duplicate(s) in all"
        )

    head = [*STANDARD_COLUMNS, *([SPLIT_COLUMN] if SPLIT_COLUMN in frame else [])]
    rest = [c for c in frame.columns if c not in head and c not in (FILE, ROW)]
    return frame[head + rest].reset_index(drop=True)


def snake_case(name: str) -> str:
    """``"Publish Date"``, ``"publishDate"`` -> ``"publish_date"``."""
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", str(name))
    return re.sub(r"[^0-9A-Za-z]+", "_", name).strip("_").lower()


def index_column(table: pd.DataFrame) -> str | None:
    """The leading id/index column: named ``id`` or left unnamed (pandas: ``Unnamed: 0``)."""
    first = str(table.columns[0])
    if first.strip().lower() == "id" or first.startswith("Unnamed:") or not first.strip():
        return first
    return None
