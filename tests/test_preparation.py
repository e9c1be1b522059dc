"""TextPreparation: prepare's per-row transform, recorded with each model, replayed on raw text."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from helpers.tiny_models import train_folder

from fakenews.core.errors import ModelError
from fakenews.inference.predict import load_predictor
from fakenews.models import MODEL_INFO_FILE
from fakenews.pipeline.prepare import clean_frame
from fakenews.sources import rules_for
from fakenews.text.cleaning import PrepareConfig
from fakenews.text.preparation import RAW_COLUMNS, TextPreparation, recorded_preparation

RAW = pd.DataFrame(
    {
        "id": ["a", "b", "c", "d"],
        "title": ["<b>Breaking</b>", "", None, "caf\u00e9 &amp; more"],
        "text": [
            "RT @WHO: masks work https://t.co/xyz  now",
            "Cases rise, see www.example.org/report and @CDCgov",
            "ﬁne print\u00a0with   spaces",
            "plain text",
        ],
        "label": [0, 1, 1, 0],
    }
)


def test_preparation_replays_prepare_exactly_on_raw_text() -> None:
    rules = rules_for("constraint")
    prepared, stats = clean_frame(RAW, PrepareConfig(), rules=rules)
    preparation = TextPreparation.of(PrepareConfig(), rules)
    assert preparation.rule_names == ["url", "handle"]
    assert stats["artifacts"]["rows_changed"]["rows"] == 2  # the test is not vacuous
    for column, raw_column in RAW_COLUMNS.items():
        assert prepared[raw_column].tolist() == RAW[column].fillna("").tolist()  # as loaded
        replayed = [preparation.apply(column, v) for v in prepared[raw_column]]
        assert replayed == prepared[column].tolist()
    assert prepared.loc[0, "text"] == "masks work now"


def test_without_stripping_no_rule_is_recorded() -> None:
    config = PrepareConfig(strip_artifacts=False)
    preparation = TextPreparation.of(config, rules_for("constraint"))
    assert preparation.rules == ()
    assert "https://t.co/xyz" in preparation.apply("text", RAW.loc[0, "text"])


def test_the_recorded_pattern_is_served_not_todays_catalogue() -> None:
    recorded = TextPreparation.of(PrepareConfig(), rules_for("constraint")).to_json()
    recorded["artifact_rules"][0]["pattern"] = r"masks ?"  # as an older catalogue had it
    again = TextPreparation.from_json(json.loads(json.dumps(recorded)), "model.json")
    assert again.apply("text", "RT @WHO: masks work https://t.co/x") == "work https://t.co/x"
    assert again.apply("title", "masks") == "masks"  # rules are for the body only


def test_a_model_without_a_recorded_preparation_is_refused(tmp_path: Path) -> None:
    folder = train_folder(tmp_path / "m", "tfidf_logreg", min_df=1)
    info_file = folder / MODEL_INFO_FILE
    info = json.loads(info_file.read_text())
    assert recorded_preparation(info, "x").rules == ()
    del info["preparation"]
    info_file.write_text(json.dumps(info))
    with pytest.raises(ModelError, match=r"model.json: records no 'preparation'.*retrain"):
        load_predictor(folder).preparation  # noqa: B018
    info["preparation"] = {"cleaning": {"unicode_form": "NFX"}, "artifact_rules": []}
    info_file.write_text(json.dumps(info))
    with pytest.raises(ModelError, match=r"model.json.*unreadable 'preparation'"):
        load_predictor(folder).preparation  # noqa: B018
