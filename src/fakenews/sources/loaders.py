"""Loaders: one function per source turns its raw files into the standard frame.

Every loader returns, in file order with a fresh 0..n-1 index:

- ``id`` (str, unique within the dataset), ``title`` (str, "" when none), ``text`` (str, "" when
  none), ``label`` (int64: 1 = fake, 0 = real, for every dataset);
- ``official_split`` ("train"/"val"/"test") only for sources that ship official splits;
- the source's metadata columns, snake_case, as str (or int where numeric).

No text is cleaned here: :mod:`fakenews.pipeline.prepare` normalises and dedupes later, so the loaders
stay faithful to the files. Every problem raises :class:`DatasetError` naming the file and, where
it applies, the row (data rows counted from 1, header not counted) and the value at fault;
:func:`load_source` adds the dataset name.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fakenews.core.config import DatasetConfig
from fakenews.core.errors import DatasetError
from fakenews.sources.base import CUSTOM

log = logging.getLogger(__name__)

Loader = Callable[[Path, DatasetConfig], pd.DataFrame]
LOADERS: dict[str, Loader] = {}

STANDARD_COLUMNS = ("id", "title", "text", "label")
SPLIT_COLUMN = "official_split"
_RESERVED = {*STANDARD_COLUMNS, SPLIT_COLUMN}
# Bookkeeping columns carried until _finish, so late checks (duplicate ids) can name file and row.
_FILE, _ROW = "_file", "_row"

FAKE_REAL = {"fake": 1, "real": 0}


def loader(name: str) -> Callable[[Loader], Loader]:
    """Register a loader under a source name (the same name as in ``SOURCES``)."""

    def register(function: Loader) -> Loader:
        if name in LOADERS:
            raise ValueError(f"two loaders for source {name!r}")
        LOADERS[name] = function
        return function

    return register


def load_source(dataset: str, source: str, raw_dir: Path, options: DatasetConfig) -> pd.DataFrame:
    """Load ``source``'s files from ``raw_dir`` (``data/raw/<dataset>/``) as the standard frame."""
    if source not in LOADERS:
        raise DatasetError(
            f"dataset {dataset!r}: no loader for source {source!r}; "
            f"known sources: {', '.join(sorted(LOADERS))}"
        )
    try:
        return LOADERS[source](Path(raw_dir), options)
    except DatasetError as error:
        named = f"dataset {dataset!r}" + (f" (source {source!r})" if source != dataset else "")
        raise DatasetError(f"{named}: {error}") from error


# --------------------------------------------------------------------------------------------
# Shared helpers: reading, decoding, checking


