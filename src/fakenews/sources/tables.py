"""The one table reader: training sources, custom datasets, evaluation-only files, ``predict``.

Every file a user can hand to fakenews goes through here, so a file that trains also scores with
``fakenews predict``, and both refuse the same files with the same message.

Formats, by suffix (``FORMATS``):

- ``.csv``; ``.tsv``/``.tab`` (tab-separated): a header row, then one row per record. Every
  record must have as many fields as the header (pandas alone would pad short rows silently).
- ``.json``: an array of objects, or (as ``.jsonl``) one object per line.
- ``.jsonl``/``.ndjson``: one JSON object per line; blank lines are skipped.
- ``.parquet``/``.pq``.
- ``.txt``: one text per line, as column ``text``; blank lines are kept as empty texts.

Encoding rule (text formats; parquet carries its own):

- default: a UTF-16 BOM means UTF-16; otherwise UTF-8, a UTF-8 BOM dropped. A file that is not
  valid UTF-8 is read as cp1252 (Windows' default, what Excel writes), or latin-1 if it holds one
  of the five bytes cp1252 leaves undefined, with a warning naming the file and the first
  non-UTF-8 byte (offset and line). So the default never refuses a file for its bytes.
- an explicit encoding (``encoding:`` of a custom dataset in params.yaml, ``--encoding`` of
  ``fakenews predict``) is used alone: a byte it cannot decode is an error naming the file, the
  byte, its offset and line.

Errors are :class:`DatasetError` naming the file and, where it applies, the line (physical line
of the file, from 1), the row (data rows from 1, the header not counted) or the column.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import logging
from pathlib import Path

import pandas as pd

from fakenews.core.errors import DatasetError

log = logging.getLogger(__name__)

FORMATS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".txt": "txt",
}
TXT_COLUMN = "text"
_SEPARATORS = {"csv": ",", "tsv": "\t"}


def table_format(path: Path, fmt: str | None = None) -> str:
    """``fmt`` if given, else the format its suffix names; an unknown suffix is an error."""
    if fmt is not None:
        if fmt not in FORMATS.values():
            raise DatasetError(
                f"{path}: unknown format {fmt!r}; use one of {sorted(set(FORMATS.values()))}"
            )
        return fmt
    found = FORMATS.get(path.suffix.lower())
    if found is None:
        raise DatasetError(
            f"{path}: unknown input format {path.suffix or '(no extension)'!r}; use one of "
            f"{', '.join(sorted(FORMATS))}, or name the format"
        )
    return found


def _position(data: bytes, offset: int) -> str:
    line = data.count(b"\n", 0, offset) + 1
    return f"byte 0x{data[offset : offset + 1].hex()} at byte offset {offset} (line {line})"


def check_encoding(encoding: str) -> str:
    """The codec's canonical name; an unknown one is an error naming it."""
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        raise DatasetError(f"unknown encoding {encoding!r}") from None


def decode(data: bytes, path: Path, encoding: str | None = None) -> str:
    """``data`` (the bytes of ``path``) as text, by the module's encoding rule."""
    if encoding is not None:
        codec = check_encoding(encoding)
        if codec == "utf-8":
            codec = "utf-8-sig"  # a leading BOM is not part of the first column's name
        try:
            return data.decode(codec)
        except UnicodeDecodeError as error:
            raise DatasetError(
                f"{path}: not valid {encoding}: {_position(data, error.start)}; save the file "
                f"in that encoding, or name the one it is in"
            ) from None
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # Excel's "Unicode text" export; only tried when the BOM says so.
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        first_bad = error.start
    try:
        text, fallback = data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        # cp1252 leaves five bytes undefined; latin-1 maps every byte, so this cannot fail.
        text, fallback = data.decode("latin-1"), "latin-1"
    log.warning(
        "%s: not valid UTF-8: %s; read as %s (name the encoding to read it otherwise)",
        path,
        _position(data, first_bad),
        fallback,
    )
    return text


