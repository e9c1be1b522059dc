"""What explanations cost: milliseconds per text for ``fakenews predict --explain K`` (the
attribution of each text with predict's integrated-gradients settings) per model, and for the
explain stage: its attribution (params.yaml's ``explain`` settings) and its faithfulness check
(the model re-scoring each text with its top-K and K random units deleted).

Each model is its reference run's serving folder (``models/<dataset>/<model>/seed-<first>``, on a
k-fold dataset the best-validation fold, scored on that fold's test rows), under ``--root`` (a
study that has run: `dvc repro`). Texts are
the first ``--texts`` test rows. Issue goals on a 2-core CPU: tfidf_logreg <= 5 ms per text and
the fine-tuned transformer (minilm) <= 1 s per text, with K = 10. Usage:

    python benchmarks/explain_cost.py [--root .] [--dataset constraint] [--texts 50] [--k 10]
        [--models tfidf_logreg,lstm,gru,minilm,minilm_embed]

``--smoke`` runs the same code on tiny models trained on generated texts (no study needed): a
check that the script still works, not a measurement.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from fakenews.analysis.selection import best_fold_dir
from fakenews.classifier.base import model_input
from fakenews.core.params import load_params
from fakenews.core.paths import Paths
from fakenews.inference.attribution import explain
from fakenews.inference.explain import faithfulness, top_contributions
from fakenews.models import get_model_class, load_model
from fakenews.pipeline.explain import ExplainConfig, test_rows


def measure(name: str, model: object, texts: list[str], k: int, config: ExplainConfig) -> None:
    """ms per text: ``predict --explain K`` (predict's IG settings), the explain stage's
    attribution (params' explain section) and its faithfulness check (the re-scoring)."""
    # Load lazily-built parts (the encoder, captum's imports) before timing.
    model.predict_proba(texts[:2])
    explain(model, texts[:1], n_steps=2)
    start = time.perf_counter()
    top_contributions(model, texts, k)
    predict_ms = (time.perf_counter() - start) / len(texts) * 1000
    start = time.perf_counter()
    explained = explain(model, texts, config.n_steps, config.internal_batch, config.step_tokens)
    stage_ms = (time.perf_counter() - start) / len(texts) * 1000
    start = time.perf_counter()
    faithfulness(model, explained, config.top_k, config.random_repeats, config.seed)
    check_ms = (time.perf_counter() - start) / len(texts) * 1000
    chars = int(np.mean([len(t) for t in texts]))
    print(
        f"{name:13s} {getattr(model, 'family', '?'):11s} predict --explain {k}: "
        f"{predict_ms:8.1f} ms/text | stage: attribution {stage_ms:8.1f} + faithfulness "
        f"{check_ms:8.1f} ms/text | {len(texts)} texts, mean {chars} chars",
        flush=True,
    )


def smoke() -> None:
    rng = np.random.default_rng(0)
    words = ["hoax", "secret", "officials", "reported", "the", "of", "today", "data"]
    texts = [" ".join(rng.choice(words, size=12)) for _ in range(32)]
    labels = np.array([int("hoax" in t) for t in texts])
    config = ExplainConfig(n_steps=4, random_repeats=2, top_k=2)
    specs = {
        "tfidf_logreg": {"min_df": 1},
        "lstm": {"embedding_dim": 8, "hidden_sizes": (8,), "epochs": 1, "num_threads": 1},
    }
    for name, settings in specs.items():
        cls = get_model_class(name)
        model = cls(cls.Config(**settings))
        model.fit(texts, labels, texts[:8], labels[:8], lambda metrics, step: None)
        measure(name, model, texts[:8], 3, config)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=Path("."))
    parser.add_argument("--dataset", default="constraint")
    parser.add_argument("--texts", type=int, default=50)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--models", default="tfidf_logreg,lstm,gru,minilm,minilm_embed")
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args(argv)
    if args.smoke:
        smoke()
        return
    params = load_params(args.root / "params.yaml")
    paths = Paths(args.root.resolve())
    config = params.section("explain", ExplainConfig)
    for name in args.models.split(","):
        seed = params.seeds_of(name)[0]
        model_dir = best_fold_dir(paths.run(args.dataset, name, seed))
        model = load_model(model_dir, expected=name)
        if name == "minilm_embed":  # what a user's new text costs: no cached vector
            model.config = model.config.model_copy(update={"embedding_cache": None})
        frame: pd.DataFrame = test_rows(paths, args.dataset, model_dir)
        texts = [t for t in model_input(frame, list(model.config.text_fields)) if t]
        measure(name, model, texts[: args.texts], args.k, config)


if __name__ == "__main__":
    sys.exit(main())
