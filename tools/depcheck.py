"""Check that every stage in ``dvc.yaml`` declares exactly the project code it runs.

A stage's project code is found statically, from its ``cmd`` alone:

* the script it runs (``python stages/<x>.py ARGS...``, or ``python -m <module> ARGS...``);
* every project module that script imports, transitively, found with :mod:`ast` anywhere in
  each module (top level, functions, methods, try/except, ``importlib.import_module("...")`` with
  a literal name), except inside ``if TYPE_CHECKING:`` (never executed). Project modules are
  those found on the stage's import path: the script's folder (``sys.path[0]``), then ``src/``.
  Importing ``a.b.c`` runs ``a/__init__.py`` and ``a/b/__init__.py`` too;
* model modules loaded by name: once ``fakenews.models`` (whose ``get_model_class`` imports
  ``fakenews.models.<name>``) is used, a stage whose script takes a MODEL argument
  (:data:`MODEL_ARG`) uses that model's module; any other stage may load any model named in
  params.yaml, so it uses every model module (public, not ``base``);
* catalogue modules loaded by name (:data:`CATALOGUES`, e.g. the dataset sources): a stage
  that imports a name from such a package itself may load any of its public modules, except a
  stage whose script takes a DATASET argument (:data:`DATASET_ARG`): it loads that dataset's
  source only (params.yaml ``datasets.<d>.source``, else the dataset's own name), or every source
  when the dataset names other sources' artifact rules or label checks (looked up by name);
* package data: the files and folders a used module lists in its module-level
  ``PACKAGE_DATA = ("relative/path", ...)``, relative to the module's own folder. They are
  files the code reads, not imports: a ``.py`` listed there is not followed.

An ``__init__.py`` holding nothing but a docstring (or nothing) carries no behaviour: it is
neither required nor reported as unused, so a stage may declare the folder around it.

Declared project code is the stage's deps under ``src/`` or ``stages/`` (:data:`CODE_DIRS`),
folders expanded to their files (``__pycache__``, ``*.pyc`` and ``*.egg-info`` ignored).
A used file is declared when it, or a folder above it, is any of the stage's deps. A declared
code dep that does not exist is reported as unused.

This module is library code for ``tests/test_dvc_deps.py`` (the check) and
``tools/generate_dvc_yaml.py`` (which writes each stage's code deps from the same closure, through
:class:`CodeIndex`); it needs DVC, not pytest.
"""

from __future__ import annotations

import ast
import os
import shlex
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path, PurePosixPath

import yaml
from dvc.dependency.param import ParamsDependency
from dvc.repo import Repo
from dvc.stage import PipelineStage

