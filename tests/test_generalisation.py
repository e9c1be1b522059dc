"""Evaluation-only datasets, unions (leave-one-dataset-out) and the generalisation summary."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from helpers.params import tiny_params
from helpers.prepared import write_prepared

from fakenews.analysis.generalisation import Score, collect_generalisation, combine, verdict
from fakenews.analysis.overlap_rows import scored_rows, scored_splits
from fakenews.cli.check import validate_study
from fakenews.core.errors import DatasetError, ParamsError
from fakenews.core.io import read_json, read_split, write_json
from fakenews.core.params import Params, parse_params
from fakenews.core.paths import Paths
from fakenews.models import get_model_class
from fakenews.pipeline.holdout import holdout_dataset
from fakenews.pipeline.split import SplitConfig, split_dataset
from fakenews.pipeline.transfer import target_roles
from fakenews.pipeline.union import build_union, union_preparation
from fakenews.sources.options import dataset_options


def params(**extra: Any) -> Params:
    """The real params, shrunk: datasets a, b and c, the baseline; ``extra``: unions and
    evaluation-only datasets."""
    return parse_params(tiny_params({"a": {}, "b": {}, "c": {}}, ["tfidf_logreg"], **extra))


def frame(n: int, prefix: str, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(300)]
    texts = [" ".join(rng.choice(words, 12)) for _ in range(n)]
    return pd.DataFrame(
        {
            "id": [f"{prefix}{i}" for i in range(n)],
            "title": [f"title {prefix} {i}" for i in range(n)],
            "text": texts,
            "label": [i % 2 for i in range(n)],
            "raw_title": [f"title {prefix} {i}" for i in range(n)],
            "raw_text": texts,
        }
    )


def audited_split(paths: Paths, name: str, n: int, seed: int) -> dict[str, Any]:
    write_prepared(paths.prepared(name), frame(n, name, seed), name)
    split = params().section("split", SplitConfig)
    manifest = split_dataset(name, split, paths.prepared(name), paths.split(name))
    write_json(paths.audit_passed(name), {"dataset": name, "split_hash": manifest["hash"]})
    return manifest


# --- params ------------------------------------------------------------------------------------


def test_unions_and_evaluation_only_datasets_are_checked() -> None:
    p = params(unions={"all": ["a", "b", "c"], "without_a": ["b", "c"]}, evaluate_on={"x": {}})
    assert p.members_of("all") == ["a", "b", "c"] and p.members_of("a") == ["a"]
    assert p.held_out_by("without_a") == "a" and p.held_out_by("all") is None
    assert p.is_eval_only("x") and not p.is_eval_only("a")
    assert dataset_options(p, "x").source is None  # looked up in evaluate_on too
    for extra, message in [
        ({"unions": {"u": ["a", "zz"]}}, r"unions\.u: 'zz' is not in `datasets`"),
        ({"unions": {"u": ["a", "x"]}, "evaluate_on": {"x": {}}}, r"\(evaluation-only\)"),
        ({"unions": {"u": ["a", "a"]}}, "listed twice"),
        ({"unions": {"u": []}}, "non-empty list"),
        ({"unions": {"a": ["b"]}}, r"unions\.a: the name is already a dataset's"),
        ({"evaluate_on": {"a": {}}}, r"evaluate_on\.a: also listed in `datasets`"),
    ]:
        with pytest.raises(ParamsError, match=message):
            validate_study(params(**extra))


def test_every_target_gets_its_role() -> None:
    p = params(unions={"all": ["a", "b", "c"], "without_a": ["b", "c"]}, evaluate_on={"x": {}})
    assert target_roles("a", p) == {"b": "other", "c": "other", "x": "eval_only"}
    assert target_roles("all", p) == {"a": "member", "b": "member", "c": "member", "x": "eval_only"}
    assert target_roles("without_a", p) == {
        "a": "held_out",
        "b": "member",
        "c": "member",
        "x": "eval_only",
    }


# --- data --------------------------------------------------------------------------------------


def test_a_union_is_its_members_splits_side_by_side(tmp_path: Path) -> None:
    paths = Paths(tmp_path)
    manifests = {"a": audited_split(paths, "a", 2000, 1), "b": audited_split(paths, "b", 1500, 2)}
    p = params(unions={"ab": ["a", "b"]})
    union = build_union("ab", p, paths)
    for split in ("train", "val", "test"):
        rows = read_split(paths.union("ab"), split)
        assert union["counts"][split] == len(rows)
        for member in ("a", "b"):
            own = read_split(paths.split(member), split)["id"]
            mine = rows.loc[rows["dataset"] == member, "id"]
            assert mine.tolist() == [f"{member}/{i}" for i in own]  # ids stay unique
    assert union["member_hashes"] == {m: manifests[m]["hash"] for m in ("a", "b")}
    assert build_union("ab", p, paths)["hash"] == union["hash"]  # same inputs, same bytes

    # A member whose audit did not pass (or passed for another split) cannot join.
    paths.audit_passed("b").unlink()
    with pytest.raises(DatasetError, match="union member 'b': its audit has not passed"):
        build_union("ab", p, paths)
    write_json(paths.audit_passed("b"), {"dataset": "b", "split_hash": "0" * 64})
    with pytest.raises(DatasetError, match="is for another split"):
        build_union("ab", p, paths)


def test_union_preparation_keeps_every_members_rules_and_refuses_mixed_cleaning() -> None:
    rule = {"name": "url", "pattern": "x", "flags": 0, "field": "text"}
    other = {"name": "handle", "pattern": "y", "flags": 0, "field": "text"}
    cleaning = {"fix_text": True}
    merged = union_preparation(
        "u",
        {
            "a": {"cleaning": cleaning, "artifact_rules": [rule]},
            "b": {"cleaning": cleaning, "artifact_rules": [other, rule]},
        },
    )
    assert [r["name"] for r in merged["artifact_rules"]] == ["handle", "url"]
    with pytest.raises(DatasetError, match="prepared differently"):
        union_preparation(
            "u",
            {
                "a": {"cleaning": cleaning, "artifact_rules": []},
                "b": {"cleaning": {"fix_text": False}, "artifact_rules": []},
            },
        )


def test_an_evaluation_only_dataset_is_all_test_rows(tmp_path: Path) -> None:
    paths = Paths(tmp_path)
    rows = frame(30, "x", 3)
    write_prepared(paths.prepared("x"), rows, "x")
    manifest = holdout_dataset("x", paths.prepared("x"), paths.split("x"))
    assert manifest["counts"] == {"test": 30} and manifest["strategy"] == "evaluation_only"
    assert scored_splits(paths.split("x")) == ["test"]
    assert scored_rows(paths.split("x"))["id"].tolist() == rows["id"].tolist()
    assert read_json(paths.split("x") / "preparation.json")["dataset"] == "x"
    assert sorted(p.name for p in paths.split("x").iterdir()) == [
        "manifest.json",
        "preparation.json",
        "test.parquet",
    ]


def test_a_k_fold_dataset_is_scored_on_every_row(tmp_path: Path) -> None:
    paths = Paths(tmp_path)
    audited_split(paths, "small", 200, 4)  # below folds_below_rows: k-fold
    audited_split(paths, "large", 2000, 5)
    assert scored_splits(paths.split("small")) == ["train", "val", "test"]
    assert len(scored_rows(paths.split("small"))) == 200
    assert scored_splits(paths.split("large")) == ["test"]


# --- the summary -------------------------------------------------------------------------------


def test_combined_interval_adds_dataset_variances() -> None:
    # Two datasets, SE 0.05 each (interval half-width 1.96 * 0.05): the mean's SE is 0.05/sqrt 2.
    half = 1.959964 * 0.05
    a = Score(0.7, 0.7 - half, 0.7 + half)
    b = Score(0.8, 0.8 - half, 0.8 + half)
    mean = combine({"d1": [a], "d2": [b]})
    assert mean.value == pytest.approx(0.75)
    assert mean.se == pytest.approx(0.05 / np.sqrt(2), rel=1e-6)
    # Two models on one dataset are treated as fully correlated: the SE is not shrunk.
    same = combine({"d1": [a, Score(0.6, 0.6 - half, 0.6 + half)]})
    assert same.value == pytest.approx(0.65) and same.se == pytest.approx(0.05, rel=1e-6)
    assert combine({"d1": [Score(None)]}).value is None


def test_generalisation_reads_transfers_and_names_the_best_family(tmp_path: Path) -> None:
    paths = Paths(tmp_path)
    p = parse_params(
        tiny_params(
            {"a": {}, "b": {}},
            ["tfidf_logreg", "minilm_embed"],
            unions={"without_a": ["b"], "without_b": ["a"]},
            evaluate_on={"x": {}},
        )
    )

    def scores(auc: float, role: str) -> dict[str, Any]:
        ci = {"roc_auc": {"low": auc - 0.05, "high": auc + 0.05, "value": auc}}
        return {"roc_auc": auc, "ci": ci, "n": 100, "role": role}

    lodo = {"tfidf_logreg": 0.55, "minilm_embed": 0.75}
    for model, auc in lodo.items():
        for union, held in (("without_a", "a"), ("without_b", "b")):
            member = "b" if held == "a" else "a"
            targets = {
                held: scores(auc, "held_out"),
                member: scores(0.9, "member"),
                "x": scores(auc - 0.1, "eval_only"),
            }
            write_json(paths.transfer(union, model), {"targets": targets})
    in_domain = {m: {d: scores(0.9, "in") for d in ("a", "b")} for m in lodo}
    g = collect_generalisation(p, paths, in_domain)
    assert g.lodo_union == {"a": "without_a", "b": "without_b"}
    assert g.lodo["minilm_embed"]["a"].value == 0.75
    embedding, linear = (get_model_class(m).family for m in ("minilm_embed", "tfidf_logreg"))
    assert g.best_family() == embedding
    assert embedding in verdict(g) and "intervals apart" in verdict(g)
    summary = g.summary()
    assert summary["transfers_best"] == embedding
    assert summary["families"][linear]["lodo"]["roc_auc"] == pytest.approx(0.55)
    # The eval-only dataset: scored by models trained on each dataset (missing: n/a) and union.
    assert summary["eval_only"]["x"]["minilm_embed"]["without_a"]["roc_auc"] == 0.65
    assert summary["eval_only"]["x"]["minilm_embed"]["a"]["roc_auc"] is None


def test_a_one_class_evaluation_set_is_scored_by_accuracy() -> None:
    ci = {"accuracy": {"low": 0.5, "high": 0.7, "value": 0.6}}
    score = Score.of_target({"roc_auc": None, "accuracy": 0.6, "ci": ci, "n": 40})
    assert (score.metric, score.value) == ("accuracy", 0.6)
    assert score.cell() == "accuracy 0.600 [0.500, 0.700]"
    assert score.as_dict() == {"accuracy": 0.6, "low": 0.5, "high": 0.7, "n": 40}
    # A family's evaluation-only ROC-AUC leaves it out rather than mixing measures.
    assert Score.of_target({"roc_auc": 0.8, "accuracy": 0.6, "n": 40}).metric == "roc_auc"


def test_an_evaluation_only_set_may_hold_one_class(tmp_path: Path) -> None:
    """A private set of known fakes: refused as a training set, prepared as an evaluation one."""
    from helpers.source_fixtures import CUSTOM_FILE, SOURCE_FIXTURE_OPTIONS, write_source_fixture

    from fakenews.pipeline.prepare import prepare_dataset
    from fakenews.sources.options import DatasetConfig
    from fakenews.text.cleaning import PrepareConfig

    raw = tmp_path / "raw"
    write_source_fixture("custom", raw)
    table = pd.read_csv(raw / CUSTOM_FILE)
    table[table["verdict"] == "FAKE"].to_csv(raw / CUSTOM_FILE, index=False)
    options = DatasetConfig(
        **{**SOURCE_FIXTURE_OPTIONS["custom"], "path": f"data/external/fakes/{CUSTOM_FILE}"}
    )
    with pytest.raises(DatasetError, match="only one class left"):
        prepare_dataset("fakes", options, PrepareConfig(), raw, tmp_path / "as_training")
    stats = prepare_dataset(
        "fakes", options, PrepareConfig(), raw, tmp_path / "as_eval", both_classes=False
    )
    assert stats["rows_kept"] == 6
    assert set(pd.read_parquet(tmp_path / "as_eval" / "data.parquet")["label"]) == {1}


def test_a_model_left_out_of_union_models_has_empty_union_cells_and_is_named(
    tmp_path: Path,
) -> None:
    from fakenews.analysis.generalisation import lodo_rows, not_on_unions_note
    from fakenews.reporting.publish import published_files

    paths = Paths(tmp_path)
    raw = tiny_params({"a": {}, "b": {}}, ["tfidf_logreg", "minilm_embed"],
                      unions={"without_a": ["b"], "without_b": ["a"]})  # fmt: skip
    raw["union_models"] = {**raw["union_models"], get_model_class("minilm_embed").family: []}
    p = parse_params(raw)
    assert p.union_model_names == ["tfidf_logreg"]
    ci = {"roc_auc": {"low": 0.5, "high": 0.6, "value": 0.55}}
    for union, held in (("without_a", "a"), ("without_b", "b")):
        targets = {held: {"roc_auc": 0.55, "ci": ci, "n": 9, "role": "held_out"}}
        write_json(paths.transfer(union, "tfidf_logreg"), {"targets": targets})
    g = collect_generalisation(p, paths, {})
    assert g.not_on_unions == ["minilm_embed"]
    assert g.lodo["minilm_embed"]["a"].value is None and g.lodo["tfidf_logreg"]["a"].value == 0.55
    _, rows = lodo_rows(g)
    assert [r[0] for r in rows] == ["tfidf_logreg", "minilm_embed"]
    assert "`minilm_embed`" in not_on_unions_note(g) and "make full-study" in not_on_unions_note(g)
    # The verdict names the family it could not compare, rather than ranking it out silently.
    embedding = get_model_class("minilm_embed").family
    assert verdict(g).endswith(f"Not compared (no LODO score in this study): {embedding}.")
    # Its union transfers are neither expected nor published.
    published = {str(k) for k in published_files(p, paths)}
    assert "without_a/transfer/tfidf_logreg.json" in published
    assert not any("transfer/minilm_embed" in k and "without" in k for k in published)
