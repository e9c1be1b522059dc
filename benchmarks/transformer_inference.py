"""Transformer throughput: this project's implementation vs the reference approach, in one run.

The same pretrained encoder (``train.<model>`` in params.yaml when that section exists, else the
model's defaults; minilm by default) runs on the same texts both ways:

* reference — every text padded to 512 tokens, fixed batches of 32 (16 for training) in the
  original order, fp32, ``torch.no_grad``;
* this implementation — :class:`TransformerClassifier`: each batch padded only to its own
  longest text, batches grouped by length, ``torch.inference_mode``, the configured precision;
  training through the shared TorchTrainer with length-bucketed batches.

Inference runs on the test split, training on the train split for a fixed number of optimiser
steps each way (from the same starting weights). Prints examples per second for each, the
ratios, and how far the two inference results differ.

Also prints, for each of the four loops, its achieved GFLOP/s and its share of a matmul peak
measured in the same process on the same threads, in the precision the loop runs in (the
reference fp32; ours what TorchTrainer picks: ``precision`` auto is bf16 on a CPU with native
bf16). FLOPs (benchmarks/flops.py) come from the encoder's own shapes: per token 2 x the weights
of its layers' Linear modules (embeddings excluded: lookups), plus attention's ``Q K^T`` and
``A V``, 2 * 2 * L * d per layer with L the window's length, plus pooler and classifier once per
window; LayerNorm, softmax, GELU and biases are elementwise and not counted (<2%); training =
3x forward. The lengths are those of the batches each loop really ran (recorded from every
forward call's attention mask): GFLOP/s on padded tokens (the work done, compared with the peak)
and on real tokens (the useful rate). Goal: >= 50% of the peak for ours, in training and
inference; when far below, a line gives the measured rate of the encoder's own product shapes.

``--keep-denormals`` measures with IEEE denormals in every torch thread instead of the project's
flush-to-zero (the header line prints the mode, probed in every thread, and the CPU capability).
Usage (after `dvc repro` has built the split):

    python benchmarks/transformer_inference.py [--model minilm] [--dataset constraint]
        [--max-examples 512] [--train-steps 8] [--precision fp32|bf16] [--max-len 512]
        [--keep-denormals]

``--smoke`` runs the same code on 16 generated texts, 1 training step and 64 tokens (the
reference's padding and our max_len; no split needed): a check that the script still works, not
a measurement.
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from flops import (
    DTYPES,
    EncoderShape,
    Peaks,
    Shapes,
    encoder_flops,
    flops_line,
    header,
    keep_denormals,
    matmul_rate,
    recorded_shapes,
)
from torch import nn

from fakenews.classifier.base import model_input
from fakenews.core.io import read_split
from fakenews.core.params import load_params
from fakenews.core.paths import Paths
from fakenews.models import get_model_class
from fakenews.models import model_config as params_model_config
from fakenews.nn.batching import LazyBatches, bucketed_batches
from fakenews.nn.encoder import collate, encode, load_pretrained
from fakenews.nn.trainer import TorchTrainer, configure_threads, seed_torch
from fakenews.nn.transformer import (
    TransformerClassifier,
    TransformerConfig,
    decays,
    forward,
    linear_warmup_decay,
)

REFERENCE_LEN, REFERENCE_BATCH, REFERENCE_TRAIN_BATCH = 512, 32, 16
REPO = Path(__file__).resolve().parents[1]
GOAL = 0.50  # share of the matmul peak ours should reach, training and inference (issue 29)


def smoke_split() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Generated test/train frames shaped like a split (tests/helpers' news), for --smoke."""
    sys.path.insert(0, str(REPO / "tests"))
    from helpers.news import generated_split_frame

    return generated_split_frame(1, 16), generated_split_frame(2, 16)


def model_config(name: str) -> TransformerConfig:
    paths = Paths.from_cwd()
    params = load_params(paths.params_file) if paths.params_file.is_file() else None
    if params is not None and name in params.train:
        return params_model_config(params, name)
    return get_model_class(name).Config()


def reference_predict(
    tokenizer: Any, network: nn.Module, texts: list[str], length: int = REFERENCE_LEN
) -> np.ndarray:
    """The reference: pad everything to 512 (``length``), batches of 32 in order, fp32,
    no_grad."""
    network.eval()
    out = []
    with torch.no_grad():
        for start in range(0, len(texts), REFERENCE_BATCH):
            batch = tokenizer(
                texts[start : start + REFERENCE_BATCH],
                padding="max_length",
                truncation=True,
                max_length=length,
                return_tensors="pt",
            )
            logits = network(**batch).logits
            out.append(torch.softmax(logits, dim=-1)[:, 1].numpy())
    return np.concatenate(out)


