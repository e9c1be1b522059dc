"""Dataset sources: every public module here but ``base``, ``options`` and ``tables`` is one
source, named like its file (``liar.py`` is source ``liar``), and defines ``SOURCE`` (a
:class:`~fakenews.sources.base.Source`: URLs, checksums, loader, artifact rules).

Adding a built-in dataset is one module, plus its params.yaml entry and a test fixture. Modules
are imported on first use, so a stage imports only the source it runs.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from fakenews.core.errors import DatasetError

if TYPE_CHECKING:
    from fakenews.sources.base import Source
    from fakenews.sources.options import DatasetConfig
    from fakenews.text.artifacts import ArtifactRule, LabelCheck

CUSTOM = "custom"
NOT_SOURCES = frozenset({"base", "options", "tables"})
SOURCE_NAMES: tuple[str, ...] = tuple(
    sorted(
        m.name
        for m in pkgutil.iter_modules([str(Path(__file__).parent)])
        if not m.name.startswith("_") and m.name not in NOT_SOURCES
    )
)
# Sources imported so far, by name; tests add made-up ones here.
LOADED: dict[str, Source] = {}


def known_sources() -> list[str]:
    return sorted({*SOURCE_NAMES, *LOADED})


def get_source(name: str) -> Source:
    """The source ``name`` (module ``fakenews.sources.<name>``); KeyError if there is none."""
    if name not in LOADED:
        if name not in SOURCE_NAMES:
            raise KeyError(name)
        LOADED[name] = importlib.import_module(f"{__name__}.{name}").SOURCE
    return LOADED[name]


def all_sources() -> dict[str, Source]:
    """Every source, imported (for checks and the catalogues, not for stages)."""
    return {name: get_source(name) for name in known_sources()}


def source_for(dataset: str, options: DatasetConfig) -> Source:
    """The dataset's source, after checking its options; ParamsError names the key at fault."""
    from fakenews.core.errors import ParamsError

    name = options.source or dataset
    try:
        source = get_source(name)
    except KeyError:
        key = f"datasets.{dataset}.source" if options.source else f"datasets.{dataset}"
        raise ParamsError(
            f"params.yaml: {key}: unknown dataset source {name!r}; "
            f"known sources: {', '.join(known_sources())}"
        ) from None
    source.check_options(dataset, options)
    return source


def load_source(dataset: str, source: str, raw_dir: Path, options: DatasetConfig) -> pd.DataFrame:
    """Load ``source``'s files from ``raw_dir`` (``data/raw/<dataset>/``) as the standard frame."""
    try:
        load = get_source(source).load
    except KeyError:
        load = None
    if load is None:
        raise DatasetError(
            f"dataset {dataset!r}: no loader for source {source!r}; "
            f"known sources: {', '.join(known_sources())}"
        )
    try:
        return load(Path(raw_dir), options)
    except DatasetError as error:
        named = f"dataset {dataset!r}" + (f" (source {source!r})" if source != dataset else "")
        raise DatasetError(f"{named}: {error}") from error


def artifact_rules() -> dict[str, ArtifactRule]:
    """Every source's artifact rules by name (a dataset may name any of them in params)."""
    return _catalogue("artifact_rules")


def label_checks() -> dict[str, LabelCheck]:
    """Every source's label checks by name."""
    return _catalogue("label_checks")


def _catalogue(kind: str) -> dict:
    found: dict = {}
    for source in all_sources().values():
        for entry in getattr(source, kind):
            if found.setdefault(entry.name, entry) != entry:
                # Names are what params.yaml and preparation.json refer to: one meaning each.
                raise ValueError(f"two different {kind} named {entry.name!r}")
    return found


def check_names(dataset: str, rules: list[str] | None, checks: list[str] | None) -> None:
    """``datasets.<dataset>.artifact_rules`` / ``label_checks`` name known entries."""
    from fakenews.core.errors import ParamsError

    for key, names, catalogue in (
        ("artifact_rules", rules, artifact_rules),
        ("label_checks", checks, label_checks),
    ):
        if not names:
            continue  # no need to import every source
        known = catalogue()
        unknown = [n for n in names if n not in known]
        if unknown:
            raise ParamsError(
                f"params.yaml: datasets.{dataset}.{key}: unknown name(s) {unknown}; "
                f"known: {', '.join(sorted(known))}"
            )


def rules_for(source: str, names: list[str] | None = None) -> list[ArtifactRule]:
    """The rules that apply: those named (custom datasets), else the source's own."""
    if names is not None:
        known = artifact_rules()
        return [known[n] for n in names]
    return list(get_source(source).artifact_rules)


def checks_for(source: str, names: list[str] | None = None) -> list[LabelCheck]:
    if names is not None:
        known = label_checks()
        return [known[n] for n in names]
    return list(get_source(source).label_checks)
