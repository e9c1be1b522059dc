"""A user's own file (any format :mod:`fakenews.sources.tables` reads), described in params.yaml:
``source: custom`` with ``path``, ``text_column``, ``label_column``, ``label_map`` and optionally
``title_column``, ``id_column``, ``format``, ``encoding``, ``sha256``."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import pandas as pd

from fakenews.core.errors import DatasetError
from fakenews.sources.base import (
    EXTERNAL_DIR,
    FILE,
    RESERVED,
    ROW,
    Source,
    finish,
    map_labels,
    require_columns,
    snake_case,
    standard_frame,
    with_rows,
)
from fakenews.sources.options import DatasetConfig
from fakenews.sources.tables import read_table

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CustomSource(Source):
    def check_options(self, dataset: str, options: DatasetConfig) -> None:
        from fakenews.core.errors import ParamsError

        for key in ("path", "text_column", "label_column", "label_map"):
            if getattr(options, key) in (None, "", {}):
                raise ParamsError(
                    f"params.yaml: datasets.{dataset}.{key}: required for a 'custom' source"
                )
        assert options.label_map is not None
        if set(options.label_map.values()) != {0, 1}:
            raise ParamsError(
                f"params.yaml: datasets.{dataset}.label_map: must map some values to 1 (fake) "
                f"and some to 0 (real), got {options.label_map}"
            )
        folder = PurePosixPath(EXTERNAL_DIR, dataset)
        path = PurePosixPath(str(options.path))
        if path.is_absolute() or folder not in path.parents:
            # download@<dataset> depends on this folder: a file elsewhere could change unseen.
            raise ParamsError(
                f"params.yaml: datasets.{dataset}.path: {options.path!r} must lie in "
                f"{folder}/ (the folder DVC tracks as download@{dataset}'s input, so editing the "
                f"file reruns the pipeline), e.g. {folder}/{path.name}"
            )


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


def load(raw_dir: Path, options: DatasetConfig) -> pd.DataFrame:
    if not options.path or not options.text_column or not options.label_column:
        raise DatasetError("a custom source needs path, text_column and label_column")
    if not options.label_map:
        raise DatasetError("a custom source needs label_map")
    path = raw_dir / Path(options.path).name
    table = with_rows(read_table(path, options.format, options.encoding), path)

    used = [options.text_column, options.label_column]
    used += [c for c in (options.title_column, options.id_column) if c]
    require_columns(table, path, used)

    # Compared as trimmed text so that 1, "1" and " 1" all match a label_map key "1".
    raw_labels = table[options.label_column].map(lambda v: str(v).strip())
    label = map_labels(raw_labels, options.label_map, table[ROW], path, custom=True)
    if options.id_column:
        ids: Any = _as_str(table[options.id_column]).astype(str).str.strip()
    else:
        ids = [f"row-{row}" for row in table[ROW]]

    metadata: dict[str, pd.Series] = {}
    for column in table.columns:
        name = snake_case(column)
        if column in used or column in (FILE, ROW) or not name:
            continue
        if name in RESERVED or name in metadata:
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
        [standard_frame(table, ids=ids, label=label, title=title, text=text, extra=metadata)]
    )


SOURCE = CustomSource(
    name="custom",
    title="A user's own file (CSV/TSV/JSON/JSONL/parquet/TXT) described in params.yaml",
    homepage="",
    files=(),
    load=load,
)