def reference_train(
    tokenizer: Any,
    network: nn.Module,
    texts: list[str],
    labels: np.ndarray,
    steps: int,
    lr: float,
    length: int = REFERENCE_LEN,
) -> int:
    """The reference loop: random batches padded to 512, fp32, AdamW; returns examples seen."""
    network.train()
    optimizer = torch.optim.AdamW(network.parameters(), lr=lr, weight_decay=0.01)
    rng = np.random.default_rng(0)
    seen = 0
    for _ in range(steps):
        rows = rng.choice(len(texts), size=REFERENCE_TRAIN_BATCH, replace=False)
        batch = tokenizer(
            [texts[i] for i in rows],
            padding="max_length",
            truncation=True,
            max_length=length,
            return_tensors="pt",
        )
        loss = nn.functional.cross_entropy(
            network(**batch).logits, torch.as_tensor(labels[rows], dtype=torch.long)
        )
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        seen += len(rows)
    return seen


def our_train(
    tokenizer: Any,
    network: nn.Module,
    texts: list[str],
    labels: np.ndarray,
    steps: int,
    config: TransformerConfig,
) -> int:
    """The project's path: bucketed dynamic-padding batches through TorchTrainer; returns
    examples seen."""
    ids = encode(tokenizer, texts, config.max_len)
    lengths = [len(s) for s in ids]
    indices = bucketed_batches(
        lengths,
        REFERENCE_TRAIN_BATCH,
        np.random.default_rng(0),
        config.bucket_chunk_batches,
        config.max_batch_tokens,
    )[:steps]
    batches = LazyBatches(
        indices,
        lambda b: collate(
            [ids[i] for i in b], labels[b], tokenizer.pad_token_id, tokenizer.model_input_names
        ),
    )
    one = config.model_copy(update={"epochs": 1, "grad_accumulation": 1, "log_every_steps": None})
    trainer = TorchTrainer(network, forward, one, linear_warmup_decay(config.warmup_steps), decays)
    trainer.fit(lambda epoch: batches, [], lambda m, s: None)
    return sum(len(b) for b in indices)


