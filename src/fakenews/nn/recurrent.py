"""The recurrent family (RNN, LSTM, GRU, BiLSTM): word vocabulary + embedding + recurrent layers.

Padding never reaches the state a prediction is made from (the notebooks this product replaces
read the last state of post-padded sequences, and their vanilla RNN never learned).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, Self

import numpy as np
import torch
from pydantic import Field
from safetensors.torch import load_file, save_file
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers
from torch import nn

from fakenews.classifier.base import read_fraction
from fakenews.core.errors import ModelError
from fakenews.nn.classifier import TorchClassifier
from fakenews.nn.trainer import Batch, TorchTrainingConfig

PAD, UNK = "[PAD]", "[UNK]"
WEIGHTS_FILE = "model.safetensors"
TOKENIZER_FILE = "tokenizer.json"
NETWORK_FILE = "network.json"


class RecurrentConfig(TorchTrainingConfig):
    cell: Literal["rnn", "lstm", "gru"] = Field("lstm", description="Recurrent cell type.")
    vocab_size: int = Field(30_000, ge=10, description="Words kept (most frequent in train).")
    min_frequency: int = Field(
        1, ge=1, description="Words seen fewer times in train map to [UNK] (fights overfitting)."
    )
    embedding_dim: int = Field(100, ge=1, description="Word embedding size.")
    hidden_sizes: tuple[int, ...] = Field(
        (128,), min_length=1, description="Units per stacked recurrent layer (per direction)."
    )
    bidirectional: bool = Field(False, description="Read each sequence both ways.")
    dense_size: int | None = Field(None, ge=1, description="Optional ReLU layer before output.")
    dropout: float = Field(0.3, ge=0, lt=1, description="Dropout before the output layer.")
    max_len: int = Field(512, ge=1, description="Tokens kept per text (the first ones).")
    lowercase: bool = Field(True, description="Lowercase before building the vocabulary.")


def build_tokenizer(texts: Sequence[str], config: RecurrentConfig) -> Tokenizer:
    """A word-level vocabulary from the training texts only."""
    tokenizer = Tokenizer(models.WordLevel(unk_token=UNK))
    steps = [normalizers.NFKC()] + ([normalizers.Lowercase()] if config.lowercase else [])
    tokenizer.normalizer = normalizers.Sequence(steps)
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    trainer = trainers.WordLevelTrainer(
        vocab_size=config.vocab_size,
        min_frequency=config.min_frequency,
        special_tokens=[PAD, UNK],
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer=trainer)
    tokenizer.enable_truncation(max_length=config.max_len)
    return tokenizer


def encode(tokenizer: Tokenizer, texts: Sequence[str]) -> list[list[int]]:
    # An empty text still gets one token, so every sequence has a final state.
    unk = tokenizer.token_to_id(UNK)
    return [e.ids or [unk] for e in tokenizer.encode_batch(list(texts))]


class RecurrentLayer(nn.Module):
    """One (bi)directional recurrent layer over post-padded batches, exact despite the padding.

    Each sequence's final state is read at its own last token, and the backward direction reads
    each sequence reversed within its length, so pad tokens never reach a state that is used.
    Unlike packed sequences of unequal lengths (a per-step loop on CPU, ~6x slower), this keeps
    PyTorch on its fused kernels; length bucketing keeps the wasted pad steps few.
    """

    def __init__(self, cell: type[nn.RNNBase], input_size: int, hidden: int, bidirectional: bool):
        super().__init__()
        self.forward_rnn = cell(input_size, hidden, batch_first=True)
        self.backward_rnn = cell(input_size, hidden, batch_first=True) if bidirectional else None

    def forward(
        self, x: torch.Tensor, last: torch.Tensor, reverse: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        rows = torch.arange(x.shape[0], device=x.device)
        out, _ = self.forward_rnn(x)
        final = out[rows, last]
        if self.backward_rnn is not None and reverse is not None:
            out_rev, _ = self.backward_rnn(_gather_time(x, reverse))
            final = torch.cat([final, out_rev[rows, last]], dim=-1)
            out = torch.cat([out, _gather_time(out_rev, reverse)], dim=-1)
        return out, final


def _gather_time(x: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    return x.gather(1, index.unsqueeze(-1).expand(-1, -1, x.shape[-1]))


def reverse_index(lengths: torch.Tensor, max_len: int) -> torch.Tensor:
    """Per row: positions [len-1, ..., 0, len, ..., max_len-1] (reverse the real tokens only)."""
    steps = torch.arange(max_len, device=lengths.device).unsqueeze(0)
    lengths = lengths.unsqueeze(1)
    return torch.where(steps < lengths, lengths - 1 - steps, steps)


class RecurrentNet(nn.Module):
    """Embedding -> stacked (bi)directional recurrent layers -> [dense] -> dropout -> 2 logits."""

    def __init__(
        self,
        vocab_size: int,
        embedding_dim: int,
        cell: str,
        hidden_sizes: Sequence[int],
        bidirectional: bool,
        dense_size: int | None,
        dropout: float,
    ) -> None:
        super().__init__()
        rnn_class = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cell]
        self.bidirectional = bidirectional
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=0)
        directions = 2 if bidirectional else 1
        sizes = [embedding_dim, *(h * directions for h in hidden_sizes)]
        self.layers = nn.ModuleList(
            RecurrentLayer(rnn_class, sizes[i], hidden, bidirectional)
            for i, hidden in enumerate(hidden_sizes)
        )
        head: list[nn.Module] = []
        features = sizes[-1]
        if dense_size:
            head += [nn.Linear(features, dense_size), nn.ReLU()]
            features = dense_size
        head += [nn.Dropout(dropout), nn.Linear(features, 2)]
        self.head = nn.Sequential(*head)

    def forward(self, input_ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        x = self.embedding(input_ids)
        last = lengths - 1
        reverse = reverse_index(lengths, input_ids.shape[1]) if self.bidirectional else None
        final = x[:, 0]
        for layer in self.layers:
            x, final = layer(x, last, reverse)
        return self.head(final)


def collate(sequences: Sequence[list[int]], labels: np.ndarray | None) -> Batch:
    lengths = np.fromiter((len(s) for s in sequences), dtype=np.int64, count=len(sequences))
    # One numpy scatter instead of a tensor per row: collation stays off the profile.
    input_ids = np.zeros((len(sequences), int(lengths.max())), dtype=np.int64)
    mask = np.arange(input_ids.shape[1]) < lengths[:, None]
    input_ids[mask] = np.fromiter(
        itertools.chain.from_iterable(sequences), dtype=np.int64, count=int(lengths.sum())
    )
    batch = {"input_ids": torch.from_numpy(input_ids), "lengths": torch.from_numpy(lengths)}
    if labels is not None:
        batch["labels"] = torch.as_tensor(labels, dtype=torch.long)
    return batch


class RecurrentClassifier(TorchClassifier[RecurrentConfig, Tokenizer, RecurrentNet]):
    """The family; each model module sets ``name`` and its default ``Config``."""

    Config = RecurrentConfig
    family = "recurrent"

    def _network_kwargs(self, tokenizer: Tokenizer) -> dict[str, Any]:
        """RecurrentNet's arguments, also saved as network.json to rebuild it on load."""
        c = self.typed_config
        return {
            "vocab_size": tokenizer.get_vocab_size(),
            "embedding_dim": c.embedding_dim,
            "cell": c.cell,
            "hidden_sizes": list(c.hidden_sizes),
            "bidirectional": c.bidirectional,
            "dense_size": c.dense_size,
            "dropout": c.dropout,
        }

    def _build(self, train_texts: list[str]) -> tuple[Tokenizer, RecurrentNet]:
        tokenizer = build_tokenizer(train_texts, self.typed_config)
        return tokenizer, RecurrentNet(**self._network_kwargs(tokenizer))

    def _windows(self, texts: Sequence[str]) -> tuple[list[list[int]], np.ndarray]:
        # One window per text: the first max_len words (the tokenizer truncates).
        assert self.tokenizer is not None
        return encode(self.tokenizer, texts), np.arange(len(texts))

    def reading_share(self, texts: Sequence[str]) -> np.ndarray:
        assert self.tokenizer is not None
        untruncated = Tokenizer.from_str(self.tokenizer.to_str())  # a copy: predict keeps its cap
        untruncated.no_truncation()
        totals = np.array([len(e.ids) for e in untruncated.encode_batch(list(texts))], dtype=int)
        truncation = self.tokenizer.truncation  # what predict keeps: the first max_len words
        kept = totals if truncation is None else np.minimum(totals, truncation["max_length"])
        return read_fraction(kept, totals)

    def _collate(self, sequences: Sequence[list[int]], labels: np.ndarray | None) -> Batch:
        return collate(sequences, labels)

    def _forward(self, module: nn.Module, batch: Batch) -> torch.Tensor:
        return module(batch["input_ids"], batch["lengths"])

    def _fit_facts(self) -> dict[str, Any]:
        assert self.tokenizer is not None
        return {"vocabulary_size": self.tokenizer.get_vocab_size()}

    def save(self, directory: Path) -> None:
        assert self.tokenizer is not None and self.network is not None
        save_file(
            {k: v.contiguous() for k, v in self.network.state_dict().items()},
            directory / WEIGHTS_FILE,
        )
        self.tokenizer.save(str(directory / TOKENIZER_FILE))
        network_json = json.dumps(self._network_kwargs(self.tokenizer), indent=2) + "\n"
        (directory / NETWORK_FILE).write_text(network_json)

    @classmethod
    def load(cls, directory: Path, config: RecurrentConfig) -> Self:  # type: ignore[override]
        directory = Path(directory)
        for name in (WEIGHTS_FILE, TOKENIZER_FILE, NETWORK_FILE):
            if not (directory / name).is_file():
                raise ModelError(f"{directory}: missing {name}")
        tokenizer = Tokenizer.from_file(str(directory / TOKENIZER_FILE))
        kwargs = json.loads((directory / NETWORK_FILE).read_text())
        network = RecurrentNet(**kwargs)
        state = load_file(directory / WEIGHTS_FILE)
        try:
            network.load_state_dict(state)
        except RuntimeError as error:
            raise ModelError(f"{directory}: weights do not match the network: {error}") from None
        network.eval()
        return cls(config, tokenizer, network)
