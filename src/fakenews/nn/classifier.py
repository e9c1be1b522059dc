"""What every torch model family does the same way: seeding, batching, training, prediction.

A family (:mod:`fakenews.nn.recurrent`, :mod:`fakenews.nn.transformer`) subclasses
:class:`TorchClassifier` and supplies only what differs: how the tokenizer and network are
built (:meth:`~TorchClassifier._build`), how texts become windows of token ids (``_windows``)
and batches (``_collate``), the forward pass, save/load and its extra fit facts. Families import
this module, never each other, so editing one family's file touches only that family's stages.

A text may span several windows (the transformer family reads long texts in ``max_len`` pieces):
each window trains with its text's label, and a text's prediction is the softmax of its windows'
mean logits. A text read as one window gets exactly the softmax of that window's logits.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar, Generic, TypeVar, cast

import numpy as np
import torch
from torch import nn

from fakenews.classifier.base import MetricsCallback, TextClassifier
from fakenews.core.errors import ModelError
from fakenews.nn.batching import (
    LazyBatches,
    bucketed_batches,
    sorted_batches,
    tile_rows,
    uniform_batches,
)
from fakenews.nn.trainer import (
    Batch,
    TorchTrainer,
    TorchTrainingConfig,
    configure_threads,
    resolve_device,
    seed_torch,
)

ConfigT = TypeVar("ConfigT", bound=TorchTrainingConfig)
TokenizerT = TypeVar("TokenizerT")
NetworkT = TypeVar("NetworkT", bound=nn.Module)


class TorchClassifier(TextClassifier, Generic[ConfigT, TokenizerT, NetworkT]):
    """A tokenizer + a torch network trained by :class:`TorchTrainer`.

    The family class sets ``family`` and its ``Config``; each model module then sets ``name``
    and its own ``Config`` (a subclass of the family's).
    """

    Config: ClassVar[type[TorchTrainingConfig]]
    background_imports = True  # torch is imported already; fit and predict run its kernels

    def __init__(
        self,
        config: ConfigT,
        tokenizer: TokenizerT | None = None,
        network: NetworkT | None = None,
    ) -> None:
        super().__init__(config)
        self.tokenizer = tokenizer
        self.network = network

    @property
    def typed_config(self) -> ConfigT:
        """``config`` as the family's config type (the base class only knows ModelConfig)."""
        assert isinstance(self.config, TorchTrainingConfig)
        return cast(ConfigT, self.config)

    # What a family supplies.

    @abstractmethod
    def _build(self, train_texts: list[str]) -> tuple[TokenizerT, NetworkT]:
        """A fresh tokenizer and network for training (torch is already seeded)."""

    @abstractmethod
    def _windows(self, texts: Sequence[str]) -> tuple[list[list[int]], np.ndarray]:
        """Unpadded token-id windows (every text gets at least one, every window at least one
        id) and, per window, the index of the text it belongs to (non-decreasing)."""

    @abstractmethod
    def _collate(self, sequences: Sequence[list[int]], labels: np.ndarray | None) -> Batch:
        """Pad token-id sequences into one batch (with ``labels`` when given)."""

    @abstractmethod
    def _forward(self, module: nn.Module, batch: Batch) -> torch.Tensor:
        """Class logits, shape (batch, 2), for a batch without labels."""

    def _fit_facts(self) -> dict[str, Any]:
        """Family-specific facts :meth:`fit` returns besides the training history."""
        return {}

    def _trainer(self) -> TorchTrainer:
        """The trainer over the current network; families with a schedule override this."""
        assert self.network is not None
        return TorchTrainer(self.network, self._forward, self.typed_config)

    # What every family does the same way.

    def device_name(self) -> str:
        return resolve_device(self.typed_config).type

    def parameter_count(self) -> int | None:
        return sum(p.numel() for p in self.network.parameters()) if self.network else None

    def fit(
        self,
        train_texts: list[str],
        train_labels: np.ndarray,
        val_texts: list[str],
        val_labels: np.ndarray,
        log_metrics: MetricsCallback,
    ) -> dict[str, Any]:
        c = self.typed_config
        configure_threads(c)
        # Seeded before _build: the network's initialisation (a fresh head) depends on it.
        seed_torch(c.seed)
        torch.use_deterministic_algorithms(True, warn_only=True)
        self.tokenizer, self.network = self._build(train_texts)
        (train_ids, train_owner), (val_ids, val_owner) = (
            self._windows(train_texts),
            self._windows(val_texts),
        )
        train_lengths = [len(s) for s in train_ids]
        # Each window carries its text's label; validation (epoch choice) scores windows too.
        train_y = np.asarray(train_labels)[train_owner]
        val_y = np.asarray(val_labels)[val_owner]

        def train_batches(epoch: int) -> LazyBatches[Batch]:
            # Its own generator per epoch: the batch order never depends on torch's RNG use.
            rng = np.random.default_rng([c.seed, epoch])
            indices = bucketed_batches(
                train_lengths, c.batch_size, rng, c.bucket_chunk_batches, c.max_batch_tokens
            )
            return LazyBatches(
                indices, lambda b: self._collate([train_ids[i] for i in b], train_y[b])
            )

        val_batches = LazyBatches(
            sorted_batches([len(s) for s in val_ids], c.eval_batch_size, c.max_batch_tokens),
            lambda b: self._collate([val_ids[i] for i in b], val_y[b]),
        )
        trainer = self._trainer()
        history = trainer.fit(train_batches, val_batches, log_metrics)
        self.network.cpu()
        # Family facts between precision and epochs_run, as before: model.json keeps its layout.
        return {
            "history": history,
            "precision": trainer.precision,
            **self._fit_facts(),
            "epochs_run": len(history),
            "best_epoch": int(next(r["epoch"] for r in history if r["best"])),
        }

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        if self.tokenizer is None or self.network is None:
            raise ModelError(f"{self.name}: predict before fit/load")
        c = self.typed_config
        configure_threads(c)
        ids, owner = self._windows(texts)
        # One length per batch and whole row tiles: a window's logits depend on nothing but
        # its own tokens (see uniform_batches), so evaluate, predict and a text alone agree.
        indices = uniform_batches([len(s) for s in ids], c.eval_batch_size, c.max_batch_tokens)
        tiled = [tile_rows(b) for b in indices]
        batches = LazyBatches(tiled, lambda b: self._collate([ids[i] for i in b], None))
        logits = self._trainer().predict_logits(batches)  # inference_mode, in batch order
        self.network.cpu()
        starts = np.cumsum([0] + [len(b) for b in tiled[:-1]])
        real = [start + np.arange(len(b)) for start, b in zip(starts, indices, strict=True)]
        ordered = np.empty((len(ids), 2), dtype=np.float32)
        if indices:  # back to window order, the repeated rows left out
            ordered[np.concatenate(indices)] = logits[np.concatenate(real)]
        return pooled_proba(ordered, owner, len(texts))


def pooled_proba(logits: np.ndarray, owner: np.ndarray, n_texts: int) -> np.ndarray:
    """P(fake) per text: softmax of the mean logits of its windows (``owner[i]``: window i's text).

    Logits, not probabilities, are averaged: a confident window counts for more than a hesitant
    one. A single window's mean is its own logits, bit for bit (x / 1 is exact in float32).
    """
    summed = torch.zeros((n_texts, 2), dtype=torch.float32)
    summed.index_add_(0, torch.as_tensor(owner, dtype=torch.long), torch.from_numpy(logits))
    counts = torch.bincount(torch.as_tensor(owner, dtype=torch.long), minlength=n_texts)
    mean = summed / counts.clamp(min=1).unsqueeze(1).to(torch.float32)
    return torch.softmax(mean, dim=-1)[:, 1].numpy().astype(np.float64)
