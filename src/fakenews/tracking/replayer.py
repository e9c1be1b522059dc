"""The detached replayer a stage starts: ``python -m fakenews.tracking.replayer <spool>``.

It drains the spool (:func:`fakenews.tracking.replay.drain`) holding its lock, then does not
exit at once: it waits :data:`LINGER_SECONDS` for the next journal (a `dvc repro` publishes one
every few seconds), so mlflow is imported once for a run of stages rather than once per stage.
It runs niced, on every core its cgroup allows: it should not slow the stages it shares the
machine with. Its output goes to the spool's ``replay.log``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
from pathlib import Path

from fakenews.tracking.journal import LOG_FILE, published, replay_lock
from fakenews.tracking.replay import POLL_SECONDS, drain

log = logging.getLogger(__name__)

LINGER_SECONDS = 30.0
LOG_LIMIT_BYTES = 1 << 20  # replay.log is rotated (to replay.log.1) past this


def _step_aside() -> None:
    """Niced, on every core the machine lets this process use (not its stage's one core)."""
    with contextlib.suppress(OSError):
        os.nice(10)
    if hasattr(os, "sched_setaffinity"):
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, range(os.cpu_count() or 1))


def _rotate_log(spool: Path) -> None:
    path = spool / LOG_FILE
    with contextlib.suppress(OSError):
        if path.stat().st_size > LOG_LIMIT_BYTES:
            os.replace(path, path.with_name(LOG_FILE + ".1"))


def background(spool: Path) -> int:
    """Drain ``spool`` while journals keep coming; exit when it stays empty, when a journal had
    to be kept (so that :func:`replay_pending` need not wait for this process to linger), or
    when another process holds the lock. After releasing the lock, look once more: a journal
    published while the lock was held started no replayer (see journal.start_replayer)."""
    kept: set[str] = set()
    while True:
        with replay_lock(spool) as held:
            if not held:
                return 0
            _rotate_log(spool)
            while True:
                kept.update(drain(spool, log.warning, frozenset(kept)).kept)
                if kept or not _linger(spool, kept):
                    break
        if not _new(spool, kept):
            return 0


def _linger(spool: Path, kept: set[str]) -> bool:
    """Wait up to :data:`LINGER_SECONDS` for a new journal; whether one came."""
    deadline = time.monotonic() + LINGER_SECONDS
    while time.monotonic() < deadline:
        if _new(spool, kept):
            return True
        time.sleep(POLL_SECONDS)
    return _new(spool, kept)


def _new(spool: Path, kept: set[str]) -> bool:
    return any(p.name not in kept for p in published(spool))


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m fakenews.tracking.replay SPOOL", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s [replay %(process)d] %(levelname)s %(message)s"
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    _step_aside()
    # No per-file progress bars in replay.log while MLflow copies a model folder.
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    spool = Path(args[0])
    if not spool.is_dir():
        return 0
    return background(spool)


if __name__ == "__main__":
    sys.exit(main())
