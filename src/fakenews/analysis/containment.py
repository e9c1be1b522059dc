"""Containment: a short text found inside a longer one, such as a claim quoted in an article.

The containment of a pair is the share of the *shorter* text's word shingles (runs of
``shingle_size`` words, case-folded, punctuation ignored, as in
:mod:`fakenews.analysis.near_duplicates`) that also occur in the longer text. Jaccard similarity
divides by the union instead, so an 18-word claim inside a 500-word article scores about 0.03
there and cannot be seen; here it scores near 1.

Exact, with no sampling: texts become binary shingle-count rows (scikit-learn's
``CountVectorizer``), and one sparse product per block of rows gives every pair's number of
shared shingles. Blocks keep memory bounded when long articles share many stock phrases.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from pydantic import Field

from fakenews.analysis.near_duplicates import words
from fakenews.core.io import rounded
from fakenews.core.params import StrictModel

if TYPE_CHECKING:
    from scipy import sparse

# Pair scores computed at once: a block of targets times every source stays under this many.
_BLOCK_CELLS = 4_000_000


class ContainmentConfig(StrictModel):
    """overlap stage: a short text found inside a longer one (a claim quoted in an article).

    Jaccard similarity cannot see it: an 18-word claim is a sliver of a 500-word article's
    shingles. Containment divides the shared shingles by the *shorter* text's count instead.
    """

    shingle_size: int = Field(
        3,
        ge=2,
        le=10,
        description="Words per shingle. At 1 a claim's words (mostly stop words) are in any "
        "article; 3 keeps a quoted sentence and drops most chance matches.",
    )
    threshold: float = Field(
        0.6,
        gt=0,
        le=1,
        description="Share of the shorter text's shingles found in the longer one at or above "
        "which the pair is a match.",
    )
    min_shared: int = Field(
        4,
        ge=1,
        description="A match also shares at least this many shingles: a 5-word claim is "
        "'contained' by any article that has 2 of its 3-grams (\"says barack obama is a\").",
    )
    max_examples: int = Field(
        5, ge=0, le=100, description="Matches listed per dataset pair in metrics/overlap.json."
    )


class Match(NamedTuple):
    """One pair at or above the thresholds: ``source`` and ``target`` index their sequences."""

    source: int
    target: int
    shared: int
    containment: float
    shorter: str  # "source" or "target": whose shingles the containment counts


def shingles(text: str, size: int) -> list[str]:
    """The text's word ``size``-grams; a text of ``size`` words or fewer is one shingle."""
    tokens = words(text)
    if len(tokens) <= size:
        return [" ".join(tokens)] if tokens else []
    return [" ".join(tokens[i : i + size]) for i in range(len(tokens) - size + 1)]


def shingle_analyzer(size: int) -> Callable[[str], list[str]]:
    def analyze(text: str) -> list[str]:
        return shingles(text, size)

    return analyze


def shingle_matrix(texts: Sequence[str], size: int) -> sparse.csr_matrix:
    """One binary row per text over one shared shingle vocabulary (columns: shingles)."""
    from sklearn.feature_extraction.text import CountVectorizer  # ~2 s to import: lazily

    vectorizer = CountVectorizer(analyzer=shingle_analyzer(size), binary=True, dtype=np.int32)
    try:
        return vectorizer.fit_transform(texts).tocsr()
    except ValueError:  # not one word in any text: an empty vocabulary
        from scipy import sparse

        return sparse.csr_matrix((len(texts), 0), dtype=np.int32)


def containment_matches(
    sources: sparse.csr_matrix, targets: sparse.csr_matrix, config: ContainmentConfig
) -> list[Match]:
    """Every (source row, target row) pair whose containment and shared count reach the params.

    ``sources`` and ``targets`` are rows of one :func:`shingle_matrix` (same columns). Sorted by
    target, then source, so the same inputs always give the same list.
    """
    source_sizes = np.asarray(sources.sum(axis=1)).ravel()
    target_sizes = np.asarray(targets.sum(axis=1)).ravel()
    block = max(1, _BLOCK_CELLS // max(1, sources.shape[0]))
    found: list[Match] = []
    sources_t = sources.T.tocsc()
    for start in range(0, targets.shape[0], block):
        shared = (targets[start : start + block] @ sources_t).tocoo()
        rows, cols, counts = shared.row + start, shared.col, shared.data
        smaller = np.minimum(target_sizes[rows], source_sizes[cols])
        containment = counts / np.maximum(smaller, 1)
        keep = (counts >= config.min_shared) & (containment >= config.threshold)
        for t, s, n, c in zip(rows[keep], cols[keep], counts[keep], containment[keep], strict=True):
            shorter = "source" if source_sizes[s] <= target_sizes[t] else "target"
            found.append(Match(int(s), int(t), int(n), rounded(c), shorter))
    return sorted(found, key=lambda m: (m.target, m.source))


def shared_window(short: str, long: str, size: int, context: int = 8) -> str:
    """The stretch of ``long`` (normalised words) richest in shingles shared with ``short``, so
    an example shows where the claim sits inside the article."""
    wanted = set(shingles(short, size))
    tokens = words(long)
    hits = np.array(
        [" ".join(tokens[i : i + size]) in wanted for i in range(len(tokens) - size + 1)], dtype=int
    )
    if not hits.any():
        return ""
    width = max(1, len(words(short)) - size + 1)  # shingle positions the short text spans
    best = int(np.argmax(np.convolve(hits, np.ones(width, dtype=int), mode="valid")))
    start, stop = max(0, best - context), best + width + size - 1 + context
    return (
        ("… " if start else "")
        + " ".join(tokens[start:stop])
        + (" …" if stop < len(tokens) else "")
    )
