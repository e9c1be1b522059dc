"""overlap: near-duplicates shared between datasets, train of one x test of another."""

from fakenews.audit import dataset_overlap
from fakenews.stage import args, stage

if __name__ == "__main__":
    args(0, "python stages/overlap.py")
    with stage("overlap") as (paths, params):
        dataset_overlap(params, paths)
