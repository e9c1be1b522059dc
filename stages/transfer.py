"""transfer-<family>@<dataset>-<model>: the model's reference run (its family's first seed) on
every other dataset's test split (params: datasets, evaluate)."""

from fakenews.core.stage import args, stage
from fakenews.pipeline.transfer import transfer

if __name__ == "__main__":
    dataset, model, seed = args(3, "python stages/transfer.py DATASET MODEL --seed SEED")
    with stage(f"transfer@{dataset}-{model}") as (paths, params):
        transfer(dataset, model, params, paths, seed=int(seed))
