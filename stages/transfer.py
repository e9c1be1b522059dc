"""transfer@<dataset>-<model>: the model on every other dataset's test split (params: datasets)."""

from fakenews.stage import args, stage
from fakenews.transfer import transfer

if __name__ == "__main__":
    dataset, model = args(2, "python stages/transfer.py DATASET MODEL")
    with stage(f"transfer@{dataset}-{model}") as (paths, params):
        transfer(dataset, model, params, paths)
