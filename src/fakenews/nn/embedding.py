"""Sentence embeddings from a frozen pretrained encoder, and their on-disk cache.

A text's vector is what sentence-transformers computes for all-MiniLM-L6-v2 (mean of the last
hidden states over non-padding tokens, then L2-normalised), extended to long texts: the text is
cut into windows of ``max_len`` tokens, each window is mean-pooled, and the windows' means are
averaged weighted by their token counts (so the result is the mean over every token read).

The cache maps ``text_key(text)`` to a vector, one folder per dataset
(``data/embeddings/<dataset>/{vectors.npy,index.json}``), and is used only where its settings
equal the embedder's. Beside it, ``first_window/`` holds each multi-window text's first-window
vector (settings with ``max_chunks: 1``): what evaluate's first-window scores read, pooled from
the windows embed encoded anyway. torch and transformers are imported lazily: importing this
module (the embed stage's start-up) stays light.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from fakenews.core.errors import DatasetError
from fakenews.core.io import atomic_dir

if TYPE_CHECKING:
    from torch import nn
    from transformers import PreTrainedTokenizerBase

    from fakenews.nn.encoder import Windows

log = logging.getLogger(__name__)

VECTORS_FILE = "vectors.npy"
INDEX_FILE = "index.json"
# Sub-folder of a dataset's cache: first-window vectors of the texts longer than one window.
FIRST_WINDOW_DIR = "first_window"
POOLING = "mean"
# The model whose train.<model> section holds the embedding settings of the embed stage.
EMBED_MODEL = "minilm_embed"


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class _Encoder:
    """A loaded tokenizer + encoder."""

    tokenizer: PreTrainedTokenizerBase
    encoder: nn.Module
    max_positions: int | None


@dataclass
class _EncoderSlot:
    """Where an encoder lands once loaded: shared by embedders of one pretrained model that
    differ only in how they read (window length, windows, batch size)."""

    loaded: _Encoder | None = None


@dataclass
class Embedder:
    """Frozen-encoder sentence embeddings; the encoder loads on first use."""

    pretrained: str
    max_len: int = 256
    max_chunks: int | None = None
    batch_size: int = 64
    num_threads: int | None = 1  # see fix_threads: vectors depend on it in the last bits
    # Cumulative counts over embed() calls: texts found in the cache, unique texts encoded.
    cache_hits: int = field(default=0, init=False)
    computed: int = field(default=0, init=False)
    _slot: _EncoderSlot = field(default_factory=_EncoderSlot, init=False, repr=False)

    @property
    def settings(self) -> dict[str, Any]:
        """What a vector depends on besides its text: a cache is valid only for equal settings."""
        return {
            "pretrained": self.pretrained,
            "max_len": self.max_len,
            "max_chunks": self.max_chunks,
            "pooling": POOLING,
        }

    def variant(self, **changes: Any) -> Embedder:
        """An embedder with ``changes`` (fresh counts), sharing this one's encoder when it
        reads with the same pretrained model."""
        other = replace(self, **changes)
        if other.pretrained == self.pretrained:
            other._slot = self._slot
        return other

    def _load(self) -> _Encoder:
        if self._slot.loaded is None:
            from fakenews.nn.encoder import load_pretrained

            tokenizer, model = load_pretrained(self.pretrained)
            # The bare encoder: the fresh classification head load_pretrained adds is unused.
            encoder = model.base_model.float().eval()
            encoder.requires_grad_(False)
            limit = getattr(model.config, "max_position_embeddings", None)
            self._slot.loaded = _Encoder(tokenizer, encoder, limit)
        return self._slot.loaded

    @property
    def tokenizer(self) -> PreTrainedTokenizerBase:
        return self._load().tokenizer

    @property
    def window_len(self) -> int:
        """Tokens per window: max_len, capped at the encoder's position embeddings."""
        limit = self._load().max_positions
        return min(self.max_len, limit) if limit else self.max_len

    @property
    def dim(self) -> int:
        return int(self._load().encoder.config.hidden_size)

    def windows(self, texts: Sequence[str]) -> Windows:
        from fakenews.nn.encoder import split_windows

        return split_windows(self.tokenizer, texts, self.window_len, 0, self.max_chunks)

    def embed(
        self, texts: Sequence[str], cache: Mapping[str, np.ndarray] | None = None
    ) -> np.ndarray:
        """Unit-length vectors, float32 (n, hidden); texts in ``cache`` are not encoded again."""
        keys = [text_key(t) for t in texts]
        cache = cache or {}
        self.cache_hits += sum(k in cache for k in keys)
        missing: dict[str, str] = {}  # unique texts to encode, by key
        for key, text in zip(keys, texts, strict=True):
            if key not in cache and key not in missing:
                missing[key] = text
        fresh = dict(zip(missing, self._encode(list(missing.values())), strict=True))
        self.computed += len(fresh)
        if not keys:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([fresh[k] if k in fresh else cache[k] for k in keys]).astype(np.float32)

    def _encode(self, texts: list[str]) -> np.ndarray:
        return self.encode_windows(texts)[0]

    def encode_windows(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(vectors, first-window vectors, which texts read more than one window), each row
        computed as an embedder with ``max_chunks=1`` would from the same window means."""
        if not texts:
            empty = np.zeros((0, 0), dtype=np.float32)
            return empty, empty, np.zeros(0, dtype=bool)
        import torch

        from fakenews.nn.batching import tile_rows, uniform_batches
        from fakenews.nn.cores import fix_threads
        from fakenews.nn.encoder import collate

        loaded = self._load()
        fix_threads(self.num_threads)
        windows = self.windows(texts)
        pad = loaded.tokenizer.pad_token_id
        names = loaded.tokenizer.model_input_names
        lengths = np.fromiter((len(w) for w in windows.ids), dtype=np.int64)
        # One length per batch, whole row tiles (see uniform_batches): a window's vector depends
        # on its own tokens only, not on the texts encoded with it. Longest first, so a
        # too-large batch fails at once; the pooled rows go back to window order.
        batches = uniform_batches(lengths, self.batch_size)[::-1]
        pooled = np.zeros((len(windows.ids), self.dim), dtype=np.float64)
        with torch.inference_mode():
            for chosen in batches:
                rows = tile_rows(chosen)
                batch = collate([windows.ids[i] for i in rows], None, pad or 0, names)
                hidden = loaded.encoder(**batch).last_hidden_state
                means = hidden.mean(dim=1)  # no padding: every position is a token
                pooled[chosen] = means[: len(chosen)].double().numpy()
        # A text's windows weighted by their tokens: the mean over every token read.
        weights = lengths.astype(np.float64)
        sums = np.zeros((len(texts), self.dim), dtype=np.float64)
        np.add.at(sums, windows.owner, pooled * weights[:, None])
        counts = np.bincount(windows.owner, weights=weights, minlength=len(texts))
        vectors = sums / counts[:, None]
        # Each text's first window alone, with the same arithmetic as a one-window reading.
        first = np.searchsorted(windows.owner, np.arange(len(texts)))
        head = pooled[first] * weights[first, None] / weights[first, None]
        several = np.bincount(windows.owner, minlength=len(texts)) > 1
        return _unit(vectors), _unit(head), several


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)


# --- the cache ---------------------------------------------------------------------------------


class EmbeddingCache:
    """One folder of cached vectors: ``vectors.npy`` (float32, row i = keys[i]) + ``index.json``."""

    @staticmethod
    def write(
        directory: Path,
        keys: Sequence[str],
        vectors: np.ndarray,
        settings: Mapping[str, Any],
        first_window: tuple[Sequence[str], np.ndarray, Mapping[str, Any]] | None = None,
    ) -> None:
        """The cache, and ``first_window`` (keys, vectors, settings) in its sub-folder, swapped
        in together."""
        with atomic_dir(Path(directory)) as tmp:
            _write_files(tmp, keys, vectors, settings)
            if first_window is not None:
                (tmp / FIRST_WINDOW_DIR).mkdir()
                _write_files(tmp / FIRST_WINDOW_DIR, *first_window)

    @staticmethod
    def read(directory: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """(settings, key -> vector); a missing or malformed folder gives DatasetError."""
        directory = Path(directory)
        try:
            index = json.loads((directory / INDEX_FILE).read_text("utf-8"))
            settings, keys = index["settings"], index["keys"]
            # Memory-mapped: a lookup reads only the rows it needs.
            vectors = np.load(directory / VECTORS_FILE, mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise DatasetError(f"{directory}: unreadable embedding cache ({error})") from None
        if vectors.ndim != 2 or len(vectors) != len(keys):
            raise DatasetError(f"{directory}: {len(keys)} keys but vectors of {vectors.shape}")
        return settings, dict(zip(keys, vectors, strict=True))


def _write_files(
    folder: Path, keys: Sequence[str], vectors: np.ndarray, settings: Mapping[str, Any]
) -> None:
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if vectors.ndim != 2 or len(vectors) != len(keys):
        raise ValueError(f"{len(keys)} keys but vectors of shape {vectors.shape}")
    np.save(folder / VECTORS_FILE, vectors, allow_pickle=False)
    index = {"settings": dict(settings), "keys": list(keys)}
    (folder / INDEX_FILE).write_text(json.dumps(index, sort_keys=True) + "\n", "utf-8")


def same_settings(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    # Compared as JSON would store them (tuples as lists), as index.json holds them.
    return json.loads(json.dumps(dict(a))) == json.loads(json.dumps(dict(b)))


def load_caches(root: Path, settings: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Every cache ``root/*/`` (and its first-window sub-cache) made with ``settings``, merged;
    others (and broken ones) skipped."""
    merged: dict[str, np.ndarray] = {}
    root = Path(root)
    if not root.is_dir():
        return merged
    found = [*root.glob(f"*/{INDEX_FILE}"), *root.glob(f"*/{FIRST_WINDOW_DIR}/{INDEX_FILE}")]
    for index in sorted(found):
        try:
            stored, vectors = EmbeddingCache.read(index.parent)
        except DatasetError as error:
            log.warning("skipping embedding cache: %s", error)  # a cache only saves time
            continue
        if same_settings(stored, settings):
            merged.update(vectors)
    return merged
