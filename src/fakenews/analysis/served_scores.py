"""What evaluate and transfer report about a served model's scores: calibration before and
after, and whether the domain check flags the rows the model gets wrong."""

from __future__ import annotations

from typing import Any

import numpy as np

from fakenews.analysis import stats
from fakenews.core.io import rounded


def calibration_scores(labels: np.ndarray, probs: np.ndarray, bins: int) -> dict[str, float]:
    """ECE and Brier score of ``probs``."""
    return {
        "ece": rounded(stats.expected_calibration_error(labels, probs, bins)),
        "brier": rounded(stats.brier_score(labels, probs)),
    }


def calibration_summary(
    labels: np.ndarray, raw: np.ndarray, calibrated: np.ndarray, method: str, bins: int
) -> dict[str, Any]:
    """``{method, before, after}`` (each ``{ece, brier}``), plus ``ece``/``brier`` of the
    calibrated scores at the top (what the leaderboard reads)."""
    after = calibration_scores(labels, calibrated, bins)
    return {
        **after,
        "method": method,
        "before": calibration_scores(labels, raw, bins),
        "after": after,
    }


def domain_split(
    labels: np.ndarray, probs: np.ndarray, in_domain: np.ndarray, threshold: float
) -> dict[str, Any]:
    """Share of rows the domain check flags (out of domain), and accuracy / ROC-AUC on the
    flagged rows versus the rest: does the flag find the rows the model gets wrong?"""
    flagged = ~np.asarray(in_domain, dtype=bool)

    def part(rows: np.ndarray) -> dict[str, Any]:
        if not rows.any():
            return {"n": 0, "accuracy": None, "roc_auc": None}
        y, p = labels[rows], probs[rows]
        auc = stats.auc_from_probabilities(y, p)
        return {
            "n": int(rows.sum()),
            "accuracy": rounded(np.mean((p >= threshold).astype(int) == y)),
            "roc_auc": None if auc is None else rounded(auc),
        }

    return {
        "flagged_share": rounded(flagged.mean()) if len(flagged) else 0.0,
        "flagged": part(flagged),
        "unflagged": part(~flagged),
    }
