"""benchmarks/flops.py counts FLOPs as documented: its per-token formulas match torch's own
FlopCounterMode on small LSTMs and encoders run step by step, and the textbook LSTM count."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

import pytest
import torch
from helpers import REPO
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from fakenews.nn.recurrent import RecurrentNet


@pytest.fixture(scope="module")
def flops() -> ModuleType:
    """benchmarks/flops.py as a module (benchmarks/ is not a package)."""
    spec = importlib.util.spec_from_file_location("flops", REPO / "benchmarks" / "flops.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["flops"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def counted(fn: object) -> int:
    with FlopCounterMode(display=False) as counter:
        fn()  # type: ignore[operator]
    return counter.get_total_flops()


def test_lstm_formula_is_the_textbook_count(flops: ModuleType) -> None:
    lstm = nn.LSTM(10, 16, num_layers=2, bidirectional=True)
    per_token, per_sequence = flops.recurrent_flops(lstm)
    # Layer 1: 2 directions x 2 * 4 * 16 * (10 + 16); layer 2 reads both directions (32 inputs).
    assert per_token == 2 * 2 * 4 * 16 * 26 + 2 * 2 * 4 * 16 * (32 + 16)
    assert per_token == flops.lstm_flops_per_token(10, 16, layers=2, directions=2)
    assert per_sequence == 0


def test_lstm_formula_matches_torchs_counter_step_by_step(flops: ModuleType) -> None:
    # FlopCounterMode does not see inside the fused aten::lstm; an LSTMCell with the same shapes,
    # stepped over the sequence, runs the same products as two linear layers per step.
    lstm = nn.LSTM(10, 16)
    cell = nn.LSTMCell(10, 16)
    x = torch.randn(7, 3, 10)  # 7 steps, batch 3

    def run() -> None:
        state = None
        for step in x:
            state = cell(step, state)

    assert counted(run) == 7 * 3 * flops.recurrent_flops(lstm)[0]


def test_recurrent_net_counts_every_layer_and_its_head(flops: ModuleType) -> None:
    net = RecurrentNet(
        vocab_size=50,
        embedding_dim=12,
        cell="lstm",
        hidden_sizes=[8, 4],
        bidirectional=True,
        dense_size=6,
        dropout=0.0,
    )
    per_token, per_sequence = flops.recurrent_flops(net)
    assert per_token == flops.lstm_flops_per_token(12, 8, 1, 2) + flops.lstm_flops_per_token(
        16, 4, 1, 2
    )
    assert per_sequence == 2 * 8 * 6 + 2 * 6 * 2  # dense on the final states, then 2 logits


def tiny_encoder() -> nn.Module:
    from transformers import BertConfig, BertForSequenceClassification

    config = BertConfig(
        vocab_size=100,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
        max_position_embeddings=64,
        num_labels=2,
        attn_implementation="eager",  # attention as plain matmuls, which the counter sees
    )
    return BertForSequenceClassification(config).eval()


def test_encoder_formula_matches_torchs_counter(flops: ModuleType) -> None:
    network = tiny_encoder()
    shape = flops.EncoderShape.of(network)
    # Per token: q, k, v, attention output (4 x 32 x 32) and the feed-forward (2 x 32 x 64).
    assert shape.per_token == 2 * 2 * (4 * 32 * 32 + 2 * 32 * 64)
    assert shape.per_sequence == 2 * (32 * 32 + 32 * 2)  # pooler, classifier
    for length in (5, 17):
        ids = torch.randint(1, 100, (3, length))
        with torch.no_grad():
            total = counted(lambda ids=ids: network(input_ids=ids))
        assert total == 3 * shape.forward_flops(length)


def test_recorded_shapes_count_real_and_padded_tokens(flops: ModuleType) -> None:
    network = tiny_encoder()
    shape = flops.EncoderShape.of(network)
    mask = torch.tensor([[1, 1, 1, 1, 1, 1], [1, 1, 0, 0, 0, 0]])
    with flops.recorded_shapes(network) as shapes, torch.no_grad():
        network(input_ids=torch.ones_like(mask), attention_mask=mask)
    assert (shapes.real_tokens, shapes.padded_tokens, shapes.sequences) == (8, 12, 2)
    real, padded = flops.encoder_flops(shape, shapes, training=True)
    assert real == 3 * (shape.forward_flops(6) + shape.forward_flops(2))
    assert padded == 3 * 2 * shape.forward_flops(6)


def test_flops_line_shows_both_counts_only_when_they_differ(flops: ModuleType) -> None:
    same = flops.flops_line("loop", 2e9, 2e9, 1.0, 4.0, "fp32")
    assert "real tokens" not in same and "50.0% of the fp32 peak" in same
    padded = flops.flops_line("loop", 1e9, 2e9, 1.0, 4.0, "fp32")
    assert "1.00 on real tokens" in padded and "50.0% of the fp32 peak" in padded
