"""DomainProfile: scores texts like the training set above others; threshold set on validation."""

from __future__ import annotations

import numpy as np
import pytest

from fakenews.analysis.domain import DomainConfig, DomainProfile, separation_auroc

SPORTS = ["match", "goal", "team", "league", "striker", "coach", "season", "win", "cup"]
HEALTH = ["vaccine", "virus", "covid", "cases", "hospital", "doctors", "health", "masks"]


def texts(words: list[str], n: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(words, size=12)) for _ in range(n)]


CONFIG = DomainConfig(sample=100, k=5, min_df=1, hash_bits=12)


@pytest.fixture(scope="module")
def profile() -> DomainProfile:
    return DomainProfile.fit(texts(SPORTS, 300, 0), texts(SPORTS, 100, 1), CONFIG)


def test_own_texts_score_above_others(profile) -> None:
    own, other = profile.score(texts(SPORTS, 100, 2)), profile.score(texts(HEALTH, 100, 3))
    assert separation_auroc(own, other) > 0.95
    assert profile.flags(texts(SPORTS, 100, 2)).mean() > 0.8
    assert profile.flags(texts(HEALTH, 100, 3)).mean() < 0.2


def test_threshold_lets_pass_rate_of_validation_pass(profile) -> None:
    val = texts(SPORTS, 100, 1)
    assert np.mean(profile.flags(val)) == pytest.approx(0.95, abs=0.02)
    assert profile.info["val_pass_share"] == pytest.approx(0.95, abs=0.02)


def test_unknown_words_score_zero(profile) -> None:
    assert profile.score(["", "zzzz qqqq"]).tolist() == [0.0, 0.0]
    assert profile.score([]).shape == (0,)


def test_save_load_same_scores_same_bytes(profile, tmp_path) -> None:
    profile.save(tmp_path / "a")
    loaded = DomainProfile.load(tmp_path / "a")
    probe = texts(SPORTS, 20, 5) + texts(HEALTH, 20, 6)
    np.testing.assert_array_equal(loaded.score(probe), profile.score(probe))
    assert loaded.threshold == profile.threshold
    assert loaded.text_fields == ("title", "text")
    # Refitting writes the same bytes (a DVC output).
    DomainProfile.fit(texts(SPORTS, 300, 0), texts(SPORTS, 100, 1), CONFIG).save(tmp_path / "b")
    for name in ("profile.json", "idf_index.npy", "sample_data.npy", "sample_indptr.npy"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    # Safe formats: no array holds Python objects.
    for name in ("idf_index.npy", "idf_value.npy", "sample_data.npy"):
        np.load(tmp_path / "a" / name, allow_pickle=False)


def test_missing_files_are_named(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match=r"profile\.json"):
        DomainProfile.load(tmp_path)


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="needs >= 2 training"):
        DomainProfile.fit(["one"], ["v"], CONFIG)
    with pytest.raises(ValueError, match="no word occurs"):
        DomainProfile.fit(["", " "], ["v"], CONFIG)
    with pytest.raises(ValueError, match="pass_rate"):
        DomainConfig(pass_rate=1.0)


def test_separation_auroc() -> None:
    assert separation_auroc(np.array([3.0, 4.0]), np.array([1.0, 2.0])) == 1.0
    assert separation_auroc(np.array([1.0]), np.array([1.0])) == 0.5
    assert separation_auroc(np.array([]), np.array([1.0])) is None


def test_max_df_drops_common_words_from_the_sample() -> None:
    train = [f"{t} the" for t in texts(SPORTS, 300, 0)]  # "the" in every training text
    full = DomainProfile.fit(train, texts(SPORTS, 50, 1), CONFIG)
    thin = DomainProfile.fit(train, texts(SPORTS, 50, 1), CONFIG.model_copy(update={"max_df": 0.5}))
    the = full.vectors(["the"]).indices[0]
    assert the in full.sample.indices and the not in thin.sample.indices
    assert thin.sample.nnz < full.sample.nnz


def test_texts_far_longer_than_the_training_texts_score_lower(profile) -> None:
    lo, hi = profile.length_bounds
    assert 0 < lo <= 12 <= hi  # the training texts have 12 words each
    one = texts(SPORTS, 1, 9)[0]
    long = " ".join([one] * 10)  # the same words, ten times as long
    (short_score, long_score) = profile.score([one, long])
    assert long_score < 0.2 * short_score
    np.testing.assert_allclose(
        profile.length_factor(np.array([0.0, lo, hi, 2 * hi])), [0, 1, 1, 0.5]
    )
