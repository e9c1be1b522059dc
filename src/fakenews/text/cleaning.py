"""Text clean-up shared by every dataset: one function per concern, applied in prepare."""

from __future__ import annotations

import html
import re
import unicodedata
from typing import Literal

from pydantic import Field

from fakenews.core.params import StrictModel

# A tag starts with a letter, "/" or "!" right after "<": plain "a < b" text is left alone.
_TAG = re.compile(r"<(?:!--.*?--|[/!]?[A-Za-z][^<>]{0,1000})>", re.DOTALL)
_SPACE = re.compile(r"\s+")


class PrepareConfig(StrictModel):
    unicode_form: Literal["NFC", "NFKC"] = Field("NFKC", description="Unicode normalisation form.")
    fix_text: bool = Field(True, description="Repair mojibake and HTML entities with ftfy.")
    strip_html: bool = Field(True, description="Remove HTML tags.")
    min_text_chars: int = Field(1, ge=1, description="Rows with less title+text are dropped.")
    drop_duplicates: bool = Field(
        True, description="Drop exact duplicate texts (after normalisation)."
    )
    strip_artifacts: bool = Field(
        True,
        description="Remove the source's artifact rules (class-revealing boilerplate: Reuters "
        "datelines, site openers, links, handles) from the text; matches are counted either way.",
    )
    label_checks: bool = Field(
        True,
        description="Stop when a source's label sanity check fails (an inverted label mapping).",
    )
    label_check_min_rows: int = Field(
        20, ge=1, description="A label check needs at least this many matching rows to judge."
    )


def clean_text(value: str, config: PrepareConfig) -> str:
    if not value:
        return ""
    text = value
    if config.fix_text:
        # Imported here: split and audit use only content_key and skip its start-up cost.
        import ftfy

        # Repairs mojibake (cp1252 read as UTF-8 and the like) and HTML entities.
        text = ftfy.fix_text(text)
    if config.strip_html:
        text = html.unescape(_TAG.sub(" ", text))
    text = unicodedata.normalize(config.unicode_form, text)
    return _SPACE.sub(" ", text).strip()


def content_key(title: str, text: str) -> str:
    """What makes two rows "the same text": the body, or the title when there is no body."""
    body = text if text else title
    return _SPACE.sub(" ", body.casefold()).strip()
