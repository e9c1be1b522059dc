"""What the throughput benchmarks share: FLOPs per token from a model's own shapes, a matmul peak
measured in the same process, and the denormal mode of every torch thread.

FLOPs count one multiply-add as 2 and only the matrix products; the elementwise work beside them
(biases, gate activations, LayerNorm, softmax, GELU) is left out: per token it is O(width) against
O(width^2) for the products (an LSTM of hidden 128 over inputs of 100: ~0.5%; MiniLM: <2%).

* Recurrent layer, per token, per direction: ``2 * (weight_ih + weight_hh elements)``, i.e.
  ``2 * gates * H * (E + H)`` with 4 gates for an LSTM (3 GRU, 1 RNN) -- every time step computed,
  pad steps included. The head (dense layers on the final state) runs once per sequence.
* Encoder, per token: ``2 * (weights of the encoder layers' Linear modules)`` (q, k, v, attention
  output, the two feed-forward matrices; embeddings are lookups, not products) plus attention's
  two products ``Q K^T`` and ``A V``: ``2 * 2 * L * d`` per layer, L the sequence (window) length
  and d the hidden size. Pooler and classifier run once per sequence.
* Training ~ 3x forward: the backward pass computes the gradients of both operands of every
  product (2x the forward's work). The optimiser step, clipping and the embedding's gradient
  scatter are not products and are not counted.

Tokens are counted two ways where they differ: real tokens (the work a loop needs; attention over
each text's own length) and padded tokens (what the loop made the CPU compute: every row at its
batch's length). A loop's share of the peak compares the padded figure (the hardware's rate) with
the peak; the real figure is its useful rate.

Run alone (``python benchmarks/flops.py``) it prints the peak and the denormal mode of this
machine; ``--smoke`` measures on small matrices.
"""

from __future__ import annotations

import argparse
import ctypes
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

TRAINING_FACTOR = 3  # forward + backward (gradients of both operands of every product)
# Elements in the denormal probe: above ATen's parallel grain (32,768) on every thread, so each
# of torch's worker threads computes a part of it (as in fakenews.nn.cores).
_PROBE_ELEMENTS = 1 << 20


# ----------------------------------------------------------------------------- FLOPs per token


def recurrent_flops(model: nn.Module) -> tuple[int, int]:
    """(FLOPs per time step, FLOPs per sequence) of one forward pass, from the model's shapes.

    Per time step: every recurrent module's input and hidden products, all layers and directions
    (``weight_ih_l*`` and ``weight_hh_l*``, reverse directions included). Per sequence: the
    Linear modules (the head reads one final state per sequence)."""
    per_token = 0
    for module in model.modules():
        if isinstance(module, nn.RNNBase):
            per_token += sum(
                2 * p.numel() for name, p in module.named_parameters() if name.startswith("weight_")
            )
    per_sequence = sum(
        2 * m.in_features * m.out_features for m in model.modules() if isinstance(m, nn.Linear)
    )
    return per_token, per_sequence


def lstm_flops_per_token(input_size: int, hidden: int, layers: int = 1, directions: int = 1) -> int:
    """The textbook count: 2 * 4 gates * H * (input + H) per direction per layer."""
    total, size = 0, input_size
    for _ in range(layers):
        total += directions * 2 * 4 * hidden * (size + hidden)
        size = hidden * directions
    return total


@dataclass(frozen=True)
class EncoderShape:
    """What an encoder's FLOPs depend on: its products per token and per sequence, its depth and
    width (for attention, which grows with the sequence length)."""

    per_token: int  # 2 x weights of the encoder layers' Linear modules
    per_sequence: int  # 2 x weights of the Linear modules outside them (pooler, classifier)
    layers: int
    hidden: int

    @classmethod
    def of(cls, network: nn.Module) -> EncoderShape:
        """From a Hugging Face encoder model (``base_model.encoder`` holds the layers)."""
        encoder = network.base_model.encoder
        inside = {id(m) for m in encoder.modules()}
        linears = [m for m in network.modules() if isinstance(m, nn.Linear)]
        per_token = sum(2 * m.in_features * m.out_features for m in linears if id(m) in inside)
        per_sequence = sum(
            2 * m.in_features * m.out_features for m in linears if id(m) not in inside
        )
        config = network.config
        return cls(per_token, per_sequence, config.num_hidden_layers, config.hidden_size)

    def forward_flops(self, length: int) -> int:
        """One sequence of ``length`` tokens: the products, attention's two, the head."""
        attention = self.layers * 2 * 2 * length * length * self.hidden
        return length * self.per_token + attention + self.per_sequence


