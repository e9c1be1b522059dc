"""report: metrics/ (every cached result's committed copy, and summary.json) and
reports/report.md, then each dataset's best model into the MLflow model registry and each
model's summary onto its MLflow parent run (params: datasets, models, seeds, report,
mlflow.experiment/register_best)."""

from fakenews.registry import register_best_models
from fakenews.report import publish_and_report
from fakenews.run_groups import summarise_parent_runs
from fakenews.stage import args, stage

if __name__ == "__main__":
    args(0, "python stages/report.py")
    with stage("report") as (paths, params):
        summary = publish_and_report(params, paths)
        # After the report: these touch only MLflow, never the stage's DVC outputs.
        register_best_models(params, paths)
        summarise_parent_runs(summary, params, paths)
