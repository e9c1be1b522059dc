"""A model-agnostic description of a training set's inputs: does a new text look like them?

:class:`DomainProfile` keeps, in safe formats (JSON and ``.npy``), the inverse document
frequencies of the training texts' words (hashed: no vocabulary to store) and the TF-IDF
vectors of a capped sample of training texts. A text's *in-domain score* is its mean cosine
similarity to its ``k`` most similar sampled training texts: higher is more like the training
data. A word no training text used (fewer than ``min_df``) keeps the largest IDF in the text's
vector, so a text full of unseen words scores low even when its few known words match.
(Measured on the study's three datasets: a truncated SVD of the same vectors, normalised after
projection, could not tell LIAR's claims from CONSTRAINT's posts, AUROC 0.50; this scores 0.82
to 1.00 on every pair, with 1000 training texts sampled.) A text far shorter or longer than the
training texts (outside their word counts' 0.5-99.5% range) has its score scaled down by the
ratio: without it, a claim model's profile let 86-91% of FakeNewsNet's articles pass (they share
many words with some claims).

The threshold is the ``1 - pass_rate`` quantile of the validation texts' scores, so about
``pass_rate`` of texts like the validation split pass (are ``in_domain``).

It reads the texts the model reads (``model_input(frame, text_fields)`` of the prepared split),
so one profile serves every model trained on that dataset (or fold) with those fields.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field

from fakenews.core.io import atomic_dir, rounded
from fakenews.core.params import StrictModel
from fakenews.core.paths import Paths

PROFILE_FILE = "profile.json"
DOMAIN_FOLDER = ("data", "domain")
# <name>.npy beside profile.json: IDF of the hashed words seen in training (bucket, value) and
# the sampled training vectors as CSR arrays.
ARRAYS = ("idf_index", "idf_value", "sample_data", "sample_indices", "sample_indptr")
# Rows scored per block: the similarity block (rows x sample) stays a few MB.
SCORE_BLOCK = 256


class DomainConfig(StrictModel):
    """How a profile is built (params.yaml ``evaluate.domain``)."""

    pass_rate: float = Field(
        0.95, gt=0, lt=1, description="Share of validation texts the threshold lets pass."
    )
    hash_bits: int = Field(
        18, ge=10, le=24, description="Words are hashed into 2**hash_bits buckets."
    )
    min_df: int = Field(
        2, ge=1, description="Training texts a word needs to count as seen (else: unseen)."
    )
    max_df: float = Field(
        1.0,
        gt=0,
        le=1,
        description="Words in more than this share of training texts are left out of the "
        "sampled vectors (they still count in a scored text's norm): below 1, faster and "
        "less exact (0.5 on fakenewsnet_v1: AUROC vs LIAR 0.95 -> 0.89).",
    )
    sample: int = Field(
        1000,
        ge=10,
        description="Training texts kept to compare against; the check's cost grows with it "
        "(measured: 2000 doubles it, ~0.16 ms a text, about +10% on `fakenews predict` with "
        "tfidf_logreg, for AUROC LIAR vs CONSTRAINT 0.93 instead of 0.91).",
    )
    max_terms: int = Field(
        100, ge=5, description="Heaviest TF-IDF terms kept per sampled training text."
    )
    k: int = Field(10, ge=1, description="Most similar sampled training texts averaged.")
    length_quantile: float = Field(
        0.005,
        ge=0,
        lt=0.5,
        description="A text shorter than this quantile of the training texts' word counts, or "
        "longer than its mirror (1 - q), has its score scaled down by the ratio.",
    )
    seed: int = Field(0, description="Seed of the training sample.")
    text_fields: tuple[Literal["title", "text"], ...] = Field(
        ("title", "text"), min_length=1, description="Fields joined into the text profiled."
    )


class DomainProfile:
    """Fitted description of one training set's texts (see the module docstring)."""

    def __init__(
        self,
        config: DomainConfig,
        idf_index: np.ndarray,
        idf_value: np.ndarray,
        unseen_idf: float,
        sample: Any,
        threshold: float,
        info: dict[str, Any] | None = None,
        length_bounds: tuple[float, float] = (0.0, float("inf")),
    ) -> None:
        import scipy.sparse as sp

        self.config = config
        self.idf_index = np.asarray(idf_index, dtype=np.int32)
        self.idf_value = np.asarray(idf_value, dtype=np.float32)
        self.unseen_idf = float(unseen_idf)
        self.sample = sp.csr_matrix(sample, dtype=np.float32)
        self.threshold = float(threshold)
        self.info = dict(info or {})
        self.length_bounds = (float(length_bounds[0]), float(length_bounds[1]))
        self._idf = np.full(2**config.hash_bits, self.unseen_idf, dtype=np.float32)
        self._idf[self.idf_index] = self.idf_value
        self._hasher: Any = None
        self._sample_t: Any = None  # the sample, transposed for the product (built once)

    @property
    def text_fields(self) -> tuple[str, ...]:
        """The fields joined into the texts profiled (those the models read)."""
        return self.config.text_fields

    # --- fitting --------------------------------------------------------------------------------

    @classmethod
    def fit(
        cls,
        train_texts: Sequence[str],
        val_texts: Sequence[str],
        config: DomainConfig | None = None,
        *,
        pass_rate: float | None = None,
    ) -> DomainProfile:
        """Fit on the training texts; set the threshold on the validation texts."""
        config = config or DomainConfig()
        if pass_rate is not None:
            config = config.model_copy(update={"pass_rate": pass_rate})
        train, val = list(train_texts), list(val_texts)
        if len(train) < 2 or not val:
            raise ValueError(
                f"domain profile: needs >= 2 training and >= 1 validation texts "
                f"(got {len(train)} and {len(val)})"
            )
        counts = _hasher(config.hash_bits).transform(train)
        df = np.bincount(counts.indices, minlength=counts.shape[1])
        seen = np.flatnonzero(df >= config.min_df)
        if not len(seen):
            raise ValueError(
                f"domain profile: no word occurs in {config.min_df} or more training texts"
            )
        n = len(train)
        # sklearn's smooth IDF; an unseen word gets the IDF of a word in no training text.
        idf = np.log((1 + n) / (1 + df[seen])) + 1
        unseen = float(np.log(1 + n) + 1)
        # Word counts of the training texts: a claim model's profile scales an article's score
        # down by how far it is longer than its longest training texts (and the other way round).
        words = np.asarray(counts.sum(axis=1)).ravel()
        bounds = (
            float(np.quantile(words, config.length_quantile)),
            float(np.quantile(words, 1 - config.length_quantile)),
        )
        profile = cls(
            config,
            seen,
            idf,
            unseen,
            np.zeros((0, counts.shape[1])),
            threshold=0.0,
            length_bounds=bounds,
        )
        rng = np.random.default_rng(config.seed)
        rows = np.sort(rng.permutation(n)[: config.sample])
        # Common words (above max_df) dropped from the sampled vectors make the product with a
        # scored text sparser (faster); they still tell short posts from long articles, hence
        # the default keeps them all.
        import scipy.sparse as sp

        kept = (df <= config.max_df * n).astype(np.float32)
        vectors = sp.csr_matrix(profile.vectors([train[i] for i in rows]) @ sp.diags(kept))
        vectors.eliminate_zeros()
        profile.sample = _top_terms(vectors, config.max_terms)
        profile._sample_t = None
        val_scores = profile.score(val)
        profile.threshold = rounded(float(np.quantile(val_scores, 1 - config.pass_rate)))
        profile.info = {
            "train_texts": n,
            "val_texts": len(val),
            "sampled": len(rows),
            "seen_words": len(seen),
            "val_pass_share": rounded(float(np.mean(val_scores >= profile.threshold))),
        }
        return profile

    # --- scoring --------------------------------------------------------------------------------

    def vectors(self, texts: Sequence[str]) -> Any:
        """L2-normalised TF-IDF vectors (sublinear tf) of ``texts``, unseen words included."""
        return self._vectors(self._counts(texts))

    def _counts(self, texts: Sequence[str]) -> Any:
        if self._hasher is None:
            self._hasher = _hasher(self.config.hash_bits)
        return self._hasher.transform(list(texts)).astype(np.float32)

    def length_factor(self, words: np.ndarray) -> np.ndarray:
        """1 for a word count inside the training texts' bounds, else the ratio to the nearer
        bound (0 for no word)."""
        lo, hi = self.length_bounds
        words = np.asarray(words, dtype=float)
        short = np.divide(words, lo, out=np.ones_like(words), where=lo > 0)
        long = np.divide(hi, words, out=np.ones_like(words), where=words > 0)
        return np.minimum(1.0, np.minimum(short, long))

    def _vectors(self, counts: Any) -> Any:
        import scipy.sparse as sp

        counts = counts.copy()
        counts.data = (1 + np.log(counts.data)) * self._idf[counts.indices]
        norms = np.sqrt(np.asarray(counts.multiply(counts).sum(axis=1)).ravel())
        scale = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
        return sp.csr_matrix(sp.diags(scale.astype(np.float32)) @ counts)

    def score(self, texts: Sequence[str]) -> np.ndarray:
        """In-domain score per text: mean cosine similarity to its k most similar sampled
        training texts (higher = more like the training data; 0: no word in common), scaled
        down for a text far shorter or longer than the training texts (:meth:`length_factor`)."""
        out = np.zeros(len(texts), dtype=float)
        if not len(texts) or not self.sample.shape[0]:
            return out
        k = min(self.config.k, self.sample.shape[0])
        if self._sample_t is None:
            self._sample_t = self.sample.T.tocsc()
        for start in range(0, len(texts), SCORE_BLOCK):
            counts = self._counts(texts[start : start + SCORE_BLOCK])
            words = np.asarray(counts.sum(axis=1), dtype=np.float64).ravel()
            block = self._vectors(counts)
            # scipy's sparse product sums each entry in one thread, in order: the same bits on
            # any machine, whatever its cores.
            sims = (block @ self._sample_t).toarray()
            # The k largest per row, order-free: their mean does not depend on ties' order.
            top = np.partition(sims, sims.shape[1] - k, axis=1)[:, -k:]
            nearest = np.sort(top, axis=1).astype(np.float64).mean(axis=1)
            out[start : start + len(sims)] = nearest * self.length_factor(words)
        # Rounded as written, so scores and flags match byte for byte on any machine.
        return np.round(out, 6)

    def flags(self, texts: Sequence[str]) -> np.ndarray:
        """True where a text passes the threshold (looks like the training data)."""
        return self.in_domain(self.score(texts))

    def in_domain(self, scores: np.ndarray) -> np.ndarray:
        return np.asarray(scores, dtype=float) >= self.threshold

    # --- files ----------------------------------------------------------------------------------

    def save(self, directory: Path) -> None:
        """Write ``profile.json`` and ``<array>.npy`` files (safe formats) into ``directory``."""
        with atomic_dir(Path(directory)) as tmp:
            self.write_files(tmp)

    def write_files(self, directory: Path) -> None:
        """Write the profile's files into an existing folder (no atomic swap: the caller's)."""
        meta = {
            "config": self.config.model_dump(mode="json"),
            "threshold": self.threshold,
            "length_bounds": list(self.length_bounds),
            "unseen_idf": self.unseen_idf,
            "sample_shape": list(self.sample.shape),
            "info": self.info,
        }
        (Path(directory) / PROFILE_FILE).write_text(
            json.dumps(meta, indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )
        arrays = {
            "idf_index": self.idf_index,
            "idf_value": self.idf_value,
            "sample_data": self.sample.data.astype(np.float32),
            "sample_indices": self.sample.indices.astype(np.int32),
            "sample_indptr": self.sample.indptr.astype(np.int64),
        }
        for name in ARRAYS:
            np.save(Path(directory) / f"{name}.npy", arrays[name], allow_pickle=False)

    @classmethod
    def load(cls, directory: Path) -> DomainProfile:
        """Read what :meth:`save` wrote (no pickle: ``allow_pickle=False``)."""
        import scipy.sparse as sp

        directory = Path(directory)
        names = (PROFILE_FILE, *(f"{a}.npy" for a in ARRAYS))
        missing = [n for n in names if not (directory / n).is_file()]
        if missing:
            raise FileNotFoundError(f"{directory}: domain profile lacks {', '.join(missing)}")
        meta = json.loads((directory / PROFILE_FILE).read_text(encoding="utf-8"))
        arrays = {a: np.load(directory / f"{a}.npy", allow_pickle=False) for a in ARRAYS}
        sample = sp.csr_matrix(
            (arrays["sample_data"], arrays["sample_indices"], arrays["sample_indptr"]),
            shape=tuple(meta["sample_shape"]),
        )
        return cls(
            DomainConfig(**meta["config"]),
            arrays["idf_index"],
            arrays["idf_value"],
            float(meta["unseen_idf"]),
            sample,
            threshold=float(meta["threshold"]),
            info=meta.get("info"),
            length_bounds=tuple(meta["length_bounds"]),
        )


def _hasher(bits: int) -> Any:
    from sklearn.feature_extraction.text import HashingVectorizer

    # Word counts: no sign flipping, no norm (the IDF and norm are applied after).
    return HashingVectorizer(
        n_features=2**bits, alternate_sign=False, norm=None, lowercase=True, dtype=np.float32
    )


def _top_terms(matrix: Any, keep: int) -> Any:
    """Each row's ``keep`` heaviest entries (ties: lower column first), the rest dropped."""
    import scipy.sparse as sp

    matrix = sp.csr_matrix(matrix)
    data, indices, indptr = [], [], [0]
    for row in range(matrix.shape[0]):
        lo, hi = matrix.indptr[row], matrix.indptr[row + 1]
        cols, vals = matrix.indices[lo:hi], matrix.data[lo:hi]
        order = np.lexsort((cols, -vals))[:keep]
        chosen = np.sort(order)
        data.append(vals[chosen])
        indices.append(cols[chosen])
        indptr.append(indptr[-1] + len(chosen))
    return sp.csr_matrix(
        (
            np.concatenate(data) if data else np.zeros(0, np.float32),
            np.concatenate(indices) if indices else np.zeros(0, np.int32),
            np.asarray(indptr),
        ),
        shape=matrix.shape,
    )


def domain_dir(paths: Paths, train_set: str) -> Path:
    """``data/domain/<train_set>``: the profile of a dataset's (or union's) training texts (a
    k-fold dataset: one per ``fold-<k>/``), shared by every model trained on it. (Not a
    :class:`Paths` property: ``core/`` is every train stage's dependency.)"""
    return paths.root.joinpath(*DOMAIN_FOLDER, train_set)


def separation_auroc(own: np.ndarray, other: np.ndarray) -> float | None:
    """AUROC of the in-domain score at telling ``own`` texts (positive) from ``other`` ones."""
    own, other = np.asarray(own, dtype=float), np.asarray(other, dtype=float)
    if not len(own) or not len(other):
        return None
    from scipy.stats import rankdata

    ranks = rankdata(np.concatenate([own, other]))
    u = ranks[: len(own)].sum() - len(own) * (len(own) + 1) / 2
    return rounded(u / (len(own) * len(other)))
