"""``datasets.<name>`` (and ``evaluate_on.<name>``): the options every dataset source reads.

A source validates the options it takes (:meth:`~fakenews.sources.base.Source.check_options`);
this schema is what they all share. Here, not in core, so an edit reruns only the stages that
read dataset options (download, prepare) and the checks.
"""

from __future__ import annotations

import codecs
from typing import Any, Literal

from pydantic import Field, field_validator

from fakenews.core.params import Params, StrictModel, validate


class DatasetConfig(StrictModel):
    """One entry of ``datasets:``. Built-in sources need no options (``{}``)."""

    source: str | None = Field(
        None, description="Source registry name; defaults to the dataset's own name."
    )
    path: str | None = Field(
        None, description="custom: the CSV/TSV/JSON/JSONL/parquet/TXT file to read."
    )
    format: Literal["csv", "tsv", "json", "jsonl", "parquet", "txt"] | None = Field(
        None, description="custom: file format; inferred from the file name when omitted."
    )
    encoding: str | None = Field(
        None,
        description="custom: the file's text encoding (e.g. cp1252); default: UTF-8, else "
        "cp1252 with a warning (the rule of fakenews.sources.tables, shared with predict).",
    )
    text_column: str | None = Field(None, description="custom: column with the article text.")
    title_column: str | None = Field(None, description="custom: column with the title, if any.")
    label_column: str | None = Field(None, description="custom: column with the label.")
    id_column: str | None = Field(None, description="custom: column with a unique id, if any.")
    label_map: dict[str, Literal[0, 1]] | None = Field(
        None,
        description="custom: raw label value, as written in params.yaml -> 1 (fake) or 0 (real).",
    )
    sha256: str | None = Field(
        None, description="custom: expected sha256 of the file; checked when given."
    )
    artifact_rules: list[str] | None = Field(
        None,
        description="Artifact rules (any source's, by name; fakenews/sources/<name>.py) for "
        "this dataset instead of its source's own; [] for none. Mostly for custom datasets.",
    )
    label_checks: list[str] | None = Field(
        None,
        description="Label sanity checks (any source's, by name; fakenews/sources/<name>.py) "
        "for this dataset instead of its source's own; [] for none.",
    )

    @field_validator("label_map", mode="before")
    @classmethod
    def _text_keys(cls, value: Any) -> Any:
        # load_params replaces YAML-typed keys (TRUE, 1) with their text as written; a mapping
        # built in code must use text keys itself.
        if isinstance(value, dict):
            for key in value:
                if not isinstance(key, str):
                    raise ValueError(
                        f"key {key!r} is a {type(key).__name__}, not text; quote it "
                        f'(e.g. {{"{key}": 0}}): labels are compared as text'
                    )
        return value

    @field_validator("encoding")
    @classmethod
    def _known_codec(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                codecs.lookup(value)
            except LookupError:
                raise ValueError(f"unknown encoding {value!r}") from None
        return value

    @field_validator("sha256")
    @classmethod
    def _hex_digest(cls, value: str | None) -> str | None:
        if value is not None and (
            len(value) != 64 or any(c not in "0123456789abcdef" for c in value)
        ):
            raise ValueError("must be 64 lowercase hex digits")
        return value


def dataset_options(params: Params, name: str) -> DatasetConfig:
    """``datasets.<name>`` (or ``evaluate_on.<name>``) validated; ParamsError names the key."""
    section = "evaluate_on" if params.is_eval_only(name) else "datasets"
    return validate(DatasetConfig, params.dataset(name), f"{section}.{name}", params.source)
