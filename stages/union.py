"""union@<name>: the members' splits side by side, one training set (params: unions.<name>)."""

from fakenews.core.stage import args, stage
from fakenews.pipeline.union import build_union

if __name__ == "__main__":
    (name,) = args(1, "python stages/union.py UNION")
    with stage(f"union@{name}") as (paths, params):
        build_union(name, params, paths)
