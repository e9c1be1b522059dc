"""train-<family>@<dataset>-<model>-<seed>: fit one run of one model on one dataset (params:
train.<model>; the seed comes from `seeds.<family>` through dvc.yaml's matrix)."""

from fakenews.core.stage import args, stage
from fakenews.pipeline.train import train

if __name__ == "__main__":
    dataset, model, family, seed = args(
        4, "python stages/train.py DATASET MODEL --family FAMILY --seed SEED"
    )
    with stage(f"train@{dataset}-{model}-{seed}") as (paths, params):
        train(dataset, model, params, paths, family=family, seed=int(seed))
