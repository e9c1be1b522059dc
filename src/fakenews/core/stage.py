"""What every stage script shares: logging, locating the repo, params, clean error exits."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

from fakenews.core import timing
from fakenews.core.errors import FakenewsError, ParamsError
from fakenews.core.io import sweep_stale_temps
from fakenews.core.params import Params, load_params
from fakenews.core.paths import Paths


@contextmanager
def stage(name: str) -> Iterator[tuple[Paths, Params]]:
    """Yield (paths, validated params); bad input ends the stage with one clear line.

    Logs a ``timing:`` line at the end: start-up (process start to the first work, i.e. imports
    and params validation), time spent fitting and predicting, and the rest.
    """
    logging.basicConfig(level=logging.INFO, format=f"[{name}] %(levelname)s %(message)s")
    log = logging.getLogger("fakenews.core.stage")
    try:
        paths = Paths.from_cwd()
        params = load_params(paths.params_file)
        sweep_stale_temps(paths.output_folders)  # a killed process's, wherever it was writing
        started, work_started = timing.process_start(), time.time()
        yield paths, params
        log.info("%s", timing.summary(started, work_started, time.time()))
    except (FakenewsError, ParamsError) as error:
        print(f"[{name}] error: {error}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        # Outputs are written atomically, and DVC records no output of a failed stage.
        print(f"[{name}] interrupted: no file is half-written; rerun dvc repro", file=sys.stderr)
        sys.exit(130)


def args(count: int, usage: str) -> list[str]:
    """The script's ``count`` arguments; ``--name value`` options are taken in order too."""
    values = [a for a in sys.argv[1:] if not a.startswith("--")]
    options = [a[2:] for a in sys.argv[1:] if a.startswith("--")]
    expected = [w[2:] for w in usage.split() if w.startswith("--")]
    if len(values) != count or options != expected:
        print(f"usage: {usage}", file=sys.stderr)
        sys.exit(2)
    return values
