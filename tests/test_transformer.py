"""The transformer family, offline: a tiny randomly initialised BERT stands in for a real one."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers.tiny_models import make_tiny_bert

from fakenews.core.errors import ModelError
from fakenews.models import get_model_class, load_model, save_model
from fakenews.nn.classifier import pooled_proba
from fakenews.nn.encoder import (
    collate,
    encode,
    load_pretrained,
    resolve_pretrained,
    split_windows,
)
from fakenews.nn.transformer import linear_warmup_decay

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


# Long texts: windows, pooling, and how much of each text a model reads.

LONG = " ".join([*FAKE, *COMMON, *REAL] * 4)  # 72 words: several windows of max_len 32


def _tokens(tokenizer: object, text: str) -> list[int]:
    return tokenizer(text, add_special_tokens=False)["input_ids"]  # type: ignore[operator]


@pytest.mark.parametrize("stride", [0, 5])
def test_windows_cover_every_token_once_in_order(tiny_bert: Path, stride: int) -> None:
    tokenizer, _ = load_pretrained(str(tiny_bert))
    texts = ["shocking hoax", LONG, "", "officials " * 29 + "reported"]
    windows = split_windows(tokenizer, texts, max_len=16, stride=stride)
    cls, sep = tokenizer.cls_token_id, tokenizer.sep_token_id
    assert all(len(w) <= 16 and w[0] == cls and w[-1] == sep for w in windows.ids)
    assert list(windows.owner) == sorted(windows.owner) and set(windows.owner) == {0, 1, 2, 3}
    for i, text in enumerate(texts):
        own = [w[1:-1] for w, o in zip(windows.ids, windows.owner, strict=True) if o == i]
        # Dropping the `stride` tokens each window repeats gives back the text's tokens.
        rebuilt = own[0] + [t for w in own[1:] for t in w[stride:]]
        assert rebuilt == _tokens(tokenizer, text)
        assert windows.read_tokens[i] == windows.total_tokens[i] == len(rebuilt)
    assert (windows.owner == 1).sum() > 2
    # The first window is what plain truncation reads.
    truncated = encode(tokenizer, texts, 16)
    firsts = [windows.ids[int(np.argmax(windows.owner == i))] for i in range(len(texts))]
    assert firsts == truncated


def test_max_chunks_keeps_the_first_windows_and_counts_what_they_read(tiny_bert: Path) -> None:
    tokenizer, _ = load_pretrained(str(tiny_bert))
    total = len(_tokens(tokenizer, LONG))
    capped = split_windows(tokenizer, ["a data study", LONG], max_len=16, stride=4, max_chunks=2)
    assert list(capped.owner) == [0, 1, 1]
    assert list(capped.read_tokens) == [3, 14 + (14 - 4)]
    assert list(capped.total_tokens) == [3, total]


def test_pooling_is_the_softmax_of_the_mean_window_logits() -> None:
    logits = np.array([[0.5, 2.0], [1.0, -1.0], [0.25, 0.75], [3.0, 1.0]], dtype=np.float32)
    probs = pooled_proba(logits, np.array([0, 0, 1, 2]), 3)
    mean = np.array([[0.75, 0.5], [0.25, 0.75], [3.0, 1.0]])
    expected = np.exp(mean[:, 1]) / np.exp(mean).sum(axis=1)
    np.testing.assert_allclose(probs, expected, rtol=1e-6)
    # A one-window text gets its window's softmax bit for bit (what truncation predicted).
    single = torch.softmax(torch.from_numpy(logits[3:]), dim=-1)[:, 1].numpy()
    assert probs[2] == single[0]
    assert probs[0] != pytest.approx(float(torch.softmax(torch.tensor(logits[0]), -1)[1]))


@pytest.fixture(scope="module")
def tiny_trained(tiny_bert: Path) -> object:
    texts, labels = toy_data()
    model = get_model_class("tinybert")(tiny_config(tiny_bert, epochs=1))
    model.fit(texts, labels, texts[:16], labels[:16], lambda m, s: None)
    return model


def test_texts_within_one_window_predict_exactly_as_with_truncation(tiny_trained) -> None:
    texts, _ = toy_data(40, seed=1)
    assert max(len(w) for w in tiny_trained._windows(texts)[0]) < 32
    truncating = tiny_trained.first_window()
    assert truncating is not None and truncating.typed_config.max_chunks == 1
    whole, first = tiny_trained.predict_proba(texts), truncating.predict_proba(texts)
    np.testing.assert_array_equal(whole, first)
    np.testing.assert_array_equal(tiny_trained.reading_share(texts), np.ones(len(texts)))


def window_logits(model, text: str, monkeypatch: pytest.MonkeyPatch) -> tuple[float, np.ndarray]:
    """P(fake) of ``text`` and the window logits ``predict_proba`` pooled on the way to it.

    The logits are the model's own, caught where they are pooled (in window order, without the
    rows repeated to fill a row tile), so the check is of the pooling, not of the kernels.
    """
    import fakenews.nn.classifier as classifier

    caught: list[np.ndarray] = []
    pool = classifier.pooled_proba

    def catching(logits: np.ndarray, owner: np.ndarray, n_texts: int) -> np.ndarray:
        caught.append(logits.copy())
        return pool(logits, owner, n_texts)

    with monkeypatch.context() as patch:
        patch.setattr(classifier, "pooled_proba", catching)
        prob = float(model.predict_proba([text])[0])
    return prob, np.concatenate(caught)


def test_a_long_text_is_predicted_from_all_its_windows(tiny_trained, monkeypatch) -> None:
    model = tiny_trained
    windows = split_windows(model.tokenizer, [LONG], 32)
    assert len(windows.ids) == 3
    prob, logits = window_logits(model, LONG, monkeypatch)
    assert logits.shape == (3, 2)  # every window was read
    expected = torch.softmax(torch.from_numpy(logits.mean(0)), -1)[1].item()
    assert prob == pytest.approx(expected, rel=1e-6)
    first_prob, first_logits = window_logits(model.first_window(), LONG, monkeypatch)
    assert first_logits.shape == (1, 2)
    first = torch.softmax(torch.from_numpy(first_logits[0]), -1)[1].item()
    assert first_prob == pytest.approx(first, rel=1e-6)
    total = len(_tokens(model.tokenizer, LONG))
    assert model.reading_share([LONG])[0] == 1.0
    assert model.first_window().reading_share([LONG])[0] == pytest.approx(30 / total)


def test_every_window_of_a_long_text_trains_with_its_label(tiny_bert: Path) -> None:
    texts, labels = [LONG] * 8 + ["a study"] * 8, np.array([1] * 8 + [0] * 8)
    steps = {}
    for max_chunks in (None, 1):
        config = tiny_config(tiny_bert, epochs=1, log_every_steps=1, max_chunks=max_chunks)
        model = get_model_class("tinybert")(config)
        logged: list[dict[str, float]] = []
        model.fit(texts, labels, texts, labels, lambda m, s, out=logged: out.append(m))
        steps[max_chunks] = sum("learning_rate" in m for m in logged)  # one per optimiser step
    assert steps[1] == 2 and steps[None] == 4  # 16 texts vs 8 x 3 + 8 windows, batches of 8


def test_stride_must_leave_each_window_mostly_new_tokens(tiny_bert: Path) -> None:
    with pytest.raises(ValueError, match="stride"):
        tiny_config(tiny_bert, stride=16)
    assert tiny_config(tiny_bert, stride=15).stride == 15
