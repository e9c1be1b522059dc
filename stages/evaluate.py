"""evaluate-<family>@<dataset>-<model>-<seed>: one run's test metrics, predictions and plots
(params: evaluate)."""

from fakenews.core.stage import args, stage
from fakenews.pipeline.evaluate import evaluate

if __name__ == "__main__":
    dataset, model, seed = args(3, "python stages/evaluate.py DATASET MODEL --seed SEED")
    with stage(f"evaluate@{dataset}-{model}-{seed}") as (paths, params):
        evaluate(dataset, model, params, paths, seed=int(seed))
