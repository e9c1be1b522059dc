"""TF-IDF features + logistic regression: the classic, strong baseline (scikit-learn)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Self

import numpy as np
from pydantic import Field

from fakenews.errors import ModelError
from fakenews.models.base import MetricsCallback, ModelConfig, TextClassifier

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

MODEL_FILE = "pipeline.skops"
# Types a saved pipeline may contain; anything else in the file is refused on load.
TRUSTED_TYPES = [
    "builtins.dict",
    "builtins.list",
    "builtins.tuple",
    "numpy.dtype",
    "numpy.float64",
    "numpy.int64",
    "numpy.ndarray",
    "scipy.sparse._csr.csr_matrix",
    "sklearn.feature_extraction.text.TfidfTransformer",
    "sklearn.feature_extraction.text.TfidfVectorizer",
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.pipeline.Pipeline",
]


class Config(ModelConfig):
    ngram_min: int = Field(1, ge=1, description="Smallest word n-gram.")
    ngram_max: int = Field(2, ge=1, description="Largest word n-gram.")
    max_features: int | None = Field(200_000, ge=1, description="Vocabulary cap (top by count).")
    min_df: int = Field(2, ge=1, description="Ignore n-grams in fewer documents than this.")
    max_df: float = Field(1.0, gt=0, le=1, description="Ignore n-grams in more docs than this.")
    sublinear_tf: bool = Field(True, description="Use 1 + log(tf).")
    lowercase: bool = Field(True, description="Lowercase before tokenising.")
    C: float = Field(4.0, gt=0, description="Inverse regularisation strength.")
    class_weight: Literal["balanced"] | None = Field(None, description="Re-weight classes.")
    max_iter: int = Field(2000, ge=10, description="Solver iterations.")


class Model(TextClassifier):
    name = "tfidf_logreg"
    family = "linear"
    Config = Config

    def __init__(self, config: Config, pipeline: Pipeline | None = None) -> None:
        super().__init__(config)
        self.pipeline = pipeline

    def _build(self) -> Pipeline:
        # Imported here: params validation imports every model module and must stay fast.
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import Pipeline

        c: Config = self.config  # type: ignore[assignment]
        return Pipeline(
            [
                (
                    "tfidf",
                    TfidfVectorizer(
                        ngram_range=(c.ngram_min, max(c.ngram_min, c.ngram_max)),
                        max_features=c.max_features,
                        min_df=c.min_df,
                        max_df=c.max_df,
                        sublinear_tf=c.sublinear_tf,
                        lowercase=c.lowercase,
                        dtype=np.float64,
                    ),
                ),
                (
                    "logreg",
                    LogisticRegression(
                        C=c.C,
                        class_weight=c.class_weight,
                        max_iter=c.max_iter,
                        random_state=c.seed,
                    ),
                ),
            ]
        )

    def fit(
        self,
        train_texts: list[str],
        train_labels: np.ndarray,
        val_texts: list[str],
        val_labels: np.ndarray,
        log_metrics: MetricsCallback,
    ) -> dict[str, Any]:
        from sklearn.metrics import log_loss

        self.pipeline = self._build()
        try:
            self.pipeline.fit(train_texts, train_labels)
        except ValueError as error:  # e.g. min_df leaves no vocabulary on a tiny set
            raise ModelError(f"tfidf_logreg: training failed: {error}") from None
        tfidf = self.pipeline.named_steps["tfidf"]
        # numpy ints would each become a separate array in the skops file (minutes to save).
        tfidf.vocabulary_ = {term: int(index) for term, index in tfidf.vocabulary_.items()}
        if hasattr(tfidf, "stop_words_"):
            del tfidf.stop_words_  # the pruned terms: large, and not needed to predict
        # One "epoch": the curves file has the same shape as the iterative models'.
        row: dict[str, float] = {"epoch": 1, "best": 1.0}
        for split, texts, labels in (
            ("train", train_texts, train_labels),
            ("val", val_texts, val_labels),
        ):
            probs = self.predict_proba(texts)
            row[f"{split}_loss"] = float(log_loss(labels, probs, labels=[0, 1]))
            row[f"{split}_accuracy"] = float(((probs >= 0.5) == labels).mean())
        log_metrics({k: v for k, v in row.items() if k not in ("epoch", "best")}, 1)
        return {"vocabulary_size": len(tfidf.vocabulary_), "history": [row]}

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        if self.pipeline is None:
            raise ModelError("tfidf_logreg: predict before fit/load")
        classes = list(self.pipeline.classes_)
        return self.pipeline.predict_proba(list(texts))[:, classes.index(1)]

    def save(self, directory: Path) -> None:
        import skops.io as sio  # slow to import (it loads torch): only when saving/loading

        sio.dump(self.pipeline, directory / MODEL_FILE)

    @classmethod
    def load(cls, directory: Path, config: Config) -> Self:  # type: ignore[override]
        import skops.io as sio

        path = Path(directory) / MODEL_FILE
        if not path.is_file():
            raise ModelError(f"{directory}: no {MODEL_FILE}")
        untrusted = set(sio.get_untrusted_types(file=path)) - set(TRUSTED_TYPES)
        if untrusted:
            raise ModelError(f"{path}: refusing to load unexpected types {sorted(untrusted)}")
        return cls(config, sio.load(path, trusted=TRUSTED_TYPES))

    def parameter_count(self) -> int | None:
        if self.pipeline is None:
            return None
        logreg = self.pipeline.named_steps["logreg"]
        return int(logreg.coef_.size + logreg.intercept_.size)