#: The project's own top-level package, under ``src/``.
PACKAGE = "fakenews"
#: Deps under these top-level folders are project code, checked both ways.
CODE_DIRS = ("src", "stages")
#: The package whose ``get_model_class(name)`` imports ``<MODELS_PACKAGE>.<name>``.
MODELS_PACKAGE = f"{PACKAGE}.models"
#: Modules of :data:`MODELS_PACKAGE` that are not models.
NOT_MODELS = frozenset({"families"})
#: Packages whose ``__init__`` looks a module up by name (``importlib``, a name from params):
#: a stage that imports a name from the package itself (``from fakenews.sources import
#: source_for``), not only one of its modules, may load any of its public modules but these.
CATALOGUES: Mapping[str, frozenset[str]] = {
    f"{PACKAGE}.sources": frozenset({"base", "options", "tables"})
}
#: The catalogue of dataset sources (one module each, see :mod:`fakenews.sources`).
SOURCES_PACKAGE = f"{PACKAGE}.sources"
#: Scripts taking a DATASET argument whose source module they load by name: script path ->
#: its position among the script's arguments (``python stages/download.py DATASET``: 0).
DATASET_ARG: Mapping[str, int] = {"stages/download.py": 0, "stages/prepare.py": 0}
#: The params.yaml sections that name datasets, and a dataset's options that name entries of
#: every source's catalogue (the dataset then loads every source to look them up).
DATASET_SECTIONS = ("datasets", "evaluate_on")
CATALOGUE_OPTIONS = ("artifact_rules", "label_checks")
#: Scripts taking a MODEL argument: script path (relative to the repo root) -> its position
#: among the script's arguments (``python stages/train.py DATASET MODEL``: 1).
MODEL_ARG: Mapping[str, int] = {
    "stages/train.py": 1,
    "stages/evaluate.py": 1,
    "stages/transfer.py": 1,
    "stages/explain.py": 1,
    "stages/embed.py": 1,
    "stages/calibrate.py": 1,
}
#: Packages whose code cannot change a script's outputs (a side effect: MLflow journaling), so
#: the script's stages do not depend on them: script -> packages not followed. Each entry needs
#: a test proving it: tests/test_tracking_stages.py runs train, evaluate and transfer with
#: tracking on, off and pointed at a dead server and compares every output byte for byte.
SIDE_EFFECTS: Mapping[str, tuple[str, ...]] = {
    script: (f"{PACKAGE}.tracking",)
    for script in ("stages/train.py", "stages/evaluate.py", "stages/transfer.py")
}
#: The module-level constant naming the package data a module reads.
PACKAGE_DATA = "PACKAGE_DATA"

_SHELL_SEPARATORS = frozenset({"&&", "||", ";", "|"})


@dataclass(frozen=True)
class Problems:
    """What is wrong with one stage's declared code (all paths relative to the repo root)."""

    undeclared: tuple[str, ...] = ()
    """Used by the stage but not among its deps."""
    unused: tuple[str, ...] = ()
    """Among its deps (under :data:`CODE_DIRS`) but not used."""
    errors: tuple[str, ...] = ()
    """What the checker could not resolve: a missing script, model or package data, bad
    ``PACKAGE_DATA``, unparsable code. The stage would fail, or the check would be incomplete."""

    @property
    def ok(self) -> bool:
        return not (self.undeclared or self.unused or self.errors)


@dataclass(frozen=True)
class StageSpec:
    """One resolved stage instance of ``dvc.yaml``: what it runs and what it declares."""

    name: str
    """``download@liar``, ``overlap``, ..."""
    commands: tuple[str, ...]
    """The ``cmd`` (one entry per command when ``cmd`` is a list)."""
    wdir: str
    """The stage's working folder, relative to the repo root (``.`` normally)."""
    deps: tuple[str, ...]
    """Path deps (params excluded), relative to the repo root, POSIX style."""


@dataclass(frozen=True)
class Invocation:
    """One ``python`` command of a stage: the script file or ``-m`` module, and its args."""

    script: str | None = None
    """Path relative to the repo root."""
    module: str | None = None
    args: tuple[str, ...] = ()


@dataclass(frozen=True)
class _ImportRef:
    """``import module`` (``names`` empty) or ``from (level dots) module import names``."""

    module: str | None
    names: tuple[str, ...] = ()
    level: int = 0


@dataclass(frozen=True)
class _FileInfo:
    """What the checker needs from one source file, parsed once."""

    imports: tuple[_ImportRef, ...] = ()
    package_data: tuple[str, ...] = ()
    trivial: bool = False
    """Nothing but a docstring (or nothing at all)."""
    errors: tuple[str, ...] = ()


@dataclass
class _Usage:
    """The files a stage uses, collected while walking its imports."""

    files: set[str] = field(default_factory=set)
    modules: set[str] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)
    catalogues: set[str] = field(default_factory=set)
    """The :data:`CATALOGUES` whose lookup the stage uses."""
    side_effects: tuple[str, ...] = ()
    """Packages not followed (:data:`SIDE_EFFECTS` of the script being walked)."""
    sources: tuple[str, ...] | None = None
    """The source modules a :data:`DATASET_ARG` script loads (``None``: any of them)."""
    fixed_sources: tuple[str, ...] | None = None
    """:attr:`sources` as given by the caller, instead of read from params.yaml."""


