"""embed@<dataset>: the sentence vector of every text of one dataset's split files, cached in
``data/embeddings/<dataset>/`` so the embedding family trains, evaluates and transfers without
running the encoder again."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from fakenews.core.errors import DatasetError
from fakenews.core.io import SPLITS, read_split
from fakenews.core.params import Params
from fakenews.core.paths import FOLDS_DIR, Paths
from fakenews.nn.embedding import EMBED_MODEL, Embedder, EmbeddingCache, text_key

log = logging.getLogger(__name__)


def split_files(split_dir: Path) -> list[tuple[Path, str]]:
    """(folder, split name) of every split file of a dataset: its splits, then its folds'."""
    split_dir = Path(split_dir)
    folders = [split_dir, *sorted((split_dir / FOLDS_DIR).glob("fold-*"))]
    return [(f, name) for f in folders for name in SPLITS if (f / f"{name}.parquet").is_file()]


def embed_dataset(
    split_dir: Path, out_dir: Path, embedder: Embedder, text_fields: Sequence[str]
) -> dict[str, Any]:
    """Embed every text of a dataset's split files once; write the cache to ``out_dir``."""
    from fakenews.classifier.base import model_input

    started = time.perf_counter()
    files = split_files(split_dir)
    if not files:
        raise DatasetError(f"{split_dir}: no split files; run `dvc repro` to build the splits")
    rows, texts = 0, {}
    for folder, name in files:
        for text in model_input(read_split(folder, name), list(text_fields)):
            rows += 1
            texts.setdefault(text_key(text), text)
    keys = list(texts)
    vectors, heads, several = embedder.encode_windows([texts[k] for k in keys])
    embedder.computed += len(keys)
    first_window = None
    if embedder.max_chunks != 1:
        # Evaluate's first-window scores redo the texts longer than one window with a
        # max_chunks=1 reading: their first windows were just encoded, so keep them too.
        chosen = np.flatnonzero(several)
        settings = embedder.variant(max_chunks=1).settings
        first_window = ([keys[i] for i in chosen], heads[chosen], settings)
    EmbeddingCache.write(out_dir, keys, vectors, embedder.settings, first_window)
    seconds = time.perf_counter() - started
    log.info("%d rows, %d unique texts embedded in %.1fs", rows, len(keys), seconds)
    return {
        "rows": rows,
        "unique_texts": len(keys),
        "first_windows": len(first_window[0]) if first_window else 0,
        "seconds": round(seconds, 3),
    }


def compute_embeddings(
    dataset: str, params: Params, paths: Paths, model: str = EMBED_MODEL
) -> dict[str, Any]:
    """embed@<dataset>: the cache of every text ``model`` (train.<model>'s encoder settings)
    reads on this dataset."""
    from fakenews.models import model_config

    # The dataset's own settings (per_dataset overrides included), so the model finds the cache.
    config: Any = model_config(params, model, dataset)
    embedder = Embedder(
        config.pretrained, config.max_len, config.max_chunks, config.batch_size, config.num_threads
    )
    if model not in params.model_names:
        # dvc.yaml runs this stage per dataset whatever `models:` lists; with no model to read
        # the vectors, write an empty cache instead of loading the encoder.
        EmbeddingCache.write(paths.embeddings(dataset), [], np.zeros((0, 0)), embedder.settings)
        log.info("%s is not in `models:`: nothing to embed", model)
        return {"rows": 0, "unique_texts": 0, "seconds": 0.0}
    return embed_dataset(
        paths.split(dataset),
        paths.embeddings(dataset),
        embedder,
        config.text_fields,
    )
