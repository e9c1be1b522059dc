"""The training unions derived from `datasets:` (union_rule: leave_one_out, the default)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from fakenews.cli.check import validate_study
from fakenews.core.errors import ParamsError
from fakenews.core.params import load_params, parse_params
from fakenews.orchestration.unions import derived_unions, replace_unions_block, sync_unions

ROOT = Path(__file__).resolve().parents[1]


def test_all_and_one_leave_one_out_union_per_dataset_from_three() -> None:
    assert derived_unions(["a"]) == {}
    assert derived_unions(["a", "b"]) == {"all": ["a", "b"]}
    assert derived_unions(["a", "b", "c"]) == {
        "all": ["a", "b", "c"],
        "without_a": ["b", "c"],
        "without_b": ["a", "c"],
        "without_c": ["a", "b"],
    }


def test_the_projects_unions_are_the_derived_ones(real_params: dict[str, Any]) -> None:
    assert real_params.get("union_rule", "leave_one_out") == "leave_one_out"
    assert real_params["unions"] == derived_unions(list(real_params["datasets"]))


def test_a_new_dataset_joins_the_unions_and_nothing_else_changes(tmp_path: Path) -> None:
    text = (ROOT / "params.yaml").read_text(encoding="utf-8")
    added = text.replace("  fakenewsnet_v1: {}\n", "  fakenewsnet_v1: {}\n  isot: {}\n", 1)
    path = tmp_path / "params.yaml"
    path.write_text(added, encoding="utf-8")
    with pytest.raises(ParamsError, match=r"unions: not the unions derived from `datasets`"):
        validate_study(load_params(path))
    assert sync_unions(path, load_params(path).raw)
    synced = load_params(path)
    validate_study(synced)
    assert synced.unions["all"] == ["liar", "constraint", "fakenewsnet_v1", "isot"]
    assert synced.unions["without_isot"] == ["liar", "constraint", "fakenewsnet_v1"]
    # Only the unions block changed: every other line (comments included) as it was.
    before = [line for line in added.splitlines() if not line.startswith("  without_")]
    after = [line for line in path.read_text().splitlines() if not line.startswith("  without_")]
    assert [x for x in after if x not in before] == [
        "  all: [liar, constraint, fakenewsnet_v1, isot]"
    ]
    assert not sync_unions(path, load_params(path).raw)  # up to date: not written again


def test_custom_unions_are_kept(tmp_path: Path, real_params: dict[str, Any]) -> None:
    raw = copy.deepcopy(real_params)
    raw.update(union_rule="custom", unions={"pair": ["liar", "constraint"]})
    validate_study(parse_params(raw))
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    assert not sync_unions(path, raw)
    assert load_params(path).unions == {"pair": ["liar", "constraint"]}


def test_a_missing_block_is_added() -> None:
    text = "datasets:\n  a: {}\n  b: {}\n"
    assert replace_unions_block(text, {"all": ["a", "b"]}).endswith("\n  all: [a, b]\n")