def check_stage_deps(root: Path) -> dict[str, Problems]:
    """Check every stage instance of the repo's dvc.yaml files; one entry per stage.

    A stage whose :class:`Problems` are empty (``.ok``) declares exactly the code it uses.
    """
    return check_stages(root, load_stages(root))


def check_stages(root: Path, stages: Iterable[StageSpec]) -> dict[str, Problems]:
    """Check already loaded ``stages`` against the code now under ``root`` (read afresh)."""
    project = _Project(Path(root).resolve())
    return {spec.name: project.check(spec) for spec in stages}


def failing(report: Mapping[str, Problems]) -> dict[str, Problems]:
    """The stages of ``report`` that have problems."""
    return {name: problems for name, problems in report.items() if not problems.ok}


def format_problems(report: Mapping[str, Problems]) -> str:
    """A readable listing of the failing stages of ``report``, one path per line.

    Stages with the same problems (the instances of one ``foreach``, say) are listed together.
    """
    groups: dict[Problems, list[str]] = {}
    for name, problems in failing(report).items():
        groups.setdefault(problems, []).append(name)
    lines: list[str] = []
    for problems, names in groups.items():
        count = f"{len(names)} stages: " if len(names) > 1 else ""
        lines.append(f"{count}{', '.join(names)}")
        for label, paths in (
            ("undeclared (used, add to deps)", problems.undeclared),
            ("unused (in deps, not used)", problems.unused),
            ("errors", problems.errors),
        ):
            if paths:
                lines.append(f"  {label}:")
                lines.extend(f"    {path}" for path in paths)
    return "\n".join(lines)


def load_stages(root: Path) -> list[StageSpec]:
    """Every stage instance of the repo's dvc.yaml files (the root one and
    ``pipelines/*/dvc.yaml``) as DVC resolves it (foreach/matrix expanded, ``${...}``
    interpolated), with path deps relative to the repo root."""
    with Repo(os.fspath(root)) as repo:
        repo_root = Path(repo.root_dir)
        specs = []
        for stage in repo.index.stages:
            if not isinstance(stage, PipelineStage):
                continue
            deps = []
            for dep in stage.deps:
                if isinstance(dep, ParamsDependency):
                    continue
                relative = _relative(Path(os.path.abspath(dep.fs_path)), repo_root)
                if relative is not None:
                    deps.append(relative)
            cmd = stage.cmd
            commands = (cmd,) if isinstance(cmd, str) else tuple(cmd or ())
            specs.append(
                StageSpec(
                    name=stage.name,
                    commands=commands,
                    wdir=_relative(Path(stage.wdir), repo_root) or ".",
                    deps=tuple(deps),
                )
            )
        return specs


class CodeIndex:
    """The project code under one repo root, as the check sees it (each file parsed once).

    For tools that derive deps from the closure rather than check them.
    """

    def __init__(self, root: Path) -> None:
        self._project = _Project(Path(root).resolve())

    def used(
        self, invocation: Invocation, wdir: str = ".", sources: tuple[str, ...] | None = None
    ) -> tuple[frozenset[str], tuple[str, ...]]:
        """The files one invocation uses, as :func:`check_stages` requires them (docstring-only
        ``__init__.py`` left out), and what could not be resolved. ``sources``: the source
        modules a :data:`DATASET_ARG` script loads, instead of its dataset's (``()``: none)."""
        usage = _Usage(fixed_sources=sources)
        self._project._add_invocation(invocation, wdir, usage)
        files = frozenset(p for p in usage.files if not self._project._is_trivial_init(p))
        return files, tuple(dict.fromkeys(usage.errors))

    def files_under(self, dep: str) -> frozenset[str]:
        """The files a declared dep stands for (a folder: its files, docstring-only
        ``__init__.py`` and caches left out)."""
        return frozenset(self._project._expand([dep]))

    def module_file(self, module: str) -> str | None:
        """The file of a module of the package, relative to the repo root, if there is one."""
        path = self._project._resolve(module, (self._project.src,))
        return None if path is None else self._project._rel(path)

    def model_names(self) -> list[str]:
        """Every model module's name (see :data:`MODELS_PACKAGE`)."""
        return self._project.model_names()

    def source_names(self) -> list[str]:
        """Every dataset source module's name (see :data:`SOURCES_PACKAGE`)."""
        return self._project._public_modules(SOURCES_PACKAGE, CATALOGUES[SOURCES_PACKAGE])

    def datasets(self, section: str) -> list[str]:
        """The datasets of one params.yaml section (:data:`DATASET_SECTIONS`), in its order."""
        return list(self._project.dataset_entries(section))


