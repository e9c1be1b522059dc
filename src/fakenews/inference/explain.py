"""Explanations for users and the explain stage: the K units that moved P(fake) most per text,
whether deleting them moves the model more than deleting K random units (faithfulness, measured),
and the cues a model relies on most over many texts.

Attributions come from :mod:`fakenews.inference.attribution` (exact for the linear model,
integrated gradients for the torch families), in logit units: > 0 pushes towards fake.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from fakenews.core.io import rounded
from fakenews.inference.attribution import (
    DEFAULT_INTERNAL_BATCH,
    DEFAULT_STEP_TOKENS,
    DEFAULT_STEPS,
    Explanation,
    delete_units,
    explain,
)

if TYPE_CHECKING:
    from fakenews.classifier.base import TextClassifier
    from fakenews.core.paths import Paths

EXPLANATION_COLUMN = "explanation"


def explanations_path(paths: Paths, dataset: str, model: str) -> Path:
    """data/explanations/<dataset>/<model>.json, the explain stage's output (not in core.paths:
    every train stage depends on that module, and editing it would retrain them)."""
    return paths.root / "data" / "explanations" / dataset / f"{model}.json"


def top_contributions(
    model: TextClassifier,
    texts: Sequence[str],
    k: int,
    n_steps: int = DEFAULT_STEPS,
    internal_batch: int = DEFAULT_INTERNAL_BATCH,
    step_tokens: int | None = DEFAULT_STEP_TOKENS,
) -> list[list[tuple[str, float]]]:
    """Per text, the ``k`` units that moved P(fake) most (by |contribution|), with their signed
    contributions to the log-odds of fake (> 0: towards fake)."""
    if k < 1:
        raise ValueError(f"--explain: K must be at least 1, got {k}")
    explained = explain(model, texts, n_steps, internal_batch, step_tokens)
    return [[(u.text, u.contribution) for u in e.top(k)] for e in explained]


def format_contributions(units: Sequence[tuple[str, float]]) -> str:
    """``word (+0.412), other (-0.101)``: one line, for printing."""
    return ", ".join(f"{text} ({value:+.3f})" for text, value in units)


def contributions_json(units: Sequence[tuple[str, float]]) -> str:
    """The file-output column: a JSON list of [unit, contribution]."""
    return json.dumps([[text, round(value, 6)] for text, value in units], ensure_ascii=False)


def explain_texts(
    model: TextClassifier, texts: Sequence[str], k: int
) -> list[list[tuple[str, float]] | None]:
    """``fakenews predict --explain K``: per text the model reads (after its preparation), the K
    units that moved P(fake) most; None for an empty text (it is not scored either)."""
    todo = [i for i, text in enumerate(texts) if text]
    found = top_contributions(model, [texts[i] for i in todo], k)
    out: list[list[tuple[str, float]] | None] = [None] * len(texts)
    for i, units in zip(todo, found, strict=True):
        out[i] = units
    return out


def explanation_column(model: TextClassifier, texts: Sequence[str], k: int) -> list[str | None]:
    """The file output's ``explanation`` column: a JSON list of [unit, contribution] per row."""
    return [None if u is None else contributions_json(u) for u in explain_texts(model, texts, k)]


# --- faithfulness --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Faithfulness:
    """Per text: the drop in P(predicted class) when its top-K units are deleted, and the mean
    drop over ``repeats`` draws of K random units it reads."""

    top_drop: np.ndarray
    random_drop: np.ndarray
    skipped: int  # texts with no more than K units (deleting K of them is deleting all)

    def summary(self) -> dict[str, Any]:
        from scipy.stats import wilcoxon

        n = len(self.top_drop)
        diff = self.top_drop - self.random_drop
        p_value = None
        if n and np.any(diff != 0):
            # Paired, one-sided: does deleting the top units move the model more than chance?
            p = float(wilcoxon(diff, alternative="greater").pvalue)
            p_value = float(f"{p:.3g}")  # significant digits: 6 decimals would write 0.0
        return {
            "texts": n,
            "texts_skipped": self.skipped,
            "top_k_drop": rounded(float(self.top_drop.mean())) if n else None,
            "random_drop": rounded(float(self.random_drop.mean())) if n else None,
            "share_top_k_beats_random": rounded(float(np.mean(diff > 0))) if n else None,
            "wilcoxon_p": p_value,
        }


def faithfulness(
    model: TextClassifier,
    explained: Sequence[Explanation],
    top_k: int,
    repeats: int,
    seed: int,
) -> Faithfulness:
    """Delete each text's ``top_k`` units (by contribution towards its predicted class) and
    ``repeats`` times ``top_k`` random ones; every variant is scored by the model's own
    ``predict_proba`` (one call, so its batching is the model's)."""
    kept = [e for e in explained if len(e.units) > top_k]
    variants: list[str] = []
    for i, e in enumerate(kept):
        rng = np.random.default_rng([seed, i])
        variants.append(e.text)
        predicted = int(e.logit >= 0)  # P(fake) >= 0.5
        variants.append(delete_units(e.text, e.top(top_k, towards=predicted)))
        order = sorted(e.units, key=lambda u: u.text)  # a fixed order to draw from
        for _ in range(repeats):
            chosen = rng.choice(len(order), size=top_k, replace=False)
            variants.append(delete_units(e.text, [order[j] for j in sorted(chosen)]))
    if not kept:
        empty = np.zeros(0)
        return Faithfulness(empty, empty, len(explained))
    probs = np.asarray(model.predict_proba(variants), dtype=float).reshape(len(kept), 2 + repeats)
    predicted = (probs[:, 0] >= 0.5)[:, None]
    # P(predicted class) of each variant.
    p_class = np.where(predicted, probs, 1.0 - probs)
    drops = p_class[:, :1] - p_class[:, 1:]
    return Faithfulness(drops[:, 0], drops[:, 1:].mean(axis=1), len(explained) - len(kept))


def top_cues(explained: Sequence[Explanation], n: int, min_texts: int) -> dict[str, Any]:
    """The units with the largest summed contribution over ``explained``, towards fake and towards
    real, among those found in at least ``min_texts`` texts (a one-off word is no cue)."""
    total: dict[str, float] = {}
    count: dict[str, int] = {}
    for e in explained:
        for u in e.units:
            total[u.text] = total.get(u.text, 0.0) + u.contribution
            count[u.text] = count.get(u.text, 0) + 1
    common = [t for t in total if count[t] >= min_texts]

    def listed(sign: float) -> list[dict[str, Any]]:
        chosen = sorted(common, key=lambda t: (-sign * total[t], t))[:n]
        return [
            {"unit": t, "total": rounded(total[t]), "texts": count[t]}
            for t in chosen
            if sign * total[t] > 0
        ]

    return {"towards_fake": listed(1.0), "towards_real": listed(-1.0)}
