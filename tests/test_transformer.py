"""The transformer family, offline: a tiny randomly initialised BERT stands in for a real one."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from tiny_models import make_tiny_bert

from fakenews.errors import ModelError
from fakenews.models import get_model_class, load_model, save_model
from fakenews.nn.transformer import (
    collate,
    linear_warmup_decay,
    load_pretrained,
    resolve_pretrained,
)

FAKE = ["shocking", "hoax", "secret", "miracle", "exposed", "banned"]
REAL = ["officials", "reported", "ministry", "according", "data", "study"]
COMMON = ["the", "a", "of", "in", "today", "people"]


def toy_data(n: int = 64, seed: int = 0) -> tuple[list[str], np.ndarray]:
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for i in range(n):
        label = i % 2
        words = rng.choice((FAKE if label else REAL) + COMMON, size=int(rng.integers(3, 25)))
        texts.append(" ".join(words))
        labels.append(label)
    return texts, np.array(labels)


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_bert(tmp_path_factory.mktemp("tiny_bert"), [*FAKE, *REAL, *COMMON])


def tiny_config(directory: Path, **overrides: object):
    return get_model_class("tinybert").Config(
        **{
            "pretrained": str(directory),
            "max_len": 32,
            "epochs": 3,
            "patience": 3,
            "batch_size": 8,
            "eval_batch_size": 16,
            "grad_accumulation": 1,
            "learning_rate": 1e-3,
            "warmup_steps": 4,
            **overrides,
        }
    )


def test_the_tiny_tokenizer_knows_its_words(tiny_bert: Path) -> None:
    """Otherwise every text is [UNK]s and the padding test below compares nothing useful."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_bert)
    ids = tokenizer(" ".join([FAKE[0], REAL[0], COMMON[0]]))["input_ids"]
    assert tokenizer.unk_token_id not in ids


def test_fine_tuning_lowers_loss_and_round_trips(tiny_bert: Path, tmp_path: Path) -> None:
    texts, labels = toy_data()
    model = get_model_class("tinybert")(tiny_config(tiny_bert, log_every_steps=2))
    logged: list[tuple[dict[str, float], int | None]] = []
    info = model.fit(texts, labels, texts[:16], labels[:16], lambda m, s: logged.append((m, s)))
    history = info["history"]
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    best = max(history, key=lambda r: r["val_f1"])  # picked by validation F1
    assert [r["epoch"] for r in history if r["best"]] == [best["epoch"]]
    steps = [(m, s) for m, s in logged if "learning_rate" in m]
    assert [s for _, s in steps] == list(range(2, 2 * len(steps) + 1, 2))
    assert steps[0][0]["learning_rate"] < steps[1][0]["learning_rate"]  # warming up
    probs = model.predict_proba(texts)
    assert probs.shape == (len(texts),) and np.all((probs >= 0) & (probs <= 1))

    directory = tmp_path / "model"
    directory.mkdir()
    save_model(model, directory, {})
    names = {p.name for p in directory.iterdir()}
    assert {"model.safetensors", "config.json", "tokenizer.json", "model.json"} <= names
    assert not any(p.is_dir() for p in directory.iterdir())  # no checkpoint folders
    loaded = load_model(directory, expected="tinybert")
    np.testing.assert_allclose(loaded.predict_proba(texts), probs, rtol=1e-5, atol=1e-6)


def test_dynamic_padding_gives_the_same_logits(tiny_bert: Path) -> None:
    tokenizer, network = load_pretrained(str(tiny_bert))
    network.eval()
    texts = ["shocking hoax", "the ministry reported data today " * 3, "a", "secret miracle"]
    ids = tokenizer(texts)["input_ids"]
    names = tokenizer.model_input_names
    with torch.inference_mode():
        padded = network(**collate(ids, None, tokenizer.pad_token_id, names)).logits
        alone = torch.cat(
            [network(**collate([s], None, tokenizer.pad_token_id, names)).logits for s in ids]
        )
    assert len({len(s) for s in ids}) > 1
    torch.testing.assert_close(padded, alone, atol=1e-5, rtol=1e-5)


def test_a_model_missing_offline_names_model_and_remedy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    cls = get_model_class("bert_base")
    model = cls(cls.Config(pretrained="fakenews-tests/no-such-model"))
    texts, labels = toy_data(8)
    with pytest.raises(ModelError) as raised:
        model.fit(texts, labels, texts, labels, lambda m, s: None)
    message = str(raised.value)
    assert "fakenews-tests/no-such-model" in message
    assert "hf download fakenews-tests/no-such-model" in message
    assert "HF_HUB_OFFLINE" in message and "pretrained:" in message


def test_a_missing_model_package_says_what_to_install() -> None:
    with pytest.raises(ModelError, match="pip install no-such-package"):
        resolve_pretrained("package:no_such_package")


def test_minilm_defaults_to_its_packaged_encoder() -> None:
    directory = Path(resolve_pretrained(get_model_class("minilm").Config().pretrained))
    assert directory.is_dir()
    config = json.loads((directory / "config.json").read_text())
    assert config["model_type"] == "bert" and config["architectures"] == ["BertModel"]


def test_learning_rate_warms_up_then_decays_to_zero() -> None:
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    scheduler = linear_warmup_decay(4)(optimizer, 10)
    rates = []
    for _ in range(10):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    assert rates[:5] == pytest.approx([0.2, 0.4, 0.6, 0.8, 1.0])
    assert rates[4:] == sorted(rates[4:], reverse=True) and rates[-1] > 0
    assert optimizer.param_groups[0]["lr"] == 0


@pytest.mark.parametrize("native_bf16", [True, False])
def test_auto_precision_uses_bf16_on_cpu_only_where_it_is_native(
    monkeypatch: pytest.MonkeyPatch, native_bf16: bool
) -> None:
    """Emulated bf16 (no AVX512-BF16/AMX) is many times slower than fp32, so auto avoids it."""
    from fakenews.nn import trainer

    monkeypatch.setattr(trainer, "cpu_has_native_bf16", lambda: native_bf16)
    cpu = torch.device("cpu")
    transformer = get_model_class("minilm").Config()
    recurrent = get_model_class("lstm").Config()
    assert trainer.autocast_dtype(transformer, cpu) == (torch.bfloat16 if native_bf16 else None)
    assert trainer.autocast_dtype(recurrent, cpu) is None  # oneDNN has no bf16 RNN path
    forced = transformer.model_copy(update={"precision": "bf16"})
    assert trainer.autocast_dtype(forced, cpu) == torch.bfloat16
    assert trainer.autocast_dtype(forced.model_copy(update={"precision": "fp32"}), cpu) is None
