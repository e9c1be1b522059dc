"""split@<dataset>: one train/val/test split per dataset, shared by every model.

The official split is used where the dataset has one; otherwise a stratified split with the seed
from params. Rows are assigned by group (rows with the same text form one group), so identical
texts always land in the same split. Same input and params give byte-identical files.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fakenews.config import SplitConfig
from fakenews.data.cleaning import content_key
from fakenews.errors import DatasetError
from fakenews.io import atomic_dir, sha256_file, write_json, write_parquet

SPLITS = ("train", "val", "test")


def group_keys(frame: pd.DataFrame) -> pd.Series:
    """A stable id per group of rows that must share a split (same text)."""
    keys = [
        hashlib.sha256(content_key(t, x).encode()).hexdigest()[:16]
        for t, x in zip(frame["title"], frame["text"], strict=True)
    ]
    return pd.Series(keys, index=frame.index)


def stratified_group_split(groups: pd.Series, labels: pd.Series, config: SplitConfig) -> pd.Series:
    """Assign every row a split; each group goes whole to one split, stratified by label."""
    table = pd.DataFrame({"group": groups, "label": labels})
    # A group's label is its majority label (ties -> fake); groups are processed in hash order so
    # the result depends on the data and the seed only, never on row order.
    per_group = table.groupby("group")["label"].mean().ge(0.5).astype(int).sort_index()
    rng = np.random.default_rng(config.seed)
    assignment: dict[str, str] = {}
    for label in (0, 1):
        members = per_group.index[per_group == label].to_numpy()
        members = members[rng.permutation(len(members))]
        n_train = round(len(members) * config.train)
        n_val = round(len(members) * config.val)
        for i, group in enumerate(members):
            assignment[group] = "train" if i < n_train else "val" if i < n_train + n_val else "test"
    return groups.map(assignment)


def split_dataset(
    dataset: str, config: SplitConfig, prepared: Path, out_dir: Path
) -> dict[str, Any]:
    frame = pd.read_parquet(prepared / "data.parquet")
    if config.use_official and "official_split" in frame:
        strategy = "official"
        assignment = frame["official_split"]
        unknown = sorted(set(assignment) - set(SPLITS))
        if unknown:
            raise DatasetError(f"dataset {dataset!r}: unknown official split values {unknown}")
    else:
        strategy = "stratified"
        assignment = stratified_group_split(group_keys(frame), frame["label"], config)

    # With the official split, identical texts were already collapsed into one row by prepare.
    groups = group_keys(frame)
    spread = groups.groupby(assignment).apply(set)
    for a in SPLITS:
        for b in SPLITS:
            if a < b and a in spread and b in spread and spread[a] & spread[b]:
                raise DatasetError(
                    f"dataset {dataset!r}: identical texts in both {a} and {b} splits; rerun "
                    "prepare with prepare.drop_duplicates: true"
                )

    columns = [c for c in frame.columns if c != "official_split"]
    manifest: dict[str, Any] = {
        "dataset": dataset,
        "strategy": strategy,
        "seed": config.seed if strategy == "stratified" else None,
        "fractions": (
            {"train": config.train, "val": config.val, "test": config.test}
            if strategy == "stratified"
            else None
        ),
        "counts": {},
        "label_balance": {},
        "files": {},
        "ids": {},
    }
    with atomic_dir(out_dir) as tmp:
        for name in SPLITS:
            part = frame.loc[assignment == name, columns].reset_index(drop=True)
            if part.empty:
                raise DatasetError(
                    f"dataset {dataset!r}: the {name} split is empty ({len(frame)} rows in all); "
                    "the dataset is too small for the split fractions in params.yaml `split`"
                )
            write_parquet(tmp / f"{name}.parquet", part)
            manifest["counts"][name] = len(part)
            manifest["label_balance"][name] = {
                "fake": int((part["label"] == 1).sum()),
                "real": int((part["label"] == 0).sum()),
                "fake_fraction": round(float(part["label"].mean()), 6),
            }
            manifest["files"][name] = sha256_file(tmp / f"{name}.parquet")
            manifest["ids"][name] = part["id"].astype(str).tolist()
        digest = hashlib.sha256()
        for name in SPLITS:
            digest.update(f"{name}:{manifest['files'][name]}\n".encode())
        manifest["hash"] = digest.hexdigest()
        write_json(tmp / "manifest.json", manifest)
    return manifest


def load_split(split_dir: Path, name: str) -> pd.DataFrame:
    path = Path(split_dir) / f"{name}.parquet"
    if not path.is_file():
        raise DatasetError(f"split file {path} not found; run `dvc repro` to build the splits")
    return pd.read_parquet(path)
