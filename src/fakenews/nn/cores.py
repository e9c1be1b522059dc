"""How many CPU cores a torch stage may use: shared by every torch family (the trainer of the
fine-tuned and recurrent families, the frozen encoder of the embedding family) without making
one family's stages depend on another's training code."""

from __future__ import annotations

import os


def available_cores() -> int:
    """Cores this process may run on: its CPU affinity (taskset, cgroups), not the machine's."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1
