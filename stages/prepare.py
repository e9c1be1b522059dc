"""prepare@<dataset>: raw files -> data/prepared/<dataset>/data.parquet (+ stats.json)."""

from fakenews.core.stage import args, stage
from fakenews.pipeline.prepare import prepare_dataset
from fakenews.sources.options import dataset_options
from fakenews.text.cleaning import PrepareConfig

if __name__ == "__main__":
    (dataset,) = args(1, "python stages/prepare.py DATASET")
    with stage(f"prepare@{dataset}") as (paths, params):
        prepare_dataset(
            dataset,
            dataset_options(params, dataset),
            params.section("prepare", PrepareConfig),
            paths.raw(dataset),
            paths.prepared(dataset),
            # A training set needs both classes; an evaluation-only set may hold one.
            both_classes=not params.is_eval_only(dataset),
        )
