"""Calibrated P(fake): a one-dimensional map of a model's score, fitted on its validation split.

Both methods act on ``logit(p)`` (``p`` clipped to [EPS, 1 - EPS]) and give
``sigmoid(scale * logit(p) + offset)``:

- ``temperature`` (neural families): one temperature ``T = 1 / scale`` minimising the validation
  negative log-likelihood, ``offset = 0``. It keeps the ranking and every 0.5-threshold label,
  so ROC-AUC and accuracy stay; only over- or under-confidence is corrected.
- ``platt`` (linear and embedding families, logistic regressions whose logit scale *and* offset
  are set by their L2 penalty): a near-unpenalised logistic regression on the one logit feature.

Not isotonic regression: a step function turns distinct scores into ties (ROC-AUC moves), and
fakenewsnet_v1's folds have about 60 validation rows to fit it on.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from fakenews.core.io import atomic_path, rounded
from fakenews.core.paths import Paths, run_name

CALIBRATION_FILE = "calibration.json"
CALIBRATION_FOLDER = ("data", "calibration")
EPS = 1e-7
Method = Literal["temperature", "platt"]

# Which method each family uses (here, not on TextClassifier: base.py is every train stage's dep).
METHOD_BY_FAMILY: Mapping[str, Method] = {
    "linear": "platt",
    "embedding": "platt",
    "recurrent": "temperature",
    "transformer": "temperature",
}
# Temperature search range (log T): wide enough for any trained model, bounded so that a
# validation split the model gets all right cannot push T to 0.
LOG_T_BOUNDS = (-7.0, 7.0)
# Platt's inverse L2 penalty: effectively unpenalised, yet finite when validation is separable.
PLATT_C = 1e4


def calibration_dir(paths: Paths, train_set: str, model: str, seed: int) -> Path:
    """``data/calibration/<train_set>/<model>/seed-<s>``: one run's calibrator (a k-fold run:
    one per ``fold-<k>/``). Not a :class:`Paths` property: ``core/`` is every train stage's
    dependency, and an edit there would retrain every model."""
    return paths.root.joinpath(*CALIBRATION_FOLDER, train_set, model, run_name(seed))


def method_for(family: str) -> Method:
    """The calibration method of a model family (a clear error for an unknown one)."""
    try:
        return METHOD_BY_FAMILY[family]
    except KeyError:
        raise ValueError(
            f"no calibration method for family {family!r}; known: {', '.join(METHOD_BY_FAMILY)}"
        ) from None


def logit(probs: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(probs, dtype=float), EPS, 1 - EPS)
    return np.log(p) - np.log1p(-p)


def sigmoid(z: np.ndarray) -> np.ndarray:
    # exp of a negative number only: no overflow warning for large |z|.
    z = np.asarray(z, dtype=float)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def _check(probs: Any, labels: Any) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(probs, dtype=float).ravel()
    y = np.asarray(labels).ravel()
    if p.shape != y.shape:
        raise ValueError(f"calibration: {len(p)} probabilities for {len(y)} labels")
    if not len(p):
        raise ValueError("calibration: no validation rows to fit on")
    if not np.all(np.isfinite(p)) or np.any((p < 0) | (p > 1)):
        raise ValueError("calibration: probabilities must be finite and in [0, 1]")
    if not np.isin(y, (0, 1)).all():
        raise ValueError("calibration: labels must be 0 (real) or 1 (fake)")
    if len(np.unique(y)) < 2:
        raise ValueError(
            "calibration: the validation rows hold one class only; a calibrator needs both"
        )
    return p, y.astype(int)


def _nll(z: np.ndarray, y: np.ndarray) -> float:
    # -log sigmoid(z) for y=1, -log(1 - sigmoid(z)) for y=0, computed stably.
    return float(np.mean(np.logaddexp(0.0, np.where(y == 1, -z, z))))


class Calibrator(BaseModel):
    """``sigmoid(scale * logit(p) + offset)``, fitted on validation P(fake) (JSON round-trip)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    file_name: ClassVar[str] = CALIBRATION_FILE

    method: Method
    scale: float = Field(description="Multiplies logit(p); 1 / temperature for 'temperature'.")
    offset: float = Field(0.0, description="Added to the scaled logit (0 for 'temperature').")
    n_fit: int = Field(ge=0, description="Validation rows it was fitted on.")
    nll_before: float = Field(description="Validation NLL of the raw scores.")
    nll_after: float = Field(description="Validation NLL after calibration.")

    @property
    def temperature(self) -> float | None:
        return 1.0 / self.scale if self.method == "temperature" and self.scale else None

    @classmethod
    def fit(cls, method: Method, probs: Any, labels: Any) -> Calibrator:
        """Fit on validation P(fake) and labels (both classes needed)."""
        p, y = _check(probs, labels)
        z = logit(p)
        if method == "temperature":
            from scipy.optimize import minimize_scalar

            found = minimize_scalar(
                lambda log_t: _nll(z / np.exp(log_t), y),
                bounds=LOG_T_BOUNDS,
                method="bounded",
                options={"xatol": 1e-9},
            )
            scale, offset = float(np.exp(-found.x)), 0.0
        elif method == "platt":
            from sklearn.linear_model import LogisticRegression

            lr = LogisticRegression(C=PLATT_C, solver="lbfgs", max_iter=1000, tol=1e-10)
            lr.fit(z.reshape(-1, 1), y)
            scale, offset = float(lr.coef_[0, 0]), float(lr.intercept_[0])
        else:
            raise ValueError(f"calibration method must be 'temperature' or 'platt', not {method!r}")
        # Rounded as written, so a loaded calibrator maps scores exactly as the fitted one.
        scale, offset = rounded(scale, 9), rounded(offset, 9)
        return cls(
            method=method,
            scale=scale,
            offset=offset,
            n_fit=len(p),
            nll_before=rounded(_nll(z, y)),
            nll_after=rounded(_nll(scale * z + offset, y)),
        )

    def apply(self, probs: Any) -> np.ndarray:
        """Calibrated P(fake) for raw P(fake) (any shape; NaN stays NaN)."""
        p = np.asarray(probs, dtype=float)
        return sigmoid(self.scale * logit(p) + self.offset)

    def to_json(self) -> str:
        return json.dumps(self.model_dump(), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Calibrator:
        return cls.model_validate_json(text)

    def save(self, path: Path) -> None:
        """Write to ``path`` (a file, or a folder to hold ``calibration.json``)."""
        path = Path(path)
        target = path / CALIBRATION_FILE if path.is_dir() else path
        target.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(target) as tmp:
            tmp.write_text(self.to_json(), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Calibrator:
        """Read what :meth:`save` wrote (``path``: the file or its folder)."""
        path = Path(path)
        target = path / CALIBRATION_FILE if path.is_dir() else path
        try:
            return cls.from_json(target.read_text(encoding="utf-8"))
        except ValueError as error:
            raise ValueError(f"{target}: not a valid calibrator: {error}") from None
