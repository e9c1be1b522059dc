"""Text clean-up shared by every dataset: one function per concern, applied in prepare."""

from __future__ import annotations

import html
import re
import unicodedata

from fakenews.core.settings import PrepareConfig

# A tag starts with a letter, "/" or "!" right after "<": plain "a < b" text is left alone.
_TAG = re.compile(r"<(?:!--.*?--|[/!]?[A-Za-z][^<>]{0,1000})>", re.DOTALL)
_SPACE = re.compile(r"\s+")


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
