"""Which modules a fresh interpreter loads: stages import heavy libraries only where needed."""

from __future__ import annotations

import json
import subprocess
import sys

# Libraries that cost seconds to import; a stage imports them only where it needs them.
HEAVY = ("torch", "transformers", "sklearn", "scipy.stats", "mlflow", "matplotlib", "skops")


def loaded_after(code: str) -> list[str]:
    """``sys.modules`` after running ``code`` in a fresh interpreter."""
    script = code + "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))\n"
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def heavy(modules: list[str]) -> list[str]:
    return sorted(m for m in modules if m in HEAVY)
