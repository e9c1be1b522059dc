"""Batching shared by the torch families.

Length bucketing (shuffle, then sort within chunks, so batches carry little padding), sorted
inference batches, and :class:`LazyBatches`, which collates a batch only when it is read.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

import numpy as np

T = TypeVar("T")


def bucketed_batches(
    lengths: Sequence[int],
    batch_size: int,
    rng: np.random.Generator,
    chunk_batches: int = 50,
    max_tokens: int | None = None,
) -> list[np.ndarray]:
    """Index batches for one training epoch.

    The data is shuffled, cut into chunks of ``chunk_batches * batch_size`` examples, each chunk
    is sorted by length and cut into batches, and the batch order is shuffled. Examples of similar
    length share a batch while every epoch still sees a different order. With ``max_tokens``, a
    batch also stops growing once ``size x longest length`` would pass it, so the long tail gets
    smaller batches instead of a large, mostly padded one.
    """
    lengths = np.asarray(lengths)
    order = rng.permutation(len(lengths))
    chunk = max(1, chunk_batches) * batch_size
    batches: list[np.ndarray] = []
    for start in range(0, len(order), chunk):
        part = order[start : start + chunk]
        part = part[np.argsort(lengths[part], kind="stable")]
        batches.extend(_cut(part, lengths, batch_size, max_tokens))
    return [batches[i] for i in rng.permutation(len(batches))]


def _cut(
    part: np.ndarray, lengths: np.ndarray, batch_size: int, max_tokens: int | None
) -> list[np.ndarray]:
    """Cut length-sorted indices into batches of <= batch_size and <= max_tokens padded tokens."""
    if max_tokens is None:
        return [part[i : i + batch_size] for i in range(0, len(part), batch_size)]
    batches, start = [], 0
    while start < len(part):
        end = start + 1  # a text longer than the budget still gets a batch of its own
        while (
            end < len(part)
            and end - start < batch_size
            and (end - start + 1) * lengths[part[end]] <= max_tokens
        ):
            end += 1
        batches.append(part[start:end])
        start = end
    return batches


def sorted_batches(
    lengths: Sequence[int], batch_size: int, max_tokens: int | None = None
) -> list[np.ndarray]:
    """Deterministic batches for inference: sorted by length (callers restore the order).

    ``max_tokens`` caps ``size x longest length`` as in :func:`bucketed_batches`, so the few
    longest texts do not make one large batch padded to their length.
    """
    lengths = np.asarray(lengths)
    return _cut(np.argsort(lengths, kind="stable"), lengths, batch_size, max_tokens)


def padding_fraction(lengths: Sequence[int], batches: Sequence[np.ndarray]) -> float:
    """Share of padded positions when each batch is padded to its longest example."""
    lengths = np.asarray(lengths)
    real = sum(int(lengths[b].sum()) for b in batches if len(b))
    padded = sum(len(b) * int(lengths[b].max()) for b in batches if len(b))
    return 1.0 - real / padded if padded else 0.0


class LazyBatches(Sequence[T]):
    """Index batches collated on access, so an epoch never holds all padded tensors at once."""

    def __init__(self, indices: list[np.ndarray], make: Callable[[np.ndarray], T]) -> None:
        self.indices, self.make = indices, make

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: int) -> T:  # type: ignore[override]
        return self.make(self.indices[i])