def parse_command(command: str, wdir: str = ".") -> list[Invocation]:
    """The ``python`` invocations in one shell command (``A && B`` gives two).

    Other commands run no project code and give nothing. Script paths are made relative to the
    repo root from the stage's ``wdir``.
    """
    invocations = []
    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    for words in _split_shell(list(lexer)):
        # Skip ``VAR=value`` prefixes, then expect ``python[3[.x]] [options] script|-m module``.
        while words and "=" in words[0] and not words[0].startswith("-"):
            words = words[1:]
        if not words or not PurePosixPath(words[0]).name.startswith("python"):
            continue
        rest = words[1:]
        while rest and rest[0].startswith("-") and rest[0] != "-m":
            rest = rest[1:]
        if len(rest) >= 2 and rest[0] == "-m":
            invocations.append(Invocation(module=rest[1], args=tuple(rest[2:])))
        elif rest:
            script = os.path.normpath(PurePosixPath(wdir, rest[0]).as_posix())
            invocations.append(Invocation(script=script, args=tuple(rest[1:])))
    return invocations


def _split_shell(words: list[str]) -> Iterator[list[str]]:
    current: list[str] = []
    for word in words:
        if word in _SHELL_SEPARATORS:
            yield current
            current = []
        else:
            current.append(word)
    yield current