def decode_bytes(data: bytes, path: Path) -> str:
    """UTF-8 (BOM stripped), else cp1252, else latin-1: never fails, whatever the bytes."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # Excel's "Unicode text" export; only tried when the BOM says so.
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1252")
        encoding = "cp1252"
    except UnicodeDecodeError:
        # cp1252 leaves five bytes undefined; latin-1 maps every byte, so this cannot fail.
        text = data.decode("latin-1")
        encoding = "latin-1"
    log.warning("%s: not valid UTF-8, read as %s", path, encoding)
    return text


def _read_text(path: Path) -> str:
    if not path.is_file():
        raise DatasetError(f"{path}: file not found")
    return decode_bytes(path.read_bytes(), path)


def _where(path: Path | str, row: int | None = None) -> str:
    return f"{path}, row {row}" if row else f"{path}"


def _is_blank(record: list[str]) -> bool:
    # pandas skips empty and whitespace-only lines; the field-count check must skip the same.
    return not record or (len(record) == 1 and not record[0].strip())


def _check_field_counts(
    path: Path, text: str, *, sep: str, quoting: int, header: bool, n_fields: int | None
) -> int:
    """Check every record has as many fields as the header; return the number of data rows.

    pandas silently pads short rows and, when the first row is one field longer than the header,
    turns the first column into an index; this pass catches both with the row number.
    """
    csv.field_size_limit(max(csv.field_size_limit(), 2**31 - 1))  # long article bodies
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, quoting=quoting)
    expected = n_fields
    rows = 0
    try:
        for record in reader:
            if _is_blank(record):
                continue
            if header and expected is None:
                expected = len(record)
                continue
            rows += 1
            if expected is None:
                expected = len(record)
            if len(record) != expected:
                raise DatasetError(
                    f"{_where(path, rows)} (line {reader.line_num}): expected {expected} fields, "
                    f"found {len(record)}: {sep.join(record)[:120]!r}"
                )
    except csv.Error as error:
        raise DatasetError(f"{path}, line {reader.line_num}: not valid CSV: {error}") from None
    return rows


def read_table(
    path: Path,
    *,
    sep: str = ",",
    header: bool = True,
    quoting: int = csv.QUOTE_MINIMAL,
    n_fields: int | None = None,
) -> pd.DataFrame:
    """Read a CSV/TSV as all-str columns, plus ``_file`` and ``_row`` (data rows from 1)."""
    text = _read_text(path)
    n_rows = _check_field_counts(
        path, text, sep=sep, quoting=quoting, header=header, n_fields=n_fields
    )
    if n_rows == 0:
        raise DatasetError(f"{path}: no data rows")
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=sep,
            header=0 if header else None,
            quoting=quoting,
            dtype=str,
            keep_default_na=False,
            index_col=False,
        )
    except (pd.errors.ParserError, ValueError) as error:
        raise DatasetError(f"{path}: cannot parse: {error}".strip()) from None
    if len(frame) != n_rows:
        # Both parsers saw the same text; disagreeing means an oddity we would rather report.
        raise DatasetError(
            f"{path}: ambiguous file: pandas read {len(frame)} rows, the csv module {n_rows}"
        )
    if not header:
        frame.columns = [str(i) for i in range(frame.shape[1])]
    frame[_FILE] = str(path)
    frame[_ROW] = np.arange(1, len(frame) + 1)
    return frame


def _require_columns(frame: pd.DataFrame, path: Path, columns: Iterable[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        found = [c for c in frame.columns if c not in (_FILE, _ROW)]
        raise DatasetError(f"{path}: missing column(s) {missing}; columns found: {found}")


def _first_bad(mask: pd.Series) -> int:
    return int(np.flatnonzero(mask.to_numpy())[0])


def map_labels(
    raw: pd.Series, mapping: Mapping[str, int], rows: pd.Series, path: Path, *, custom: bool = False
) -> pd.Series:
    """Map raw label strings to 1/0; the first value not in ``mapping`` raises with its row."""
    mapped = raw.map(mapping)
    bad = mapped.isna()
    if bad.any():
        pos = _first_bad(bad)
        value = raw.iloc[pos]
        known = ", ".join(repr(k) for k in mapping)
        if custom:
            what = f"label {value!r} is not in label_map (keys: {known})"
        else:
            what = f"unknown label {value!r} (expected one of {known})"
        where = _where(path, int(rows.iloc[pos]))
        raise DatasetError(f"{where}: {what}; {int(bad.sum())} row(s) like this")
    return mapped.astype("int64")


def _lower(series: pd.Series) -> pd.Series:
    # Built-in labels are compared trimmed and case-folded: "REAL", "real " and "Real" agree.
    return series.astype(str).str.strip().str.lower()


def _frame(
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
    out[_FILE] = list(table[_FILE])
    out[_ROW] = list(table[_ROW])
    return pd.DataFrame(out)


def finish(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate per-file frames, check ids, order the columns, drop the bookkeeping."""
    frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0].copy()
    for name in ("id", "title", "text"):
        frame[name] = frame[name].astype(str)
    frame["label"] = frame["label"].astype("int64")

    empty = frame["id"].str.strip() == ""
    if empty.any():
        pos = _first_bad(empty)
        raise DatasetError(f"{_where(frame[_FILE].iloc[pos], frame[_ROW].iloc[pos])}: empty id")
    duplicated = frame["id"].duplicated(keep="first")
    if duplicated.any():
        pos = _first_bad(duplicated)
        value = frame["id"].iloc[pos]
        first = _first_bad(frame["id"] == value)
        raise DatasetError(
            f"{_where(frame[_FILE].iloc[pos], frame[_ROW].iloc[pos])}: duplicate id {value!r} "
            f"(first seen in {_where(frame[_FILE].iloc[first], frame[_ROW].iloc[first])}); "
            f"{int(duplicated.sum())} duplicate(s) in all"
        )

    head = [*STANDARD_COLUMNS, *([SPLIT_COLUMN] if SPLIT_COLUMN in frame else [])]
    rest = [c for c in frame.columns if c not in head and c not in (_FILE, _ROW)]
    return frame[head + rest].reset_index(drop=True)


