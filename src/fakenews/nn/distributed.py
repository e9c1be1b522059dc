"""Data-parallel training under ``torchrun``: rank facts, process group, sharding, reductions.

``torchrun --nproc_per_node N stages/train.py DATASET MODEL`` starts N copies of a stage with
WORLD_SIZE/RANK/LOCAL_RANK set. Each copy trains on its own shard of every epoch's batches, DDP
averages the gradients, and only rank 0 logs and saves. Without torchrun nothing here changes
anything. Reading the rank needs no torch import, so torch-free stages can ask cheaply.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, TypeVar, overload

if TYPE_CHECKING:
    import torch

T = TypeVar("T")


class Subset(Sequence[T]):
    """Chosen positions of a sequence, read on access (lazy batches stay lazy)."""

    def __init__(self, items: Sequence[T], positions: Sequence[int]) -> None:
        self.items, self.positions = items, list(positions)

    def __len__(self) -> int:
        return len(self.positions)

    @overload
    def __getitem__(self, i: int) -> T: ...
    @overload
    def __getitem__(self, i: slice) -> Subset[T]: ...
    def __getitem__(self, i: int | slice) -> T | Subset[T]:
        if isinstance(i, slice):
            return Subset(self.items, self.positions[i])
        return self.items[self.positions[i]]


def world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def rank() -> int:
    return int(os.environ.get("RANK", "0"))


def local_rank() -> int:
    return int(os.environ.get("LOCAL_RANK", "0"))


def is_main_process() -> bool:
    return rank() == 0


def init_process_group(device: torch.device) -> bool:
    """Join torchrun's process group (NCCL on CUDA, Gloo on CPU); True if this call created it."""
    import torch.distributed as dist

    if world_size() <= 1 or not dist.is_available() or dist.is_initialized():
        return False
    dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return True


def destroy_process_group() -> None:
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def active() -> bool:
    """True inside an initialised multi-process group."""
    import torch.distributed as dist

    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def shard_even(items: Sequence[T]) -> Sequence[T]:
    """This rank's share of ``items``, the same count on every rank (short ranks wrap around).

    DDP needs every rank to run the same number of backward passes, or the gradient all-reduce
    waits forever; repeating at most one item per rank keeps them in step.
    """
    if not active() or not items:
        return items
    import torch.distributed as dist

    size, me = dist.get_world_size(), dist.get_rank()
    per_rank = math.ceil(len(items) / size)
    return Subset(items, [(me + k * size) % len(items) for k in range(per_rank)])


def shard_strided(items: Sequence[T]) -> Sequence[T]:
    """This rank's share of ``items`` without repeats (for evaluation, summed afterwards)."""
    if not active():
        return items
    import torch.distributed as dist

    return Subset(items, range(dist.get_rank(), len(items), dist.get_world_size()))


def all_reduce_sum(values: Sequence[float], device: torch.device) -> list[float]:
    """Element-wise sum of ``values`` over all ranks (unchanged when not distributed)."""
    if not active():
        return list(values)
    import torch
    import torch.distributed as dist

    tensor = torch.tensor(list(values), dtype=torch.float64, device=device)
    dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor.tolist()
