from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from prepared import write_prepared

from fakenews.config import PrepareConfig, SplitConfig
from fakenews.data.cleaning import clean_text
from fakenews.data.prepare import clean_frame
from fakenews.data.split import split_dataset
from fakenews.errors import DatasetError
from fakenews.io import read_json


def test_clean_text_repairs_encoding_html_and_whitespace() -> None:
    config = PrepareConfig()
    assert (
        clean_text("caf\u00c3\u00a9  <b>bold</b>\n\tnews &amp; more", config)
        == "café bold news & more"
    )
    assert clean_text("ﬁne\u00a0print", config) == "fine print"  # NFKC folds ligatures, nbsp
    assert clean_text("a < b and c > d", config) == "a < b and c > d"


def test_clean_frame_counts_what_it_drops() -> None:
    frame = pd.DataFrame(
        {
            "id": ["1", "2", "3", "4", "5", "6", "7"],
            "title": ["", "", "", "", "", "", ""],
            "text": ["Same text", "same   TEXT", "   ", "Clash", "clash", "unique a", "unique b"],
            "label": [1, 1, 0, 1, 0, 0, 1],
        }
    )
    cleaned, stats = clean_frame(frame, PrepareConfig())
    assert stats["empty_dropped"] == 1
    assert stats["duplicates_dropped"] == 1
    assert stats["conflicting_duplicates_dropped"] == 2
    assert cleaned["id"].tolist() == ["1", "6", "7"]
    assert stats["rows_kept"] == 3 and stats["label_counts"] == {"fake": 2, "real": 1}


def test_duplicates_across_official_splits_keep_the_train_copy() -> None:
    frame = pd.DataFrame(
        {
            "id": ["v1", "t1", "t2"],
            "title": ["", "", ""],
            "text": ["shared tweet", "Shared tweet", "other"],
            "label": [1, 1, 0],
            "official_split": ["val", "train", "train"],
        }
    )
    cleaned, _ = clean_frame(frame, PrepareConfig())
    assert cleaned["id"].tolist() == ["t1", "t2"]


def _prepared(tmp_path: Path, n: int = 200) -> Path:
    frame = pd.DataFrame(
        {
            "id": [f"r{i}" for i in range(n)],
            "title": [f"title {i}" for i in range(n)],
            "text": [f"text number {i} {'fake' if i % 3 else 'real'}" for i in range(n)],
            "label": [1 if i % 3 else 0 for i in range(n)],
        }
    )
    write_prepared(tmp_path / "prepared", frame)
    return tmp_path / "prepared"


def test_split_is_deterministic_and_disjoint(tmp_path: Path) -> None:
    prepared = _prepared(tmp_path)
    config = SplitConfig(seed=7)
    first = split_dataset("demo", config, prepared, tmp_path / "a")
    second = split_dataset("demo", config, prepared, tmp_path / "b")
    for name in ("train", "val", "test", "manifest"):
        suffix = "json" if name == "manifest" else "parquet"
        a = (tmp_path / "a" / f"{name}.{suffix}").read_bytes()
        assert a == (tmp_path / "b" / f"{name}.{suffix}").read_bytes(), name
    assert first["hash"] == second["hash"]
    ids = {name: set(first["ids"][name]) for name in ("train", "val", "test")}
    assert not ids["train"] & ids["val"] and not ids["train"] & ids["test"]
    assert not ids["val"] & ids["test"]
    assert sum(len(v) for v in ids.values()) == 200
    assert first["counts"] == {"train": 140, "val": 30, "test": 30}
    # Stratified: each split keeps the 2:1 fake/real balance.
    for name in ("train", "val", "test"):
        assert first["label_balance"][name]["fake_fraction"] == pytest.approx(2 / 3, abs=0.03)
    other = split_dataset("demo", SplitConfig(seed=8), prepared, tmp_path / "c")
    assert other["ids"]["test"] != first["ids"]["test"]
    assert read_json(tmp_path / "a" / "manifest.json")["strategy"] == "stratified"


def test_split_does_not_depend_on_row_order(tmp_path: Path) -> None:
    prepared = _prepared(tmp_path)
    frame = pd.read_parquet(prepared / "data.parquet")
    write_prepared(tmp_path / "shuffled", frame.sample(frac=1, random_state=1))
    a = split_dataset("demo", SplitConfig(), prepared, tmp_path / "a")
    b = split_dataset("demo", SplitConfig(), tmp_path / "shuffled", tmp_path / "b")
    assert {k: set(v) for k, v in a["ids"].items()} == {k: set(v) for k, v in b["ids"].items()}


def test_identical_texts_share_a_split(tmp_path: Path) -> None:
    n = 120
    frame = pd.DataFrame(
        {
            "id": [f"r{i}" for i in range(n)],
            "title": [f"t{i}" for i in range(n)],
            # Pairs of rows share a text (different titles): each pair is one group.
            "text": [f"story {i // 2}" for i in range(n)],
            "label": [(i // 2) % 2 for i in range(n)],
        }
    )
    write_prepared(tmp_path / "p", frame)
    manifest = split_dataset("demo", SplitConfig(), tmp_path / "p", tmp_path / "s")
    where = {i: name for name, ids in manifest["ids"].items() for i in ids}
    for i in range(0, n, 2):
        assert where[f"r{i}"] == where[f"r{i + 1}"]


def test_official_split_is_used(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "id": ["a", "b", "c", "d", "e", "f"],
            "title": [""] * 6,
            "text": ["one", "two", "three", "four", "five", "six"],
            "label": [1, 0, 1, 0, 1, 0],
            "official_split": ["train", "train", "val", "val", "test", "test"],
        }
    )
    write_prepared(tmp_path / "p", frame)
    manifest = split_dataset("demo", SplitConfig(), tmp_path / "p", tmp_path / "s")
    assert manifest["strategy"] == "official"
    assert manifest["ids"] == {"train": ["a", "b"], "val": ["c", "d"], "test": ["e", "f"]}
    assert "official_split" not in pd.read_parquet(tmp_path / "s" / "train.parquet")


def test_too_small_dataset_is_a_clear_error(tmp_path: Path) -> None:
    prepared = _prepared(tmp_path, n=3)
    with pytest.raises(DatasetError, match="split is empty"):
        split_dataset("tiny", SplitConfig(), prepared, tmp_path / "s")
    assert not (tmp_path / "s").exists()
