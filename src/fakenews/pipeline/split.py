"""split@<dataset>: one train/val/test split per dataset, shared by every model.

The official split is used where the dataset has one; otherwise a stratified split with the seed
from params. Rows are assigned by group: rows with the same text, and (with
``split.group_near_duplicates``) near-duplicate texts, form one group, and a group always lands
whole in one split. An official split cannot be re-drawn, so a group it spreads over several
splits is resolved by ``split.official_leaks`` (moved to its earliest split, dropped from the
later ones, or kept and left to the audit to report), and the manifest counts what moved. Same
input and params give byte-identical files.

A dataset smaller than ``split.folds_below_rows`` is also cut into k folds (stratified, groups
whole, the same for every model): fold k tests on fold k, stops early on fold k+1 and trains on
the rest, so every row is a test row exactly once and scores pool the folds. The train/val/test
split is still written: the audit checks it and other datasets' models are scored on its test.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from fakenews.analysis.near_duplicates import NearDuplicateConfig, group_ids, group_keys
from fakenews.core.errors import DatasetError
from fakenews.core.io import SPLITS, atomic_dir, rounded, sha256_file, write_json, write_parquet
from fakenews.core.params import StrictModel
from fakenews.core.paths import FOLDS_DIR, fold_name
from fakenews.text.cleaning import content_key
from fakenews.text.preparation import PREPARATION_FILE, read_preparation

SPLIT_RANK = {name: rank for rank, name in enumerate(SPLITS)}


class SplitConfig(StrictModel):
    seed: int = Field(42, description="Seed of the stratified split.")
    train: float = Field(0.70, gt=0, lt=1, description="Train fraction (random splits).")
    val: float = Field(0.15, gt=0, lt=1, description="Validation fraction (random splits).")
    test: float = Field(0.15, gt=0, lt=1, description="Test fraction (random splits).")
    use_official: bool = Field(
        True, description="Use the dataset's official train/valid/test files where it has them."
    )
    group_near_duplicates: bool = Field(
        True,
        description="Keep each near-duplicate group (see `near_duplicates`) whole in one split; "
        "false: only identical texts are kept together.",
    )
    folds: int = Field(
        5, ge=3, le=20, description="k of the k-fold cross-validation of small datasets."
    )
    folds_below_rows: int | None = Field(
        1000,
        ge=0,
        description="A dataset with fewer rows than this is scored by k-fold cross-validation "
        "(every row is a test row once; scores pool the folds) instead of one test split, whose "
        "few rows would make intervals too wide to rank models. null: never.",
    )
    official_leaks: Literal["move_to_earliest", "drop", "keep"] = Field(
        "move_to_earliest",
        description="Official splits: what to do with a (near-)duplicate group spread over "
        "several splits. move_to_earliest: its val/test rows join the earliest split it is in "
        "(train, then val); drop: those rows are dropped; keep: the split as published (the "
        "audit then reports the leaks).",
    )

    @model_validator(mode="after")
    def _fractions_sum_to_one(self) -> SplitConfig:
        total = self.train + self.val + self.test
        if not math.isclose(total, 1.0, abs_tol=1e-6):
            raise ValueError(f"train + val + test must sum to 1, got {total:g}")
        return self


def split_groups(
    frame: pd.DataFrame, config: SplitConfig, near_duplicates: NearDuplicateConfig
) -> tuple[pd.Series, dict[str, Any]]:
    """The group of every row (identical texts, plus near-duplicates when enabled) and counts."""
    exact = group_keys(frame)
    if not config.group_near_duplicates:
        return exact, {"grouped": False}
    texts = [content_key(t, x) for t, x in zip(frame["title"], frame["text"], strict=True)]
    groups = pd.Series(group_ids(texts, exact.tolist(), near_duplicates), index=frame.index)
    # Near-duplicate groups: groups holding more than one distinct text.
    distinct = exact.groupby(groups).nunique()
    merged = distinct[distinct > 1]
    return groups, {
        "grouped": True,
        "threshold": near_duplicates.threshold,
        "shingle_size": near_duplicates.shingle_size,
        "groups": len(merged),
        "rows_in_groups": int(groups.isin(merged.index).sum()),
    }


def resolve_official_leaks(
    assignment: pd.Series, groups: pd.Series, policy: str
) -> tuple[pd.Series, dict[str, Any]]:
    """Make every group sit in one official split: move or drop its later rows, or keep them.

    Returns the new assignment (``None`` for a dropped row) and what changed, per original split.
    """
    rank = assignment.map(SPLIT_RANK)
    earliest = rank.groupby(groups).transform("min")
    leaked = rank > earliest
    n_groups = int(groups[leaked].nunique())
    moved = {name: int((assignment[leaked] == name).sum()) for name in SPLITS if name != "train"}
    info: dict[str, Any] = {"policy": policy, "groups": n_groups, "rows": moved}
    if policy == "move_to_earliest":
        assignment = assignment.where(~leaked, earliest.map(dict(enumerate(SPLITS))))
    elif policy == "drop":
        assignment = assignment.where(~leaked, None)
    return assignment, info


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


def fold_assignment(groups: pd.Series, labels: pd.Series, k: int, seed: int) -> np.ndarray:
    """The fold (0..k-1) of every row: stratified by label, each group whole in one fold."""
    from sklearn.model_selection import StratifiedGroupKFold

    if labels.value_counts().min() < k:
        raise DatasetError(
            f"{k}-fold cross-validation needs at least {k} rows of each class; have "
            f"{labels.value_counts().to_dict()} (lower split.folds)"
        )
    folds = np.full(len(labels), -1)
    splitter = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
    for fold, (_, test_rows) in enumerate(splitter.split(np.zeros(len(labels)), labels, groups)):
        folds[test_rows] = fold
    return folds


def fold_roles(fold: int, k: int) -> dict[str, list[int]]:
    """Which folds train, validate (early stopping, model selection) and test fold ``fold``."""
    val = (fold + 1) % k
    return {"train": [f for f in range(k) if f not in (fold, val)], "val": [val], "test": [fold]}


def write_folds(
    tmp: Path, frame: pd.DataFrame, groups: pd.Series, columns: list[str], config: SplitConfig
) -> dict[str, Any]:
    """Write ``folds/fold-<k>/{train,val,test}.parquet``; return the manifest's ``folds``."""
    folds = fold_assignment(groups, frame["label"], config.folds, config.seed)
    info: dict[str, Any] = {"k": config.folds, "seed": config.seed, "counts": [], "files": {}}
    for fold in range(config.folds):
        folder = tmp / FOLDS_DIR / fold_name(fold)
        folder.mkdir(parents=True)
        for name, members in fold_roles(fold, config.folds).items():
            part = frame.loc[np.isin(folds, members), columns].reset_index(drop=True)
            write_parquet(folder / f"{name}.parquet", part)
            info["files"][f"{fold_name(fold)}/{name}"] = sha256_file(folder / f"{name}.parquet")
        info["counts"].append(int((folds == fold).sum()))
    return info


