"""report: metrics/ (every cached result's committed copy, and summary.json) and
reports/report.{md,html}, then each dataset's best model into the MLflow model registry and each
model's summary onto its MLflow parent run (params: datasets, models, seeds, report,
mlflow.experiment/register_best)."""

from fakenews.core.stage import args, stage
from fakenews.pipeline.report import report

if __name__ == "__main__":
    args(0, "python stages/report.py")
    with stage("report") as (paths, params):
        report(params, paths)
