"""Every stage in dvc.yaml declares exactly the project code it runs (see tools/depcheck.py).

The checker is tested on small synthetic DVC repos and on a copy of this one.
"""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Mapping
from pathlib import Path

import pytest
from depcheck import (
    Invocation,
    Problems,
    check_stage_deps,
    check_stages,
    format_problems,
    load_stages,
    parse_command,
)
from dvc.repo import Repo

REPO = Path(__file__).resolve().parents[1]

DOC = '"""A docstring only: no behaviour."""\n'


def test_every_stage_declares_exactly_what_it_uses() -> None:
    report = check_stage_deps(REPO)
    assert report, "dvc.yaml has no stages"
    problems = format_problems(report)
    assert not problems, (
        "dvc.yaml: these stages' deps differ from the project code they run "
        "(see tools/depcheck.py for the rules; dvc.yaml is generated: `make dvc-yaml`):\n"
        + problems
    )


def test_parse_command_finds_python_scripts_and_modules() -> None:
    command = "FOO=1 python3 -u stages/train.py liar lstm && echo done; python -m fakenews.cli x"
    assert parse_command(command) == [
        Invocation(script="stages/train.py", args=("liar", "lstm")),
        Invocation(module="fakenews.cli", args=("x",)),
    ]
    assert parse_command("python ../stages/report.py", wdir="sub") == [
        Invocation(script="stages/report.py")
    ]
    assert parse_command("dvc exp show") == []


# --- synthetic repos ---------------------------------------------------------------------------


def make_repo(root: Path, dvc_yaml: str, files: Mapping[str, str]) -> Path:
    """A DVC repo (no git) at ``root`` holding ``dvc.yaml``, ``params.yaml`` and ``files``.

    Called again on the same ``root``, it rewrites those files in the existing repo.
    """
    files = {"params.yaml": "datasets: [a]\nmodels: [m1, m2]\n", **files}
    for relative, text in {"dvc.yaml": dvc_yaml, **files}.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    if not (root / ".dvc").is_dir():
        Repo.init(str(root), no_scm=True).close()
    return root


def stage_yaml(name: str, cmd: str, deps: list[str]) -> str:
    lines = [f"  {name}:", f"    cmd: {cmd}", "    deps:", *(f"      - {d}" for d in deps)]
    return "\n".join(lines) + "\n"


def one_stage(root: Path, files: Mapping[str, str], deps: list[str]) -> Problems:
    """Check a repo whose single stage ``run`` runs ``stages/run.py`` and declares ``deps``."""
    make_repo(root, "stages:\n" + stage_yaml("run", "python stages/run.py a", deps), files)
    report = check_stage_deps(root)
    assert list(report) == ["run"]
    return report["run"]


BASE_FILES = {
    "stages/run.py": """\
        from fakenews.core import run

        if __name__ == "__main__":
            run()
        """,
    "src/fakenews/__init__.py": DOC,
    "src/fakenews/core.py": """\
        from fakenews import util


        def run():
            from fakenews.lazy import work  # lazy: imported when run() runs

            return work(util.helper())
        """,
    "src/fakenews/util.py": "def helper():\n    return 1\n",
    "src/fakenews/lazy.py": "def work(x):\n    return x\n",
    "src/fakenews/other.py": "VALUE = 2\n",
}
BASE_DEPS = [
    "stages/run.py",
    "src/fakenews/core.py",
    "src/fakenews/util.py",
    "src/fakenews/lazy.py",
    "data/input.csv",  # data deps are not checked
]


def test_checker_passes_a_correct_repo(tmp_path: Path) -> None:
    assert one_stage(tmp_path, BASE_FILES, BASE_DEPS) == Problems()


def test_checker_reports_an_undeclared_lazy_import_and_its_imports(tmp_path: Path) -> None:
    files = {
        **BASE_FILES,
        "src/fakenews/util.py": """\
            def helper():
                try:
                    from fakenews.planted import extra
                except ImportError:
                    return 1
                return extra()
            """,
        "src/fakenews/planted.py": "import fakenews.deep.leaf\n\n\ndef extra():\n    return 3\n",
        "src/fakenews/deep/__init__.py": DOC,
        "src/fakenews/deep/leaf.py": "LEAF = 1\n",
    }
    problems = one_stage(tmp_path, files, BASE_DEPS)
    assert problems.undeclared == ("src/fakenews/deep/leaf.py", "src/fakenews/planted.py")
    assert problems.unused == ()


def test_checker_reports_declared_but_unused_code(tmp_path: Path) -> None:
    files = {**BASE_FILES, "stages/other.py": "print('not run')\n"}
    deps = [*BASE_DEPS, "src/fakenews/other.py", "stages/other.py"]
    problems = one_stage(tmp_path, files, deps)
    assert problems.unused == ("src/fakenews/other.py", "stages/other.py")
    assert problems.undeclared == ()


