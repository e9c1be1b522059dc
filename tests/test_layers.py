"""The folders are the layers: each rule the README's Layout states is checked on the code."""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "fakenews"

#: Every package of fakenews, lowest first: a module imports (anywhere in it, a function's lazy
#: import included) only from its own package or one listed before it. ``__main__`` is the
#: ``python -m fakenews`` entry; ``__init__`` the package's own (docstring only).
LAYERS = (
    "core",  # stage harness, params reading, io, errors, paths
    "text",  # cleaning and artifact rules
    "sources",  # the dataset sources and their options
    "analysis",  # metrics, statistics, duplicates, model selection
    "classifier",  # the interface every model implements
    "nn",  # torch building blocks
    "models",  # the model catalogue and the families
    "inference",  # a trained model's predictions on new text
    "tracking",  # MLflow journaling, replay, registry
    "reporting",  # tables, figures, the report
    "pipeline",  # one module per stage
    "orchestration",  # fakenews repro's scheduler, sharding
    "cli",  # the fakenews command and its whole-params check
    "__main__",
)


def imported_modules(path: Path) -> set[str]:
    """Every ``fakenews`` module a file imports, anywhere in it (lazy imports included)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {m for m in found if m.split(".")[0] == "fakenews"}


def layer_modules(layer: str) -> list[Path]:
    return sorted(p for p in (PACKAGE / layer).glob("*.py") if p.stem != "__init__")


def test_every_stage_script_calls_the_pipeline_module_of_its_name() -> None:
    scripts = sorted((ROOT / "stages").glob("*.py"))
    assert scripts
    for script in scripts:
        assert f"fakenews.pipeline.{script.stem}" in imported_modules(script), script.name
    assert {p.stem for p in layer_modules("pipeline")} == {s.stem for s in scripts}


def test_pipeline_modules_never_import_each_other() -> None:
    for module in layer_modules("pipeline"):
        others = {m for m in imported_modules(module) if m.startswith("fakenews.pipeline")}
        assert others <= {f"fakenews.pipeline.{module.stem}"}, (module.name, others)


def test_only_stage_scripts_import_the_pipeline() -> None:
    """(And ``fakenews check``, which validates every section by its owner's schema.)"""
    for path in PACKAGE.rglob("*.py"):
        if path.parent.name == "pipeline" or path.name == "check.py":
            continue
        imports = [m for m in imported_modules(path) if m.startswith("fakenews.pipeline")]
        assert imports == [], path.relative_to(ROOT)


def layer_of(module: str) -> str:
    """``fakenews.tracking.runs`` -> ``tracking``; ``fakenews.__main__`` -> ``__main__``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def upward_imports(sources: Mapping[str, str]) -> list[str]:
    """Each import of a lower layer's module from a higher one, as ``module -> imported``."""
    rank = {layer: i for i, layer in enumerate(LAYERS)}
    found = []
    for name, text in sources.items():
        layer = layer_of(name)
        if layer == "__init__":
            continue
        assert layer in rank, f"{name}: package {layer!r} is in no layer of LAYERS"
        for imported in sorted(imports_in(text)):
            target = layer_of(imported)
            if target == "__init__" or target == layer:
                continue
            assert target in rank, f"{name} imports {imported}: in no layer of LAYERS"
            if rank[target] > rank[layer]:
                found.append(f"{name} ({layer}) -> {imported} ({target})")
    return found


def module_cycles(sources: Mapping[str, str]) -> list[list[str]]:
    """Import cycles between modules (lazy imports included): one list of modules per cycle."""
    graph = {
        name: {m for m in imports_in(text) if m in sources and m != name}
        for name, text in sources.items()
    }
    cycles, state = [], dict.fromkeys(graph, 0)  # 0 new, 1 on the path, 2 done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state[nxt] == 1:
                cycles.append([*path[path.index(nxt) :], nxt])
            elif state[nxt] == 0:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for node in sorted(graph):
        if state[node] == 0:
            visit(node, [node])
    return cycles


def imports_in(text: str) -> set[str]:
    """Every fakenews module a source text imports, anywhere (functions included), except the
    package ``__init__`` of a ``from package import module`` (the module is what runs)."""
    found = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{alias.name}" for alias in node.names]
            submodules = [n for n in names if _is_module(n)]
            found.update(submodules or [node.module])
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {m for m in found if m.split(".")[0] == "fakenews"}


def _is_module(name: str) -> bool:
    path = PACKAGE.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def package_sources(paths: Iterable[Path] | None = None) -> dict[str, str]:
    paths = PACKAGE.rglob("*.py") if paths is None else paths
    return {module_name(p): p.read_text(encoding="utf-8") for p in sorted(paths)}


def test_every_package_imports_only_its_own_layer_and_lower_ones() -> None:
    sources = package_sources()
    assert {layer_of(name) for name in sources} - {"__init__"} == set(LAYERS)
    assert upward_imports(sources) == []


def test_no_import_cycle_between_modules() -> None:
    assert module_cycles(package_sources()) == []


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        # A lazy import inside a function counts: text/ may not reach up to sources/.
        (
            "def rules():\n    from fakenews.sources import base\n    return base\n",
            "fakenews.text.cleaning (text) -> fakenews.sources.base (sources)",
        ),
    ],
)
def test_a_lazy_upward_import_is_caught(extra: str, expected: str) -> None:
    sources = package_sources()
    sources["fakenews.text.cleaning"] += "\n\n" + extra
    assert upward_imports(sources) == [expected]


def test_a_lazy_cycle_inside_a_package_is_caught() -> None:
    sources = package_sources()
    sources["fakenews.core.io"] += "\n\ndef late():\n    from fakenews.core import stage\n"
    cycles = module_cycles(sources)
    assert any({"fakenews.core.io", "fakenews.core.stage"} <= set(cycle) for cycle in cycles)
