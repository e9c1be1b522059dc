"""Recurrent training throughput: this project's trainer vs the notebooks' loop, in one run.

Both train the same LSTM (``train.lstm`` in params.yaml: vocab 30k, embedding 100, hidden 128,
max 512 tokens, lr 1e-3) on the same texts with the same vocabulary for the same number of
training examples:

* reference — a faithful re-implementation of the notebooks' loop: random batches of 32, each
  padded to its longest text, the last time step read as the final state (no packing);
* trainer — fakenews' TorchTrainer: length-bucketed batches of ``batch_size``, final state read
  at each text's own last token, fused AdamW, gradient clipping.

Prints real (non-pad) tokens per second for each, their ratio, and validation accuracy after
the run. Both run on the trainer's device (``device`` in the lstm params).

Also prints each loop's achieved GFLOP/s and its share of a matmul peak measured in the same
process on the same threads (benchmarks/flops.py: how FLOPs are counted). Per time step, forward:
``2 * 4 * H * (E + H)`` per LSTM layer and direction (from the modules' weight shapes; gate
biases and activations are elementwise, ~0.5%, not counted), plus the head once per sequence;
training = 3x forward. The LSTM computes every pad step, so GFLOP/s are given on padded tokens
(the work done, compared with the peak) and on real tokens (the useful rate). Goal: training at
>= 30% of the peak of the precision it runs in; when far below, a line gives the measured limit
(one time step's hidden product, which the recurrence cannot batch across steps).

``--keep-denormals`` measures with IEEE denormals in every torch thread instead of the project's
flush-to-zero (the header line prints the mode, probed in every thread, and the CPU capability).
Usage (after `dvc repro` has built the CONSTRAINT split):

    python benchmarks/recurrent_throughput.py [--dataset constraint] [--examples 6400]
        [--keep-denormals]

``--smoke`` runs the same code on a few dozen generated texts with a tiny network (no split
needed): a check that the script still works, not a measurement.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from flops import (
    DTYPES,
    TRAINING_FACTOR,
    Peaks,
    flops_line,
    header,
    keep_denormals,
    matmul_rate,
    recurrent_flops,
)
from torch import nn

from fakenews.classifier.base import model_input
from fakenews.core.io import read_split
from fakenews.core.params import load_params
from fakenews.core.paths import Paths
from fakenews.models import model_config
from fakenews.nn.batching import LazyBatches, bucketed_batches, padding_fraction
from fakenews.nn.recurrent import (
    RecurrentConfig,
    RecurrentNet,
    build_tokenizer,
    collate,
    encode,
)
from fakenews.nn.trainer import TorchTrainer, configure_threads, resolve_device, seed_torch

REPO = Path(__file__).resolve().parents[1]
GOAL = 0.30  # share of the matmul peak the trainer's LSTM training should reach (issue 29)


class NotebookLSTM(nn.Module):
    """The notebooks' model: Embedding -> LSTM -> last time step -> dropout -> 1 logit."""

    def __init__(self, vocab_size: int) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, 100, padding_idx=0)
        self.lstm = nn.LSTM(100, 128, batch_first=True)
        self.head = nn.Sequential(nn.Dropout(0.3), nn.Linear(128, 1))

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm(self.embedding(input_ids))
        return self.head(out[:, -1]).squeeze(-1)  # post-padded: often a pad position


@dataclass(frozen=True)
class Run:
    """One training loop's measurement."""

    tokens_per_s: float  # real tokens
    accuracy: float
    padding: float
    seconds: float
    real_flops: float  # training FLOPs on real tokens
    padded_flops: float  # training FLOPs of every computed step, pad steps included
    precision: str
    rows: float  # mean rows per batch: the hidden product's batch dimension


def training_flops(
    model: nn.Module, lengths: list[int], batches: list[np.ndarray]
) -> tuple[float, float]:
    """(real, padded) training FLOPs of these batches: every step of the model's recurrent
    layers, the head once per sequence, times 3 for the backward pass."""
    per_token, per_sequence = recurrent_flops(model)
    real = sum(lengths[i] for b in batches for i in b)
    padded = sum(len(b) * max(lengths[i] for i in b) for b in batches)
    sequences = sum(len(b) for b in batches)
    return (
        TRAINING_FACTOR * (real * per_token + sequences * per_sequence),
        TRAINING_FACTOR * (padded * per_token + sequences * per_sequence),
    )


