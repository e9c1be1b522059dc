"""Every torch process of the project flushes denormals in all of torch's threads.

Each check runs in a fresh interpreter: the mode is per thread and set once per process, so only
a new process shows what a stage, `fakenews predict` or a benchmark gets.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

# Denormal floats (bit pattern 1 << 20) multiplied by one on two threads: the count of results
# that stay non-zero. Zero when every thread flushes (DAZ), the whole tensor when none does.
COUNT_DENORMALS = """
import torch
torch.set_num_threads(2)
probe = torch.full((1 << 20,), 1 << 20, dtype=torch.int32).view(torch.float32)
print(int(torch.count_nonzero(probe * 1.0)))
"""


def run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-W", "always", "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        check=True,
    )


def nonzero_after(setup: str) -> int:
    return int(run(setup + COUNT_DENORMALS).stdout.split()[-1])


def test_plain_torch_keeps_denormals() -> None:
    """The probe itself: without the project's modules nothing is flushed."""
    assert nonzero_after("") == 1 << 20


@pytest.mark.parametrize(
    "module",
    [
        "fakenews.nn.trainer",
        "fakenews.nn.encoder",
        "fakenews.models.lstm",
        "fakenews.models.minilm",
    ],
)
def test_torch_modules_flush_denormals_in_every_thread(module: str) -> None:
    assert nonzero_after(f"import {module}\n") == 0


def test_torch_run_before_import_is_reported() -> None:
    """A process whose torch pool started unflushed cannot be fixed afterwards: it is told so."""
    result = run(
        """
        import torch
        torch.set_num_threads(2)
        (torch.ones(1 << 20) * 2).sum()
        import fakenews.nn.trainer
        """
    )
    assert "flush-denormal" in result.stderr
