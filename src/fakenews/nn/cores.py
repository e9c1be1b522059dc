"""How a torch process uses the CPU: its cores and its floating-point mode. Shared by every torch
family (the trainer of the fine-tuned and recurrent families, the frozen encoder of the embedding
family) without making one family's stages depend on another's training code."""

from __future__ import annotations

import os
import warnings

# Elements in the probe of flush_denormals: above ATen's parallel grain (32,768) on every
# thread of a large machine, so each of torch's worker threads computes a part of it.
_PROBE_ELEMENTS = 1 << 20


def available_cores() -> int:
    """Cores this process may run on: its CPU affinity (taskset, cgroups), not the machine's."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def fix_threads(num_threads: int | None) -> int:
    """Run torch's intra-op pool and the BLAS/OpenMP pools (numpy, scikit-learn) on
    ``num_threads`` threads; None: every core this process may run on. Returns the count.

    Why a fixed count: how a reduction is split over threads changes its rounding, and a
    recurrent fit amplifies that (CONSTRAINT rnn seed 42: accuracy 0.8971 on one thread, 0.8619
    on two). A count taken from the CPU affinity made results depend on how a stage was started
    (`fakenews repro` pins it to one core, a plain `dvc repro` lets it use all of them).
    """
    import torch
    from threadpoolctl import threadpool_limits

    threads = num_threads or available_cores()
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    # Process-wide (not a context): every later BLAS call of this stage runs on as many.
    threadpool_limits(limits=threads)
    return threads


def flush_denormals() -> bool:
    """Flush denormal floats to zero (FTZ/DAZ) in every torch thread; True when they all do.

    Why: once a recurrent network's activations and gradients fall into the denormal range, each
    operation on them takes a microcode assist on many x86 CPUs (measured 10x slower training on
    an AVX-512 Intel part). The flag lives in each thread's MXCSR register and a thread inherits
    it from the thread that creates it, so it must be set before torch starts its worker threads
    (its first parallel operation): the modules that run torch call this on import, before any
    model is built or loaded. The probe (one parallel multiply of denormals) shows whether every
    worker flushes; a process that ran torch before importing them gets a warning instead.
    """
    import torch

    if not torch.set_flush_denormal(True):  # a CPU without SSE3 / FTZ: nothing to do
        return False
    # Denormals made from their bits: a float constant would already be flushed on conversion.
    probe = torch.full((_PROBE_ELEMENTS,), 1 << 20, dtype=torch.int32).view(torch.float32)
    flushed = int(torch.count_nonzero(probe * 1.0)) == 0
    if not flushed:
        warnings.warn(
            "torch ran a parallel operation before fakenews set flush-denormal mode: some of its "
            "threads still compute with denormal floats (slower on many CPUs, and results may "
            "depend on the thread count). Import fakenews' torch modules before running torch.",
            RuntimeWarning,
            stacklevel=2,
        )
    return flushed
