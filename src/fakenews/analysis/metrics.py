"""Classification metrics computed the same way for every model (label 1 = fake)."""

from __future__ import annotations

from typing import Any

import numpy as np

from fakenews.core.io import rounded


def classification_metrics(
    labels: np.ndarray, probs: np.ndarray, threshold: float = 0.5
) -> dict[str, Any]:
    # Imported here: sklearn takes ~2 s to import, and stages read their inputs first.
    from sklearn.metrics import (
        accuracy_score,
        confusion_matrix,
        precision_recall_fscore_support,
        roc_auc_score,
    )

    labels = np.asarray(labels, dtype=int)
    probs = np.asarray(probs, dtype=float)
    preds = (probs >= threshold).astype(int)
    metrics: dict[str, Any] = {"accuracy": rounded(accuracy_score(labels, preds))}
    for average in ("binary", "macro", "weighted"):
        p, r, f, _ = precision_recall_fscore_support(
            labels, preds, average=average, pos_label=1, zero_division=0
        )
        suffix = "fake" if average == "binary" else average
        metrics[f"precision_{suffix}"] = rounded(p)
        metrics[f"recall_{suffix}"] = rounded(r)
        metrics[f"f1_{suffix}"] = rounded(f)
    # From probabilities, not hard labels; undefined when the set has one class only.
    metrics["roc_auc"] = rounded(roc_auc_score(labels, probs)) if len(set(labels)) == 2 else None
    tn, fp, fn, tp = confusion_matrix(labels, preds, labels=[0, 1]).ravel()
    metrics["confusion_matrix"] = {"tn": int(tn), "fp": int(fp), "fn": int(fn), "tp": int(tp)}
    metrics["n"] = len(labels)
    return metrics
