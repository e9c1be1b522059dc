"""What the audit and overlap stages share: all splits in one frame, a text's excerpt for a
finding, and the message that names each failed check."""

from __future__ import annotations

from typing import Any

import pandas as pd

from fakenews.core.io import SPLITS

SNIPPET_CHARS = 160


def snippet(title: str, text: str) -> str:
    body = text or title
    return body if len(body) <= SNIPPET_CHARS else body[: SNIPPET_CHARS - 1] + "…"


def combined(splits: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """All splits in one frame, in split order, with a ``split`` column."""
    return pd.concat(
        [splits[name].assign(split=name) for name in SPLITS], ignore_index=True, sort=False
    )


def failure_message(subject: str, checks: list[dict[str, Any]]) -> str:
    failed = [c for c in checks if not c["passed"]]
    parts = []
    for c in failed:
        where = f" (raise {c['param']} to accept)" if c["param"] else ""
        parts.append(f"{c['check']} = {c['value']} exceeds {c['limit']}{where}")
    return f"{subject}: audit failed: {'; '.join(parts)}"