def split_dataset(
    dataset: str,
    config: SplitConfig,
    prepared: Path,
    out_dir: Path,
    near_duplicates: NearDuplicateConfig | None = None,
) -> dict[str, Any]:
    frame = pd.read_parquet(prepared / "data.parquet")
    groups, grouping = split_groups(frame, config, near_duplicates or NearDuplicateConfig())
    leaks: dict[str, Any] | None = None
    if config.use_official and "official_split" in frame:
        strategy = "official"
        assignment = frame["official_split"]
        unknown = sorted(set(assignment) - set(SPLITS))
        if unknown:
            raise DatasetError(f"dataset {dataset!r}: unknown official split values {unknown}")
        assignment, leaks = resolve_official_leaks(assignment, groups, config.official_leaks)
    else:
        strategy = "stratified"
        assignment = stratified_group_split(groups, frame["label"], config)

    if not (strategy == "official" and config.official_leaks == "keep"):
        spread = groups.groupby(assignment).nunique()
        if groups[assignment.notna()].nunique() != spread.sum():  # a group in two splits
            raise DatasetError(
                f"dataset {dataset!r}: a group of identical or near-duplicate texts spans two "
                "splits; this is a bug in the split, please report it"
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
        "near_duplicates": grouping,
        "official_leaks": leaks,
        "folds": None,
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
                "fake_fraction": rounded(part["label"].mean()),
            }
            manifest["files"][name] = sha256_file(tmp / f"{name}.parquet")
            manifest["ids"][name] = part["id"].astype(str).tolist()
        kept = assignment.notna()
        if config.folds_below_rows is not None and int(kept.sum()) < config.folds_below_rows:
            manifest["folds"] = write_folds(
                tmp,
                frame[kept].reset_index(drop=True),
                groups[kept].reset_index(drop=True),
                columns,
                config,
            )
        digest = hashlib.sha256()
        for name in SPLITS:
            digest.update(f"{name}:{manifest['files'][name]}\n".encode())
        for name, sha in (manifest.get("folds") or {}).get("files", {}).items():
            digest.update(f"{name}:{sha}\n".encode())
        manifest["hash"] = digest.hexdigest()
        write_json(tmp / "manifest.json", manifest)
        # How the text was prepared travels with it: training records it in model.json.
        preparation = read_preparation(prepared)
        write_json(tmp / PREPARATION_FILE, preparation)
        for folder in (tmp / FOLDS_DIR).glob("fold-*"):
            write_json(folder / PREPARATION_FILE, preparation)
    return manifest
