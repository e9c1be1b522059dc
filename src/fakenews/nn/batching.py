"""Length-bucketed batching: shuffle, then sort within chunks, so batches carry little padding."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def bucketed_batches(
    lengths: Sequence[int],
    batch_size: int,
    rng: np.random.Generator,
    chunk_batches: int = 50,
) -> list[np.ndarray]:
    """Index batches for one training epoch.

    The data is shuffled, cut into chunks of ``chunk_batches * batch_size`` examples, each chunk
    is sorted by length and cut into batches, and the batch order is shuffled. Examples of similar
    length share a batch while every epoch still sees a different order.
    """
    lengths = np.asarray(lengths)
    order = rng.permutation(len(lengths))
    chunk = max(1, chunk_batches) * batch_size
    batches: list[np.ndarray] = []
    for start in range(0, len(order), chunk):
        part = order[start : start + chunk]
        part = part[np.argsort(lengths[part], kind="stable")]
        batches.extend(part[i : i + batch_size] for i in range(0, len(part), batch_size))
    return [batches[i] for i in rng.permutation(len(batches))]


def sorted_batches(lengths: Sequence[int], batch_size: int) -> list[np.ndarray]:
    """Deterministic batches for inference: sorted by length (callers restore the order)."""
    order = np.argsort(np.asarray(lengths), kind="stable")
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


def padding_fraction(lengths: Sequence[int], batches: Sequence[np.ndarray]) -> float:
    """Share of padded positions when each batch is padded to its longest example."""
    lengths = np.asarray(lengths)
    padded = sum(len(b) * int(lengths[b].max()) for b in batches if len(b))
    return 1.0 - float(lengths.sum()) / padded if padded else 0.0