class _Project:
    """The source tree under one repo root, each file parsed at most once."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.src = root / "src"
        self._info = cache(self._parse)
        self._resolve = cache(self._find_module)
        self._datasets: dict[str, dict[str, dict]] | None = None

    # --- one stage ---------------------------------------------------------------------------

    def check(self, spec: StageSpec) -> Problems:
        usage = self.used_by(spec)
        used = {path for path in usage.files if not self._is_trivial_init(path)}
        undeclared = {path for path in used if not _is_under_any(path, spec.deps)}
        declared = set(self._expand(dep for dep in spec.deps if _in_code_dirs(dep)))
        return Problems(
            undeclared=tuple(sorted(undeclared)),
            unused=tuple(sorted(declared - used)),
            errors=tuple(dict.fromkeys(usage.errors)),
        )

    def used_by(self, spec: StageSpec) -> _Usage:
        """Every project file the stage's ``cmd`` uses (trivial ``__init__.py`` included)."""
        usage = _Usage()
        for command in spec.commands:
            for invocation in parse_command(command, spec.wdir):
                self._add_invocation(invocation, spec.wdir, usage)
        return usage

    def _add_invocation(self, invocation: Invocation, wdir: str, usage: _Usage) -> None:
        usage.side_effects = SIDE_EFFECTS.get(invocation.script or "", ())
        usage.sources = (
            usage.fixed_sources
            if usage.fixed_sources is not None
            else self._dataset_sources(invocation, usage)
        )
        if invocation.script is not None:
            script = self.root / invocation.script
            if not script.is_file():
                usage.errors.append(f"script {invocation.script} not found")
                return
            search = (script.parent, self.src)
            self._add_file(script, None, search, usage)
        else:
            assert invocation.module is not None
            search = (self.root / wdir, self.src)
            if self._resolve(invocation.module, search) is None:
                usage.errors.append(f"module {invocation.module} not found")
                return
            self._add_module(invocation.module, search, usage)
        if MODELS_PACKAGE in usage.modules:
            self._add_models(invocation, search, usage)

    def _add_models(self, invocation: Invocation, search: tuple[Path, ...], usage: _Usage) -> None:
        """The dynamic-import rule: the model named on the command line, else every model."""
        position = MODEL_ARG.get(invocation.script or "")
        if position is not None:
            if position >= len(invocation.args):
                usage.errors.append(f"{invocation.script}: no MODEL argument")
                return
            names = [invocation.args[position]]
        else:
            names = self.model_names()
        for name in names:
            module = f"{MODELS_PACKAGE}.{name}"
            if self._resolve(module, search) is None:
                usage.errors.append(f"model module {module} not found")
            else:
                self._add_module(module, search, usage)

    def _dataset_sources(self, invocation: Invocation, usage: _Usage) -> tuple[str, ...] | None:
        """The source a :data:`DATASET_ARG` script loads for its dataset (``None``: any)."""
        position = DATASET_ARG.get(invocation.script or "")
        if position is None:
            return None
        if position >= len(invocation.args):
            usage.errors.append(f"{invocation.script}: no DATASET argument")
            return None
        dataset = invocation.args[position]
        if "${" in dataset:
            return None  # not resolved yet: the generator asks once per dataset
        entry = self.dataset_entries().get(dataset)
        if entry is None:
            usage.errors.append(
                f"{invocation.script}: dataset {dataset!r} is in no params.yaml section "
                f"({', '.join(DATASET_SECTIONS)})"
            )
            return None
        if any(entry.get(option) for option in CATALOGUE_OPTIONS):
            return None  # named rules/checks: looked up in every source's catalogue
        source = entry.get("source") or dataset
        return (source,) if isinstance(source, str) else None

    def dataset_entries(self, section: str | None = None) -> dict[str, dict]:
        """Each dataset's params.yaml entry, of one section of :data:`DATASET_SECTIONS` (all of
        them when ``None``), read once."""
        if self._datasets is None:
            path = self.root / "params.yaml"
            raw = yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else None
            self._datasets = {
                name: {
                    str(dataset): entry if isinstance(entry, dict) else {}
                    for dataset, entry in ((raw or {}).get(name) or {}).items()
                }
                for name in DATASET_SECTIONS
            }
        if section is not None:
            return self._datasets[section]
        return {d: e for entries in self._datasets.values() for d, e in entries.items()}

    def model_names(self) -> list[str]:
        """The model modules (and subpackages) of :data:`MODELS_PACKAGE`, like ``pkgutil``."""
        return self._public_modules(MODELS_PACKAGE, NOT_MODELS)

    def _public_modules(self, package: str, exclude: frozenset[str]) -> list[str]:
        """The public modules (and subpackages) of ``package``, like ``pkgutil``."""
        folder = self.src.joinpath(*package.split("."))
        names = set()
        for path in folder.iterdir() if folder.is_dir() else ():
            if path.suffix == ".py" and path.stem != "__init__":
                names.add(path.stem)
            elif path.is_dir() and (path / "__init__.py").is_file():
                names.add(path.name)
        return sorted(n for n in names if not n.startswith("_") and n not in exclude)

    # --- the import closure ------------------------------------------------------------------

    def _add_module(self, module: str, search: tuple[Path, ...], usage: _Usage) -> None:
        """Import ``module``: run each package above it, then the module itself."""
        parts = module.split(".")
        if any(module == p or module.startswith(p + ".") for p in usage.side_effects):
            return
        for end in range(1, len(parts) + 1):
            name = ".".join(parts[:end])
            path = self._resolve(name, search)
            if path is not None and name not in usage.modules:
                usage.modules.add(name)
                self._add_file(path, name, search, usage)

    def _add_file(
        self, path: Path, module: str | None, search: tuple[Path, ...], usage: _Usage
    ) -> None:
        relative = self._rel(path)
        if relative in usage.files:
            return
        usage.files.add(relative)
        info = self._info(path)
        usage.errors.extend(info.errors)
        for entry in info.package_data:
            self._add_package_data(path, entry, usage)
        package = _package_of(module, path)
        for ref in info.imports:
            targets = list(self._targets(ref, package, search))
            if targets and targets[0] in CATALOGUES and len(targets) <= len(ref.names):
                usage.catalogues.add(targets[0])  # a name from the package's own lookup
            for target in targets:
                self._add_module(target, search, usage)
        for catalogue in sorted(usage.catalogues):
            names = self._public_modules(catalogue, CATALOGUES[catalogue])
            if catalogue == SOURCES_PACKAGE and usage.sources is not None:
                missing = [n for n in usage.sources if n not in names]
                if missing:
                    usage.errors.append(f"source module {catalogue}.{missing[0]} not found")
                names = [n for n in names if n in usage.sources]
            for name in names:
                self._add_module(f"{catalogue}.{name}", search, usage)

    def _targets(
        self, ref: _ImportRef, package: str | None, search: tuple[Path, ...]
    ) -> Iterator[str]:
        """The modules an import statement runs (submodules named by ``from`` included)."""
        if ref.level:
            if package is None:
                return
            base_parts = package.split(".")
            if ref.level - 1 >= len(base_parts):
                return
            base_parts = base_parts[: len(base_parts) - (ref.level - 1)]
            base = ".".join([*base_parts, *([ref.module] if ref.module else [])])
        else:
            assert ref.module is not None
            base = ref.module
        yield base
        for name in ref.names:
            if name != "*" and self._resolve(f"{base}.{name}", search) is not None:
                yield f"{base}.{name}"

    def _add_package_data(self, module_path: Path, entry: str, usage: _Usage) -> None:
        target = module_path.parent / entry
        found = list(self._expand_path(target)) if target.exists() else []
        if not found:
            usage.errors.append(
                f"{self._rel(module_path)}: {PACKAGE_DATA} entry {entry!r} matches no file"
            )
        usage.files.update(found)

    def _find_module(self, module: str, search: tuple[Path, ...]) -> Path | None:
        """The file of ``module`` (a ``.py`` or a package's ``__init__.py``), if in the project."""
        parts = module.split(".")
        for base in search:
            candidate = base.joinpath(*parts)
            if (candidate / "__init__.py").is_file():
                return candidate / "__init__.py"
            if candidate.with_name(candidate.name + ".py").is_file():
                return candidate.with_name(candidate.name + ".py")
        return None

    # --- files -------------------------------------------------------------------------------

    def _parse(self, path: Path) -> _FileInfo:
        relative = self._rel(path)
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=relative)
        except (SyntaxError, UnicodeDecodeError) as error:
            return _FileInfo(errors=(f"{relative}: cannot parse: {error}",))
        collector = _ImportCollector()
        collector.visit(tree)
        package_data, errors = _package_data(tree)
        return _FileInfo(
            imports=tuple(collector.imports),
            package_data=package_data,
            trivial=_is_docstring_only(tree),
            errors=tuple(f"{relative}: {error}" for error in errors),
        )

    def _is_trivial_init(self, relative: str) -> bool:
        path = self.root / relative
        return path.name == "__init__.py" and self._info(path).trivial

    def _expand(self, deps: Iterable[str]) -> Iterator[str]:
        """Declared deps as files; a missing dep stays as given, a trivial ``__init__.py`` goes."""
        for dep in deps:
            path = self.root / dep
            if not path.exists():
                yield dep
                continue
            for relative in self._expand_path(path):
                if not self._is_trivial_init(relative):
                    yield relative

    def _expand_path(self, path: Path) -> Iterator[str]:
        if path.is_file():
            yield self._rel(path)
            return
        for folder, dirs, files in os.walk(path):
            dirs[:] = sorted(d for d in dirs if not _ignored(d))
            for name in sorted(files):
                if not _ignored(name):
                    yield self._rel(Path(folder, name))

    def _rel(self, path: Path) -> str:
        return _relative(path, self.root) or path.as_posix()


