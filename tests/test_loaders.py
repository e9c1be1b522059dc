"""Loaders on tiny fixtures: schema, label mapping, splits, encodings and every error path."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from helpers.source_fixtures import CUSTOM_FILE, SOURCE_FIXTURE_OPTIONS, write_source_fixture

from fakenews.core.errors import DatasetError, ParamsError
from fakenews.sources import (
    SOURCE_NAMES,
    all_sources,
    artifact_rules,
    check_names,
    checks_for,
    label_checks,
    load_source,
    rules_for,
    source_for,
)
from fakenews.sources.options import DatasetConfig

SOURCES = all_sources()

N = 6  # rows per class per file in the default fixtures


def write(tmp_path: Path, source: str, n_per_class: int = N) -> Path:
    directory = tmp_path / "raw" / f"my_{source}"
    write_source_fixture(source, directory, n_per_class)
    return directory


def written_rows(tmp_path: Path, source: str) -> tuple[Path, int]:
    """The fixture's folder and the rows it holds, as the fixture declares them."""
    directory = tmp_path / "raw" / f"my_{source}"
    return directory, write_source_fixture(source, directory, N)


def load(source: str, directory: Path, **overrides: Any) -> pd.DataFrame:
    options = DatasetConfig(**{**SOURCE_FIXTURE_OPTIONS[source], **overrides})
    return load_source(f"my_{source}", source, directory, options)


def raises(call: Callable[[], object], *fragments: str) -> str:
    """Run ``call``, expect DatasetError, check its message holds every fragment."""
    with pytest.raises(DatasetError) as info:
        call()
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    return message


def rewrite_lines(path: Path, edit: Callable[[list[str]], None]) -> None:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    edit(lines)
    path.write_text("".join(lines), encoding="utf-8")


# --------------------------------------------------------------------------------------------
# Registry and schema


def test_loaders_cover_exactly_the_registered_sources() -> None:
    # One module per source, named like it, with its loader.
    assert set(SOURCES) == set(SOURCE_NAMES)
    assert all(source.name == name for name, source in SOURCES.items())
    assert all(source.load is not None for source in SOURCES.values())
    assert set(SOURCE_FIXTURE_OPTIONS) == set(SOURCES)


# The order prepare strips them in, which preparation.json records: moving a rule between modules
# must not reorder it.
RULE_ORDER = {
    "constraint": (["url", "handle"], ["covid_tracking_update_is_real"]),
    "fakenewsnet_v1": (["featured_image", "story_highlights"], ["story_highlights_is_real"]),
    "isot": (
        ["reuters_dateline", "century_wire", "featured_image", "url", "handle"],
        ["reuters_dateline_is_real", "century_wire_is_fake"],
    ),
}
RULE_ORDER["welfake"] = RULE_ORDER["isot"]


@pytest.mark.parametrize("source", sorted(SOURCES))
def test_each_source_brings_its_own_rules(source: str) -> None:
    rules, checks = RULE_ORDER.get(source, ([], []))
    assert [r.name for r in rules_for(source)] == rules
    assert [c.name for c in checks_for(source)] == checks


def test_rule_catalogue_is_every_sources_rules() -> None:
    catalogue = artifact_rules()
    assert set(catalogue) == {name for rules, _ in RULE_ORDER.values() for name in rules}
    assert set(label_checks()) == {name for _, checks in RULE_ORDER.values() for name in checks}
    # A custom dataset may name any of them; unknown names are a params error listing them.
    assert rules_for("custom", ["handle", "url"]) == [catalogue["handle"], catalogue["url"]]
    with pytest.raises(ParamsError, match=r"datasets.mine.artifact_rules.*'nope'.*century_wire"):
        check_names("mine", ["nope"], None)


def test_unknown_source_is_a_params_error_listing_the_modules() -> None:
    with pytest.raises(ParamsError, match=r"unknown dataset source 'nope'.*fakenewsnet_v1, isot"):
        source_for("mine", DatasetConfig(source="nope"))


