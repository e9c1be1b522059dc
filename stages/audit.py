"""audit@<dataset>: duplicates, cross-split leaks and shortcut probes (params: audit)."""

from fakenews.core.stage import args, stage
from fakenews.pipeline.audit import audit_dataset

if __name__ == "__main__":
    (dataset,) = args(1, "python stages/audit.py DATASET")
    with stage(f"audit@{dataset}") as (paths, params):
        audit_dataset(dataset, params, paths)
