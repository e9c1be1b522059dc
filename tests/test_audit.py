"""The leakage audit on small datasets with planted problems: each one must be found.

Planted: an exact duplicate across train/test, a near-duplicate with a few words changed, a
class-revealing prefix (ISOT's Reuters dateline, a site's boilerplate opener), a class-revealing
metadata column, an inverted label mapping, and a test row copied into another dataset's train.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from helpers.params import family_of
from helpers.prepared import write_prepared
from helpers.source_fixtures import write_source_fixture

from fakenews.analysis.findings import AuditConfig
from fakenews.analysis.near_duplicates import (
    NearDuplicateConfig,
    group_ids,
    jaccard,
    lsh_bands,
    near_duplicate_groups,
    shingle_set,
)
from fakenews.core.errors import AuditError, DatasetError
from fakenews.core.io import read_json
from fakenews.core.params import Params
from fakenews.core.paths import Paths
from fakenews.pipeline.audit import audit_dataset, run_probes
from fakenews.pipeline.overlap import dataset_overlap
from fakenews.pipeline.prepare import clean_frame, prepare_dataset
from fakenews.pipeline.split import SplitConfig, split_dataset
from fakenews.reporting import html, markdown
from fakenews.reporting.collect import AuditFindings
from fakenews.reporting.sections import audit_section
from fakenews.sources import artifact_rules, checks_for, label_checks, rules_for
from fakenews.sources.options import DatasetConfig
from fakenews.text.cleaning import PrepareConfig

ARTIFACT_RULES, LABEL_CHECKS = artifact_rules(), label_checks()

VOCABULARY = [f"word{i}" for i in range(300)]
NEAR = NearDuplicateConfig()


def random_text(rng: np.random.Generator, n_words: int | None = None) -> str:
    """Distinct random words (so two changed words always change the word set)."""
    n = int(rng.integers(25, 45)) if n_words is None else n_words
    return " ".join(rng.choice(VOCABULARY, size=n, replace=False))


def change_words(text: str, positions: tuple[int, ...] = (3, 17)) -> str:
    """The same text with a few words replaced by words from outside the vocabulary."""
    tokens = text.split()
    for n, i in enumerate(positions):
        tokens[i] = f"changed{n}"
    return " ".join(tokens)


def news_frame(n: int, seed: int = 0, prefix: dict[int, str] | None = None) -> pd.DataFrame:
    """Balanced rows whose words carry no label signal; ``prefix`` prepends text per label."""
    rng = np.random.default_rng(seed)
    labels = [i % 2 for i in range(n)]
    texts = [(prefix or {}).get(label, "") + random_text(rng) for label in labels]
    return pd.DataFrame(
        {"id": [f"r{i}" for i in range(n)], "title": "", "text": texts, "label": labels}
    )


def make_params(**audit: Any) -> Params:
    return Params(
        datasets={"demo": DatasetConfig(), "other": DatasetConfig()},
        models={
            family_of("tfidf_logreg"): ["tfidf_logreg"]
        },  # stages read only the families they run
        audit=AuditConfig(**audit),
    )


def build_split(
    root: Path, dataset: str, frame: pd.DataFrame, config: SplitConfig | None = None
) -> Paths:
    """Write ``frame`` as the prepared data of ``dataset`` and split it, under ``root``."""
    paths = Paths(root)
    write_prepared(paths.prepared(dataset), frame, dataset)
    split_dataset(
        dataset, config or SplitConfig(), paths.prepared(dataset), paths.split(dataset), NEAR
    )
    return paths


def where(manifest: dict[str, Any]) -> dict[str, str]:
    return {i: name for name, ids in manifest["ids"].items() for i in ids}


# --- near-duplicates -------------------------------------------------------------------------


def test_a_few_changed_words_are_a_near_duplicate_unrelated_texts_are_not() -> None:
    rng = np.random.default_rng(1)
    originals = [random_text(rng) for _ in range(200)]
    edited = change_words(originals[7])
    assert jaccard(shingle_set(originals[7], 1), shingle_set(edited, 1)) >= NEAR.threshold
    groups = near_duplicate_groups([*originals, edited], NEAR)
    assert groups[-1] == 7  # named by its smallest member
    assert len(set(groups)) == 200  # nothing else was merged
    # Punctuation and case do not matter.
    assert near_duplicate_groups(["Hello, World!", "hello world"], NEAR) == [0, 0]


def test_group_ids_do_not_depend_on_row_order() -> None:
    rng = np.random.default_rng(2)
    texts = [random_text(rng) for _ in range(50)]
    texts += [change_words(t) for t in texts[:10]]
    keys = [f"k{i:03d}" for i in range(len(texts))]
    ids = dict(zip(keys, group_ids(texts, keys, NEAR), strict=True))
    order = np.random.default_rng(3).permutation(len(texts))
    shuffled = group_ids([texts[i] for i in order], [keys[i] for i in order], NEAR)
    assert dict(zip([keys[i] for i in order], shuffled, strict=True)) == ids
    assert sum(1 for k, g in ids.items() if k != g) == 10


def test_lsh_bands_fit_the_permutations() -> None:
    for threshold in (0.5, 0.8, 0.95):
        bands, rows = lsh_bands(threshold, 128)
        assert bands * rows <= 128
        # The S-curve's steep part sits at or below the threshold (misses weigh more).
        assert (1 / bands) ** (1 / rows) <= threshold + 0.05


# --- the split keeps near-duplicates together ------------------------------------------------


def test_split_keeps_near_duplicate_groups_in_one_split(tmp_path: Path) -> None:
    frame = news_frame(300, seed=4)
    copies = frame.iloc[:30].assign(
        id=[f"copy{i}" for i in range(30)], text=frame["text"].iloc[:30].map(change_words)
    )
    frame = pd.concat([frame, copies], ignore_index=True)
    manifest = read_json(build_split(tmp_path, "demo", frame).split("demo") / "manifest.json")
    assigned = where(manifest)
    assert all(assigned[f"r{i}"] == assigned[f"copy{i}"] for i in range(30))
    assert manifest["near_duplicates"]["groups"] == 30
    # The check has teeth: without grouping, some pairs are torn apart.
    loose = split_dataset(
        "demo",
        SplitConfig(group_near_duplicates=False),
        tmp_path / "data" / "prepared" / "demo",
        tmp_path / "loose",
        NEAR,
    )
    assert any(where(loose)[f"r{i}"] != where(loose)[f"copy{i}"] for i in range(30))


def official_frame() -> pd.DataFrame:
    """An official split with a train text repeated in test, and a near-copy of it in val."""
    frame = news_frame(60, seed=5)
    frame["official_split"] = ["train"] * 40 + ["val"] * 10 + ["test"] * 10
    frame.loc[50, "text"] = frame.loc[0, "text"]  # exact duplicate: train + test
    frame.loc[40, "text"] = change_words(frame.loc[1, "text"])  # near-duplicate: train + val
    return frame


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ("move_to_earliest", {"r50": "train", "r40": "train"}),
        ("drop", {"r50": None, "r40": None}),
        ("keep", {"r50": "test", "r40": "val"}),
    ],
)
def test_official_leaks_follow_the_policy(
    tmp_path: Path, policy: str, expected: dict[str, str | None]
) -> None:
    config = SplitConfig(official_leaks=policy)  # type: ignore[arg-type]
    manifest = read_json(
        build_split(tmp_path, "demo", official_frame(), config).split("demo") / "manifest.json"
    )
    assigned = where(manifest)
    for row, split in expected.items():
        assert assigned.get(row) == split
    assert manifest["official_leaks"] == {
        "policy": policy,
        "groups": 2,
        "rows": {"val": 1, "test": 1},
    }


# --- the audit finds what was planted --------------------------------------------------------


def test_audit_finds_an_exact_and_a_near_duplicate_across_splits(tmp_path: Path) -> None:
    paths = build_split(tmp_path, "demo", official_frame(), SplitConfig(official_leaks="keep"))
    with pytest.raises(AuditError, match=r"cross_split_leaks = 2 exceeds 0.*max_cross_split_leaks"):
        audit_dataset("demo", make_params(), paths)
    report = read_json(paths.audit("demo"))  # written before failing, for inspection
    duplicates = report["duplicates"]
    assert duplicates["cross_split_groups"] == 2
    assert duplicates["cross_split_exact_groups"] == 1
    assert duplicates["cross_split_by_pair"] == {"train-val": 1, "train-test": 1, "val-test": 0}
    assert duplicates["test_rows_with_train_twin"] == 1
    assert duplicates["val_rows_with_train_twin"] == 1
    assert {tuple(e["ids"]) for e in duplicates["examples"]} == {("r0", "r50"), ("r1", "r40")}
    assert not paths.audit_passed("demo").exists()  # training stays blocked

    # Reported, not fatal, when the limit is lifted; and none left with the default policy.
    assert audit_dataset("demo", make_params(max_cross_split_leaks=None), paths)["passed"]
    paths = build_split(tmp_path / "fixed", "demo", official_frame())
    report = audit_dataset("demo", make_params(), paths)
    assert report["duplicates"]["cross_split_groups"] == 0
    assert report["duplicates"]["ids_in_two_splits"] == 0
    assert (
        read_json(paths.audit_passed("demo"))["split_hash"]
        == read_json(paths.split("demo") / "manifest.json")["hash"]
    )


def test_an_id_in_two_splits_always_fails(tmp_path: Path) -> None:
    frame = official_frame()
    frame.loc[55, "id"] = "r5"  # same id in train (row 5) and test
    paths = build_split(tmp_path, "demo", frame)
    with pytest.raises(AuditError, match="ids_in_two_splits = 1 exceeds 0"):
        audit_dataset("demo", make_params(max_cross_split_leaks=None), paths)


def probe_scores(frame: pd.DataFrame, tmp_path: Path, **audit: Any) -> dict[str, Any]:
    paths = build_split(tmp_path, "demo", frame)
    return audit_dataset("demo", make_params(**audit), paths)["probes"]


def test_prefix_probe_finds_a_class_revealing_prefix_and_stripping_removes_it(
    tmp_path: Path,
) -> None:
    # ISOT-shaped: every real article opens with the Reuters dateline; the words say nothing.
    raw = news_frame(600, seed=6, prefix={0: "WASHINGTON (Reuters) - "})
    isot_rules, isot_checks = rules_for("isot"), checks_for("isot")
    kept, _ = clean_frame(
        raw, PrepareConfig(strip_artifacts=False), rules=isot_rules, checks=isot_checks
    )
    probes = probe_scores(kept, tmp_path / "kept")
    assert probes["majority"]["accuracy"] == pytest.approx(0.5, abs=0.02)
    assert probes["prefix"]["accuracy"] >= 0.95
    assert probes["title"] == {"skipped": "no titles"}
    assert probes["metadata"] == {"skipped": "no metadata columns"}

    stripped, stats = clean_frame(raw, PrepareConfig(), rules=isot_rules, checks=isot_checks)
    assert stats["artifacts"]["rules"]["reuters_dateline"] == {
        "rows": 300,
        "fake": 0,
        "real": 300,
        "description": ARTIFACT_RULES["reuters_dateline"].description,
    }
    assert stats["artifacts"]["rows_changed"] == {"rows": 300, "fake": 0, "real": 300}
    assert not stripped["text"].str.contains("Reuters").any()
    assert stats["label_checks"]["reuters_dateline_is_real"]["status"] == "passed"
    probes = probe_scores(stripped, tmp_path / "stripped")
    assert abs(probes["prefix"]["accuracy"] - probes["majority"]["accuracy"]) <= 0.1


def test_boilerplate_opener_is_found_and_stripped(tmp_path: Path) -> None:
    raw = news_frame(400, seed=7, prefix={1: "21st Century Wire says "})
    rules = [ARTIFACT_RULES["century_wire"]]
    kept, _ = clean_frame(raw, PrepareConfig(strip_artifacts=False), rules=rules)
    assert probe_scores(kept, tmp_path / "kept")["prefix"]["accuracy"] >= 0.95
    stripped, stats = clean_frame(raw, PrepareConfig(), rules=rules)
    assert stats["artifacts"]["rules"]["century_wire"]["fake"] == 200
    probes = probe_scores(stripped, tmp_path / "stripped")
    assert abs(probes["prefix"]["accuracy"] - probes["majority"]["accuracy"]) <= 0.1


def test_metadata_and_title_probes_find_class_revealing_fields(tmp_path: Path) -> None:
    frame = news_frame(400, seed=8)
    rng = np.random.default_rng(9)
    # Each class comes from its own sites; the titles carry a class word.
    frame["url"] = [
        f"https://{'truth-patriot' if y else 'daily-record'}{rng.integers(3)}.com/{i}"
        for i, y in enumerate(frame["label"])
    ]
    frame["subject"] = rng.choice(["politics", "world"], size=len(frame))
    frame["shares"] = np.where(rng.random(len(frame)) < 0.2, np.nan, rng.random(len(frame)))
    frame["title"] = [
        f"{'SHOCKING' if y else 'Officials'} {random_text(rng, 4)}" for y in frame["label"]
    ]
    probes = probe_scores(frame, tmp_path)
    assert probes["metadata"]["accuracy"] >= 0.95
    assert probes["metadata"]["features"] == ["url", "subject", "shares"]
    assert probes["title"]["accuracy"] >= 0.95
    # An excluded column is not used.
    excluded = probe_scores(frame, tmp_path / "x", exclude_columns=["url"])
    assert excluded["metadata"]["features"] == ["subject", "shares"]
    assert excluded["metadata"]["accuracy"] < 0.7


def test_length_probe_finds_length_that_reveals_the_class() -> None:
    rng = np.random.default_rng(10)
    labels = [i % 2 for i in range(400)]
    frame = pd.DataFrame(
        {
            "id": [str(i) for i in range(400)],
            "title": "",
            "text": [random_text(rng, 40 if y == 0 else 12) for y in labels],
            "label": labels,
        }
    )
    probes = run_probes(frame.iloc[:300], frame.iloc[300:], AuditConfig())
    assert probes["length"]["accuracy"] == 1.0
    assert probes["length"]["lift"] == pytest.approx(0.5)


def test_probe_threshold_fails_the_audit(tmp_path: Path) -> None:
    frame = news_frame(400, seed=11, prefix={0: "WASHINGTON (Reuters) - "})
    paths = build_split(tmp_path, "demo", frame)
    with pytest.raises(
        AuditError, match=r"probe_lift = 0\.\d+ exceeds 0\.2.*audit\.max_probe_lift"
    ):
        audit_dataset("demo", make_params(max_probe_lift=0.2), paths)


def test_near_duplicate_fraction_threshold(tmp_path: Path) -> None:
    frame = news_frame(200, seed=12)
    copies = frame.iloc[:40].assign(id=[f"c{i}" for i in range(40)])
    copies["text"] = copies["text"].map(change_words)
    paths = build_split(tmp_path, "demo", pd.concat([frame, copies], ignore_index=True))
    report = audit_dataset("demo", make_params(), paths)
    assert report["duplicates"]["near_groups"] == 40
    assert report["duplicates"]["near_duplicate_fraction"] == pytest.approx(40 / 240, abs=1e-6)
    with pytest.raises(AuditError, match="near_duplicate_fraction"):
        audit_dataset("demo", make_params(max_near_duplicate_fraction=0.1), paths)


def test_audit_output_is_deterministic(tmp_path: Path) -> None:
    paths = build_split(tmp_path, "demo", news_frame(200, seed=13, prefix={1: "BREAKING: "}))
    audit_dataset("demo", make_params(), paths)
    first = paths.audit("demo").read_bytes()
    passed = paths.audit_passed("demo").read_bytes()
    audit_dataset("demo", make_params(), paths)
    assert paths.audit("demo").read_bytes() == first
    # Audit params change the report but not the file training depends on.
    audit_dataset("demo", make_params(prefix_tokens=2), paths)
    assert paths.audit_passed("demo").read_bytes() == passed


# --- label sanity --------------------------------------------------------------------------


def test_inverted_label_mapping_stops_prepare(tmp_path: Path) -> None:
    # The ISOT fixture: real articles (True.csv) open with the Reuters dateline.
    raw = tmp_path / "raw"
    write_source_fixture("isot", raw, n_per_class=25)
    stats = prepare_dataset("isot", DatasetConfig(), PrepareConfig(), raw, tmp_path / "ok")
    assert stats["label_checks"]["reuters_dateline_is_real"] == {
        "rows": 25,
        "expected_label": 0,
        "share_expected": 1.0,
        "status": "passed",
    }
    assert stats["artifacts"]["rules"]["reuters_dateline"]["real"] == 25

    # Fake.csv and True.csv swapped: what an inverted label map does.
    (raw / "Fake.csv").rename(raw / "tmp.csv")
    (raw / "True.csv").rename(raw / "Fake.csv")
    (raw / "tmp.csv").rename(raw / "True.csv")
    with pytest.raises(DatasetError) as error:
        prepare_dataset("isot", DatasetConfig(), PrepareConfig(), raw, tmp_path / "bad")
    message = str(error.value)
    assert "dataset 'isot'" in message and "inverted" in message
    assert "reuters_dateline_is_real: only 0% of the 25 rows" in message
    assert not (tmp_path / "bad").exists()
    # Switched off, it passes (and says so in the stats).
    stats = prepare_dataset(
        "isot", DatasetConfig(), PrepareConfig(label_checks=False), raw, tmp_path / "off"
    )
    assert stats["label_checks"] is None


def test_custom_dataset_opts_into_a_label_check(tmp_path: Path) -> None:
    raw = news_frame(60, seed=14, prefix={0: "LONDON (Reuters) - "})
    raw["verdict"] = raw["label"].map({1: "FAKE", 0: "TRUE"})
    raw[["text", "verdict"]].to_csv(tmp_path / "mine.csv", index=False)
    options = {
        "source": "custom",
        "path": "data/external/mine/mine.csv",  # prepare reads the copy in raw_dir
        "text_column": "text",
        "label_column": "verdict",
        "label_checks": ["reuters_dateline_is_real"],
    }
    inverted = DatasetConfig(**options, label_map={"FAKE": 0, "TRUE": 1})
    with pytest.raises(DatasetError, match="dataset 'mine': label sanity check failed"):
        prepare_dataset("mine", inverted, PrepareConfig(), tmp_path, tmp_path / "out")
    right = DatasetConfig(**options, label_map={"FAKE": 1, "TRUE": 0})
    stats = prepare_dataset("mine", right, PrepareConfig(), tmp_path, tmp_path / "out")
    assert stats["label_checks"]["reuters_dateline_is_real"]["status"] == "passed"
    assert stats["artifacts"]["rules"] == {}  # no artifact rules asked for


def test_too_few_rows_do_not_judge() -> None:
    frame = news_frame(10, prefix={1: "WASHINGTON (Reuters) - "})  # inverted, but only 5 rows
    _, stats = clean_frame(
        frame, PrepareConfig(), checks=[LABEL_CHECKS["reuters_dateline_is_real"]]
    )
    assert stats["label_checks"]["reuters_dateline_is_real"]["status"] == "too_few_rows"


@pytest.mark.parametrize(
    ("rule", "text", "expected"),
    [
        ("reuters_dateline", "WASHINGTON (Reuters) - The Senate voted.", "The Senate voted."),
        ("reuters_dateline", "NEW YORK/LONDON (Reuters) \u2013 Stocks rose.", "Stocks rose."),
        ("reuters_dateline", "(Reuters) - Oil fell.", "Oil fell."),
        ("reuters_dateline", "He told (Reuters) - nothing.", "He told (Reuters) - nothing."),
        ("century_wire", "21st Century Wire says Our view.", "Our view."),
        ("featured_image", "The end. Featured image via Getty Images", "The end."),
        ("story_highlights", "Story highlights The vote", "The vote"),
        ("url", "Read https://t.co/abc123 now pic.twitter.com/xyz", "Read now"),
        ("handle", "RT @PIB_India: Cases fell, says @MoHFW_INDIA", "Cases fell, says"),
        ("handle", "mail press@example.org", "mail press@example.org"),
    ],
)
def test_artifact_rules_strip_what_they_describe(rule: str, text: str, expected: str) -> None:
    frame = pd.DataFrame({"id": ["1"], "title": [""], "text": [text], "label": [1]})
    cleaned, _ = clean_frame(frame, PrepareConfig(), rules=[ARTIFACT_RULES[rule]])
    assert cleaned["text"].iloc[0] == expected


# --- across datasets -------------------------------------------------------------------------


def test_overlap_counts_test_rows_with_a_twin_in_another_datasets_train(tmp_path: Path) -> None:
    splits = ["train"] * 70 + ["val"] * 15 + ["test"] * 15
    demo = news_frame(100, seed=15).assign(official_split=splits)
    other = news_frame(100, seed=16).assign(id=lambda f: "o" + f["id"], official_split=splits)
    # Plant: two of other's test rows copy demo train rows, one lightly edited, one exactly.
    other.loc[90, "text"] = change_words(demo.loc[0, "text"])
    other.loc[91, "text"] = demo.loc[1, "text"]
    # One test split each (no folds): a k-fold target's test rows would be all of its rows.
    one_split = SplitConfig(folds_below_rows=None)
    paths = build_split(tmp_path, "demo", demo, one_split)
    build_split(tmp_path, "other", other, one_split)

    result = dataset_overlap(make_params(), paths)
    pair = result["pairs"]["demo"]["other"]
    assert (pair["near"], pair["exact"], pair["test_rows"]) == (2, 1, 15)
    assert pair["rows_with_twin_anywhere"] == 2
    assert result["pairs"]["other"]["demo"]["near"] == 0  # demo's test has no twin in other
    assert read_json(paths.overlap) == result
    with pytest.raises(AuditError, match="cross_dataset_overlap"):
        dataset_overlap(make_params(max_cross_dataset_overlap=0.01), paths)


def test_overlap_finds_train_claims_quoted_in_test_articles_either_way(tmp_path: Path) -> None:
    splits = ["train"] * 70 + ["val"] * 15 + ["test"] * 15
    rng = np.random.default_rng(20)  # not 18 or 19: those would repeat the frames' own texts
    demo = news_frame(100, seed=18).assign(official_split=splits)
    other = news_frame(100, seed=19).assign(id=lambda f: "o" + f["id"], official_split=splits)
    # A demo train claim quoted inside an other test article (Jaccard ~0.3: no near-duplicate).
    other.loc[92, "text"] = " ".join([random_text(rng), demo.loc[2, "text"], random_text(rng)])
    # An other test text quoted inside a long demo train article.
    demo.loc[3, "text"] = " ".join([random_text(rng), other.loc[93, "text"], random_text(rng)])
    one_split = SplitConfig(folds_below_rows=None)  # test rows: the test split
    paths = build_split(tmp_path, "demo", demo, one_split)
    build_split(tmp_path, "other", other, one_split)

    result = dataset_overlap(make_params(), paths)
    pair = result["pairs"]["demo"]["other"]
    assert pair["near"] == 0 and pair["overlapping_test_rows"] == 2
    found = pair["containment"]
    counts = ("matches", "source_in_target", "target_in_source", "test_rows", "fraction")
    assert tuple(found[k] for k in counts) == (2, 1, 1, 2, round(2 / 15, 6))
    assert sorted((e["ids"], e["shorter"], e["containment"]) for e in found["examples"]) == [
        (["r2", "or92"], "source", 1.0),
        (["r3", "or93"], "target", 1.0),
    ]
    assert result["pairs"]["other"]["demo"]["containment"]["matches"] == 0
    assert result["containment"] == {"shingle_size": 3, "threshold": 0.6, "min_shared": 4}
    rows = read_json(paths.overlap_rows)["pairs"]
    assert rows["demo"]["other"] == {"near_duplicate": [], "containment": ["or92", "or93"]}
    assert rows["other"]["demo"] == {"near_duplicate": [], "containment": []}


# --- the report ------------------------------------------------------------------------------


def test_report_renders_the_audit(tmp_path: Path) -> None:
    paths = build_split(tmp_path, "demo", official_frame())
    build_split(tmp_path, "other", news_frame(80, seed=17).assign(id=lambda f: "o" + f["id"]))
    params = make_params()
    audits = {d: audit_dataset(d, params, paths) for d in ("demo", "other")}
    findings = AuditFindings(audits, dataset_overlap(params, paths))
    section = audit_section(findings, {})
    text = "\n".join(markdown.section_lines(section))
    assert "## Audit: leaks and shortcuts" in text
    assert "| demo | 60 |" in text
    assert "2 groups: 1 val + 1 test rows moved" in text
    assert "### Cross-dataset overlap" in text and "0 of " in text
    page = "\n".join(html.section_parts(section))
    assert "id='audit'" in page and "Shortcut probes" in page


def test_report_says_how_test_splits_differ_from_the_release() -> None:
    from fakenews.reporting.audit_tables import split_provenance

    official = {
        "rows": {"train": 6690, "val": 1962, "test": 1904},
        "prepare": {
            "official_split_loaded": {"test": 2140},
            "official_split_counts": {"test": 2091},
        },
        "split": {
            "strategy": "official",
            "official_leaks": {"policy": "move_to_earliest", "rows": {"test": 187, "val": 163}},
        },
        "artifacts": {"strip": True, "rows_changed": {"rows": 6458}, "rules": {"url": {}}},
    }
    text = split_provenance("constraint", official)
    assert "test 2140 rows as released, 1904 here" in text
    assert "prepare dropped 49 test rows" in text and "187 test rows" in text
    assert "stripped from 6458 rows" in text and "(url)" in text
    random = {"rows": {"train": 283, "val": 60, "test": 63}, "split": {"strategy": "stratified"}}
    assert "no official split" in split_provenance("fakenewsnet_v1", random)


def test_transfer_cells_flag_a_constant_predictor() -> None:
    from fakenews.reporting.tables import transfer_cell

    ci = {k: {"value": 0.5, "low": 0.4, "high": 0.6} for k in ("f1_macro", "roc_auc")}
    scores = {"f1_macro": 0.5, "roc_auc": 0.5, "ci": ci, "constant": True}
    assert transfer_cell(scores) == "⚠ F1 0.5000 [0.400, 0.600]; AUC 0.5000 [0.400, 0.600]"
    assert not transfer_cell({**scores, "constant": False}).startswith("⚠")
    assert transfer_cell(None) == "n/a"
