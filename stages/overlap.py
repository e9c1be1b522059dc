"""overlap: near-duplicates and quoted claims shared by one dataset's train and another's test."""

from fakenews.core.stage import args, stage
from fakenews.pipeline.overlap import dataset_overlap

if __name__ == "__main__":
    args(0, "python stages/overlap.py")
    with stage("overlap") as (paths, params):
        dataset_overlap(params, paths)
