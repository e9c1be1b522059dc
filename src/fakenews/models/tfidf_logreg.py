"""TF-IDF features + logistic regression: the classic, strong baseline (scikit-learn)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Self

import numpy as np
from pydantic import Field

from fakenews.classifier.base import MetricsCallback, ModelConfig, TextClassifier
from fakenews.core.errors import ModelError

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

# A fitted pipeline is its vocabulary and four arrays. Saved as JSON + safetensors (no code, no
# pickle) instead of skops, whose import walks every sklearn module and loads torch (~8 s per
# stage that saves or loads a TF-IDF model).
VOCABULARY_FILE = "vocabulary.json"
WEIGHTS_FILE = "weights.safetensors"


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
    # TF-IDF counts and the lbfgs solver are deterministic: the seed only draws
    # max_train_samples (tests/test_models.py checks two seeds give the same model).
    seed_free = True

    def __init__(self, config: Config, pipeline: Pipeline | None = None) -> None:
        super().__init__(config)
        self.pipeline = pipeline

    def _build(self) -> Pipeline:
        # Imported here: sklearn takes ~2 s to import, and the stage reads its data first.
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
        from threadpoolctl import threadpool_limits

        self.pipeline = self._build()
        try:
            # One BLAS thread, not the cores the stage got: lbfgs' dense dot products round
            # by how they are split over threads. The solver's BLAS work is small.
            with threadpool_limits(limits=1):
                self.pipeline.fit(train_texts, train_labels)
        except ValueError as error:  # e.g. min_df leaves no vocabulary on a tiny set
            raise ModelError(f"tfidf_logreg: training failed: {error}") from None
        tfidf = self.pipeline.named_steps["tfidf"]
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
        from safetensors.numpy import save_file

        if self.pipeline is None:
            raise ModelError("tfidf_logreg: save before fit")
        tfidf, logreg = self.pipeline.named_steps["tfidf"], self.pipeline.named_steps["logreg"]
        terms = sorted(tfidf.vocabulary_, key=tfidf.vocabulary_.__getitem__)  # by column
        (Path(directory) / VOCABULARY_FILE).write_text(
            json.dumps(terms, ensure_ascii=False), encoding="utf-8"
        )
        save_file(
            {
                "idf": np.ascontiguousarray(tfidf.idf_, dtype=np.float64),
                "coef": np.ascontiguousarray(logreg.coef_, dtype=np.float64),
                "intercept": np.ascontiguousarray(logreg.intercept_, dtype=np.float64),
                "classes": np.asarray(logreg.classes_, dtype=np.int64),
            },
            Path(directory) / WEIGHTS_FILE,
        )

    @classmethod
    def load(cls, directory: Path, config: Config) -> Self:  # type: ignore[override]
        from safetensors.numpy import load_file

        directory = Path(directory)
        for name in (VOCABULARY_FILE, WEIGHTS_FILE):
            if not (directory / name).is_file():
                raise ModelError(f"{directory}: no {name}")
        terms = json.loads((directory / VOCABULARY_FILE).read_text(encoding="utf-8"))
        arrays = load_file(directory / WEIGHTS_FILE)
        expected = {"idf", "coef", "intercept", "classes"}
        if set(arrays) != expected or not isinstance(terms, list):
            raise ModelError(f"{directory}: {WEIGHTS_FILE} must hold {sorted(expected)}")
        n_terms = len(terms)
        if arrays["idf"].shape != (n_terms,) or arrays["coef"].shape != (1, n_terms):
            raise ModelError(
                f"{directory}: {WEIGHTS_FILE} does not match {VOCABULARY_FILE} ({n_terms} terms)"
            )
        model = cls(config)
        pipeline = model._build()
        tfidf, logreg = pipeline.named_steps["tfidf"], pipeline.named_steps["logreg"]
        tfidf.vocabulary_ = {term: i for i, term in enumerate(terms)}
        tfidf.idf_ = arrays["idf"]  # sklearn's setter builds the fitted TF-IDF transformer
        logreg.coef_, logreg.intercept_ = arrays["coef"], arrays["intercept"]
        logreg.classes_ = arrays["classes"]
        logreg.n_features_in_ = n_terms
        model.pipeline = pipeline
        return model

    def parameter_count(self) -> int | None:
        if self.pipeline is None:
            return None
        logreg = self.pipeline.named_steps["logreg"]
        return int(logreg.coef_.size + logreg.intercept_.size)
