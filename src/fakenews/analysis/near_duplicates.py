"""Near-duplicate texts: MinHash + LSH over word shingles, verified by exact Jaccard similarity.

Two texts are near-duplicates when the Jaccard similarity of their sets of word shingles (runs of
``shingle_size`` consecutive words, case-folded, punctuation ignored) is at least ``threshold``.
MinHash signatures and LSH banding only *propose* candidate pairs; every pair is then checked
with the exact Jaccard similarity, so nothing below the threshold is ever reported (LSH can only
miss pairs, with a probability the band layout keeps small).

Everything is deterministic: shingles are hashed with blake2b (not Python's salted ``hash``), the
permutations come from a fixed seed, and groups are connected components named by their smallest
member, so the same texts give the same groups in any row order. Used by the split (near-duplicate
groups go whole to one split), the audit and the cross-dataset overlap.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import pandas as pd
from pydantic import Field

from fakenews.core.params import StrictModel
from fakenews.text.cleaning import content_key

_WORD = re.compile(r"\w+")
# Largest chance that LSH misses a pair exactly at the threshold (pairs above it are missed even
# less). Candidates are verified exactly, so a needless candidate costs only a set comparison,
# while a missed pair is a leak nobody sees: the band layout buys recall with candidates.
_MAX_MISS = 0.005

Shingles = frozenset[int]


class NearDuplicateConfig(StrictModel):
    """One definition of "near-duplicate", shared by the split, the audit and the overlap."""

    threshold: float = Field(
        0.8,
        gt=0,
        le=1,
        description="Jaccard similarity of two texts' word-shingle sets at or above which they "
        "are near-duplicates.",
    )
    shingle_size: int = Field(
        1,
        ge=1,
        le=10,
        description="Words per shingle. 1 compares sets of words: right for claims and tweets, "
        "where two changed words already break most longer shingles; 3-5 suit long articles.",
    )
    num_perm: int = Field(
        128,
        ge=16,
        le=1024,
        description="MinHash permutations: more miss fewer pairs and cost more time.",
    )
    seed: int = Field(1, description="Seed of the MinHash permutations: same groups every run.")


def words(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


@lru_cache(maxsize=1 << 20)  # words repeat across texts; blake2b once per distinct shingle
def _hash64(shingle: str) -> int:
    return int.from_bytes(hashlib.blake2b(shingle.encode(), digest_size=8).digest(), "little")


def shingle_set(text: str, size: int) -> Shingles:
    """Hashes of the text's word ``size``-grams (a text of ``size`` words or fewer: one)."""
    tokens = words(text)
    if not tokens:
        return frozenset()
    if size == 1:
        return frozenset(map(_hash64, set(tokens)))
    if len(tokens) <= size:
        return frozenset({_hash64(" ".join(tokens))})
    return frozenset(_hash64(" ".join(tokens[i : i + size])) for i in range(len(tokens) - size + 1))


def jaccard(a: Shingles, b: Shingles) -> float:
    if not a or not b:
        return 0.0
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter)


@lru_cache(maxsize=64)
def lsh_bands(threshold: float, num_perm: int) -> tuple[int, int]:
    """(bands, rows per band): fewest candidates below the threshold, misses at it <= _MAX_MISS.

    A pair of similarity s becomes a candidate with probability 1 - (1 - s**rows)**bands. When no
    layout reaches the recall target (too few permutations), the one with the best recall wins.
    """
    grid = np.linspace(0.0, threshold, 501)  # similarities below the threshold
    best: tuple[tuple[float, float], int, int] | None = None
    for rows in range(1, num_perm + 1):
        bands = num_perm // rows  # for a given row count, more bands only add recall
        miss = (1.0 - threshold**rows) ** bands
        # Mean candidate probability below the threshold (proportional to the area under it).
        false_candidates = float(np.mean(1.0 - (1.0 - grid**rows) ** bands))
        # Meeting the recall target comes first; among those, the fewest false candidates.
        cost = (max(miss - _MAX_MISS, 0.0), false_candidates)
        if best is None or cost < best[0]:
            best = (cost, bands, rows)
    assert best is not None
    return best[1], best[2]


