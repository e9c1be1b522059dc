"""Batching shared by the torch families.

Length bucketing (shuffle, then sort within chunks, so batches carry little padding), sorted
validation batches, inference batches in which a text's score cannot depend on its batch-mates
(:func:`uniform_batches`), and :class:`LazyBatches`, which collates a batch only when it is read.
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


# Rows of an inference batch come in whole multiples of this. Measured on AVX-512 (MKL sgemm, one
# thread): a row's result is the same in every batch of 4, 8, 16, 32 or 64 rows but differs in the
# last bits in one of 1, 2, 3 or 7 rows (the kernels' remainder rows; oneDNN's bf16 matmul gave
# the same bits for any count). 4, not 8: minilm scoring CONSTRAINT's test set took 23.0 s with 4
# and 31.5 s with 8 (bf16; unpadded sorted batches: 19.1 s), as short texts come in small groups.
ROW_TILE = 4


def uniform_batches(
    lengths: Sequence[int], batch_size: int, max_tokens: int | None = None
) -> list[np.ndarray]:
    """Inference batches whose windows all have one length (no padding), in length order.

    With :func:`tile_rows`, every row runs in a batch of the same shape kind (its own length, a
    multiple of ``ROW_TILE`` rows), so a text's score is the same alone, in a batch of 200, or
    with another ``batch_size``: neither padding nor its batch-mates reach its arithmetic.
    ``max_tokens`` caps ``rows x length`` as in :func:`bucketed_batches`.
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    order = np.argsort(lengths, kind="stable")
    batches: list[np.ndarray] = []
    for length in np.unique(lengths):
        same = order[lengths[order] == length]
        rows = batch_size if max_tokens is None else min(batch_size, max_tokens // int(length))
        # Whole tiles when the budget allows, so tile_rows adds no rows but at a group's end.
        rows = max(1, rows // ROW_TILE * ROW_TILE or rows)
        batches.extend(same[i : i + rows] for i in range(0, len(same), rows))
    return batches


def tile_rows(batch: np.ndarray) -> np.ndarray:
    """``batch`` with its rows repeated up to a multiple of ``ROW_TILE`` (the real rows first)."""
    return np.resize(batch, -(-len(batch) // ROW_TILE) * ROW_TILE)


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
