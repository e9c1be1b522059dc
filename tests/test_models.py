from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fakenews.analysis.metrics import classification_metrics
from fakenews.analysis.stats import roc_points
from fakenews.classifier.base import TextClassifier, read_fraction, reading_summary
from fakenews.core.errors import ModelError
from fakenews.models import MODEL_NAMES, get_model_class, load_model, save_model

TEXTS = [f"shocking secret hoax {i}" for i in range(20)] + [
    f"officials reported data {i}" for i in range(20)
]
LABELS = np.array([1] * 20 + [0] * 20)


def test_registry_lists_model_modules() -> None:
    assert "tfidf_logreg" in MODEL_NAMES and "base" not in MODEL_NAMES
    for name in MODEL_NAMES:
        cls = get_model_class(name)
        assert issubclass(cls, TextClassifier) and cls.name == name
    with pytest.raises(ModelError, match="unknown model"):
        get_model_class("nosuch")


def _trained(tmp_path: Path) -> tuple[TextClassifier, Path]:
    cls = get_model_class("tfidf_logreg")
    model = cls(cls.Config(min_df=1))
    model.fit(TEXTS, LABELS, TEXTS, LABELS, lambda metrics, step: None)
    directory = tmp_path / "model"
    directory.mkdir()
    save_model(model, directory, {"dataset": "demo"})
    return model, directory


def test_tfidf_logreg_learns_and_round_trips(tmp_path: Path) -> None:
    model, directory = _trained(tmp_path)
    probs = model.predict_proba(TEXTS)
    assert ((probs >= 0.5).astype(int) == LABELS).all()
    loaded = load_model(directory, expected="tfidf_logreg")
    np.testing.assert_array_equal(loaded.predict_proba(TEXTS), probs)
    assert loaded.config == model.config


def test_a_bag_of_words_reads_every_token(tmp_path: Path) -> None:
    model, _ = _trained(tmp_path)
    texts = ["one", " ".join(["shocking secret hoax"] * 2000), ""]
    np.testing.assert_array_equal(model.reading_share(texts), np.ones(3))
    assert model.first_window() is None


def test_reading_summary_counts_shares_and_empty_texts() -> None:
    shares = read_fraction(np.array([10, 5, 0, 3]), np.array([10, 20, 0, 3]))
    np.testing.assert_allclose(shares, [1.0, 0.25, 1.0, 1.0])
    assert reading_summary(shares) == {
        "mean_share": 0.8125,
        "min_share": 0.25,
        "share_of_texts_read_fully": 0.75,
    }


def test_corrupt_or_mismatched_model_folder(tmp_path: Path) -> None:
    _, directory = _trained(tmp_path)
    with pytest.raises(ModelError, match="expected 'lstm'"):
        load_model(directory, expected="lstm")
    (directory / "weights.safetensors").write_bytes(b"not safetensors")
    with pytest.raises(ModelError, match="cannot load"):
        load_model(directory)
    with pytest.raises(ModelError, match="not a model folder"):
        load_model(tmp_path / "empty")


def test_metrics_use_probabilities_for_auc() -> None:
    labels = np.array([0, 0, 1, 1])
    probs = np.array([0.1, 0.4, 0.35, 0.8])
    metrics = classification_metrics(labels, probs, threshold=0.5)
    assert metrics["roc_auc"] == 0.75  # from the ranking, not from the 0.5-thresholded labels
    assert metrics["accuracy"] == 0.75
    assert metrics["confusion_matrix"] == {"tn": 2, "fp": 0, "fn": 1, "tp": 1}
    assert metrics["precision_fake"] == 1.0 and metrics["recall_fake"] == 0.5
    assert classification_metrics(np.array([1, 1]), np.array([0.9, 0.2]))["roc_auc"] is None


def test_roc_points_are_thinned_and_keep_the_ends() -> None:
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 500)
    probs = np.clip(labels * 0.3 + rng.random(500) * 0.7, 0, 1)
    points = roc_points(labels, probs, max_points=20)
    assert len(points) <= 20
    assert points[0]["fpr"] == 0.0 and points[-1]["tpr"] == 1.0


def test_seed_free_models_give_the_same_model_for_any_seed(tmp_path: Path) -> None:
    """A model that declares ``seed_free`` is run once for every seed: check that holds."""
    rng = np.random.default_rng(0)
    words = np.array(["hoax", "secret", "report", "data", "claim", "said", "vaccine", "poll"])
    texts = [" ".join(rng.choice(words, 12)) for _ in range(200)]
    labels = np.array([int(("hoax" in t) ^ (i % 7 == 0)) for i, t in enumerate(texts)])
    for name in MODEL_NAMES:
        cls = get_model_class(name)
        if not cls.seed_free:
            continue
        probs = []
        for seed in (1, 2):
            extra = {"min_df": 1} if name == "tfidf_logreg" else {}
            model = cls(cls.Config(seed=seed, **extra))
            model.fit(texts, labels, texts, labels, lambda metrics, step: None)
            probs.append(np.asarray(model.predict_proba(texts)))
        assert np.array_equal(probs[0], probs[1]), name
    assert get_model_class("tfidf_logreg").seed_free
