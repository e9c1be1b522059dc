"""split@<dataset>: the one train/val/test split every model uses."""

from fakenews.analysis.near_duplicates import NearDuplicateConfig
from fakenews.core.stage import args, stage
from fakenews.pipeline.split import SplitConfig, split_dataset

if __name__ == "__main__":
    (dataset,) = args(1, "python stages/split.py DATASET")
    with stage(f"split@{dataset}") as (paths, params):
        split_dataset(
            dataset,
            params.section("split", SplitConfig),
            paths.prepared(dataset),
            paths.split(dataset),
            params.section("near_duplicates", NearDuplicateConfig),
        )
