"""Where a stage's time goes: start-up, fitting, predicting, the rest.

Work code wraps its fitting and predicting in :func:`timed`; the stage harness logs one
``timing:`` line per stage, which ``benchmarks/stage_overhead.py`` reads from a `dvc repro` log.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager

# Seconds per phase in this process ("fit", "predict").
totals: dict[str, float] = defaultdict(float)


@contextmanager
def timed(phase: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        totals[phase] += time.perf_counter() - started


def process_start() -> float:
    """Epoch seconds when this process started (Linux /proc; elsewhere psutil).

    /proc gives the start in clock ticks after boot; its age against /proc/uptime (10 ms
    resolution) avoids /proc/stat's boot time, which is rounded to whole seconds.
    """
    try:
        with open("/proc/self/stat", encoding="ascii") as handle:
            # Field 22 is the start time; the name (field 2) may hold spaces, so split after it.
            ticks = int(handle.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime", encoding="ascii") as handle:
            uptime = float(handle.read().split()[0])
        return time.time() - (uptime - ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        import psutil

        return float(psutil.Process().create_time())


def summary(started: float, work_started: float, ended: float) -> str:
    """The ``timing:`` log line: start-up, fit, predict, other and total seconds."""
    fit, predict = totals.get("fit", 0.0), totals.get("predict", 0.0)
    total = ended - started
    other = total - fit - predict
    return (
        f"timing: startup {work_started - started:.2f} s, fit {fit:.2f} s, "
        f"predict {predict:.2f} s, other {other:.2f} s, total {total:.2f} s"
    )


def import_in_background(*modules: str) -> threading.Thread:
    """Start importing ``modules`` on a daemon thread; a later ``import`` waits for it.

    sklearn.metrics takes ~2 s to import. Started before a fit or a prediction (torch releases
    the GIL in its kernels), the import costs the stage almost nothing.
    """

    def work() -> None:
        for module in modules:
            with contextlib.suppress(Exception):  # the real import reports any failure
                importlib.import_module(module)

    thread = threading.Thread(target=work, name="fakenews-preload", daemon=True)
    thread.start()
    return thread


# Imported on a background thread while a model fits or predicts (see TextClassifier). Not
# mlflow: a stage never imports it, its runs are journaled (fakenews.tracking.journal).
BACKGROUND_IMPORTS = ("sklearn.metrics",)
