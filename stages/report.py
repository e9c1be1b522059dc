"""report: metrics/summary.json and reports/report.md (params: datasets, models)."""

from fakenews.report import build_report
from fakenews.stage import args, stage

if __name__ == "__main__":
    args(0, "python stages/report.py")
    with stage("report") as (paths, params):
        build_report(params, paths)
