"""Tiny models trained in a second on toy data, saved like the train stage saves them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fakenews.classifier.base import model_input
from fakenews.models import get_model_class, save_model
from helpers.prepared import preparation_json

FAKE = ["shocking", "secret", "hoax", "miracle", "exposed", "banned"]
REAL = ["officials", "reported", "ministry", "according", "data", "study"]
COMMON = ["the", "a", "of", "in", "today", "people"]


def toy_rows(n: int, seed: int = 0) -> pd.DataFrame:
    """Titles and texts whose words give the label away, so a tiny model learns them."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        label = i % 2
        words = (FAKE if label else REAL) + COMMON
        title = " ".join(rng.choice(words, size=4))
        text = " ".join(rng.choice(words, size=int(rng.integers(3, 20))))
        rows.append({"id": f"r{i}", "title": title, "text": text, "label": label})
    return pd.DataFrame(rows)


def train_folder(
    directory: Path, name: str, val_f1: float = 0.9, *, sidecars: bool = True, **config: Any
) -> Path:
    """A trained model folder; ``sidecars``: with its calibrator and domain profile inside, as
    a registered model bundles them (``fakenews predict`` and the pyfunc need them)."""
    cls = get_model_class(name)
    model = cls(cls.Config(**config))
    train = toy_rows(64)
    texts = model_input(train, ["title", "text"])
    labels = train["label"].to_numpy()
    model.fit(texts, labels, texts[:16], labels[:16], lambda metrics, step: None)
    directory.mkdir(parents=True)
    val = {"f1_macro": val_f1, "accuracy": val_f1}  # what ranks models for the registry
    info = {"dataset": "demo", "preparation": preparation_json(), "training": {"val": val}}
    save_model(model, directory, info)
    if sidecars:
        add_sidecars(directory, model, texts)
    return directory


def add_sidecars(directory: Path, model: Any, train_texts: list[str]) -> None:
    """Fit the run's calibrator and its training set's domain profile as the calibrate and
    domain stages do (validation rows: fresh toy rows), saved inside the model folder."""
    from fakenews.analysis.calibration import CALIBRATION_FILE, Calibrator, method_for
    from fakenews.analysis.domain import DomainConfig, DomainProfile
    from fakenews.inference.served import DOMAIN_DIR

    val = toy_rows(32, seed=5)
    fields = list(model.config.text_fields)
    val_texts = model_input(val, fields)
    probs = model.predict_proba(val_texts)
    calibrator = Calibrator.fit(method_for(model.family), probs, val["label"].to_numpy())
    calibrator.save(directory / CALIBRATION_FILE)
    config = DomainConfig(text_fields=tuple(fields))
    DomainProfile.fit(train_texts, val_texts, config).save(directory / DOMAIN_DIR)


TINY_LSTM = {
    "vocab_size": 200,
    "embedding_dim": 8,
    "hidden_sizes": (8,),
    "max_len": 40,
    "epochs": 1,
    "batch_size": 8,
    "eval_batch_size": 8,
    "num_threads": 1,
}


def make_tiny_bert(directory: Path, words: list[str]) -> Path:
    """A local 'pretrained' folder: a 2-layer, hidden-32 BertModel and a WordPiece vocabulary."""
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    directory.mkdir(parents=True, exist_ok=True)
    vocab = directory / "vocab.txt"
    special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    vocab.write_text("\n".join([*special, *words, "##s"]) + "\n")
    # `vocab=`: transformers 5 ignores `vocab_file=` here (every word would become [UNK]).
    BertTokenizerFast(vocab=str(vocab), do_lower_case=True).save_pretrained(directory)
    config = BertConfig(
        vocab_size=len(vocab.read_text().split()),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
    )
    torch.manual_seed(0)
    BertModel(config).save_pretrained(directory)  # no head: fit adds a fresh 2-class one
    return directory


def served_probs(directory: Path, texts: list[str]) -> np.ndarray:
    """What predict and the pyfunc give for prepared texts: the calibrated P(fake)."""
    from fakenews.inference.served import ServedModel

    return ServedModel.load(directory).score(texts).prob_fake