def snake_case(name: str) -> str:
    """``"Publish Date"``, ``"publishDate"`` -> ``"publish_date"``."""
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", str(name))
    return re.sub(r"[^0-9A-Za-z]+", "_", name).strip("_").lower()


# --------------------------------------------------------------------------------------------
# Built-in sources

_LIAR_FILES = {"train.tsv": "train", "valid.tsv": "val", "test.tsv": "test"}
_LIAR_COLUMNS = (
    "id", "label_original", "text", "subject", "speaker", "speaker_job", "state", "party",
    "barely_true_count", "false_count", "half_true_count", "mostly_true_count",
    "pants_on_fire_count", "context",
)  # fmt: skip
# The credit-history counts include the statement's own label: keeping them leaks the answer.
_LIAR_LEAKY = {c for c in _LIAR_COLUMNS if c.endswith("_count")}
_LIAR_LABELS = {
    "pants-fire": 1, "false": 1, "barely-true": 1,
    "half-true": 0, "mostly-true": 0, "true": 0,
}  # fmt: skip


@loader("liar")
def load_liar(raw_dir: Path, options: DatasetConfig) -> pd.DataFrame:
    parts = []
    for name, split in _LIAR_FILES.items():
        path = raw_dir / name
        # Statements hold bare double quotes, so quoting must be off.
        table = read_table(
            path, sep="\t", header=False, quoting=csv.QUOTE_NONE, n_fields=len(_LIAR_COLUMNS)
        )
        table.columns = [*_LIAR_COLUMNS, _FILE, _ROW]
        original = table["label_original"].str.strip()
        metadata = [c for c in _LIAR_COLUMNS[3:] if c not in _LIAR_LEAKY]
        parts.append(
            _frame(
                table,
                ids=table["id"].str.strip().str.removesuffix(".json"),
                label=map_labels(original, _LIAR_LABELS, table[_ROW], path),
                text=table["text"],
                extra={
                    SPLIT_COLUMN: split,
                    "label_original": original,
                    **{c: table[c] for c in metadata},
                },
            )
        )
    return finish(parts)


_CONSTRAINT_FILES = {
    "Constraint_Train.csv": "train",
    "Constraint_Val.csv": "val",
    "english_test_with_labels.csv": "test",
}


@loader("constraint")
def load_constraint(raw_dir: Path, options: DatasetConfig) -> pd.DataFrame:
    parts = []
    for name, split in _CONSTRAINT_FILES.items():
        path = raw_dir / name
        table = read_table(path)
        _require_columns(table, path, ("id", "tweet", "label"))
        parts.append(
            _frame(
                table,
                # Ids restart at 1 in every file.
                ids=split + "-" + table["id"].str.strip(),
                label=map_labels(_lower(table["label"]), FAKE_REAL, table[_ROW], path),
                text=table["tweet"],
                extra={SPLIT_COLUMN: split},
            )
        )
    return finish(parts)


def load_fakenewsnet_file(path: Path, platform: str, label: int) -> pd.DataFrame:
    """One of the four FakeNewsNet CSVs; the label comes from the file name, not a column."""
    table = read_table(path)
    _require_columns(table, path, ("id", "news_url", "title", "tweet_ids"))
    # tweet_ids is a tab-separated list, empty when no tweet was collected.
    n_tweets = table["tweet_ids"].map(lambda v: sum(1 for t in v.split("\t") if t.strip()))
    return _frame(
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


@loader("fakenewsnet")
def load_fakenewsnet(raw_dir: Path, options: DatasetConfig) -> pd.DataFrame:
    parts = []
    for platform in ("politifact", "gossipcop"):
        for kind in ("fake", "real"):
            path = raw_dir / f"{platform}_{kind}.csv"
            parts.append(load_fakenewsnet_file(path, platform, FAKE_REAL[kind]))
    return finish(parts)


_V1_PLATFORMS = ("BuzzFeed", "PolitiFact")
_V1_FOLDERS = {"FakeNewsContent": 1, "RealNewsContent": 0}
_V1_SUFFIX = "-Webpage.json"


def _v1_order(path: Path) -> tuple[int, str]:
    # "BuzzFeed_Fake_10" must follow "BuzzFeed_Fake_9": sort on the trailing number.
    match = re.search(r"_(\d+)$", path.name.removesuffix(_V1_SUFFIX))
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


def _read_v1_article(path: Path, platform: str, label: int) -> dict[str, Any]:
    try:
        article = json.loads(_read_text(path))
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
        "id": path.name.removesuffix(_V1_SUFFIX),
        "title": _text_field(article["title"]),
        "text": _text_field(article["text"]),
        "label": label,
        "platform": platform.lower(),
        "url": _text_field(article.get("url")),
        "source": _text_field(article.get("source")),
        "authors": "; ".join(map(str, authors)) if isinstance(authors, list) else str(authors),
        "publish_date": _format_date(article.get("publish_date")),
        _FILE: str(path),
        _ROW: 0,  # one article per file: no row to name
    }