# ------------------------------------------------------------------ shapes a loop really computed


@dataclass
class Shapes:
    """Each forward batch's (padded length, real lengths of its rows)."""

    batches: list[tuple[int, list[int]]] = field(default_factory=list)

    def add(self, padded: int, real: Iterable[int]) -> None:
        self.batches.append((padded, [int(n) for n in real]))

    @property
    def real_tokens(self) -> int:
        return sum(sum(real) for _, real in self.batches)

    @property
    def padded_tokens(self) -> int:
        return sum(padded * len(real) for padded, real in self.batches)

    @property
    def sequences(self) -> int:
        return sum(len(real) for _, real in self.batches)


@contextmanager
def recorded_shapes(network: nn.Module) -> Iterator[Shapes]:
    """Record every forward call's padded and real lengths (from ``attention_mask``) while open:
    the FLOPs then follow the batches the loop actually built, whatever its batching."""
    shapes = Shapes()
    masks: list[torch.Tensor] = []

    def hook(module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        masks.append(kwargs["attention_mask"].detach())

    handle = network.register_forward_pre_hook(hook, with_kwargs=True)
    try:
        yield shapes
    finally:
        handle.remove()
        # Summed after the loop: no extra op inside the timed region.
        for mask in masks:
            shapes.add(mask.shape[1], mask.sum(dim=1).tolist())


def encoder_flops(shape: EncoderShape, shapes: Shapes, training: bool) -> tuple[float, float]:
    """(real, padded) FLOPs of the recorded batches: real counts each row at its own length,
    padded at its batch's length."""
    real = sum(shape.forward_flops(n) for _, rows in shapes.batches for n in rows)
    padded = sum(len(rows) * shape.forward_flops(p) for p, rows in shapes.batches)
    factor = TRAINING_FACTOR if training else 1
    return factor * real, factor * padded


# ------------------------------------------------------------------------------- measured peak


def matmul_rate(
    dtype: torch.dtype, m: int, k: int, n: int, repeats: int = 5, inner: int = 1
) -> float:
    """Best-of-``repeats`` GFLOP/s of an (m x k) @ (k x n) torch.mm in ``dtype`` on the threads
    torch uses now (``inner`` products per timing, for shapes too small to time one by one).
    The machine is shared: the best run is the least disturbed one."""
    generator = torch.Generator().manual_seed(0)
    a = torch.randn(m, k, generator=generator).to(dtype)
    b = torch.randn(k, n, generator=generator).to(dtype)
    torch.mm(a, b)  # warm-up: packing buffers, oneDNN's kernel choice
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        for _ in range(inner):
            torch.mm(a, b)
        best = min(best, (time.perf_counter() - started) / inner)
    return 2 * m * k * n / best / 1e9


def matmul_peak(dtype: torch.dtype, size: int = 2048, repeats: int = 5) -> float:
    """What this CPU's products reach at best in this process now: a large square torch.mm."""
    return matmul_rate(dtype, size, size, size, repeats)


@dataclass
class Peaks:
    """Matmul peaks (GFLOP/s) by precision name: the best square torch.mm over a few sizes (the
    fastest size differs by precision and cache), measured before and after the loops, as a
    busy neighbour on the shared cores can only lower a measurement."""

    sizes: tuple[int, ...] = (512, 1024, 2048)
    repeats: int = 5
    gflops: dict[str, float] = field(default_factory=dict)
    runs: int = 0  # products timed per precision and size, over every measure()

    def measure(self, precisions: Sequence[str]) -> None:
        for name in precisions:
            for size in self.sizes:
                peak = matmul_peak(DTYPES[name], size, self.repeats)
                self.gflops[name] = max(self.gflops.get(name, 0.0), peak)
        self.runs += self.repeats

    def line(self) -> str:
        parts = [f"{name} {value:.1f} GFLOP/s" for name, value in self.gflops.items()]
        sizes = "/".join(str(n) for n in self.sizes)
        threads = torch.get_num_threads()
        return (
            f"matmul peak (square torch.mm of {sizes}, best of {self.runs} each, {threads} "
            f"thread{'s' if threads != 1 else ''}): " + ", ".join(parts)
        )


DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16}


