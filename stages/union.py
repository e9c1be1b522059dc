"""union@<name>: the members' splits side by side, one training set (params: unions.<name>)."""

from fakenews.data.union import build_union
from fakenews.stage import args, stage

if __name__ == "__main__":
    (name,) = args(1, "python stages/union.py UNION")
    with stage(f"union@{name}") as (paths, params):
        build_union(name, params, paths)
