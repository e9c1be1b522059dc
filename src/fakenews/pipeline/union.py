"""union@<name>: a training set made of other datasets' splits.

``unions: {name: [member, ...]}`` in params.yaml. The union's train, val and test are its
members' own train, val and test splits side by side (each row keeps its member in a
``dataset`` column, its id becomes ``<member>/<id>``), so a model trained on it has seen none of
any member's test rows, stops early on the members' validation rows only, and is scored on each
member's test split and on every dataset outside the union (``transfer``). A union of every
dataset but D is D's leave-one-dataset-out training set.

Only audited members join: each member's ``passed.json`` must hold the hash of the split read.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pandas as pd

from fakenews.core.errors import DatasetError
from fakenews.core.io import (
    SPLITS,
    atomic_dir,
    read_json,
    read_split,
    sha256_file,
    write_json,
    write_parquet,
)
from fakenews.core.params import Params
from fakenews.core.paths import Paths
from fakenews.text.preparation import PREPARATION_FILE, read_preparation

# The columns every model reads, plus what transfer needs to re-prepare raw text.
COLUMNS = ["id", "title", "text", "label", "raw_title", "raw_text"]
MEMBER_COLUMN = "dataset"


def union_id(member: str, row_id: str) -> str:
    return f"{member}/{row_id}"


def member_split(member: str, paths: Paths) -> tuple[Path, dict[str, Any]]:
    """A member's split folder and manifest, checked against its audit's pass."""
    split_dir = paths.split(member)
    manifest = read_json(split_dir / "manifest.json")
    passed = paths.audit_passed(member)
    if not passed.is_file():
        raise DatasetError(
            f"union member {member!r}: its audit has not passed ({passed} missing); "
            "run `dvc repro` and see metrics/<dataset>/audit.json"
        )
    if read_json(passed).get("split_hash") != manifest["hash"]:
        raise DatasetError(
            f"union member {member!r}: {passed} is for another split than {split_dir}; "
            "rerun its audit (`dvc repro`)"
        )
    return split_dir, manifest


def union_preparation(name: str, preparations: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """One preparation for raw text a union model reads: the members' shared clean-up, and
    every member's artifact rules (a shortcut stripped from one member is stripped from all)."""
    cleanings = {m: p["cleaning"] for m, p in preparations.items()}
    first = next(iter(cleanings.values()))
    differing = sorted(m for m, c in cleanings.items() if c != first)
    if differing:
        raise DatasetError(
            f"union {name!r}: members were prepared differently ({differing} differ from "
            f"{next(iter(cleanings))}); prepare them with the same `prepare` params"
        )
    rules: dict[str, dict[str, Any]] = {}
    for preparation in preparations.values():
        for rule in preparation["artifact_rules"]:
            rules.setdefault(rule["name"], rule)
    return {
        "artifact_rules": [rules[n] for n in sorted(rules)],
        "cleaning": first,
        "dataset": name,
        "source": "union",
    }


def build_union(name: str, params: Params, paths: Paths) -> dict[str, Any]:
    """Write ``data/union/<name>/{train,val,test}.parquet`` + manifest; return the manifest."""
    if name not in params.unions:
        raise DatasetError(f"unions: no union named {name!r} (have {sorted(params.unions)})")
    members = params.unions[name]
    parts: dict[str, list[pd.DataFrame]] = {s: [] for s in SPLITS}
    member_hashes: dict[str, str] = {}
    preparations: dict[str, dict[str, Any]] = {}
    counts: dict[str, dict[str, int]] = {}
    for member in members:
        split_dir, manifest = member_split(member, paths)
        member_hashes[member] = manifest["hash"]
        preparations[member] = read_preparation(split_dir)
        counts[member] = {}
        for split in SPLITS:
            frame = read_split(split_dir, split)
            missing = [c for c in COLUMNS if c not in frame.columns]
            if missing:
                raise DatasetError(f"{split_dir / split}.parquet: missing columns {missing}")
            frame = frame[COLUMNS].copy()
            frame["id"] = [union_id(member, str(i)) for i in frame["id"]]
            frame[MEMBER_COLUMN] = member
            parts[split].append(frame)
            counts[member][split] = len(frame)
    preparation = union_preparation(name, preparations)
    manifest: dict[str, Any] = {
        "dataset": name,
        "strategy": "union",
        "members": members,
        "member_hashes": member_hashes,
        "folds": None,
        "counts": {},
        "member_counts": counts,
        "files": {},
    }
    with atomic_dir(paths.union(name)) as tmp:
        digest = hashlib.sha256()
        for split in SPLITS:
            frame = pd.concat(parts[split], ignore_index=True)
            write_parquet(tmp / f"{split}.parquet", frame)
            manifest["counts"][split] = len(frame)
            manifest["files"][split] = sha256_file(tmp / f"{split}.parquet")
            digest.update(f"{split}:{manifest['files'][split]}\n".encode())
        manifest["hash"] = digest.hexdigest()
        write_json(tmp / "manifest.json", manifest)
        write_json(tmp / PREPARATION_FILE, preparation)
    return manifest
