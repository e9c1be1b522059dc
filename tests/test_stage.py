"""What every stage script shares: clean exits on bad input and on Ctrl-C."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

SLOW_STAGE = textwrap.dedent(
    """
    import time
    from fakenews.core.stage import stage

    with stage("demo@mine") as (paths, params):
        print("working", flush=True)
        time.sleep(60)
    """
)


def test_ctrl_c_in_a_stage_gives_one_line_and_exit_130(tmp_path: Path) -> None:
    for name in ("dvc.yaml", "params.yaml"):
        shutil.copy(REPO / name, tmp_path / name)
    process = subprocess.Popen(
        [sys.executable, "-c", SLOW_STAGE],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "DVC_ROOT"},  # the root is tmp_path
        # As from a terminal: a background job (`make test &`) inherits SIGINT ignored.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        assert process.stdout is not None and process.stdout.readline() == "working\n"
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 130
    assert stderr.splitlines() == [
        "[demo@mine] interrupted: no file is half-written; rerun dvc repro"
    ]