def test_checker_expands_declared_folders(tmp_path: Path) -> None:
    (tmp_path / "src/fakenews/__pycache__").mkdir(parents=True)
    (tmp_path / "src/fakenews/__pycache__/core.cpython-311.pyc").write_bytes(b"")
    # The folder covers every used file, and also other.py, which nothing imports.
    problems = one_stage(tmp_path, BASE_FILES, ["stages/run.py", "src/fakenews"])
    assert problems == Problems(unused=("src/fakenews/other.py",))


def test_checker_ignores_type_checking_imports(tmp_path: Path) -> None:
    files = {
        **BASE_FILES,
        "src/fakenews/util.py": """\
            import typing
            from typing import TYPE_CHECKING

            if TYPE_CHECKING:
                from fakenews.hints import Hint
            else:
                from fakenews.runtime import Hint  # the else branch does run
            if typing.TYPE_CHECKING:
                import fakenews.hints


            def helper():
                if TYPE_CHECKING:
                    from fakenews import hints
                return Hint
            """,
        "src/fakenews/hints.py": "Hint = int\n",
        "src/fakenews/runtime.py": "Hint = int\n",
    }
    problems = one_stage(tmp_path, files, [*BASE_DEPS, "src/fakenews/hints.py"])
    assert problems == Problems(
        undeclared=("src/fakenews/runtime.py",), unused=("src/fakenews/hints.py",)
    )


MODEL_FILES = {
    "stages/train.py": "import sys\n\nfrom fakenews.models import get_model\n",
    "stages/report.py": "from fakenews.report import report\n",
    "src/fakenews/__init__.py": DOC,
    "src/fakenews/report.py": "def report(name):\n    from fakenews.models import get_model\n",
    "src/fakenews/models/__init__.py": """\
        import importlib


        def get_model(name):
            return importlib.import_module(f"fakenews.models.{name}").Model
        """,
    "src/fakenews/classifier/base.py": "class Base:\n    pass\n",
    "src/fakenews/models/_private.py": "X = 1\n",
    "src/fakenews/models/m1.py": "from fakenews.classifier.base import Base as Model\n",
    "src/fakenews/models/m2.py": "from fakenews.classifier.base import Base as Model\n",
}
MODEL_DVC_YAML = """\
stages:
  train:
    matrix:
      dataset: ${datasets}
      model: ${models}
    cmd: python stages/train.py ${item.dataset} ${item.model}
    deps:
      - stages/train.py
      - src/fakenews/models/__init__.py
      - src/fakenews/classifier/base.py
      - src/fakenews/models/${item.model}.py
REPORT
"""


def test_checker_adds_the_model_a_stage_names_or_else_every_model(tmp_path: Path) -> None:
    report_deps = [
        "stages/report.py",
        "src/fakenews/report.py",
        "src/fakenews/models/__init__.py",
        "src/fakenews/classifier/base.py",
        "src/fakenews/models/m1.py",
    ]
    dvc_yaml = MODEL_DVC_YAML.replace(
        "REPORT\n", stage_yaml("report", "python stages/report.py", report_deps)
    )
    report = check_stage_deps(make_repo(tmp_path, dvc_yaml, MODEL_FILES))
    assert report == {
        # Each train stage gets only the model on its command line.
        "train@a-m1": Problems(),
        "train@a-m2": Problems(),
        # report names no model: it may load each public one (not base, not _private).
        "report": Problems(undeclared=("src/fakenews/models/m2.py",)),
    }


def test_checker_reports_a_model_argument_without_a_module(tmp_path: Path) -> None:
    files = {**MODEL_FILES, "params.yaml": "datasets: [a]\nmodels: [m1, gone]\n"}
    report = check_stage_deps(make_repo(tmp_path, MODEL_DVC_YAML.replace("REPORT\n", ""), files))
    assert report["train@a-m1"].ok
    assert report["train@a-gone"].errors == ("model module fakenews.models.gone not found",)
    # base.py only comes in through a model module: gone has none.
    assert report["train@a-gone"].unused == (
        "src/fakenews/classifier/base.py",
        "src/fakenews/models/gone.py",
    )


def test_checker_requires_package_data(tmp_path: Path) -> None:
    files = {
        **BASE_FILES,
        "src/fakenews/util.py": """\
            from pathlib import Path

            PACKAGE_DATA = ("checksums", "table.txt")


            def helper():
                return (Path(__file__).parent / PACKAGE_DATA[1]).read_text()
            """,
        "src/fakenews/checksums/a.sha256": "aaa\n",
        "src/fakenews/checksums/sub/b.sha256": "bbb\n",
        "src/fakenews/checksums/__pycache__/x.pyc": "",
        "src/fakenews/table.txt": "1\n",
    }
    problems = one_stage(tmp_path, files, BASE_DEPS)
    assert problems == Problems(
        undeclared=(
            "src/fakenews/checksums/a.sha256",
            "src/fakenews/checksums/sub/b.sha256",
            "src/fakenews/table.txt",
        )
    )
    deps = [*BASE_DEPS, "src/fakenews/checksums", "src/fakenews/table.txt"]
    make_repo(tmp_path, "stages:\n" + stage_yaml("run", "python stages/run.py", deps), {})
    assert check_stage_deps(tmp_path)["run"] == Problems()


