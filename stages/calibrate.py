"""calibrate-<family>@<dataset>-<model>-<seed>: fit one run's calibrator on its validation split
(a k-fold run: one per fold)."""

from fakenews.core.stage import args, stage
from fakenews.pipeline.calibrate import calibrate

if __name__ == "__main__":
    dataset, model, seed = args(3, "python stages/calibrate.py DATASET MODEL --seed SEED")
    with stage(f"calibrate@{dataset}-{model}-{seed}") as (paths, params):
        calibrate(dataset, model, params, paths, seed=int(seed))
