"""Explanations (fakenews.inference.attribution / explain) on tiny models: exact for the linear
model, complete (integrated gradients) for the torch families, and faithful on planted cues."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers.tiny_models import COMMON, FAKE, REAL, TINY_LSTM, make_tiny_bert, toy_rows

from fakenews.classifier.base import model_input
from fakenews.inference.attribution import (
    Unit,
    delete_units,
    explain,
    group_words,
    steps_for,
)
from fakenews.inference.explain import faithfulness, top_contributions, top_cues
from fakenews.models import get_model_class
from fakenews.pipeline.explain import ExplainConfig, sample_texts

TEXTS = [
    "the secret hoax exposed today",
    "officials reported the data of a study",
    "a miracle banned in the ministry",
    "people of the study today reported a shocking secret",
]


def fitted(name: str, **config: object):
    cls = get_model_class(name)
    model = cls(cls.Config(**config))
    train = toy_rows(96)
    texts = model_input(train, ["title", "text"])
    labels = train["label"].to_numpy()
    model.fit(texts, labels, texts[:24], labels[:24], lambda metrics, step: None)
    return model


def log_odds(model, texts: list[str]) -> np.ndarray:
    p = np.asarray(model.predict_proba(texts), dtype=float)
    return np.log(p / (1 - p))


@pytest.fixture(scope="module")
def linear():
    return fitted("tfidf_logreg", min_df=1)


@pytest.fixture(scope="module")
def lstm():
    return fitted("lstm", **{**TINY_LSTM, "epochs": 4, "max_len": 6})


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_bert(tmp_path_factory.mktemp("tiny_bert"), [*FAKE, *REAL, *COMMON])


def test_linear_contributions_plus_intercept_are_the_logit(linear) -> None:
    explained = explain(linear, TEXTS)
    for e, expected in zip(explained, log_odds(linear, TEXTS), strict=True):
        total = e.baseline + sum(u.contribution for u in e.units)
        assert total == pytest.approx(expected, abs=1e-9)
        assert e.logit == pytest.approx(expected, abs=1e-9)
        assert e.delta == 0.0
    # The intercept is the logit of a text with no known n-gram.
    assert explain(linear, ["zzz qqq"])[0].units == []


def test_linear_units_are_ngrams_with_their_places(linear) -> None:
    e = explain(linear, ["Secret hoax, secret"])[0]
    units = {u.text: u for u in e.units}
    assert units["secret"].spans == [(0, 6), (13, 19)]
    assert units["secret hoax"].spans == [(0, 11)]
    # Cue words of the fake class push towards fake.
    assert units["secret"].contribution > 0
    assert delete_units(e.text, [units["secret"]]).split() == ["hoax,"]


def test_recurrent_integrated_gradients_are_complete(lstm) -> None:
    texts = [*TEXTS, "hoax " * 10]  # longer than max_len: only the first 6 words are read
    explained = explain(lstm, texts, n_steps=64)
    for e, expected in zip(explained, log_odds(lstm, texts), strict=True):
        assert e.logit == pytest.approx(expected, abs=1e-4)
        total = sum(u.contribution for u in e.units)
        assert total == pytest.approx(e.logit - e.baseline, abs=0.02 * abs(e.logit - e.baseline))
    assert len(explained[-1].units[0].spans) == 6  # "hoax" at the 6 places read, not 10


def test_transformer_attributes_every_window_of_a_long_text(tiny_bert: Path) -> None:
    config = {
        "pretrained": str(tiny_bert),
        "max_len": 8,
        "epochs": 2,
        "batch_size": 8,
        "eval_batch_size": 16,
        "grad_accumulation": 1,
        "learning_rate": 1e-3,
        "warmup_steps": 2,
        "precision": "fp32",
    }
    model = fitted("tinybert", **config)
    texts = [*TEXTS, " ".join(["secret", "ministry", "people"] * 6)]  # 3 windows of 6 tokens
    assert len(model._windows(texts[-1:])[0]) == 3
    explained = explain(model, texts, n_steps=32, step_tokens=None)
    for e, expected in zip(explained, log_odds(model, texts), strict=True):
        assert e.logit == pytest.approx(expected, abs=1e-4)
        assert e.delta == pytest.approx(0.0, abs=0.05 * abs(e.logit - e.baseline) + 1e-3)
    assert {u.text for u in explained[-1].units} == {"secret", "ministry", "people"}


def test_embedding_head_reproduces_the_model_and_is_complete(tiny_bert: Path) -> None:
    model = fitted(
        "minilm_embed", pretrained=str(tiny_bert), max_len=8, embedding_cache=None, C_grid=[10.0]
    )
    texts = [*TEXTS, " ".join(["hoax", "data", "today"] * 5)]  # several windows, pooled
    explained = explain(model, texts, n_steps=32, step_tokens=None)
    for e, expected in zip(explained, log_odds(model, texts), strict=True):
        assert e.logit == pytest.approx(expected, abs=1e-4)
        assert e.delta == pytest.approx(0.0, abs=0.05 * abs(e.logit - e.baseline) + 1e-3)


def planted(n: int = 40) -> list[str]:
    """Texts with two cue words among many neutral ones: the cues decide the score."""
    rng = np.random.default_rng(1)
    texts = []
    for i in range(n):
        cues = list(rng.choice(FAKE if i % 2 else REAL, size=2, replace=False))
        filler = list(rng.choice(COMMON, size=10))  # words the model knows, of no class
        texts.append(" ".join(cues + filler))
    return texts


def test_deleting_the_top_units_beats_random_on_planted_cues(linear) -> None:
    result = faithfulness(linear, explain(linear, planted()), top_k=2, repeats=5, seed=0)
    summary = result.summary()
    assert summary["texts"] == 40
    assert summary["share_top_k_beats_random"] > 0.9
    assert summary["top_k_drop"] > 2 * summary["random_drop"]
    assert summary["wilcoxon_p"] < 0.001


def test_a_random_attribution_is_not_faithful(linear) -> None:
    """The same test with shuffled contributions: top-K no longer beats random."""
    rng = np.random.default_rng(2)
    explained = explain(linear, planted())
    for e in explained:
        values = rng.permutation([u.contribution for u in e.units])
        for u, v in zip(e.units, values, strict=True):
            u.contribution = float(v)
    summary = faithfulness(linear, explained, top_k=2, repeats=5, seed=0).summary()
    assert summary["share_top_k_beats_random"] < 0.7
    assert summary["wilcoxon_p"] > 0.01


def test_short_texts_are_skipped_not_deleted_whole(linear) -> None:
    result = faithfulness(linear, explain(linear, ["hoax", *TEXTS]), top_k=4, repeats=2, seed=0)
    assert result.skipped == 1 and len(result.top_drop) == 4


def test_top_contributions_are_signed_and_sorted(linear) -> None:
    (units,) = top_contributions(linear, ["secret hoax officials reported"], 3)
    assert len(units) == 3
    assert [abs(v) for _, v in units] == sorted((abs(v) for _, v in units), reverse=True)
    signs = dict(units)
    assert signs.get("secret", signs.get("hoax", 1.0)) > 0
    with pytest.raises(ValueError, match="K must be at least 1"):
        top_contributions(linear, ["x"], 0)


def test_words_group_tokens_and_fold_case() -> None:
    text = "Hoax! hoax-ed Data"
    # Tokens: "Hoax", "!", "hoax", "-", "ed", "Data" (as a word-piece tokenizer cuts them).
    spans = [(0, 4), (4, 5), (6, 10), (10, 11), (11, 13), (14, 18)]
    units = {u.text: u for u in group_words(text, spans, np.array([1, 2, 3, 4, 5, 6.0]))}
    assert units["hoax"].contribution == 4 and units["hoax"].spans == [(0, 4), (6, 10)]
    assert units["!"].contribution == 2 and units["data"].contribution == 6
    assert delete_units(text, [units["hoax"]]) == " !  -ed Data"  # one space per place


def test_cues_need_several_texts(linear) -> None:
    explained = explain(linear, ["secret hoax", "secret plan", "secret data", "hoax"])
    cues = top_cues(explained, n=5, min_texts=3)
    assert [c["unit"] for c in cues["towards_fake"]] == ["secret"]
    assert cues["towards_fake"][0]["texts"] == 3


def test_sampled_texts_are_deterministic_and_skip_empty_ones() -> None:
    texts = ["a", "", "b", "c", "  ", "d"]
    assert sample_texts(texts, 10, 0) == [0, 2, 3, 5]
    assert sample_texts(texts, 2, 0) == sample_texts(texts, 2, 0)
    assert len(sample_texts(texts, 2, 0)) == 2


def test_ig_steps_shrink_for_long_texts() -> None:
    assert steps_for(40, 16, 2048) == 16
    assert steps_for(1024, 16, 2048) == 2
    assert steps_for(5000, 16, 2048) == 2  # never fewer than 2
    assert steps_for(5000, 16, None) == 16


def test_config_refuses_bad_values() -> None:
    with pytest.raises(ValueError):
        ExplainConfig(top_k=0)
    assert ExplainConfig().texts >= 200


def test_units_default_to_no_places() -> None:
    assert Unit("x", 1.0).spans == []


def test_predict_explain_prints_and_writes_a_column(tmp_path: Path, capsys) -> None:
    import json

    import pandas as pd
    from helpers.tiny_models import train_folder

    from fakenews.cli.main import main

    folder = train_folder(tmp_path / "model", "tfidf_logreg", min_df=1)
    main(["predict", "--model", str(folder), "--explain", "2", "a secret hoax exposed"])
    label_line, explained = capsys.readouterr().out.strip().splitlines()
    assert label_line.startswith("fake\t")
    assert explained.startswith("\ttop 2: ") and "(+" in explained
    pd.DataFrame({"text": ["officials reported data", ""]}).to_csv(tmp_path / "in.csv")
    main(
        [
            "predict",
            "--model",
            str(folder),
            "--explain",
            "3",
            "--no-progress",
            "--input",
            str(tmp_path / "in.csv"),
            "--output",
            str(tmp_path / "out.jsonl"),
        ]
    )
    rows = pd.read_json(tmp_path / "out.jsonl", lines=True)
    units = json.loads(rows["explanation"][0])
    assert len(units) == 3 and all(value < 0 for _, value in units)  # real cues only
    assert rows["explanation"].isna()[1]  # the empty row


def test_the_report_section_lists_cues_probes_and_faithfulness() -> None:
    from fakenews.reporting.collect import AuditFindings
    from fakenews.reporting.explanations import reliance_section

    out = {
        "method": "integrated gradients",
        "ig_steps_median": 16.0,
        "top_k": 5,
        "faithfulness": {
            "texts": 200,
            "top_k_drop": 0.38,
            "random_drop": 0.05,
            "share_top_k_beats_random": 0.97,
            "wilcoxon_p": 1.2e-30,
        },
        "cues": {
            "towards_fake": [{"unit": "hoax", "total": 12.5, "texts": 9}],
            "towards_real": [{"unit": "officials", "total": -8.0, "texts": 7}],
        },
    }
    audit = AuditFindings(
        {"demo": {"probes": {"majority": {"accuracy": 0.5}, "prefix": {"accuracy": 0.82}}}}
    )
    section = reliance_section({"demo": {"lstm": out}}, audit, "What the models rely on")
    assert section is not None and section.anchor == "reliance"
    faithful, demo = section.subsections
    assert faithful.blocks[0].rows == [
        [
            "demo",
            "lstm",
            "integrated gradients (median 16 steps)",
            "200",
            "0.380",
            "0.050",
            "0.970",
            "1.2e-30",
        ]
    ]
    assert "first words 0.820" in demo.blocks[0].text
    assert demo.blocks[1].rows == [["lstm", "hoax (+12.50)", "officials (-8.00)"]]
    assert reliance_section({}, audit, "x") is None


def test_the_stage_writes_the_same_bytes_twice_and_reads_a_fold(tmp_path: Path) -> None:
    """explain_model on a k-fold layout: the serving fold's model on that fold's test rows."""
    from helpers.params import tiny_params
    from helpers.tiny_models import train_folder

    from fakenews.core.params import parse_params
    from fakenews.core.paths import Paths
    from fakenews.inference.explain import explanations_path
    from fakenews.pipeline.explain import explain_model

    paths = Paths(tmp_path)
    run = paths.run("demo", "tfidf_logreg", 42)
    train_folder(run / "fold-0", "tfidf_logreg", min_df=1)
    fold = paths.split("demo") / "folds" / "fold-0"
    fold.mkdir(parents=True)
    toy_rows(30, seed=5).to_parquet(fold / "test.parquet")
    raw = tiny_params({"demo": {}}, ["tfidf_logreg"], seeds=42, explain={"texts": 20})
    out = explain_model("demo", "tfidf_logreg", parse_params(raw), paths)
    assert out["model_dir"] == "models/demo/tfidf_logreg/seed-42/fold-0"
    assert out["faithfulness"]["texts"] + out["faithfulness"]["texts_skipped"] == 20
    assert out["faithfulness"]["top_k_drop"] > out["faithfulness"]["random_drop"]
    first = explanations_path(paths, "demo", "tfidf_logreg").read_bytes()
    explain_model("demo", "tfidf_logreg", parse_params(raw), paths)
    assert explanations_path(paths, "demo", "tfidf_logreg").read_bytes() == first
