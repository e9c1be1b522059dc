"""Split one study between machines that share a DVC remote: which stages each one runs.

DVC does the sharing (`dvc push --run-cache` / `dvc repro --pull`); this module only decides who
runs what, without any coordination between machines, so that no stage runs twice:

* the **data** stages (everything upstream of training: download, prepare, split, audit,
  overlap, union, embed, holdout, domain) run on one machine first, and are pushed;
* each **shard** is a share of the train stages, dealt round-robin, with each one's calibrate,
  evaluate, transfer and explain stages (they depend on that train stage alone, so they go where
  it goes);
* the ``report`` runs anywhere at the end, after `dvc repro --pull` has restored the rest.
"""

from __future__ import annotations

from pathlib import Path

from fakenews.core.errors import InputError
from fakenews.orchestration.scheduler import stage_name

TRAIN_PREFIX = "train-"
# Stages downstream of exactly one train stage: they run on the shard that trains it.
FOLLOWER_PREFIXES = ("calibrate-", "evaluate-", "transfer-", "explain-")
FINAL_STAGES = frozenset({"report"})


def parse_shard(text: str) -> tuple[int, int]:
    """``"i/N"`` (worker i of N, counting from 0) as ``(i, N)``."""
    worker, sep, workers = text.partition("/")
    try:
        index, count = int(worker), int(workers)
    except ValueError:
        index, count = -1, 0
    if not sep or count < 1 or not 0 <= index < count:
        raise InputError(
            f"shard {text!r}: expected I/N with 0 <= I < N (worker I of N, from 0), e.g. 0/2"
        )
    return index, count


def _graph(root: Path) -> tuple[dict[str, set[str]], list[str]]:
    """Each stage's direct upstream stages, and every stage in dvc.yaml order (as DVC addresses
    it: a stage of pipelines/<group>/dvc.yaml with its file)."""
    from dvc.repo import Repo

    with Repo(str(root)) as repo:
        graph = repo.index.graph  # an edge runs from a stage to a stage it depends on
        upstream = {
            stage.addressing: {dep.addressing for dep in graph.successors(stage)}
            for stage in graph.nodes
        }
        order = [stage.addressing for stage in repo.index.stages]
    return upstream, order


def plan(upstream: dict[str, set[str]], order: list[str], workers: int) -> dict[str, list[str]]:
    """``"data"``, ``"0"`` … ``"N-1"`` and ``"final"``: the stages of each part, in dvc.yaml order.

    A follower (calibrate/evaluate/transfer/explain) joins the shard of the one train stage it
    depends on; one that depends on several, or none, is refused rather than guessed.
    """
    trains = [name for name in order if stage_name(name).startswith(TRAIN_PREFIX)]
    shard_of = {name: i % workers for i, name in enumerate(trains)}
    parts: dict[str, list[str]] = {"data": [], **{str(i): [] for i in range(workers)}, "final": []}
    for name in order:
        if stage_name(name) in FINAL_STAGES:
            parts["final"].append(name)
        elif name in shard_of:
            parts[str(shard_of[name])].append(name)
        elif stage_name(name).startswith(FOLLOWER_PREFIXES):
            owners = sorted(dep for dep in upstream.get(name, set()) if dep in shard_of)
            if len(owners) != 1:
                raise InputError(
                    f"stage {name}: depends on {len(owners)} train stages ({', '.join(owners)}); "
                    "a shard can only take a stage downstream of exactly one"
                )
            parts[str(shard_of[owners[0]])].append(name)
        else:
            parts["data"].append(name)
    return parts


def shard_stages(root: Path, part: str) -> list[str]:
    """The stages of ``part``: ``data``, ``final`` or a shard ``I/N``."""
    key, workers = part, 1
    if part not in ("data", "final"):
        index, workers = parse_shard(part)  # before reading the graph: a typo fails at once
        key = str(index)
    upstream, order = _graph(root)
    return plan(upstream, order, workers)[key]
