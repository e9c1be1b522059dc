"""What the two pretrained-encoder families share: loading a Hugging Face encoder (Hub id,
local folder or ``package:<module>``), cutting texts into token windows, and padding a batch.

The fine-tuned family (:mod:`fakenews.nn.transformer`) and the frozen-vector family
(:mod:`fakenews.nn.embedding`) both read texts this way; keeping it out of either family's module
means an edit to one family's training code reruns only that family's stages.
``transformers`` is imported lazily.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from fakenews.core.errors import ModelError
from fakenews.nn.cores import flush_denormals

# Before any torch op of this process (both encoder families import this module): see there.
flush_denormals()

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

PACKAGE_PREFIX = "package:"
CONFIG_FILE = "config.json"
_TRUE = {"1", "on", "yes", "true"}


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


def from_pretrained(source: str, local_only: bool) -> tuple[Any, Any]:
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
        return from_pretrained(source, local_only=True)
    except (OSError, ValueError) as error:
        failure: Exception = error
    if not local_dir and not hub_offline():
        try:
            return from_pretrained(source, local_only=False)
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
) -> dict[str, torch.Tensor]:
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
