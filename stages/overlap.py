"""overlap: near-duplicates and quoted claims shared by one dataset's train and another's test."""

from fakenews.overlap import dataset_overlap
from fakenews.stage import args, stage

if __name__ == "__main__":
    args(0, "python stages/overlap.py")
    with stage("overlap") as (paths, params):
        dataset_overlap(params, paths)
