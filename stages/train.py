"""train-<family>@<dataset>-<model>: fit one model on one dataset (params: train.<model>)."""

from fakenews.stage import args, stage
from fakenews.training import train

if __name__ == "__main__":
    dataset, model, family = args(3, "python stages/train.py DATASET MODEL --family FAMILY")
    with stage(f"train@{dataset}-{model}") as (paths, params):
        train(dataset, model, params, paths, family=family)