def accuracy(probs: np.ndarray, labels: np.ndarray) -> float:
    return float(((probs >= 0.5).astype(int) == labels).mean())


def smoke_split() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Generated train/val frames shaped like a split (tests/helpers' news), for --smoke."""
    sys.path.insert(0, str(REPO / "tests"))
    from helpers.news import generated_split_frame

    return generated_split_frame(1, 24), generated_split_frame(2, 24)


def run_reference(
    ids: list[list[int]],
    labels: np.ndarray,
    val_ids: list[list[int]],
    val_labels: np.ndarray,
    vocab: int,
    examples: int,
    seed: int,
    device: torch.device,
) -> Run:
    seed_torch(seed)
    model = NotebookLSTM(vocab).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.BCEWithLogitsLoss()
    rng = np.random.default_rng(seed)
    order = np.concatenate([rng.permutation(len(ids)) for _ in range(examples // len(ids) + 1)])
    batches = [order[i : i + 32] for i in range(0, examples, 32)]
    tokens = sum(len(ids[i]) for b in batches for i in b)
    model.train()
    started = time.perf_counter()
    for b in batches:
        batch = collate([ids[i] for i in b], labels[b])
        logits = model(batch["input_ids"].to(device))
        loss = loss_fn(logits, batch["labels"].float().to(device))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    seconds = time.perf_counter() - started
    model.eval()
    with torch.inference_mode():
        probs = np.concatenate(
            [
                torch.sigmoid(model(collate(val_ids[i : i + 256], None)["input_ids"].to(device)))
                .cpu()
                .numpy()
                for i in range(0, len(val_ids), 256)
            ]
        )
    lengths = [len(s) for s in ids]
    real, padded = training_flops(model, lengths, batches)
    pad = padding_fraction(lengths, batches)
    rows = float(np.mean([len(b) for b in batches]))
    return Run(
        tokens / seconds, accuracy(probs, val_labels), pad, seconds, real, padded, "fp32", rows
    )


def run_trainer(
    ids: list[list[int]],
    labels: np.ndarray,
    val_ids: list[list[int]],
    val_labels: np.ndarray,
    vocab: int,
    config: RecurrentConfig,
    examples: int,
    seed: int,
) -> Run:
    seed_torch(seed)
    net = RecurrentNet(
        vocab_size=vocab,
        embedding_dim=config.embedding_dim,
        cell=config.cell,
        hidden_sizes=config.hidden_sizes,
        bidirectional=config.bidirectional,
        dense_size=config.dense_size,
        dropout=config.dropout,
    )
    lengths = [len(s) for s in ids]
    rng = np.random.default_rng(seed)
    indices: list[np.ndarray] = []
    while sum(len(b) for b in indices) < examples:
        indices += bucketed_batches(
            lengths, config.batch_size, rng, config.bucket_chunk_batches, config.max_batch_tokens
        )
    kept, total = [], 0
    for b in indices:
        if total >= examples:
            break
        kept.append(b)
        total += len(b)
    tokens = sum(lengths[i] for b in kept for i in b)
    train = LazyBatches(kept, lambda b: collate([ids[i] for i in b], labels[b]))
    one_config = config.model_copy(update={"epochs": 1})
    trainer = TorchTrainer(net, lambda m, b: m(b["input_ids"], b["lengths"]), one_config)
    val = LazyBatches(
        [np.arange(i, min(i + 256, len(val_ids))) for i in range(0, len(val_ids), 256)],
        lambda b: collate([val_ids[i] for i in b], val_labels[b]),
    )
    started = time.perf_counter()
    trainer.fit(lambda epoch: train, [], lambda m, s: None)
    seconds = time.perf_counter() - started
    # The trainer returns 2-class logits; P(fake) is the softmax's second column.
    logits = torch.from_numpy(trainer.predict_logits(val))
    probs = torch.softmax(logits, dim=-1)[:, 1].numpy()
    real, padded = training_flops(net, lengths, kept)
    rows = float(np.mean([len(b) for b in kept]))
    return Run(
        tokens / seconds,
        accuracy(probs, val_labels),
        padding_fraction(lengths, kept),
        seconds,
        real,
        padded,
        trainer.precision,
        rows,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", default="constraint")
    parser.add_argument("--examples", type=int, default=6400, help="training examples per run")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch-size", type=int, help="override the lstm params' batch_size")
    parser.add_argument("--max-batch-tokens", type=int, help="override the lstm params' cap")
    parser.add_argument(
        "--keep-denormals",
        action="store_true",
        help="compute with IEEE denormals in every torch thread (default: flushed to zero)",
    )
    parser.add_argument("--smoke", action="store_true", help="generated texts, tiny sizes")
    args = parser.parse_args()

    paths = Paths.from_cwd()
    config = model_config(load_params(paths.params_file), "lstm")  # the pipeline's own settings
    overrides: dict[str, object] = {
        "batch_size": args.batch_size,
        "max_batch_tokens": args.max_batch_tokens,
    }
    if args.smoke:
        args.dataset, args.examples = "generated", 64
        train_df, val_df = smoke_split()
        # Tiny but still a one-layer LSTM: the same code, seconds instead of minutes.
        overrides.update(embedding_dim=8, hidden_sizes=(8,), batch_size=16, max_len=32)
    else:
        split_dir = paths.split(args.dataset)
        train_df, val_df = read_split(split_dir, "train"), read_split(split_dir, "val")
    config = config.model_copy(update={k: v for k, v in overrides.items() if v is not None})
    threads = configure_threads(config)
    if args.keep_denormals:
        keep_denormals()  # after configure_threads: every thread of the final pool
    texts = model_input(train_df, config.text_fields)
    tokenizer = build_tokenizer(texts, config)
    vocab = tokenizer.get_vocab_size()
    ids, val_ids = (
        encode(tokenizer, texts),
        encode(tokenizer, model_input(val_df, config.text_fields)),
    )
    labels, val_labels = train_df["label"].to_numpy(), val_df["label"].to_numpy()
    print(
        f"{args.dataset}: {len(ids)} train texts, {np.mean([len(s) for s in ids]):.1f} tokens "
        f"on average, {args.examples} training examples per run, {threads} threads; "
        + header(args.keep_denormals)
    )

    device = resolve_device(config)  # the reference runs where the trainer does: a fair ratio
    peaks = Peaks(sizes=(128, 256)) if args.smoke else Peaks()
    peaks.measure(list(DTYPES))
    ref = run_reference(ids, labels, val_ids, val_labels, vocab, args.examples, args.seed, device)
    ours = run_trainer(ids, labels, val_ids, val_labels, vocab, config, args.examples, args.seed)
    peaks.measure(list(DTYPES))
    runs = (("reference", ref), ("trainer", ours))
    for name, run in runs:
        print(
            f"{name:>9}: {run.tokens_per_s:9.0f} tokens/s  {run.seconds:6.1f} s  "
            f"padding {run.padding:5.1%}  val accuracy {run.accuracy:.4f}"
        )
    print(f"ratio (trainer / reference tokens/s): {ours.tokens_per_s / ref.tokens_per_s:.2f}x")
    print(f"val accuracy difference (trainer - reference): {ours.accuracy - ref.accuracy:+.4f}")
    print(peaks.line())
    for name, run in runs:
        peak = peaks.gflops[run.precision]
        line = flops_line(
            f"{name:>9} training ({run.precision})",
            run.real_flops,
            run.padded_flops,
            run.seconds,
            peak,
            run.precision,
        )
        print(line)
    share = ours.padded_flops / ours.seconds / 1e9 / peaks.gflops[ours.precision]
    if share < GOAL:
        # The recurrence runs its time steps one after another: each step's hidden product is
        # (rows x H) @ (H x 4H), far too small to keep the cores' vector units busy.
        hidden = config.hidden_sizes[0]
        rows = round(ours.rows)
        step = matmul_rate(DTYPES[ours.precision], rows, hidden, 4 * hidden, inner=200)
        print(
            f"limit: trainer at {share:.0%} of the peak, goal {GOAL:.0%}: every time step waits "
            f"for the previous one, and one step's hidden product ({rows} x {hidden}) @ "
            f"({hidden} x {4 * hidden}) alone reaches {step:.1f} GFLOP/s here "
            f"({step / peaks.gflops[ours.precision]:.0%} of the peak)"
        )


if __name__ == "__main__":
    main()