@pytest.mark.parametrize("source", sorted(SOURCES))
def test_fixture_files_lie_at_the_registered_paths(tmp_path: Path, source: str) -> None:
    directory = write(tmp_path, source)
    written = {p.relative_to(directory).as_posix() for p in directory.rglob("*") if p.is_file()}
    registered = {f.path for f in SOURCES[source].files}
    if source == "custom":
        assert written == {CUSTOM_FILE}
    elif source == "fakenewsnet_v1":
        assert written <= registered  # a few articles only, at their real paths
        assert {"Data/Readme.txt", "Data/BuzzFeed/News.txt", "Data/PolitiFact/News.txt"} <= written
    else:
        assert written == registered


@pytest.mark.parametrize("source", sorted(SOURCES))
def test_fixture_output_is_deterministic(tmp_path: Path, source: str) -> None:
    first, second = write(tmp_path / "a", source), write(tmp_path / "b", source)
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    for name in files:
        assert (first / name).read_bytes() == (second / name).read_bytes()


@pytest.mark.parametrize("source", sorted(SOURCES))
def test_standard_schema(tmp_path: Path, source: str) -> None:
    directory, rows = written_rows(tmp_path, source)
    frame = load(source, directory)

    assert len(frame) == rows
    assert list(frame.columns[:4]) == ["id", "title", "text", "label"]
    assert frame.index.equals(pd.RangeIndex(len(frame)))
    assert frame["label"].dtype == "int64"
    assert frame["label"].value_counts().to_dict() == {0: len(frame) // 2, 1: len(frame) // 2}
    for column in ("id", "title", "text"):
        assert frame[column].map(type).eq(str).all(), column
    assert frame["id"].is_unique and (frame["id"] != "").all()
    assert ((frame["title"] != "") | (frame["text"] != "")).all()
    assert not frame.isna().any().any()
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", c) for c in frame.columns)
    if SOURCES[source].official_splits:
        assert frame.columns[4] == "official_split"
        assert list(frame["official_split"].unique()) == ["train", "val", "test"]
    else:
        assert "official_split" not in frame

    # Same files, same frame.
    pd.testing.assert_frame_equal(frame, load(source, write(tmp_path / "again", source)))


def test_fixture_classes_are_learnable(tmp_path: Path) -> None:
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression

    frame = load("liar", write(tmp_path, "liar", n_per_class=15))
    train, test = frame[frame.official_split == "train"], frame[frame.official_split == "test"]
    vectorizer = CountVectorizer()
    model = LogisticRegression().fit(vectorizer.fit_transform(train.text), train.label)
    assert model.score(vectorizer.transform(test.text), test.label) == 1.0


# --------------------------------------------------------------------------------------------
# Per-source details


def test_liar_binarises_six_labels_and_drops_leaky_counts(tmp_path: Path) -> None:
    frame = load("liar", write(tmp_path, "liar"))
    mapping = frame.groupby("label_original")["label"].unique().map(list).to_dict()
    assert mapping == {
        "pants-fire": [1], "false": [1], "barely-true": [1],
        "half-true": [0], "mostly-true": [0], "true": [0],
    }  # fmt: skip
    assert not [c for c in frame.columns if "count" in c]
    assert {"subject", "speaker", "speaker_job", "state", "party", "context"} <= set(frame.columns)
    assert frame["title"].eq("").all()
    assert frame["id"].str.fullmatch(r"\d+").all()  # "1001.json" -> "1001"
    assert frame["official_split"].value_counts().to_dict() == {"train": 12, "val": 12, "test": 12}
    # Bare double quotes survive (the file is read with quoting off).
    assert frame["text"].str.contains('"secretly caused"', regex=False).any()


def test_constraint_ids_are_prefixed_by_split(tmp_path: Path) -> None:
    frame = load("constraint", write(tmp_path, "constraint"))
    assert frame["id"].iloc[0] == "train-1"
    assert {"train-1", "val-1", "test-1"} <= set(frame["id"])
    assert (frame["id"].str.split("-").str[0] == frame["official_split"]).all()
    assert frame["title"].eq("").all()


def test_fakenewsnet_labels_from_file_names(tmp_path: Path) -> None:
    frame = load("fakenewsnet", write(tmp_path, "fakenewsnet"))
    assert frame[["platform", "label"]].value_counts().to_dict() == {
        ("gossipcop", 0): N, ("gossipcop", 1): N, ("politifact", 0): N, ("politifact", 1): N,
    }  # fmt: skip
    assert frame["text"].eq("").all()
    assert frame["n_tweets"].dtype == "int64"
    assert (frame["n_tweets"] == 0).any()  # empty tweet_ids field
    assert list(frame["n_tweets"].iloc[:4]) == [0, 1, 2, 3]
    assert frame["news_url"].str.len().gt(0).all()


def test_fakenewsnet_v1_order_labels_and_metadata(tmp_path: Path) -> None:
    frame = load("fakenewsnet_v1", write(tmp_path, "fakenewsnet_v1", n_per_class=12))
    ids = list(frame["id"])
    # (platform, folder, numeric index): 2 before 10, BuzzFeed before PolitiFact, Fake first.
    assert ids[:12] == [f"BuzzFeed_Fake_{i}" for i in range(1, 13)]
    assert ids[12] == "BuzzFeed_Real_1" and ids[24] == "PolitiFact_Fake_1"
    assert frame.groupby("platform")["label"].sum().to_dict() == {"buzzfeed": 12, "politifact": 12}
    assert (frame["label"] == frame["id"].str.contains("_Fake_").astype("int64")).all()

    row = frame.set_index("id")
    assert row.loc["BuzzFeed_Fake_1", "authors"] == "Wendy Gittleson; Reporter 1"
    assert row.loc["BuzzFeed_Fake_1", "publish_date"] == "2016-09-20T00:00:00Z"
    assert row.loc["BuzzFeed_Fake_3", "publish_date"] == ""  # null
    assert row.loc["BuzzFeed_Fake_2", "authors"] == ""  # empty list
    # Title+text-only files: metadata is "", not missing.
    assert row.loc["BuzzFeed_Fake_4", ["url", "source", "authors", "publish_date"]].eq("").all()


def test_isot_ids_and_labels(tmp_path: Path) -> None:
    frame = load("isot", write(tmp_path, "isot"))
    assert frame["id"].iloc[0] == "fake-1" and frame["id"].iloc[N] == "true-1"
    assert list(frame["label"]) == [1] * N + [0] * N
    assert {"subject", "date"} <= set(frame.columns)


def test_welfake_raw_one_is_fake(tmp_path: Path) -> None:
    directory = write(tmp_path, "welfake")
    raw = pd.read_csv(directory / "WELFake_Dataset.csv", dtype=str, keep_default_na=False)
    frame = load("welfake", directory)
    assert list(frame["label"]) == [int(v) for v in raw["label"]]
    assert frame["id"].iloc[0] == "welfake-0"
    fake = frame[frame["label"] == 1]
    assert fake["text"].str.contains("scam").all()
    assert not frame.loc[frame["label"] == 0, "text"].str.contains("scam").any()


def test_fake_or_real_news_labels_and_ids(tmp_path: Path) -> None:
    directory = write(tmp_path, "fake_or_real_news")
    raw = pd.read_csv(directory / "fake_or_real_news.csv", dtype=str, keep_default_na=False)
    frame = load("fake_or_real_news", directory)
    assert list(frame["label"]) == [int(v == "FAKE") for v in raw["label"]]
    assert list(frame["id"]) == list(raw.iloc[:, 0])


def test_fake_or_real_news_with_id_header(tmp_path: Path) -> None:
    directory = write(tmp_path, "fake_or_real_news")
    rewrite_lines(directory / "fake_or_real_news.csv", lambda ls: ls.__setitem__(0, "id" + ls[0]))
    assert load("fake_or_real_news", directory)["id"].iloc[0] == "8513"


def test_custom_csv_fixture(tmp_path: Path) -> None:
    frame = load("custom", write(tmp_path, "custom"))
    assert list(frame.columns) == ["id", "title", "text", "label"]
    assert list(frame["id"][:2]) == ["row-1", "row-2"]
    assert list(frame["label"][:2]) == [1, 0]


CUSTOM_RECORDS = [
    {"Article ID": 10, "Body": "Officials said the budget grew.", "Verdict": "real",
     "Title": "Budget", "shareCount": 3, "Source Name": "Daily Record", "label": "x"},
    {"Article ID": 11, "Body": "Secret hoax exposed!", "Verdict": " fake ",
     "Title": "Hoax", "shareCount": 7, "Source Name": "Truth Patriot", "label": "y"},
]  # fmt: skip
CUSTOM_OPTIONS = {
    "text_column": "Body",
    "label_column": "Verdict",
    "id_column": "Article ID",
    "title_column": None,
    "label_map": {"fake": 1, "real": 0},
}


@pytest.mark.parametrize(
    ("name", "fmt"),
    [("news.tsv", None), ("news.jsonl", None), ("news.json", None), ("news.parquet", None),
     ("news.txt", "tsv"), ("news.data", "parquet")],
)  # fmt: skip
def test_custom_formats_and_metadata(tmp_path: Path, name: str, fmt: str | None) -> None:
    path = tmp_path / name
    table = pd.DataFrame(CUSTOM_RECORDS)
    kind = fmt or Path(name).suffix.lstrip(".")
    if kind == "tsv":
        table.to_csv(path, sep="\t", index=False)
    elif kind in ("jsonl", "json"):
        path.write_text("\n".join(json.dumps(r) for r in CUSTOM_RECORDS) + "\n\n", "utf-8")
    else:
        table.to_parquet(path, index=False)

    frame = load("custom", tmp_path, path=f"somewhere/else/{name}", format=fmt, **CUSTOM_OPTIONS)
    assert list(frame["id"]) == ["10", "11"]
    assert list(frame["label"]) == [0, 1]  # " fake " is trimmed before the label_map lookup
    assert list(frame["title"]) == ["", ""]  # no title_column; "Title" clashes, so it is skipped
    assert list(frame.columns) == ["id", "title", "text", "label", "share_count", "source_name"]
    assert list(frame["source_name"]) == ["Daily Record", "Truth Patriot"]
    if kind in ("parquet", "jsonl", "json"):
        assert frame["share_count"].dtype == "int64"  # typed formats keep numbers numeric


def test_custom_title_column(tmp_path: Path) -> None:
    pd.DataFrame(CUSTOM_RECORDS).to_parquet(tmp_path / "news.parquet", index=False)
    options = {**CUSTOM_OPTIONS, "title_column": "Title"}
    frame = load("custom", tmp_path, path="news.parquet", **options)
    assert list(frame["title"]) == ["Budget", "Hoax"]


# --------------------------------------------------------------------------------------------
# Encodings


CP1252_TEXT = "Le café “Central” a fermé — c’est officiel, dit le maire."  # noqa: RUF001


def test_cp1252_file_is_decoded(tmp_path: Path) -> None:
    content = f'body,headline,verdict\n"{CP1252_TEXT}",Café news,TRUE\nA hoax!,Hoax,FAKE\n'
    (tmp_path / CUSTOM_FILE).write_bytes(content.encode("cp1252"))
    frame = load("custom", tmp_path)
    assert frame["text"].iloc[0] == CP1252_TEXT
    assert frame["title"].iloc[0] == "Café news"


def test_utf8_bom_file_is_decoded(tmp_path: Path) -> None:
    directory = write(tmp_path, "constraint")
    path = directory / "Constraint_Train.csv"
    update = "Café “update” – it’s"  # noqa: RUF001
    text = path.read_text("utf-8").replace("Our daily update", update, 1)
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    frame = load("constraint", directory)  # the BOM must not end up in the "id" header
    assert frame["text"].iloc[1].startswith(update + ":")


def test_undecodable_bytes_fall_back_to_latin1(tmp_path: Path) -> None:
    # 0x81 is undefined in cp1252 too: latin-1 is the last resort, and it never fails.
    content = b"body,headline,verdict\nbad \x81 byte and caf\xe9,x,TRUE\nA hoax!,Hoax,FAKE\n"
    (tmp_path / CUSTOM_FILE).write_bytes(content)
    assert load("custom", tmp_path)["text"].iloc[0] == "bad \x81 byte and café"


def test_utf16_file_is_decoded(tmp_path: Path) -> None:
    content = f'body,headline,verdict\n"{CP1252_TEXT}",x,TRUE\nA hoax!,Hoax,FAKE\n'
    (tmp_path / CUSTOM_FILE).write_bytes(content.encode("utf-16"))
    assert load("custom", tmp_path)["text"].iloc[0] == CP1252_TEXT


# --------------------------------------------------------------------------------------------
# Errors: DatasetError naming the dataset, the file and, where it applies, the row and value


def test_unknown_source(tmp_path: Path) -> None:
    raises(lambda: load_source("mine", "nope", tmp_path, DatasetConfig()), "mine", "'nope'")


def test_missing_file(tmp_path: Path) -> None:
    directory = write(tmp_path, "liar")
    (directory / "test.tsv").unlink()
    raises(lambda: load("liar", directory), "my_liar", "test.tsv", "not found")


def test_missing_custom_file(tmp_path: Path) -> None:
    raises(lambda: load("custom", tmp_path), "my_custom", CUSTOM_FILE, "not found")


def test_empty_v1_folder(tmp_path: Path) -> None:
    directory = write(tmp_path, "fakenewsnet_v1")
    for path in (directory / "Data/PolitiFact/RealNewsContent").iterdir():
        path.unlink()
    raises(lambda: load("fakenewsnet_v1", directory), "my_fakenewsnet_v1", "RealNewsContent")


def test_missing_column_lists_columns_found(tmp_path: Path) -> None:
    directory = write(tmp_path, "constraint")
    rewrite_lines(
        directory / "Constraint_Val.csv", lambda ls: ls.__setitem__(0, "id,text,label\r\n")
    )
    raises(
        lambda: load("constraint", directory),
        "my_constraint", "Constraint_Val.csv", "'tweet'", "columns found: ['id', 'text', 'label']",
    )  # fmt: skip


def test_missing_custom_column(tmp_path: Path) -> None:
    directory = write(tmp_path, "custom")
    raises(
        lambda: load("custom", directory, text_column="article"),
        "my_custom", CUSTOM_FILE, "'article'", "'body'",
    )  # fmt: skip


def test_custom_text_column_empty_in_every_row(tmp_path: Path) -> None:
    directory = write(tmp_path, "custom")
    frame = pd.read_csv(directory / CUSTOM_FILE)
    frame["body"] = ""
    frame.to_csv(directory / CUSTOM_FILE, index=False)
    raises(
        lambda: load("custom", directory),
        "my_custom", CUSTOM_FILE, "text_column 'body' is empty in all", "article text",
    )  # fmt: skip


def test_unknown_label(tmp_path: Path) -> None:
    directory = write(tmp_path, "liar")

    def edit(lines: list[str]) -> None:
        fields = lines[2].split("\t")
        fields[1] = "mostly-false"
        lines[2] = "\t".join(fields)

    rewrite_lines(directory / "valid.tsv", edit)
    raises(lambda: load("liar", directory), "my_liar", "valid.tsv", "row 3", "'mostly-false'")


def test_custom_label_not_in_label_map(tmp_path: Path) -> None:
    directory = write(tmp_path, "custom")
    rewrite_lines(
        directory / CUSTOM_FILE, lambda ls: ls.__setitem__(5, ls[5].replace(",FAKE", ",SATIRE"))
    )
    raises(
        lambda: load("custom", directory),
        "my_custom", CUSTOM_FILE, "row 5", "'SATIRE'", "label_map",
    )  # fmt: skip


def test_duplicate_id_within_a_file(tmp_path: Path) -> None:
    directory = write(tmp_path, "constraint")
    rewrite_lines(directory / "Constraint_Train.csv", lambda ls: ls.__setitem__(4, "1" + ls[4][1:]))
    raises(
        lambda: load("constraint", directory),
        "my_constraint", "Constraint_Train.csv", "row 4", "duplicate id 'train-1'", "row 1",
    )  # fmt: skip


def test_duplicate_id_across_files(tmp_path: Path) -> None:
    directory = write(tmp_path, "fakenewsnet")
    rewrite_lines(
        directory / "politifact_real.csv",
        lambda ls: ls.__setitem__(2, "politifact14000" + ls[2][ls[2].index(",") :]),
    )
    raises(
        lambda: load("fakenewsnet", directory),
        "my_fakenewsnet", "politifact_real.csv", "row 2", "'politifact14000'",
        "politifact_fake.csv",
    )  # fmt: skip


def test_duplicate_custom_id(tmp_path: Path) -> None:
    records = [{**r, "Article ID": 10} for r in CUSTOM_RECORDS]
    pd.DataFrame(records).to_parquet(tmp_path / "news.parquet", index=False)
    raises(
        lambda: load("custom", tmp_path, path="news.parquet", **CUSTOM_OPTIONS),
        "my_custom", "news.parquet", "row 2", "duplicate id '10'",
    )  # fmt: skip


def test_malformed_json(tmp_path: Path) -> None:
    directory = write(tmp_path, "fakenewsnet_v1")
    path = directory / "Data/BuzzFeed/RealNewsContent/BuzzFeed_Real_2-Webpage.json"
    path.write_bytes(path.read_bytes()[:-20])
    raises(
        lambda: load("fakenewsnet_v1", directory),
        "my_fakenewsnet_v1", "BuzzFeed_Real_2-Webpage.json", "malformed JSON",
    )  # fmt: skip


def test_json_without_text_key(tmp_path: Path) -> None:
    directory = write(tmp_path, "fakenewsnet_v1")
    path = directory / "Data/PolitiFact/FakeNewsContent/PolitiFact_Fake_3-Webpage.json"
    path.write_text(json.dumps({"title": "only a title"}), "utf-8")
    raises(lambda: load("fakenewsnet_v1", directory), "PolitiFact_Fake_3-Webpage.json", "'text'")


def test_malformed_jsonl_line(tmp_path: Path) -> None:
    lines = [json.dumps(r) for r in CUSTOM_RECORDS]
    (tmp_path / "news.jsonl").write_text(lines[0] + "\n{broken\n", "utf-8")
    raises(
        lambda: load("custom", tmp_path, path="news.jsonl", **CUSTOM_OPTIONS),
        "my_custom", "news.jsonl", "line 2", "malformed JSON",
    )  # fmt: skip


def test_wrong_field_count(tmp_path: Path) -> None:
    directory = write(tmp_path, "liar")
    rewrite_lines(
        directory / "train.tsv", lambda ls: ls.__setitem__(1, ls[1].rsplit("\t", 1)[0] + "\n")
    )
    raises(lambda: load("liar", directory), "my_liar", "train.tsv", "row 2", "expected 14 fields")


def test_extra_field_in_first_row(tmp_path: Path) -> None:
    # pandas alone would silently turn the first column into an index here.
    directory = write(tmp_path, "isot")
    rewrite_lines(directory / "True.csv", lambda ls: ls.__setitem__(1, ls[1].rstrip("\n") + ",x\n"))
    raises(lambda: load("isot", directory), "my_isot", "True.csv", "row 1", "expected 4 fields")


def test_empty_file(tmp_path: Path) -> None:
    directory = write(tmp_path, "welfake")
    (directory / "WELFake_Dataset.csv").write_text(",title,text,label\n", "utf-8")
    raises(lambda: load("welfake", directory), "my_welfake", "WELFake_Dataset.csv", "no data rows")


def test_unknown_custom_suffix(tmp_path: Path) -> None:
    (tmp_path / "news.xlsx").write_bytes(b"")
    raises(
        lambda: load("custom", tmp_path, path="news.xlsx", **CUSTOM_OPTIONS),
        "my_custom", "news.xlsx", "format",
    )  # fmt: skip


def test_corrupt_parquet(tmp_path: Path) -> None:
    (tmp_path / "news.parquet").write_bytes(b"not a parquet file")
    raises(
        lambda: load("custom", tmp_path, path="news.parquet", **CUSTOM_OPTIONS),
        "my_custom", "news.parquet", "parquet",
    )  # fmt: skip
