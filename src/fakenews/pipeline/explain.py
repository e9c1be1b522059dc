"""explain-<family>@<dataset>-<model>: what the model's reference run (its family's first seed; on
a k-fold dataset its serving fold, on that fold's own test rows) relies on, and whether that
attribution is faithful.

For ``explain.texts`` test texts (drawn with ``explain.seed``): each unit's contribution to the
log-odds of fake (:mod:`fakenews.inference.attribution`); faithfulness: deleting a text's
``top_k`` units (towards its predicted class) against ``top_k`` random units it reads
(``random_repeats`` draws), as the drop in P(predicted class), with a paired one-sided Wilcoxon
test; and the cues with the largest summed contribution over those texts.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import Field

from fakenews.analysis.selection import best_fold_dir
from fakenews.classifier.base import model_input
from fakenews.core.io import rounded, write_json
from fakenews.core.params import Params, StrictModel
from fakenews.core.paths import Paths
from fakenews.core.timing import timed
from fakenews.inference.explain import explanations_path
from fakenews.models import load_model

log = logging.getLogger(__name__)

# A cue must turn up in this many explained texts (a one-off word is no cue).
MIN_CUE_TEXTS = 3


class ExplainConfig(StrictModel):
    top_k: int = Field(5, ge=1, description="Units deleted per text (top-K vs K random).")
    texts: int = Field(
        200, ge=1, description="Test texts explained per model (all of them when fewer)."
    )
    random_repeats: int = Field(5, ge=1, description="Draws of K random units per text.")
    seed: int = Field(0, description="Draws the texts and the random units.")
    n_steps: int = Field(
        16, ge=2, description="Integrated-gradients steps (Gauss-Legendre) for torch families."
    )
    step_tokens: int | None = Field(
        256,
        ge=1,
        description="Encoder families: at most this many tokens x steps per text (long texts get "
        "fewer steps, at least 2); null: n_steps for every text.",
    )
    internal_batch: int = Field(
        64,
        ge=1,
        description="Sequences (windows x steps) per encoder pass in integrated gradients.",
    )
    cues: int = Field(10, ge=1, description="Cues listed per direction (towards fake / real).")


def test_rows(paths: Paths, dataset: str, model_dir: Path) -> pd.DataFrame:
    """The test rows the model is scored on in-domain: its fold's test rows for a fold model."""
    split = paths.split(dataset)
    if model_dir.name.startswith("fold-"):
        split = split / "folds" / model_dir.name
    return pd.read_parquet(split / "test.parquet")


def sample_texts(texts: list[str], n: int, seed: int) -> list[int]:
    """``n`` indices of non-empty texts, drawn with ``seed`` and kept in file order."""
    candidates = [i for i, t in enumerate(texts) if t.strip()]
    if len(candidates) <= n:
        return candidates
    rng = np.random.default_rng(seed)
    return sorted(int(i) for i in rng.choice(candidates, size=n, replace=False))


def explain_model(
    dataset: str, model_name: str, params: Params, paths: Paths, seed: int | None = None
) -> dict[str, Any]:
    from fakenews.inference.attribution import explain
    from fakenews.inference.explain import faithfulness, top_cues

    config = params.section("explain", ExplainConfig)
    seed = params.seeds_of(model_name)[0] if seed is None else seed
    model_dir = best_fold_dir(paths.run(dataset, model_name, seed))
    model = load_model(model_dir, expected=model_name)
    test = test_rows(paths, dataset, model_dir)
    texts = model_input(test, list(model.config.text_fields))
    chosen = [texts[i] for i in sample_texts(texts, config.texts, config.seed)]
    with timed("explain"):
        explained = explain(
            model, chosen, config.n_steps, config.internal_batch, config.step_tokens
        )
    with timed("faithfulness"):
        result = faithfulness(model, explained, config.top_k, config.random_repeats, config.seed)
    deltas = np.abs([e.delta for e in explained])
    gaps = np.abs([e.logit - e.baseline for e in explained])
    summary = result.summary()
    output = {
        "train_dataset": dataset,
        "model": model_name,
        "family": model.family,
        "seed": seed,
        "model_dir": model_dir.relative_to(paths.root).as_posix(),
        "method": explained[0].method if explained else None,
        "units": "n-gram features" if model.name == "tfidf_logreg" else "words",
        "ig_steps_median": float(np.median([e.steps for e in explained])) if explained else None,
        "top_k": config.top_k,
        "random_repeats": config.random_repeats,
        # Integrated gradients' completeness error relative to what it attributes.
        "completeness_error": {
            "median_abs": rounded(float(np.median(deltas))) if len(deltas) else None,
            "median_relative": rounded(float(np.median(deltas / np.maximum(gaps, 1e-12))))
            if len(deltas)
            else None,
        },
        "faithfulness": summary,
        "cues": top_cues(explained, config.cues, MIN_CUE_TEXTS),
    }
    log.info(
        "%s/%s: deleting the top %d units drops P(predicted) by %s vs %s for random units "
        "(top-K larger on %s of %d texts, p=%s)",
        dataset,
        model_name,
        config.top_k,
        summary["top_k_drop"],
        summary["random_drop"],
        summary["share_top_k_beats_random"],
        summary["texts"],
        summary["wilcoxon_p"],
    )
    write_json(explanations_path(paths, dataset, model_name), output)
    return output