@loader("fakenewsnet_v1")
def load_fakenewsnet_v1(raw_dir: Path, options: DatasetConfig) -> pd.DataFrame:
    records = []
    for platform in _V1_PLATFORMS:
        for folder, label in _V1_FOLDERS.items():
            directory = raw_dir / "Data" / platform / folder
            paths = sorted(directory.glob(f"*{_V1_SUFFIX}"), key=_v1_order)
            if not paths:
                state = "has no *-Webpage.json files" if directory.is_dir() else "not found"
                raise DatasetError(f"{directory}: folder {state}")
            records.extend(_read_v1_article(path, platform, label) for path in paths)
    return finish([pd.DataFrame.from_records(records)])


_ISOT_FILES = {"Fake.csv": 1, "True.csv": 0}


@loader("isot")
def load_isot(raw_dir: Path, options: DatasetConfig) -> pd.DataFrame:
    parts = []
    for name, label in _ISOT_FILES.items():
        path = raw_dir / name
        table = read_table(path)
        _require_columns(table, path, ("title", "text", "subject", "date"))
        prefix = Path(name).stem.lower()
        parts.append(
            _frame(
                table,
                ids=[f"{prefix}-{row}" for row in table[_ROW]],
                label=pd.Series(label, index=table.index, dtype="int64"),
                title=table["title"],
                text=table["text"],
                extra={"subject": table["subject"], "date": table["date"]},
            )
        )
    return finish(parts)


def _index_column(table: pd.DataFrame) -> str | None:
    """The leading id/index column: named ``id`` or left unnamed (pandas: ``Unnamed: 0``)."""
    first = str(table.columns[0])
    if first.strip().lower() == "id" or first.startswith("Unnamed:") or not first.strip():
        return first
    return None


# WELFake's Zenodo record says 0 = fake, 1 = real, but the same record counts 37,106 fake
# articles, and 37,106 is exactly how many rows carry label 1 in the file; independent checks of
# the texts agree. So in the file 1 = fake, which is already our convention: map 1 -> 1, 0 -> 0.
_WELFAKE_LABELS = {"1": 1, "0": 0}


@loader("welfake")
def load_welfake(raw_dir: Path, options: DatasetConfig) -> pd.DataFrame:
    path = raw_dir / "WELFake_Dataset.csv"
    table = read_table(path)
    _require_columns(table, path, ("title", "text", "label"))
    index = _index_column(table)
    ids = table[index].str.strip() if index else table[_ROW].astype(str)
    labels = table["label"].str.strip().str.removesuffix(".0")  # tolerate "1.0" from re-exports
    return finish(
        [
            _frame(
                table,
                ids="welfake-" + ids,
                label=map_labels(labels, _WELFAKE_LABELS, table[_ROW], path),
                title=table["title"],
                text=table["text"],
            )
        ]
    )


@loader("fake_or_real_news")
def load_fake_or_real_news(raw_dir: Path, options: DatasetConfig) -> pd.DataFrame:
    path = raw_dir / "fake_or_real_news.csv"
    table = read_table(path)
    _require_columns(table, path, ("title", "text", "label"))
    index = _index_column(table)
    ids = table[index].str.strip() if index else "row-" + table[_ROW].astype(str)
    return finish(
        [
            _frame(
                table,
                ids=ids,
                label=map_labels(_lower(table["label"]), FAKE_REAL, table[_ROW], path),
                title=table["title"],
                text=table["text"],
            )
        ]
    )


