"""explain-<family>@<dataset>-<model>: what the model's reference run (its family's first seed)
relies on, and whether deleting those cues moves it more than deleting random words (params:
explain)."""

from fakenews.core.stage import args, stage
from fakenews.pipeline.explain import explain_model

if __name__ == "__main__":
    dataset, model, seed = args(3, "python stages/explain.py DATASET MODEL --seed SEED")
    with stage(f"explain@{dataset}-{model}") as (paths, params):
        explain_model(dataset, model, params, paths, seed=int(seed))
