"""The folders are the layers: each rule the README's Layout states is checked on the code."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "fakenews"


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


def test_core_imports_nothing_else_of_the_project() -> None:
    for module in layer_modules("core"):
        outside = {m for m in imported_modules(module) if not m.startswith("fakenews.core")}
        assert outside == set(), (module.name, outside)


def test_analysis_draws_nothing_and_tracks_nothing() -> None:
    """analysis/ computes; reporting/ renders and tracking/ logs what it computed."""
    for module in layer_modules("analysis"):
        upward = {
            m
            for m in imported_modules(module)
            if m.startswith(("fakenews.reporting", "fakenews.tracking", "fakenews.serving"))
        }
        assert upward == set(), (module.name, upward)


def test_no_module_is_over_500_lines() -> None:
    long = {
        str(path.relative_to(ROOT)): n
        for path in PACKAGE.rglob("*.py")
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > 500
    }
    assert long == {}