def flops_line(
    name: str, real: float, padded: float, seconds: float, peak: float, precision: str
) -> str:
    """One loop's achieved GFLOP/s (padded and, when it differs, real) and its share of the
    peak of its precision."""
    rate = padded / seconds / 1e9
    text = f"{name}: {rate:7.2f} GFLOP/s"
    if round(real) != round(padded):
        text += f" computed (padded tokens), {real / seconds / 1e9:7.2f} on real tokens"
    return text + f"; {rate / peak:6.1%} of the {precision} peak ({peak:.1f})"


# ----------------------------------------------------------------------------------- denormals


def denormal_probe() -> tuple[int, int]:
    """(zero results, elements) of denormals times 1.0 over torch's threads: all zero when every
    thread flushes, none when every thread keeps IEEE denormals, part when they disagree."""
    # Denormals made from their bits: a float constant would already be flushed on conversion.
    probe = torch.full((_PROBE_ELEMENTS,), 1 << 20, dtype=torch.int32).view(torch.float32)
    return int((probe * 1.0 == 0).sum()), _PROBE_ELEMENTS


def denormal_mode() -> str:
    zeros, total = denormal_probe()
    threads = torch.get_num_threads()
    if zeros == total:
        return f"flushed to zero (FTZ/DAZ) in all {threads} threads"
    if zeros == 0:
        return f"kept (IEEE) in all {threads} threads"
    return f"MIXED: {zeros / total:.0%} flushed over {threads} threads"


def _openmp_runtime() -> ctypes.CDLL:
    """The OpenMP runtime torch runs its intra-op threads on (its bundled libgomp when present;
    dlopen of a loaded library returns the loaded one)."""
    bundled = Path(torch.__file__).parent / "lib" / "libgomp.so.1"
    return ctypes.CDLL(str(bundled) if bundled.is_file() else "libgomp.so.1")


def keep_denormals() -> None:
    """Compute with IEEE denormals in every torch thread, undoing fakenews' flush.

    Why not just ``torch.set_flush_denormal(False)``: it sets the calling thread's MXCSR only, and
    importing fakenews.nn.trainer/encoder has already run a parallel probe, so torch's OpenMP
    workers exist and keep the flush they inherited (measured: half of a 2-thread probe still
    flushed). So the flag is also set inside one parallel region of torch's own OpenMP runtime,
    in each of its threads; the probe then checks every thread agrees.
    """
    torch.set_flush_denormal(False)
    runtime = _openmp_runtime()
    callback_type = ctypes.CFUNCTYPE(None, ctypes.c_void_p)
    callback = callback_type(lambda _: torch.set_flush_denormal(False))
    runtime.GOMP_parallel.argtypes = [callback_type, ctypes.c_void_p, ctypes.c_uint, ctypes.c_uint]
    runtime.GOMP_parallel.restype = None
    # ctypes releases the GIL for the call; each worker takes it to run the callback.
    runtime.GOMP_parallel(callback, None, torch.get_num_threads(), 0)
    zeros, _ = denormal_probe()
    if zeros:
        raise RuntimeError(f"denormals still flushed in some torch thread: {denormal_mode()}")


def header(keep: bool) -> str:
    """The CPU capability ATen dispatches to and the measured denormal mode."""
    return (
        f"cpu capability {torch.backends.cpu.get_cpu_capability()}, "
        f"denormals {denormal_mode()}" + (" (--keep-denormals)" if keep else "")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="This CPU's matmul peak and denormal mode.")
    parser.add_argument("--keep-denormals", action="store_true", help="IEEE denormals")
    parser.add_argument("--smoke", action="store_true", help="small matrices: a check, no figure")
    args = parser.parse_args()
    import fakenews.nn.trainer  # noqa: F401  (flushes denormals on import, as the stages do)

    if args.keep_denormals:
        keep_denormals()
    print(header(args.keep_denormals))
    peaks = Peaks(sizes=(128, 256)) if args.smoke else Peaks()
    peaks.measure(["fp32", "bf16"])
    print(peaks.line())


if __name__ == "__main__":
    main()
