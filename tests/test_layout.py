"""The test suite's own layout: shared code lives in tests/helpers/ (or conftest.py fixtures),
so no test module imports another test module."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, at any depth of its code (top level or in a function)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            # `from helpers import x`: x may be a module too
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def test_no_test_module_imports_another() -> None:
    test_modules = {p.stem for p in TESTS.glob("test_*.py")}
    assert "test_layout" in test_modules  # the glob sees this folder's test modules
    offenders = {
        str(path.relative_to(TESTS)): sorted(
            name for name in imported_modules(path) if name.split(".")[0] in test_modules
        )
        for path in sorted(TESTS.rglob("*.py"))
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_the_check_sees_imports_anywhere_in_a_module(tmp_path: Path) -> None:
    module = tmp_path / "test_example.py"
    module.write_text(
        "import test_a\nfrom test_b import x\n\n\ndef f():\n    from test_c import y\n"
        "    import helpers.repo\n"
    )
    found = {m.split(".")[0] for m in imported_modules(module)}
    assert {"test_a", "test_b", "test_c", "helpers"} <= found
