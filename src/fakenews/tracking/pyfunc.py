"""MLflow "model from code": MLflow runs this file to rebuild a registered fakenews model.

Nothing is pickled. The wrapper is this code (copied into the logged model), the weights are the
model folder logged as the artifact ``model_dir`` (JSON / safetensors), bundled with the run's
calibrator (``calibration.json``) and its training set's domain profile (``domain/``), and read
back with the same safe loader as ``fakenews predict``. Loading needs the fakenews package
installed.

Not imported by the package: :mod:`fakenews.tracking.model_registry` logs it by path.
"""

from __future__ import annotations

from typing import Any

import mlflow
import pandas as pd
from mlflow.models import set_model

MODEL_DIR_ARTIFACT = "model_dir"


def json_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Missing values as None: MLflow's scoring server writes a float NaN as ``NaN``, which
    strict JSON parsers refuse; None is ``null``. A column with nothing missing keeps its dtype
    (float ``prob_fake`` for the common case), one with a gap becomes object."""
    out = frame.copy()
    for column in out.columns:
        missing = out[column].isna()
        if missing.any():
            out[column] = out[column].astype(object).where(~missing, None)
        elif str(out[column].dtype) == "boolean":
            out[column] = out[column].astype(bool)
    return out


class FakenewsPyfunc(mlflow.pyfunc.PythonModel):
    """``predict`` takes a DataFrame with a ``text`` column (and optionally ``title``) and
    returns, per row, ``prob_fake`` (calibrated), ``label`` (fake/real), ``in_domain_score``,
    ``in_domain`` and ``error``: an empty or whitespace text is not scored, its ``error`` says
    why and its other columns are None (JSON null)."""

    def load_context(self, context: Any) -> None:
        from fakenews.inference.predict import load_predictor

        self.predictor = load_predictor(context.artifacts[MODEL_DIR_ARTIFACT])

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        from fakenews.inference.predict import DEFAULT_THRESHOLD, predict_frame

        threshold = float((params or {}).get("threshold", DEFAULT_THRESHOLD))
        scored = predict_frame(self.predictor, pd.DataFrame(model_input), threshold=threshold)
        return json_safe(scored)


set_model(FakenewsPyfunc())