class _ImportCollector(ast.NodeVisitor):
    """Every import statement anywhere in a module, except under ``if TYPE_CHECKING:``."""

    def __init__(self) -> None:
        self.imports: list[_ImportRef] = []

    def visit_Import(self, node: ast.Import) -> None:
        self.imports.extend(_ImportRef(alias.name) for alias in node.names)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        names = tuple(alias.name for alias in node.names)
        self.imports.append(_ImportRef(node.module, names, node.level))

    def visit_If(self, node: ast.If) -> None:
        self.visit(node.test)
        if _is_type_checking(node.test):
            branches = [node.orelse]  # the body never runs
        elif isinstance(node.test, ast.UnaryOp) and isinstance(node.test.op, ast.Not):
            runs_body = not _is_type_checking(node.test.operand)
            branches = [node.body, node.orelse] if runs_body else [node.body]
        else:
            branches = [node.body, node.orelse]
        for branch in branches:
            for statement in branch:
                self.visit(statement)

    def visit_Call(self, node: ast.Call) -> None:
        """``importlib.import_module("literal.name")`` (relative names are skipped)."""
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        if name == "import_module" and node.args:
            first = node.args[0]
            if (
                isinstance(first, ast.Constant)
                and isinstance(first.value, str)
                and not first.value.startswith(".")
            ):
                self.imports.append(_ImportRef(first.value))
        self.generic_visit(node)


