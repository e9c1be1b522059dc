"""The training unions, derived from ``datasets:`` unless params.yaml says otherwise.

DVC iterates ``unions:`` in params.yaml (``foreach``/``matrix`` in dvc.yaml) and cannot compute a
list, so the derived unions are written there, as DVC reads them: with ``union_rule:
leave_one_out`` (the default) ``fakenews repro`` rewrites the ``unions:`` block whenever
``datasets:`` changed, before DVC reads the file, and ``fakenews check`` refuses a block that
differs from the derivation (a bare ``dvc repro`` after adding a dataset would otherwise train no
union with it and silently empty the LODO table). ``union_rule: custom`` keeps a hand-written
block as it is.

The rule: ``all`` (every training dataset) and, with 3 or more datasets, one ``without_<name>``
per dataset: its leave-one-dataset-out training set. (With 2 datasets, "without a" is dataset b
alone, which its own train stages already train on.)
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path

LEAVE_ONE_OUT = "leave_one_out"
CUSTOM = "custom"
UNION_RULES = (LEAVE_ONE_OUT, CUSTOM)
#: The fewest datasets for which leave-one-out unions are added.
LODO_FROM = 3


def derived_unions(datasets: Sequence[str]) -> dict[str, list[str]]:
    """``all`` and each leave-one-dataset-out union of ``datasets`` (in their order)."""
    names = list(datasets)
    if len(names) < 2:
        return {}
    unions = {"all": names}
    if len(names) >= LODO_FROM:
        unions.update({f"without_{d}": [m for m in names if m != d] for d in names})
    return unions


def unions_block(unions: Mapping[str, Sequence[str]]) -> str:
    """The ``unions:`` block as params.yaml holds it (flow lists, one union a line)."""
    if not unions:
        return "unions: {}\n"
    lines = [f"  {name}: [{', '.join(members)}]" for name, members in unions.items()]
    return "unions:  # derived from `datasets` (union_rule); fakenews repro rewrites it\n" + (
        "\n".join(lines) + "\n"
    )


_BLOCK = re.compile(r"^unions:.*\n(?:(?:[ \t]+.*|[ \t]*#.*)?\n)*?(?=\S|\Z)", re.MULTILINE)


def replace_unions_block(text: str, unions: Mapping[str, Sequence[str]]) -> str:
    """``text`` (a params.yaml) with its top-level ``unions:`` block replaced (or added at the
    end); every other line as it was."""
    block = unions_block(unions)
    match = _BLOCK.search(text)
    if match is None:
        return text.rstrip("\n") + "\n\n" + block
    # Keep the blank lines that separated the block from the next key.
    trailing = match.group(0)[len(match.group(0).rstrip("\n")) :]
    blank = "\n" if trailing.count("\n") > 1 else ""
    return text[: match.start()] + block + blank + text[match.end() :]


def sync_unions(params_file: Path, raw: Mapping[str, object]) -> bool:
    """Rewrite the ``unions:`` block of ``params_file`` to the derived unions when
    ``union_rule`` is ``leave_one_out`` (the default) and it differs; True when it wrote."""
    if raw.get("union_rule", LEAVE_ONE_OUT) != LEAVE_ONE_OUT:
        return False
    datasets = raw.get("datasets")
    if not isinstance(datasets, dict):
        return False  # the check names the problem
    wanted = derived_unions(list(datasets))
    if raw.get("unions") == wanted or (not wanted and not raw.get("unions")):
        return False
    text = params_file.read_text(encoding="utf-8")
    params_file.write_text(replace_unions_block(text, wanted), encoding="utf-8")
    return True
