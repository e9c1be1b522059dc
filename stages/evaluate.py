"""evaluate@<dataset>-<model>: test-split metrics, predictions and plots (params: evaluate)."""

from fakenews.evaluation import evaluate
from fakenews.stage import args, stage

if __name__ == "__main__":
    dataset, model = args(2, "python stages/evaluate.py DATASET MODEL")
    with stage(f"evaluate@{dataset}-{model}") as (paths, params):
        evaluate(dataset, model, params, paths)
