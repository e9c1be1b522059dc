"""The one interface every model family implements.

Adding a model = one module ``fakenews/models/<name>.py`` that defines ``Model`` (a
:class:`TextClassifier` subclass with a ``Config``) + one ``train.<name>`` entry in params.yaml.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal, Self

import numpy as np
import pandas as pd
from pydantic import Field

from fakenews.core.io import rounded
from fakenews.core.params import StrictModel

# Called by a model during fit with (metrics, step) so curves reach MLflow and DVC plots.
MetricsCallback = Callable[[dict[str, float], int | None], None]


class ModelConfig(StrictModel):
    """Knobs every model has; a family's Config adds its own."""

    seed: int = Field(42, description="Seed for sampling, initialisation and shuffling.")
    max_train_samples: int | None = Field(
        None, ge=2, description="Train on a stratified sample of at most this many rows."
    )
    text_fields: tuple[Literal["title", "text"], ...] = Field(
        ("title", "text"), min_length=1, description="Which fields form the model's input."
    )


def model_input(frame: pd.DataFrame, fields: Sequence[str]) -> list[str]:
    """Join the chosen fields of each row into the text a model sees."""
    parts = [frame[f].fillna("").astype(str) for f in fields]
    joined = parts[0]
    for part in parts[1:]:
        joined = joined.str.cat(part, sep="\n")
    return joined.str.strip().tolist()


def read_fraction(read: np.ndarray, total: np.ndarray) -> np.ndarray:
    """``read / total`` per text; a text without tokens counts as read in full."""
    read, total = np.asarray(read, dtype=float), np.asarray(total, dtype=float)
    return np.divide(read, total, out=np.ones_like(total), where=total > 0)


def reading_summary(shares: np.ndarray) -> dict[str, float]:
    """How much of its texts a model reads: mean and least share, and the share read in full."""
    shares = np.asarray(shares, dtype=float)
    if not len(shares):
        return {"mean_share": 1.0, "min_share": 1.0, "share_of_texts_read_fully": 1.0}
    return {
        "mean_share": rounded(shares.mean()),
        "min_share": rounded(shares.min()),
        "share_of_texts_read_fully": rounded(np.mean(shares >= 1.0)),
    }


class TextClassifier(ABC):
    """A binary fake-news classifier: P(fake) for each text."""

    name: ClassVar[str]
    family: ClassVar[str]  # groups models in the report (e.g. in- vs out-of-domain gaps)
    Config: ClassVar[type[ModelConfig]]
    # True when fit/predict_proba import nothing new and spend their time in native kernels
    # that release the GIL: the stage may then import sklearn.metrics on a background
    # thread meanwhile (concurrent imports of one package tree are not safe).
    background_imports: ClassVar[bool] = False
    # True when the fit does not depend on the seed (no random init, sampling or shuffling):
    # one run then stands for every seed, and the report compares it as such.
    seed_free: ClassVar[bool] = False

    def __init__(self, config: ModelConfig) -> None:
        self.config = config

    @abstractmethod
    def fit(
        self,
        train_texts: list[str],
        train_labels: np.ndarray,
        val_texts: list[str],
        val_labels: np.ndarray,
        log_metrics: MetricsCallback,
    ) -> dict[str, Any]:
        """Train; return facts worth recording (e.g. epochs run, vocabulary size)."""

    @abstractmethod
    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """P(fake) per text, shape (n,)."""

    @abstractmethod
    def save(self, directory: Path) -> None:
        """Write the model's files into an existing, empty folder (safe formats only)."""

    @classmethod
    @abstractmethod
    def load(cls, directory: Path, config: ModelConfig) -> Self:
        """Read back what :meth:`save` wrote."""

    def reading_share(self, texts: Sequence[str]) -> np.ndarray:
        """Per text, the share of its tokens (by the model's own tokenizer) that
        :meth:`predict_proba` reads, in [0, 1]. The default, all of it, is right for models
        without a length cap (a bag of words reads every token)."""
        return np.ones(len(texts))

    def first_window(self) -> TextClassifier | None:
        """The same fitted model reading only the first window of each text (the single-window
        reading a length-capped model does), when it normally reads more; else None. Lets
        evaluate show what reading the whole text adds."""
        return None

    def parameter_count(self) -> int | None:
        return None

    def device_name(self) -> str:
        """Where predict_proba runs (reported with the efficiency figures)."""
        return "cpu"