def read_text(path: Path, encoding: str | None = None) -> str:
    """The whole file as text, by the encoding rule; a missing file is an error."""
    if not path.is_file():
        raise DatasetError(f"{path}: file not found")
    return decode(path.read_bytes(), path, encoding)


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
                    f"{path}, row {rows} (line {reader.line_num}): expected {expected} fields, "
                    f"found {len(record)}: {sep.join(record)[:120]!r}"
                )
    except csv.Error as error:
        raise DatasetError(f"{path}, line {reader.line_num}: not valid CSV: {error}") from None
    return rows


def read_delimited(
    path: Path,
    *,
    sep: str = ",",
    header: bool = True,
    quoting: int = csv.QUOTE_MINIMAL,
    n_fields: int | None = None,
    encoding: str | None = None,
) -> pd.DataFrame:
    """A CSV/TSV as all-str columns (no header: columns "0", "1", ...); at least one row."""
    text = read_text(path, encoding)
    if header and not text.strip():
        raise DatasetError(f"{path}: empty file (no header row)")
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
            # Every cell as text: ids like "007" and texts like "NA" come back unchanged.
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
    return frame


def _json_record(path: Path, record: object, where: str) -> dict:
    if not isinstance(record, dict):
        raise DatasetError(
            f"{path}, {where}: expected a JSON object, found {type(record).__name__}"
        )
    return record


def _read_json_lines(path: Path, text: str) -> list[dict]:
    records = []
    # split("\n"), not splitlines(): JSON strings may hold U+2028 and other line separators.
    for line_number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise DatasetError(
                f"{path}, line {line_number}: malformed JSON (column {error.colno}): {error.msg}"
            ) from None
        records.append(_json_record(path, record, f"line {line_number}"))
    return records


def _read_json(path: Path, text: str) -> list[dict]:
    """A JSON array of objects; a file that is not one is read as JSON lines."""
    if not text.lstrip().startswith("["):
        return _read_json_lines(path, text)
    try:
        records = json.loads(text)
    except json.JSONDecodeError as error:
        raise DatasetError(
            f"{path}, line {error.lineno}: malformed JSON (column {error.colno}): {error.msg}"
        ) from None
    return [_json_record(path, r, f"record {i}") for i, r in enumerate(records, start=1)]


def _read_txt(text: str) -> pd.DataFrame:
    lines = text.replace("\r\n", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the newline that ends the last line
    return pd.DataFrame({TXT_COLUMN: lines}, dtype=object)


def _read_parquet(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise DatasetError(f"{path}: file not found")
    try:
        return pd.read_parquet(path)
    except Exception as error:  # pyarrow raises several unrelated types for a bad file
        raise DatasetError(f"{path}: cannot read as parquet: {error}") from None


def read_table(path: Path, fmt: str | None = None, encoding: str | None = None) -> pd.DataFrame:
    """Any supported file as a frame with str column names and a 0..n-1 index; at least one row.

    ``fmt``: one of ``FORMATS``' values, else taken from the suffix. CSV/TSV cells are all str;
    JSON values keep their JSON types; parquet its own.
    """
    path = Path(path)
    fmt = table_format(path, fmt)
    if fmt in _SEPARATORS:
        return read_delimited(path, sep=_SEPARATORS[fmt], encoding=encoding)
    if fmt == "parquet":
        frame = _read_parquet(path)
    else:
        text = read_text(path, encoding)
        if not text.strip():
            raise DatasetError(f"{path}: empty file")
        if fmt == "txt":
            frame = _read_txt(text)
        else:
            reader = _read_json if fmt == "json" else _read_json_lines
            frame = pd.DataFrame.from_records(reader(path, text))
    if frame.empty:
        raise DatasetError(f"{path}: no data rows")
    frame.columns = [str(c) for c in frame.columns]
    return frame.reset_index(drop=True)
