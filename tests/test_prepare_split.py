from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from helpers.prepared import write_prepared

from fakenews.core.errors import DatasetError
from fakenews.core.io import SPLITS, read_json
from fakenews.core.paths import fold_dirs
from fakenews.pipeline.prepare import clean_frame
from fakenews.pipeline.split import SplitConfig, split_dataset
from fakenews.text.cleaning import PrepareConfig, clean_text


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


def paired_rows(n: int) -> pd.DataFrame:
    """``n`` rows in pairs that share a text (different titles): each pair is one group."""
    return pd.DataFrame(
        {
            "id": [f"r{i}" for i in range(n)],
            "title": [f"t{i}" for i in range(n)],
            "text": [f"story {i // 2}" for i in range(n)],
            "label": [(i // 2) % 2 for i in range(n)],
        }
    )


def test_identical_texts_share_a_split(tmp_path: Path) -> None:
    n = 120
    frame = paired_rows(n)
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
    one_split = SplitConfig(folds_below_rows=None)
    manifest = split_dataset("demo", one_split, tmp_path / "p", tmp_path / "s")
    assert manifest["strategy"] == "official"
    assert manifest["ids"] == {"train": ["a", "b"], "val": ["c", "d"], "test": ["e", "f"]}
    assert "official_split" not in pd.read_parquet(tmp_path / "s" / "train.parquet")


def test_too_small_dataset_is_a_clear_error(tmp_path: Path) -> None:
    prepared = _prepared(tmp_path, n=3)
    with pytest.raises(DatasetError, match="split is empty"):
        split_dataset("tiny", SplitConfig(folds_below_rows=None), prepared, tmp_path / "s")
    with pytest.raises(DatasetError, match=r"lower split\.folds"):
        split_dataset("tiny", SplitConfig(), _prepared(tmp_path / "more", n=12), tmp_path / "s")
    assert not (tmp_path / "s").exists()


def test_small_dataset_gets_folds_that_cover_every_row_once(tmp_path: Path) -> None:
    n = 120
    frame = paired_rows(n)
    write_prepared(tmp_path / "p", frame)
    config = SplitConfig(folds=4, folds_below_rows=1000)
    manifest = split_dataset("demo", config, tmp_path / "p", tmp_path / "s")
    assert manifest["folds"]["k"] == 4 and sum(manifest["folds"]["counts"]) == n
    folders = fold_dirs(tmp_path / "s")
    assert [f.name for f in folders] == ["fold-0", "fold-1", "fold-2", "fold-3"]
    tested: list[str] = []
    for k, folder in enumerate(folders):
        parts = {name: pd.read_parquet(folder / f"{name}.parquet") for name in SPLITS}
        ids = {name: set(part["id"]) for name, part in parts.items()}
        assert not ids["train"] & ids["val"] and not ids["train"] & ids["test"]
        assert not ids["val"] & ids["test"] and sum(map(len, ids.values())) == n
        # The validation fold of fold k is fold k+1's test fold.
        next_test = pd.read_parquet(folders[(k + 1) % 4] / "test.parquet")
        assert ids["val"] == set(next_test["id"])
        # Stratified: every test fold holds both classes about equally.
        assert parts["test"]["label"].mean() == pytest.approx(0.5, abs=0.1)
        assert (folder / "preparation.json").is_file()
        tested += parts["test"]["id"].tolist()
    assert sorted(tested) == sorted(frame["id"])
    fold_of = {
        i: k for k, f in enumerate(folders) for i in pd.read_parquet(f / "test.parquet")["id"]
    }
    for i in range(0, n, 2):
        assert fold_of[f"r{i}"] == fold_of[f"r{i + 1}"]
    # Byte-identical on a rerun; the fold files are part of the split hash.
    again = split_dataset("demo", config, tmp_path / "p", tmp_path / "again")
    assert again["hash"] == manifest["hash"]
    for folder in folders:
        for name in SPLITS:
            twin = tmp_path / "again" / "folds" / folder.name / f"{name}.parquet"
            assert (folder / f"{name}.parquet").read_bytes() == twin.read_bytes()
    one = split_dataset("demo", SplitConfig(folds_below_rows=n), tmp_path / "p", tmp_path / "o")
    assert one["folds"] is None and fold_dirs(tmp_path / "o") == []
    assert one["hash"] != manifest["hash"]
