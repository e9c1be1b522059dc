"""Generated news for end-to-end runs: CSVs in data/external/<name>/ whose words give the label
away, read as custom datasets.

alpha's first row states a claim (words of its own) that some beta articles quote: the overlap
stage must find it (containment), and transfer must score alpha's models on beta without them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

FAKE_WORDS = [
    "shocking",
    "secret",
    "exposed",
    "hoax",
    "miracle",
    "banned",
    "truth",
    "they",
    "hide",
    "cure",
    "plot",
]
REAL_WORDS = [
    "officials",
    "reported",
    "statement",
    "according",
    "data",
    "agency",
    "percent",
    "ministry",
]
COMMON = [
    "the",
    "a",
    "of",
    "in",
    "on",
    "today",
    "people",
    "new",
    "year",
    "government",
    "city",
    "health",
]

# The generated datasets every temporary repo holds, and the seed each is generated with.
SEEDS = {"alpha": 1, "beta": 2, "gamma": 3}
CLAIM = "the senator quietly approved seventeen bridges across the northern river valley"


def generated_news(seed: int, n_per_class: int = 60, quoting: str = "") -> pd.DataFrame:
    """Rows whose words give the label away; ``quoting``: every 10th body quotes that text."""
    rng = np.random.default_rng(seed)
    rows = []
    for label, words in (("FAKE", FAKE_WORDS), ("TRUE", REAL_WORDS)):
        for i in range(n_per_class):
            body = rng.choice(words + COMMON, size=int(rng.integers(12, 30))).tolist()
            title = rng.choice(words + COMMON, size=5).tolist()
            if quoting and i % 10 == 0:
                body.insert(len(body) // 2, quoting)
            rows.append(
                {"headline": " ".join(title), "body": f"{' '.join(body)} {i}", "verdict": label}
            )
    return pd.DataFrame(rows)


def alpha_claim() -> str:
    """alpha's first row as the pipeline reads it: headline, then the claim as body."""
    return f"{generated_news(SEEDS['alpha']).loc[0, 'headline']} {CLAIM}"


def write_news(root: Path, name: str, seed: int) -> None:
    """``data/external/<name>/<name>.csv`` under ``root``; beta quotes alpha's claim."""
    folder = root / "data" / "external" / name
    folder.mkdir(parents=True, exist_ok=True)
    frame = generated_news(seed, quoting=alpha_claim() if name == "beta" else "")
    if name == "alpha":
        frame.loc[0, "body"] = CLAIM
    frame.to_csv(folder / f"{name}.csv", index=False)


def custom_options(name: str) -> dict[str, Any]:
    """The params.yaml entry of the generated dataset ``name`` (a custom source)."""
    return {
        "source": "custom",
        "path": f"data/external/{name}/{name}.csv",
        "text_column": "body",
        "title_column": "headline",
        "label_column": "verdict",
        "label_map": {"FAKE": 1, "TRUE": 0},
    }


def custom_datasets(*names: str) -> dict[str, dict[str, Any]]:
    """params.yaml's ``datasets`` (or ``evaluate_on``) for these generated datasets."""
    return {name: custom_options(name) for name in names}


def generated_split_frame(seed: int, n_per_class: int) -> pd.DataFrame:
    """Generated rows in a split's shape (title, text, label 1 = fake), without a pipeline run."""
    news = generated_news(seed, n_per_class=n_per_class)
    return pd.DataFrame(
        {
            "title": news["headline"],
            "text": news["body"],
            "label": (news["verdict"] == "FAKE").astype(int),
        }
    )
