"""The report stage's committed copies under metrics/: which files, from where, all or nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from helpers.params import family_of, tiny_params

from fakenews.core.errors import InputError
from fakenews.core.params import parse_params
from fakenews.core.paths import Paths
from fakenews.reporting.publish import publish_metrics, published_files


def small() -> Any:
    """The real params, shrunk: two datasets, the baseline and an LSTM with two seeds, a union."""
    raw = tiny_params(
        {"liar": {}, "constraint": {}},
        ["tfidf_logreg", "lstm"],
        seeds={family_of("lstm"): [1, 2]},
        unions={"both": ["liar", "constraint"]},
    )
    return parse_params(raw)


def test_every_result_dvc_yaml_defines_is_published_at_its_old_path(
    real_params: dict[str, Any], tmp_path: Path
) -> None:
    paths = Paths(tmp_path)
    pairs = published_files(small(), paths)
    assert pairs[Path("liar/lstm/seed-2.json")] == paths.evaluation("liar", "lstm", 2) / (
        "metrics.json"
    )
    assert pairs[Path("constraint/audit.json")] == paths.audit("constraint")
    assert pairs[Path("liar/transfer/tfidf_logreg.json")] == paths.transfer("liar", "tfidf_logreg")
    assert pairs[Path("both/transfer/lstm.json")] == paths.transfer("both", "lstm")
    assert pairs[Path("overlap.json")] == paths.overlap
    # 2 datasets x (audit + tfidf 1 seed + lstm 2 seeds + 2 transfers) + 2 union transfers + overlap
    assert len(pairs) == 2 * (1 + 1 + 2 + 2) + 2 + 1


def test_publishing_copies_bytes_and_names_what_is_missing(
    real_params: dict[str, Any], tmp_path: Path
) -> None:
    params, paths = small(), Paths(tmp_path)
    pairs = published_files(params, paths)
    for index, cached in enumerate(pairs.values()):
        cached.parent.mkdir(parents=True, exist_ok=True)
        cached.write_bytes(b'{"n": %d}\n' % index)
    staged = tmp_path / "staged"
    assert publish_metrics(params, paths, staged) == len(pairs)
    for relative, cached in pairs.items():
        assert (staged / relative).read_bytes() == cached.read_bytes()

    paths.transfer("both", "lstm").unlink()
    with pytest.raises(InputError, match=r"1 cached result\(s\) missing \(data/transfer/both/"):
        publish_metrics(params, paths, tmp_path / "again")
