"""The report as data: a list of sections holding paragraphs, lists, tables and figures.

:mod:`fakenews.reporting.sections` builds the list once; :mod:`fakenews.reporting.markdown` and
:mod:`fakenews.reporting.html` render it. Headings, their order and table headers therefore
exist once, so ``report.md`` and ``report.html`` cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

# note: a legend, small and grey in HTML; plain: body text; lead: the section's headline, bold.
Style = Literal["note", "plain", "lead"]


@dataclass(frozen=True)
class Paragraph:
    """Text in the report's inline markup: ``**bold**`` and ```code``` spans, nothing else."""

    text: str
    style: Style = "note"


@dataclass(frozen=True)
class Bullets:
    items: list[str]


@dataclass(frozen=True)
class Table:
    header: list[str]
    rows: list[list[str]]
    # Columns of running text (example texts, long cells): wrapped in HTML, not one long line.
    wrap: tuple[int, ...] = ()


@dataclass(frozen=True)
class Figures:
    """Inline SVG figures side by side. Markdown has no inline SVG: it leaves them (and their
    caption) out, which is why figure-only sections are ``html_only``."""

    svgs: list[str]
    caption: str | None = None


Block = Paragraph | Bullets | Table | Figures


@dataclass
class Section:
    """A heading and its content: blocks first, then subsections one level down."""

    title: str
    blocks: list[Block] = field(default_factory=list)
    subsections: list[Section] = field(default_factory=list)
    anchor: str | None = None  # top-level sections: the HTML id the contents links to
    # Figure galleries and example texts: report.md is the tables, report.html "the same plus
    # figures" (README), so Markdown skips these sections.
    html_only: bool = False

    def walk(self, level: int = 2) -> Iterator[tuple[int, Section]]:
        """This section and every subsection, depth first, with their heading levels."""
        yield level, self
        for sub in self.subsections:
            yield from sub.walk(level + 1)

    def tables(self) -> Iterator[Table]:
        for _, section in self.walk():
            yield from (b for b in section.blocks if isinstance(b, Table))
