"""domain@<dataset> / domain-union@<union>: the domain profile of a training set's texts (a
k-fold dataset: one per fold) (params: evaluate.domain)."""

from fakenews.core.stage import args, stage
from fakenews.pipeline.domain import build_domain

if __name__ == "__main__":
    (dataset,) = args(1, "python stages/domain.py DATASET")
    with stage(f"domain@{dataset}") as (paths, params):
        build_domain(dataset, params, paths)
