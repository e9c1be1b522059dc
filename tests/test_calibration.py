"""Calibrator: fitted on validation scores, it corrects over/under-confidence and round-trips."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fakenews.analysis import stats
from fakenews.analysis.calibration import (
    METHOD_BY_FAMILY,
    Calibrator,
    calibration_dir,
    logit,
    method_for,
    sigmoid,
)
from fakenews.analysis.domain import domain_dir
from fakenews.core.paths import Paths


def overconfident(n: int, seed: int = 0, power: float = 3.0) -> tuple[np.ndarray, np.ndarray]:
    """Well-calibrated scores pushed towards 0 and 1 (logit times ``power``)."""
    rng = np.random.default_rng(seed)
    true_p = rng.uniform(0.02, 0.98, n)
    labels = (rng.uniform(size=n) < true_p).astype(int)
    return sigmoid(power * logit(true_p)), labels


def test_temperature_undoes_overconfidence_and_keeps_ranking_and_labels() -> None:
    probs, labels = overconfident(4000)
    cal = Calibrator.fit("temperature", probs, labels)
    assert cal.temperature == pytest.approx(3.0, rel=0.1)
    after = cal.apply(probs)
    assert stats.expected_calibration_error(labels, after) < 0.5 * stats.expected_calibration_error(
        labels, probs
    )
    assert stats.brier_score(labels, after) < stats.brier_score(labels, probs)
    assert cal.nll_after < cal.nll_before
    np.testing.assert_array_equal(
        np.argsort(after, kind="stable"), np.argsort(probs, kind="stable")
    )
    np.testing.assert_array_equal(after >= 0.5, probs >= 0.5)


def test_platt_corrects_a_shifted_score() -> None:
    probs, labels = overconfident(4000, seed=1, power=1.0)
    shifted = sigmoid(0.5 * logit(probs) + 1.5)  # underconfident and biased towards fake
    cal = Calibrator.fit("platt", shifted, labels)
    assert cal.scale == pytest.approx(2.0, rel=0.15)
    assert cal.offset == pytest.approx(-3.0, rel=0.15)
    after = cal.apply(shifted)
    assert stats.brier_score(labels, after) < stats.brier_score(labels, shifted)


def test_json_round_trip_and_files(tmp_path) -> None:
    probs, labels = overconfident(500)
    cal = Calibrator.fit("platt", probs, labels)
    assert Calibrator.from_json(cal.to_json()) == cal
    cal.save(tmp_path / "calibration.json")
    again = Calibrator.load(tmp_path)
    np.testing.assert_array_equal(again.apply(probs), cal.apply(probs))
    # The same fit writes the same bytes.
    Calibrator.fit("platt", probs, labels).save(tmp_path / "second.json")
    assert (tmp_path / "second.json").read_bytes() == (tmp_path / "calibration.json").read_bytes()


def test_extreme_scores_are_finite() -> None:
    cal = Calibrator.fit("temperature", np.array([0.0, 1.0, 0.2, 0.9]), np.array([0, 1, 1, 0]))
    out = cal.apply(np.array([0.0, 1.0, 0.5]))
    assert np.all(np.isfinite(out)) and out[2] == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("probs", "labels", "message"),
    [
        ([0.2, 0.8], [0, 1, 1], "2 probabilities for 3 labels"),
        ([], [], "no validation rows"),
        ([0.2, np.nan], [0, 1], "finite"),
        ([0.2, 1.5], [0, 1], "in \\[0, 1\\]"),
        ([0.2, 0.8], [0, 2], "labels must be 0"),
        ([0.2, 0.8], [1, 1], "one class only"),
    ],
)
def test_bad_input_is_named(probs, labels, message) -> None:
    with pytest.raises(ValueError, match=message):
        Calibrator.fit("temperature", probs, labels)


def test_unknown_method_and_family() -> None:
    with pytest.raises(ValueError, match="'temperature' or 'platt'"):
        Calibrator.fit("isotonic", [0.1, 0.9], [0, 1])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no calibration method for family 'x'"):
        method_for("x")


def test_every_family_has_a_method() -> None:
    from fakenews.models.families import FAMILIES

    assert set(METHOD_BY_FAMILY) == set(FAMILIES)


def test_corrupt_file_is_named(tmp_path) -> None:
    (tmp_path / "calibration.json").write_text("{}", encoding="utf-8")
    with pytest.raises(ValueError, match="not a valid calibrator"):
        Calibrator.load(tmp_path)


def test_paths() -> None:
    paths = Paths(Path("/r"))
    assert calibration_dir(paths, "liar", "lstm", 42) == Path(
        "/r/data/calibration/liar/lstm/seed-42"
    )
    assert domain_dir(paths, "liar") == Path("/r/data/domain/liar")