def _mix64(values: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: a bijection on 64-bit integers that scrambles every bit."""
    with np.errstate(over="ignore"):  # multiplication modulo 2**64 is the point
        z = values ^ (values >> np.uint64(30))
        z = z * np.uint64(0xBF58476D1CE4E5B9)
        z = z ^ (z >> np.uint64(27))
        z = z * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def minhash_signatures(sets: Sequence[Shingles], num_perm: int, seed: int) -> np.ndarray:
    """One row of ``num_perm`` minimum hash values per (non-empty) shingle set.

    Permutation i is ``a_i * mix(x) + b_i`` modulo 2**64 with a random odd ``a_i``: a bijection,
    and on scrambled inputs its order is as good as random. (The textbook ``(a*x + b) mod p``
    needs 128-bit products; squeezed into 64 bits it barely reorders the values, and MinHash then
    estimates nothing.)
    """
    rng = np.random.default_rng(seed)
    top = np.iinfo(np.uint64).max
    a = rng.integers(0, top, size=num_perm, dtype=np.uint64, endpoint=True) | np.uint64(1)
    b = rng.integers(0, top, size=num_perm, dtype=np.uint64, endpoint=True)
    lengths = np.fromiter((len(s) for s in sets), dtype=np.int64, count=len(sets))
    if (lengths == 0).any():
        raise ValueError("minhash_signatures needs non-empty shingle sets")
    values = _mix64(
        np.fromiter((h for s in sets for h in s), dtype=np.uint64, count=int(lengths.sum()))
    )
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    signatures = np.empty((len(sets), num_perm), dtype=np.uint64)
    # One permutation at a time: 1-D reduceat is fast, 2-D reduceat along an axis is not.
    with np.errstate(over="ignore"):
        for i in range(num_perm):
            signatures[:, i] = np.minimum.reduceat(values * a[i] + b[i], starts)
    return signatures


def candidate_pairs(signatures: np.ndarray, bands: int, rows: int) -> set[tuple[int, int]]:
    """Pairs (i < j) of rows whose signatures agree on every value of at least one band."""
    pairs: set[tuple[int, int]] = set()
    # One 64-bit fingerprint per band: collisions only add candidates, which are verified.
    weights = np.random.default_rng(0).integers(1, 1 << 63, size=rows, dtype=np.uint64) | 1
    for band in range(bands):
        block = signatures[:, band * rows : (band + 1) * rows]
        with np.errstate(over="ignore"):
            keys = (block * weights).sum(axis=1, dtype=np.uint64)
        order = np.argsort(keys, kind="stable")
        cuts = np.flatnonzero(np.diff(keys[order])) + 1
        for bucket in np.split(order, cuts):
            if len(bucket) > 1:
                members = sorted(int(i) for i in bucket)
                pairs.update(itertools.combinations(members, 2))
    return pairs


def similar_set_pairs(
    sets: Sequence[Shingles], config: NearDuplicateConfig
) -> list[tuple[int, int, float]]:
    """Verified pairs (i, j, jaccard), i < j, among *distinct* non-empty shingle sets."""
    if len(sets) < 2:
        return []
    bands, rows = lsh_bands(config.threshold, config.num_perm)
    signatures = minhash_signatures(sets, config.num_perm, config.seed)
    found = []
    for i, j in sorted(candidate_pairs(signatures, bands, rows)):
        similarity = jaccard(sets[i], sets[j])
        if similarity >= config.threshold:
            found.append((i, j, round(similarity, 6)))
    return found


class _UnionFind:
    """Components named by their smallest member, so names never depend on the order of links."""

    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def root(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def link(self, i: int, j: int) -> None:
        ri, rj = self.root(i), self.root(j)
        if ri != rj:
            self.parent[max(ri, rj)] = min(ri, rj)

    def roots(self) -> list[int]:
        return [self.root(i) for i in range(len(self.parent))]


def near_duplicate_groups(
    texts: Sequence[str], config: NearDuplicateConfig, keys: Sequence[str] | None = None
) -> list[int]:
    """Each text's group: the smallest index among the texts linked to it.

    Texts are linked when their shingle sets are near-duplicates (identical sets included), and,
    when ``keys`` are given, when their keys are equal (so identical texts without a single word,
    such as emoji-only posts, still share a group). Groups are transitive: if a ~ b and b ~ c, all
    three are one group even when a and c alone are not similar enough.
    """
    sets = [shingle_set(t, config.shingle_size) for t in texts]
    distinct: dict[Shingles, list[int]] = {}
    for i, s in enumerate(sets):
        if s:
            distinct.setdefault(s, []).append(i)
    unique_sets = list(distinct)
    members = list(distinct.values())
    union = _UnionFind(len(texts))
    for group in members:
        for other in group[1:]:
            union.link(group[0], other)
    for a, b, _ in similar_set_pairs(unique_sets, config):
        union.link(members[a][0], members[b][0])
    if keys is not None:
        first: dict[str, int] = {}
        for i, key in enumerate(keys):
            union.link(first.setdefault(key, i), i)
    return union.roots()


def group_ids(texts: Sequence[str], keys: Sequence[str], config: NearDuplicateConfig) -> list[str]:
    """Per text, the smallest of ``keys`` in its near-duplicate group.

    ``keys`` are stable per-text names (the split's content hashes), so a group's id depends on
    its texts alone, never on the row order.
    """
    groups = near_duplicate_groups(texts, config, keys)
    smallest: dict[int, str] = {}
    for i, g in enumerate(groups):
        if g not in smallest or keys[i] < smallest[g]:
            smallest[g] = keys[i]
    return [smallest[g] for g in groups]


def group_keys(frame: pd.DataFrame) -> pd.Series:
    """A stable id per group of rows that must share a split (same text)."""
    keys = [
        hashlib.sha256(content_key(t, x).encode()).hexdigest()[:16]
        for t, x in zip(frame["title"], frame["text"], strict=True)
    ]
    return pd.Series(keys, index=frame.index)
