"""report: metrics/summary.json and reports/report.md, then each dataset's best model into the
MLflow model registry (params: datasets, models, report, mlflow.experiment/register_best)."""

from fakenews.registry import register_best_models
from fakenews.report import build_report
from fakenews.stage import args, stage

if __name__ == "__main__":
    args(0, "python stages/report.py")
    with stage("report") as (paths, params):
        build_report(params, paths)
        # After the report: registering touches only MLflow, never the stage's DVC outputs.
        register_best_models(params, paths)
