"""report: ``metrics/`` (every cached result's committed copy, and ``summary.json``),
``headline/`` (the metrics DVC shows) and ``reports/report.{md,html}``; then the stages' run
journals replayed into MLflow, each dataset's best model into the MLflow model registry and each
model's summary onto its MLflow parent run."""

from __future__ import annotations

from typing import Any

from fakenews.core.io import atomic_dir
from fakenews.core.params import Params
from fakenews.core.paths import Paths
from fakenews.reporting.publish import publish_metrics
from fakenews.reporting.report import build_report
from fakenews.tracking.client import MlflowConfig
from fakenews.tracking.model_registry import register_best_models
from fakenews.tracking.parents import summarise_parent_runs
from fakenews.tracking.replay import replay_pending


def publish_and_report(params: Params, paths: Paths) -> dict[str, Any]:
    """Swap in a new ``metrics/`` (every cached result's committed copy and the summary) and a
    new ``headline/`` (what DVC shows as metrics), each built aside and renamed into place
    whole, so a model dropped from params leaves no stale file; then the report itself.
    Return the summary."""
    with atomic_dir(paths.metrics_root) as staged, atomic_dir(paths.headline_root) as headline:
        publish_metrics(params, paths, staged)
        return build_report(
            params, paths, summary_file=staged / paths.summary.name, headline_dir=headline
        )


def report(params: Params, paths: Paths) -> dict[str, Any]:
    """The report stage: publish and render, then (touching only MLflow, never the stage's DVC
    outputs) replay the runs the stages journaled, register the best models and summarise the
    parent runs, which need every run in MLflow. Return the summary."""
    summary = publish_and_report(params, paths)
    if not params.section("mlflow", MlflowConfig).enabled:
        return summary
    replay_pending(paths)
    register_best_models(params, paths)
    summarise_parent_runs(summary, params, paths)
    return summary