def test_checker_reports_missing_package_data(tmp_path: Path) -> None:
    files = {**BASE_FILES, "src/fakenews/lazy.py": 'PACKAGE_DATA = ("nowhere",)\n'}
    problems = one_stage(tmp_path, files, BASE_DEPS)
    assert problems.errors == (
        "src/fakenews/lazy.py: PACKAGE_DATA entry 'nowhere' matches no file",
    )


def test_checker_resolves_relative_imports(tmp_path: Path) -> None:
    files = {
        "stages/run.py": "from fakenews.pkg.entry import main\n",
        "src/fakenews/__init__.py": DOC,
        "src/fakenews/top.py": "T = 1\n",
        "src/fakenews/pkg/__init__.py": "from . import sibling  # code: runs on import\n",
        "src/fakenews/pkg/entry.py": """\
            from .helpers import helper
            from . import sibling
            from ..top import T


            def main():
                from .sub import leaf
            """,
        "src/fakenews/pkg/helpers.py": "def helper():\n    pass\n",
        "src/fakenews/pkg/sibling.py": "S = 1\n",
        "src/fakenews/pkg/sub/__init__.py": "from .leaf import LEAF as LEAF\n",
        "src/fakenews/pkg/sub/leaf.py": "LEAF = 1\n",
        "src/fakenews/pkg/unrelated.py": "U = 1\n",
    }
    problems = one_stage(tmp_path, files, ["stages/run.py"])
    assert problems == Problems(
        undeclared=(
            "src/fakenews/pkg/__init__.py",
            "src/fakenews/pkg/entry.py",
            "src/fakenews/pkg/helpers.py",
            "src/fakenews/pkg/sibling.py",
            "src/fakenews/pkg/sub/__init__.py",
            "src/fakenews/pkg/sub/leaf.py",
            "src/fakenews/top.py",
        )
    )


def test_checker_requires_only_init_files_with_code(tmp_path: Path) -> None:
    files = {
        "stages/run.py": "import fakenews.empty.mod\nimport fakenews.coded.mod\n",
        "src/fakenews/__init__.py": "",
        "src/fakenews/empty/__init__.py": DOC,
        "src/fakenews/empty/mod.py": "X = 1\n",
        "src/fakenews/coded/__init__.py": DOC + "\nVERSION = 1\n",
        "src/fakenews/coded/mod.py": "X = 1\n",
    }
    deps = ["stages/run.py", "src/fakenews/empty/mod.py", "src/fakenews/coded/mod.py"]
    assert one_stage(tmp_path, files, deps) == Problems(
        undeclared=("src/fakenews/coded/__init__.py",)
    )
    # Declaring a docstring-only __init__.py (or the folder around it) is not "unused" either.
    deps += ["src/fakenews/empty", "src/fakenews/__init__.py", "src/fakenews/coded/__init__.py"]
    make_repo(tmp_path, "stages:\n" + stage_yaml("run", "python stages/run.py", deps), {})
    assert check_stage_deps(tmp_path)["run"] == Problems()


# --- a copy of this repo -----------------------------------------------------------------------


@pytest.fixture
def repo_copy(tmp_path: Path) -> Path:
    """dvc.yaml, params.yaml, stages/ and src/ of this repo in a fresh DVC repo."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in ("stages", "src"):
        shutil.copytree(REPO / name, tmp_path / name, ignore=ignore)
    for name in ("dvc.yaml", "params.yaml"):
        shutil.copy2(REPO / name, tmp_path / name)
    Repo.init(str(tmp_path), no_scm=True).close()
    return tmp_path


def test_checker_catches_a_lazy_import_planted_in_this_repo(repo_copy: Path) -> None:
    planted = "src/fakenews/reporting/report.py"
    stages = load_stages(repo_copy)
    split_stages = [
        s.name for s in stages if any("stages/split.py" in command for command in s.commands)
    ]
    assert split_stages, "no stage runs stages/split.py"
    before = check_stages(repo_copy, stages)
    assert all(planted not in before[name].undeclared for name in split_stages)

    with (repo_copy / "src/fakenews/pipeline/split.py").open("a", encoding="utf-8") as handle:
        handle.write("\n\ndef _planted():\n    from fakenews.reporting import report\n")
    after = check_stages(repo_copy, stages)
    for name in split_stages:
        assert planted in after[name].undeclared, format_problems({name: after[name]})
