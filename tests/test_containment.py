"""Containment across datasets: a claim quoted inside an article is found, either way round,
at the params' thresholds; chance phrase matches and unrelated texts are not."""

from __future__ import annotations

import numpy as np
import pytest

from fakenews.analysis import containment
from fakenews.analysis.containment import (
    ContainmentConfig,
    Match,
    containment_matches,
    shared_window,
    shingle_matrix,
    shingles,
)

VOCABULARY = [f"word{i}" for i in range(400)]
CONFIG = ContainmentConfig()  # word 3-grams, containment >= 0.6, >= 4 shared


def article(rng: np.random.Generator, n_words: int = 400) -> str:
    return " ".join(rng.choice(VOCABULARY, size=n_words))


def claim(rng: np.random.Generator, n_words: int = 18) -> str:
    # Words of its own: a claim shares nothing with an article by chance.
    return " ".join(f"claim{i}" for i in rng.choice(1000, size=n_words, replace=False))


def quote(text: str, inside: str, at: int = 150) -> str:
    words = inside.split()
    return " ".join([*words[:at], text, *words[at:]])


def matches(
    sources: list[str], targets: list[str], config: ContainmentConfig = CONFIG
) -> list[Match]:
    matrix = shingle_matrix([*sources, *targets], config.shingle_size)
    return containment_matches(matrix[: len(sources)], matrix[len(sources) :], config)


def test_shingles_are_word_ngrams_case_and_punctuation_free() -> None:
    assert shingles("Obama, said: THE deal!", 3) == ["obama said the", "said the deal"]
    assert shingles("Two words", 3) == ["two words"]  # short text: one shingle
    assert shingles("  ...  ", 3) == []


def test_a_claim_inside_an_article_is_found_and_unrelated_texts_are_not() -> None:
    rng = np.random.default_rng(0)
    said = claim(rng)
    articles = [article(rng) for _ in range(30)]
    articles[7] = quote(said, articles[7])
    others = [claim(rng) for _ in range(20)]
    found = matches([*others, said], articles)
    # The claim is source 20: whole (18 words, 16 shingles) inside article 7.
    assert found == [Match(source=20, target=7, shared=16, containment=1.0, shorter="source")]
    # Jaccard could not see it: 16 shared shingles among ~415.
    assert 16 / len(set(shingles(articles[7], 3))) < 0.05


def test_both_directions_short_target_inside_long_source() -> None:
    rng = np.random.default_rng(1)
    said, long_text = claim(rng), article(rng)
    found = matches([quote(said, long_text)], [said])
    assert [(m.source, m.target, m.shorter) for m in found] == [(0, 0, "target")]


def test_threshold_is_respected() -> None:
    rng = np.random.default_rng(2)
    said = claim(rng, 12)  # 10 shingles
    words = said.split()
    # Changing word 6 breaks the 3 shingles that hold it: 7 of 10 left in the article.
    edited = " ".join([*words[:6], "changed", *words[7:]])
    host = quote(edited, article(rng))
    (found,) = matches([said], [host])
    assert (found.shared, found.containment) == (7, 0.7)
    assert matches([said], [host], ContainmentConfig(threshold=0.7)) == [found]
    assert matches([said], [host], ContainmentConfig(threshold=0.71)) == []


def test_min_shared_stops_short_stock_phrases() -> None:
    rng = np.random.default_rng(3)
    short = "says barack obama is a socialist"  # 4 shingles
    host = quote("barack obama is a", article(rng))  # 2 of them: containment 0.5
    assert matches([short], [host], ContainmentConfig(threshold=0.5)) == []
    assert len(matches([short], [host], ContainmentConfig(threshold=0.5, min_shared=2))) == 1


def test_blocks_do_not_change_the_result(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(4)
    claims = [claim(rng) for _ in range(12)]
    articles = [article(rng, 200) for _ in range(25)]
    for i, j in ((0, 3), (5, 3), (7, 20), (11, 24)):
        articles[j] = quote(claims[i], articles[j], at=20 * (i + 1))
    whole = matches(claims, articles)
    assert {(m.source, m.target) for m in whole} == {(0, 3), (5, 3), (7, 20), (11, 24)}
    monkeypatch.setattr(containment, "_BLOCK_CELLS", 13)  # one target per block
    assert matches(claims, articles) == whole


def test_texts_without_words_match_nothing() -> None:
    assert matches(["", "!!!"], ["", "?"]) == []


def test_shared_window_shows_where_the_claim_sits() -> None:
    rng = np.random.default_rng(5)
    said = claim(rng)
    window = shared_window(said, quote(said, article(rng)), 3, context=2)
    assert said in window and window.startswith("… ") and window.endswith(" …")
    assert len(window.split()) == len(said.split()) + 2 * 2 + 2  # context words and ellipses
