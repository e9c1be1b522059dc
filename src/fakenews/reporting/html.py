"""``report.html``: the report's sections as one self-contained page (inline SVG, inline CSS,
nothing fetched), with a table of contents of the top-level sections."""

from __future__ import annotations

import html
import re

from fakenews.reporting.model import Block, Bullets, Figures, Paragraph, Section, Table

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;
max-width:1200px;padding:0 1rem;color:#222}
h1{font-size:1.6rem}h2{border-bottom:1px solid #ddd;padding-bottom:.2rem;margin-top:2.2rem}
table{border-collapse:collapse;margin:.6rem 0 1.2rem;font-size:.85rem}
th,td{border:1px solid #ddd;padding:.25rem .5rem;text-align:right}
th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}
.grid{display:flex;flex-wrap:wrap;gap:1rem;align-items:flex-start}
.grid figure{margin:0}.note{color:#555;font-size:.85rem}
.text{max-width:520px;text-align:left;white-space:normal}
nav a{margin-right:.8rem}
"""


def inline(text: str) -> str:
    """HTML for the **bold** and `code` spans the report's sentences use, the rest escaped."""
    escaped = html.escape(text)
    escaped = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", escaped)
    return re.sub(r"`(.+?)`", r"<code>\1</code>", escaped)


def _cell(text: str, wrap: bool) -> str:
    return f'<td class="text">{html.escape(text)}</td>' if wrap else f"<td>{html.escape(text)}</td>"


def table_html(table: Table) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in table.header)
    body = "".join(
        "<tr>" + "".join(_cell(c, i in table.wrap) for i, c in enumerate(row)) + "</tr>"
        for row in table.rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def block_parts(block: Block) -> list[str]:
    if isinstance(block, Paragraph):
        if block.style == "lead":
            return [f"<p><strong>{inline(block.text)}</strong></p>"]
        css = " class='note'" if block.style == "note" else ""
        return [f"<p{css}>{inline(block.text)}</p>"]
    if isinstance(block, Bullets):
        return ["<ul>", *(f"<li>{inline(item)}</li>" for item in block.items), "</ul>"]
    if isinstance(block, Figures):
        caption = [f"<p class='note'>{inline(block.caption)}</p>"] if block.caption else []
        figures = [f"<figure>{svg}</figure>" for svg in block.svgs]
        return [*caption, "<div class='grid'>", *figures, "</div>"]
    return [table_html(block)]


def section_parts(section: Section, level: int = 2) -> list[str]:
    anchor = f" id='{section.anchor}'" if section.anchor else ""
    parts = [f"<h{level}{anchor}>{html.escape(section.title)}</h{level}>"]
    for block in section.blocks:
        parts += block_parts(block)
    for sub in section.subsections:
        parts += section_parts(sub, level + 1)
    return parts


def render(title: str, intro: str, sections: list[Section]) -> str:
    contents = "".join(
        f"<a href='#{s.anchor}'>{html.escape(s.title)}</a>" for s in sections if s.anchor
    )
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title>",
        f"<style>{STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f"<p>{inline(intro)}</p>",
        f"<nav>{contents}</nav>",
    ]
    for section in sections:
        parts += section_parts(section)
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
