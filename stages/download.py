"""download@<dataset>: fetch one dataset's files (mirror, hand-placed or upstream) and verify."""

from fakenews.core.paths import mirror_dir
from fakenews.core.stage import args, stage
from fakenews.pipeline.download import download_dataset
from fakenews.sources.options import dataset_options

if __name__ == "__main__":
    (dataset,) = args(1, "python stages/download.py DATASET")
    with stage(f"download@{dataset}") as (paths, params):
        download_dataset(
            dataset,
            dataset_options(params, dataset),
            paths.raw(dataset),
            root=paths.root,
            mirror=mirror_dir(),
        )