# --------------------------------------------------------------------------------------------
# The user's own file

_SUFFIX_FORMATS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
}


def _custom_format(path: Path, options: DatasetConfig) -> str:
    if options.format:
        return options.format
    fmt = _SUFFIX_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise DatasetError(
            f"{path}: cannot tell the format from the suffix {path.suffix!r}; set `format` "
            f"(csv, tsv, parquet or jsonl)"
        )
    return fmt


def _read_jsonl(path: Path) -> pd.DataFrame:
    records = []
    for line_number, line in enumerate(_read_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise DatasetError(
                f"{path}, line {line_number}: malformed JSON (column {error.colno}): {error.msg}"
            ) from None
        if not isinstance(record, dict):
            raise DatasetError(
                f"{path}, line {line_number}: expected a JSON object, found {type(record).__name__}"
            )
        records.append(record)
    return pd.DataFrame.from_records(records)


def _read_parquet(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise DatasetError(f"{path}: file not found")
    try:
        return pd.read_parquet(path)
    except Exception as error:  # pyarrow raises several unrelated types for a bad file
        raise DatasetError(f"{path}: cannot read as parquet: {error}") from None


def _as_str(values: pd.Series) -> pd.Series:
    """Values of any type as text; missing values (None/NaN) become ""."""
    return values.map(
        lambda v: "" if v is None or (pd.api.types.is_scalar(v) and pd.isna(v)) else v
    )


def _metadata_column(values: pd.Series) -> pd.Series:
    integer = pd.api.types.is_integer_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values)
    if integer and not values.isna().any():  # a nullable Int64 with gaps stays text
        return values.astype("int64")
    return _as_str(values).astype(str)


@loader(CUSTOM)
def load_custom(raw_dir: Path, options: DatasetConfig) -> pd.DataFrame:
    if not options.path or not options.text_column or not options.label_column:
        raise DatasetError("a custom source needs path, text_column and label_column")
    if not options.label_map:
        raise DatasetError("a custom source needs label_map")
    path = raw_dir / Path(options.path).name
    fmt = _custom_format(path, options)
    if fmt in ("csv", "tsv"):
        table = read_table(path, sep="\t" if fmt == "tsv" else ",")
    else:
        table = _read_jsonl(path) if fmt == "jsonl" else _read_parquet(path)
        if table.empty:
            raise DatasetError(f"{path}: no data rows")
        table.columns = [str(c) for c in table.columns]
        table[_FILE] = str(path)
        table[_ROW] = np.arange(1, len(table) + 1)

    used = [options.text_column, options.label_column]
    used += [c for c in (options.title_column, options.id_column) if c]
    _require_columns(table, path, used)

    # Compared as trimmed text so that 1, "1" and " 1" all match a label_map key "1".
    raw_labels = table[options.label_column].map(lambda v: str(v).strip())
    label = map_labels(raw_labels, options.label_map, table[_ROW], path, custom=True)
    if options.id_column:
        ids: Any = _as_str(table[options.id_column]).astype(str).str.strip()
    else:
        ids = [f"row-{row}" for row in table[_ROW]]

    metadata: dict[str, pd.Series] = {}
    for column in table.columns:
        name = snake_case(column)
        if column in used or column in (_FILE, _ROW) or not name:
            continue
        if name in _RESERVED or name in metadata:
            log.warning("%s: column %r skipped: its name %r is taken", path, column, name)
            continue
        metadata[name] = _metadata_column(table[column])

    text = _as_str(table[options.text_column]).astype(str)
    if text.str.strip().eq("").all():
        # Would train on titles alone (or nothing) without a word said: a wrong column, surely.
        raise DatasetError(
            f"{path}: text_column {options.text_column!r} is empty in all {len(text)} rows; "
            "name the column that holds the article text"
        )
    title = _as_str(table[options.title_column]).astype(str) if options.title_column else ""
    return finish(
        [
            _frame(
                table,
                ids=ids,
                label=label,
                title=title,
                text=text,
                extra=metadata,
            )
        ]
    )