def _is_type_checking(test: ast.expr) -> bool:
    """``TYPE_CHECKING`` or ``typing.TYPE_CHECKING`` (any module prefix)."""
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def _package_data(tree: ast.Module) -> tuple[tuple[str, ...], list[str]]:
    """The module-level ``PACKAGE_DATA`` tuple of string literals, and what is wrong with it."""
    entries: list[str] = []
    errors: list[str] = []
    for statement in tree.body:
        if isinstance(statement, ast.Assign):
            targets, value = statement.targets, statement.value
        elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
            targets, value = [statement.target], statement.value
        else:
            continue
        if not any(isinstance(t, ast.Name) and t.id == PACKAGE_DATA for t in targets):
            continue
        items = value.elts if isinstance(value, ast.Tuple | ast.List) else None
        if items is None or not all(
            isinstance(item, ast.Constant) and isinstance(item.value, str) for item in items
        ):
            errors.append(f"{PACKAGE_DATA} must be a tuple of string literals")
            continue
        entries.extend(item.value for item in items if isinstance(item, ast.Constant))
    return tuple(entries), errors


def _is_docstring_only(tree: ast.Module) -> bool:
    body = tree.body
    return not body or (
        len(body) == 1
        and isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
        and isinstance(body[0].value.value, str)
    )


def _package_of(module: str | None, path: Path) -> str | None:
    """The package relative imports in ``module`` start from (``None``: a script)."""
    if module is None:
        return None
    return module if path.name == "__init__.py" else module.rpartition(".")[0] or None


def _relative(path: Path, root: Path) -> str | None:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return None


def _in_code_dirs(dep: str) -> bool:
    return PurePosixPath(dep).parts[:1] in {(d,) for d in CODE_DIRS}


def _is_under_any(path: str, deps: Iterable[str]) -> bool:
    return any(dep in (".", path) or path.startswith(dep.rstrip("/") + "/") for dep in deps)


def _ignored(name: str) -> bool:
    return name == "__pycache__" or name.endswith((".pyc", ".egg-info"))
