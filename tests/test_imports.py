"""Stages import what they use: the core knows no dataset or model, cheap stages skip torch.

Each check runs in a fresh interpreter, so what this test process already imported cannot hide
an import.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from helpers.imports import heavy, loaded_after

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "fakenews"
CORE = PACKAGE / "core"
PIPELINE = PACKAGE / "pipeline"


def test_the_core_imports_nothing_else_of_the_project() -> None:
    """core/ is the bottom layer: every stage depends on the whole folder."""
    core = sorted(f"fakenews.core.{p.stem}" for p in CORE.glob("*.py") if p.stem != "__init__")
    modules = loaded_after(f"import {', '.join(core)}")
    project = [m for m in modules if m.startswith("fakenews.") and m != "fakenews.core"]
    assert sorted(m for m in project if not m.startswith("fakenews.core.")) == []
    assert sorted(project) == core
    assert heavy(modules) == []


def test_stage_modules_import_no_heavy_library_at_start_up() -> None:
    """Each stage script's imports (its work module + the stage harness) stay light."""
    # report draws its figures with matplotlib: the last stage, run once per `dvc repro`.
    work_modules = [
        *(
            f"fakenews.pipeline.{p.stem}"
            for p in sorted(PIPELINE.glob("*.py"))
            if p.stem not in {"__init__", "report"}
        ),
        "fakenews.models",
        "fakenews.models.tfidf_logreg",
    ]
    for module in work_modules:
        assert heavy(loaded_after(f"import fakenews.core.stage, {module}")) == [], module


def test_a_tfidf_model_never_imports_torch() -> None:
    """Fit, save, load, predict and score a TF-IDF model, and log to MLflow's modules."""
    code = textwrap.dedent(
        """
        import tempfile
        from pathlib import Path

        import numpy as np
        import fakenews.tracking.runs  # the train and evaluate stages journal their runs

        from fakenews.analysis import stats
        from fakenews.analysis.metrics import classification_metrics
        from fakenews.models import load_model, save_model
        from fakenews.models.tfidf_logreg import Config, Model

        texts = [f"fake words number {i}" if i % 2 else f"real report {i}" for i in range(40)]
        labels = np.arange(40) % 2
        model = Model(Config(min_df=1))
        model.fit(texts, labels, texts, labels, lambda metrics, step: None)
        folder = Path(tempfile.mkdtemp())
        save_model(model, folder, {})
        probs = load_model(folder).predict_proba(texts)
        classification_metrics(labels, probs)
        stats.metric_cis(labels, probs, 0.5, n_resamples=100, seed=0)
        stats.roc_points(labels, probs)
        """
    )
    modules = loaded_after(code)
    assert "sklearn" in modules  # the check itself ran the model
    assert "torch" not in modules and "transformers" not in modules
