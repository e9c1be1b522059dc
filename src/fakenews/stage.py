"""What every stage script shares: logging, locating the repo, params, clean error exits."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from fakenews.config import Params, ParamsError, load_params
from fakenews.errors import FakenewsError
from fakenews.paths import Paths


@contextmanager
def stage(name: str) -> Iterator[tuple[Paths, Params]]:
    """Yield (paths, validated params); bad input ends the stage with one clear line."""
    logging.basicConfig(level=logging.INFO, format=f"[{name}] %(levelname)s %(message)s")
    try:
        paths = Paths.from_cwd()
        yield paths, load_params(paths.params_file)
    except (FakenewsError, ParamsError) as error:
        print(f"[{name}] error: {error}", file=sys.stderr)
        sys.exit(1)


def args(count: int, usage: str) -> list[str]:
    if len(sys.argv) != count + 1:
        print(f"usage: {usage}", file=sys.stderr)
        sys.exit(2)
    return sys.argv[1:]
