"""``report.md``: the report's sections as Markdown (tables only; figures are HTML's)."""

from __future__ import annotations

from fakenews.reporting.model import Block, Bullets, Figures, Paragraph, Section, Table


def table_lines(table: Table) -> list[str]:
    lines = ["| " + " | ".join(table.header) + " |", "|" + "---|" * len(table.header)]
    lines += ["| " + " | ".join(row) + " |" for row in table.rows]
    return lines


def block_lines(block: Block) -> list[str]:
    """The block's lines and a blank one after; nothing for figures (no inline SVG here)."""
    if isinstance(block, Figures):
        return []
    if isinstance(block, Paragraph):
        text = f"**{block.text}**" if block.style == "lead" else block.text
        return [text, ""]
    if isinstance(block, Bullets):
        return [*(f"- {item}" for item in block.items), ""]
    return [*table_lines(block), ""]


def section_lines(section: Section, level: int = 2) -> list[str]:
    if section.html_only:
        return []
    lines = [f"{'#' * level} {section.title}", ""]
    for block in section.blocks:
        lines += block_lines(block)
    for sub in section.subsections:
        lines += section_lines(sub, level + 1)
    return lines


def render(title: str, intro: str, sections: list[Section]) -> str:
    lines = [f"# {title}", "", intro, ""]
    for section in sections:
        lines += section_lines(section)
    return "\n".join(lines)
