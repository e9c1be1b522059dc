"""holdout@<dataset>: an evaluation-only dataset's rows, all as its test split."""

from fakenews.core.errors import ParamsError
from fakenews.core.stage import args, stage
from fakenews.pipeline.holdout import holdout_dataset

if __name__ == "__main__":
    (dataset,) = args(1, "python stages/holdout.py DATASET")
    with stage(f"holdout@{dataset}") as (paths, params):
        if not params.is_eval_only(dataset):
            raise ParamsError(f"evaluate_on: {dataset!r} is not listed there")
        holdout_dataset(dataset, paths.prepared(dataset), paths.split(dataset))
