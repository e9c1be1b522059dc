from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
import torch

from fakenews.models import get_model_class, load_model, save_model
from fakenews.nn.batching import bucketed_batches, padding_fraction
from fakenews.nn.recurrent import RecurrentClassifier, RecurrentNet, collate
from fakenews.nn.trainer import TorchTrainer

RECURRENT = ["rnn", "lstm", "gru", "bilstm"]
SMALL = {"vocab_size": 200, "embedding_dim": 16, "max_len": 40, "eval_batch_size": 8}


def small_config(name: str, **overrides: object):
    cls = get_model_class(name)
    defaults = cls.Config()
    hidden = tuple(max(4, h // 8) for h in defaults.hidden_sizes)
    return cls.Config(**{**SMALL, "hidden_sizes": hidden, "batch_size": 8, **overrides})


def toy_data(n: int = 64, seed: int = 0) -> tuple[list[str], np.ndarray]:
    rng = np.random.default_rng(seed)
    fake = ["shocking", "hoax", "secret", "miracle", "exposed", "banned"]
    real = ["officials", "reported", "ministry", "according", "data", "study"]
    common = ["the", "a", "of", "in", "today", "people"]
    texts, labels = [], []
    for i in range(n):
        label = i % 2
        words = rng.choice((fake if label else real) + common, size=int(rng.integers(3, 25)))
        texts.append(" ".join(words))
        labels.append(label)
    return texts, np.array(labels)


@pytest.mark.parametrize("name", RECURRENT)
def test_padding_never_changes_a_prediction(name: str) -> None:
    config = small_config(name, dropout=0.5)
    torch.manual_seed(0)
    net = RecurrentNet(
        vocab_size=50,
        embedding_dim=8,
        cell=config.cell,
        hidden_sizes=config.hidden_sizes,
        bidirectional=config.bidirectional,
        dense_size=config.dense_size,
        dropout=config.dropout,
    ).eval()
    sequences = [torch.randint(1, 50, (n,)).tolist() for n in (9, 2, 5, 1, 9)]
    batch = collate(sequences, None)
    padded = net(batch["input_ids"], batch["lengths"])
    alone = torch.cat([net(torch.tensor([s]), torch.tensor([len(s)])) for s in sequences])
    torch.testing.assert_close(padded, alone, atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("name", RECURRENT)
def test_training_lowers_loss_and_round_trips(name: str, tmp_path: Path) -> None:
    texts, labels = toy_data()
    model = get_model_class(name)(small_config(name, epochs=4, patience=4, learning_rate=5e-3))
    info = model.fit(texts, labels, texts[:16], labels[:16], lambda metrics, step: None)
    losses = [row["train_loss"] for row in info["history"]]
    assert losses[-1] < losses[0]
    probs = model.predict_proba(texts)
    assert probs.shape == (len(texts),) and np.all((probs >= 0) & (probs <= 1))

    directory = tmp_path / name
    directory.mkdir()
    save_model(model, directory, {})
    assert {p.name for p in directory.iterdir()} >= {"model.safetensors", "tokenizer.json"}
    loaded = load_model(directory, expected=name)
    np.testing.assert_allclose(loaded.predict_proba(texts), probs, rtol=1e-6, atol=1e-7)


def test_same_seed_same_model() -> None:
    texts, labels = toy_data()
    runs = []
    for _ in range(2):
        model = get_model_class("gru")(small_config("gru", epochs=2))
        model.fit(texts, labels, texts[:16], labels[:16], lambda metrics, step: None)
        runs.append(model.predict_proba(texts))
    np.testing.assert_array_equal(runs[0], runs[1])


def test_vocabulary_comes_from_train_only() -> None:
    texts, labels = toy_data()
    model: RecurrentClassifier = get_model_class("lstm")(small_config("lstm", epochs=1))
    model.fit(texts, labels, ["unseenword " * 5] * 4, np.array([0, 1, 0, 1]), lambda m, s: None)
    assert model.tokenizer is not None and model.tokenizer.token_to_id("unseenword") is None


def test_early_stopping_restores_the_best_epoch() -> None:
    texts, labels = toy_data()
    config = small_config("lstm", epochs=6, patience=2, learning_rate=2e-2)
    model = get_model_class("lstm")(config)
    model.fit(texts, labels, texts[:8], labels[:8], lambda m, s: None)  # builds net + tokenizer
    net = model.network
    ids = [model.tokenizer.encode(t).ids for t in texts]
    train = [collate(ids[i : i + 8], labels[i : i + 8]) for i in range(0, 64, 8)]
    # Validation labels are the opposite of training: val loss rises as training succeeds.
    val = [collate(ids[:16], 1 - labels[:16])]
    snapshots: dict[int, dict[str, torch.Tensor]] = {}

    def remember(metrics: dict[str, float], step: int | None) -> None:
        snapshots[int(step or 0)] = copy.deepcopy(net.state_dict())

    trainer = TorchTrainer(net, lambda m, b: m(b["input_ids"], b["lengths"]), config)
    history = trainer.fit(lambda epoch: train, val, remember)
    best = min(history, key=lambda r: r["val_loss"])
    assert len(history) < config.epochs  # stopped early
    assert [r["epoch"] for r in history if r["best"]] == [best["epoch"]]
    for key, value in net.state_dict().items():
        torch.testing.assert_close(value, snapshots[int(best["epoch"])][key])


def test_bucketed_batches_cover_everything_with_little_padding() -> None:
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 300, size=1000)
    batches = bucketed_batches(lengths, 32, np.random.default_rng(1), chunk_batches=20)
    flat = np.concatenate(batches)
    assert sorted(flat.tolist()) == list(range(1000))
    random_batches = [rng.permutation(1000)[i : i + 32] for i in range(0, 1000, 32)]
    assert padding_fraction(lengths, batches) < 0.1 < padding_fraction(lengths, random_batches)
    again = bucketed_batches(lengths, 32, np.random.default_rng(1), chunk_batches=20)
    assert all((a == b).all() for a, b in zip(batches, again, strict=True))


def test_reading_share_is_the_first_max_len_words_of_each_text(tmp_path: Path) -> None:
    texts, labels = toy_data()
    model = get_model_class("lstm")(small_config("lstm", epochs=1, max_len=10))
    model.fit(texts, labels, texts[:8], labels[:8], lambda m, s: None)
    long, short = " ".join(["hoax"] * 25), "a secret study"
    np.testing.assert_allclose(model.reading_share([long, short, ""]), [10 / 25, 1.0, 1.0])
    directory = tmp_path / "model"
    directory.mkdir()
    save_model(model, directory, {})
    loaded = load_model(directory)
    assert loaded.reading_share([long])[0] == pytest.approx(0.4)
    assert len(loaded.tokenizer.encode(long).ids) == 10  # predict still reads 10 words only
    assert loaded.first_window() is None  # one window per text: nothing more to compare