def timed(fn: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started


def timed_shapes(network: nn.Module, fn: Any) -> tuple[Any, float, Shapes]:
    """``timed``, with the shapes of every forward call ``fn`` makes through ``network``."""
    with recorded_shapes(network) as shapes:
        result, seconds = timed(fn)
    return result, seconds, shapes


def limit_line(
    name: str,
    share: float,
    shapes: Shapes,
    shape: EncoderShape,
    heads: int,
    precision: str,
    peak: float,
) -> str:
    """Why a loop is far below the goal, measured: the rates of the encoder's own largest product
    (a batch's tokens through the feed-forward up-projection) and of one attention head's
    ``Q K^T`` at the loop's mean padded length, next to the share reached."""
    dtype = DTYPES[precision]
    rows = round(shapes.padded_tokens / max(1, len(shapes.batches)))
    length = round(shapes.padded_tokens / max(1, shapes.sequences))
    d, head = shape.hidden, shape.hidden // heads
    ff = matmul_rate(dtype, rows, d, 4 * d)
    attention = matmul_rate(dtype, length, head, length, inner=50)
    extra = ", the optimiser step" if name.startswith("training") else ""
    return (
        f"limit: {name} at {share:.0%} of the {precision} peak, goal {GOAL:.0%}: its largest "
        f"product, the feed-forward ({rows} x {d}) @ ({d} x {4 * d}), reaches {ff:.1f} GFLOP/s "
        f"here ({ff / peak:.0%} of the peak) and one attention head's ({length} x {head}) @ "
        f"({head} x {length}) {attention:.1f} ({attention / peak:.0%}); the remaining gap is time "
        f"outside the counted products (LayerNorm, softmax, GELU, bf16 casts{extra}), not "
        "broken down here"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="minilm")
    parser.add_argument("--dataset", default="constraint")
    parser.add_argument("--max-examples", type=int, default=512, help="test texts to classify")
    parser.add_argument("--train-steps", type=int, default=8, help="optimiser steps each way")
    parser.add_argument("--precision", choices=["auto", "fp32", "bf16"], help="ours only")
    parser.add_argument(
        "--max-len",
        type=int,
        default=REFERENCE_LEN,
        help="our truncation length (default 512 like the reference, so only padding, "
        "batching and precision differ)",
    )
    parser.add_argument(
        "--keep-denormals",
        action="store_true",
        help="compute with IEEE denormals in every torch thread (default: flushed to zero)",
    )
    parser.add_argument("--smoke", action="store_true", help="generated texts, tiny sizes")
    args = parser.parse_args()
    if args.smoke:
        args.dataset, args.max_examples, args.train_steps = "generated", 16, 1
        args.max_len = 64
    reference_len = args.max_len if args.smoke else REFERENCE_LEN

    config = model_config(args.model)
    update: dict[str, Any] = {"max_len": args.max_len}
    if args.precision:
        update["precision"] = args.precision
    config = config.model_copy(update=update)
    threads = configure_threads(config)
    if args.keep_denormals:
        keep_denormals()  # after configure_threads: every thread of the final pool
    if args.smoke:
        test, train = smoke_split()
    else:
        split_dir = Paths.from_cwd().split(args.dataset)
        test, train = read_split(split_dir, "test"), read_split(split_dir, "train")
    texts = model_input(test, config.text_fields)[: args.max_examples]
    train_texts = model_input(train, config.text_fields)
    train_labels = train["label"].to_numpy(dtype=int)

    seed_torch(config.seed)
    tokenizer, network = load_pretrained(config.pretrained)
    lengths = [len(s) for s in encode(tokenizer, texts, REFERENCE_LEN)]
    # The precision ours runs in, as its trainer resolves it (auto: bf16 on native-bf16 CPUs).
    precision = TorchTrainer(network, forward, config).precision
    print(
        f"{args.dataset}/{args.model} ({config.pretrained}): {len(texts)} test texts, "
        f"{np.mean(lengths):.1f} tokens on average (max {max(lengths)}), {threads} threads, "
        f"ours: max_len {config.max_len}, precision {config.precision} -> {precision}; "
        + header(args.keep_denormals)
    )
    shape = EncoderShape.of(network)
    heads = network.config.num_attention_heads
    peaks = Peaks(sizes=(128, 256)) if args.smoke else Peaks()
    precisions = sorted({"fp32", precision})
    peaks.measure(precisions)
    # (name, precision, training, seconds, shapes) of each measured loop
    loops: list[tuple[str, str, bool, float, Shapes]] = []

    ours_model = TransformerClassifier(config, tokenizer, network)
    ours_model.predict_proba(texts[:8])  # warm-up: first-call allocations, thread pools
    ref_probs, ref_s, ref_shapes = timed_shapes(
        network, lambda: reference_predict(tokenizer, network, texts, reference_len)
    )
    our_probs, our_s, our_shapes = timed_shapes(network, lambda: ours_model.predict_proba(texts))
    loops += [
        ("inference reference", "fp32", False, ref_s, ref_shapes),
        ("inference ours     ", precision, False, our_s, our_shapes),
    ]
    agree = float(((ref_probs >= 0.5) == (our_probs >= 0.5)).mean())
    print(f"inference reference: {len(texts) / ref_s:8.1f} examples/s ({ref_s:.1f} s)")
    print(f"inference ours:      {len(texts) / our_s:8.1f} examples/s ({our_s:.1f} s)")
    print(
        f"inference ratio (ours / reference): {ref_s / our_s:.2f}x; max |P(fake) difference| "
        f"{np.abs(ref_probs - our_probs).max():.2e}, same label for {agree:.2%}"
    )

    if args.train_steps:
        start = copy.deepcopy(network.state_dict())
        ref_n, ref_t, ref_train_shapes = timed_shapes(
            network,
            lambda: reference_train(
                tokenizer,
                network,
                train_texts,
                train_labels,
                args.train_steps,
                config.learning_rate,
                reference_len,
            ),
        )
        network.load_state_dict(start)
        our_n, our_t, our_train_shapes = timed_shapes(
            network,
            lambda: our_train(
                tokenizer, network, train_texts, train_labels, args.train_steps, config
            ),
        )
        loops += [
            ("training reference ", "fp32", True, ref_t, ref_train_shapes),
            ("training ours      ", precision, True, our_t, our_train_shapes),
        ]
        print(
            f"training reference:  {ref_n / ref_t:8.1f} examples/s "
            f"({args.train_steps} steps of {REFERENCE_TRAIN_BATCH}, {ref_t:.1f} s)"
        )
        print(f"training ours:       {our_n / our_t:8.1f} examples/s ({our_t:.1f} s)")
        print(f"training ratio (ours / reference): {(our_n / our_t) / (ref_n / ref_t):.2f}x")

    peaks.measure(precisions)
    print(peaks.line())
    for name, loop_precision, training, seconds, shapes in loops:
        real, padded = encoder_flops(shape, shapes, training)
        tokens = (
            f"{shapes.real_tokens / seconds:8.0f} real tokens/s, "
            f"{shapes.padded_tokens / seconds:8.0f} padded tokens/s"
        )
        peak = peaks.gflops[loop_precision]
        print(f"{tokens}; " + flops_line(name, real, padded, seconds, peak, loop_precision))
    for name, loop_precision, training, seconds, shapes in loops:
        _, padded = encoder_flops(shape, shapes, training)
        share = padded / seconds / 1e9 / peaks.gflops[loop_precision]
        if "ours" in name and share < GOAL:
            peak = peaks.gflops[loop_precision]
            print(limit_line(name.strip(), share, shapes, shape, heads, loop_precision, peak))


if __name__ == "__main__":
    main()
