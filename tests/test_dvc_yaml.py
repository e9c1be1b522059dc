"""dvc.yaml is generated from dvc.template.yaml (tools/generate_dvc_yaml.py), and is current."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from collections.abc import Mapping
from pathlib import Path

import networkx as nx
import pytest
import yaml
from depcheck import check_stage_deps, format_problems
from dvc.repo import Repo
from generate_dvc_yaml import (
    HEADER,
    Families,
    GenerateError,
    check,
    expand,
    generate,
    load_families,
)

REPO = Path(__file__).resolve().parents[1]
GENERATOR = REPO / "tools" / "generate_dvc_yaml.py"
DOC = '"""A docstring only."""\n'


@pytest.fixture(scope="module")
def families() -> Families:
    """This repo's families and models (read once: it imports every model module)."""
    from depcheck import CodeIndex

    return load_families(REPO, CodeIndex(REPO).model_names())


def test_committed_dvc_yaml_is_what_the_template_generates(families: Families) -> None:
    difference = check(REPO, generate(REPO, families))
    assert not difference, (
        "the dvc.yaml files differ from what dvc.template.yaml and the code generate; edit the "
        "template (never a dvc.yaml), then run `make dvc-yaml` (python tools/generate_dvc_yaml.py):"
        "\n" + difference
    )


def test_every_family_has_its_model_stages_each_group_in_its_own_file() -> None:
    from fakenews.models.families import FAMILIES

    for family in FAMILIES:
        for kind in (
            "train-{}",
            "evaluate-{}",
            "transfer-{}",
            "train-{}-union",
            "transfer-{}-union",
        ):
            group = kind.format(family)
            text = (REPO / "pipelines" / group / "dvc.yaml").read_text(encoding="utf-8")
            assert f"\n  {group}:\n    wdir: ../..\n" in text
            assert text.count("\n  ") and yaml.safe_load(text)["stages"].keys() == {group}


def test_plain_dvc_repro_reaches_every_stage() -> None:
    """`dvc repro` with no target runs the root dvc.yaml and what it depends on: `report`
    depends on every model stage, so nothing in pipelines/ is left out."""
    with Repo(str(REPO)) as repo:
        graph = repo.index.graph
        report = next(s for s in graph.nodes if s.name == "report")
        upstream = set(nx.descendants(graph, report)) | {report}
        missing = sorted(s.addressing for s in graph.nodes if s not in upstream)
    assert not missing, f"stages `dvc repro` would not run: {missing}"


def test_a_dep_removed_by_hand_fails_the_check(tmp_path: Path, families: Families) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in ("src", "stages", "tools"):
        shutil.copytree(REPO / name, tmp_path / name, ignore=ignore)
    for name in ("dvc.template.yaml", "dvc.yaml", "params.yaml"):
        shutil.copy2(REPO / name, tmp_path / name)
    shutil.copytree(REPO / "pipelines", tmp_path / "pipelines")
    generated = (tmp_path / "dvc.yaml").read_text(encoding="utf-8")
    removed = "        - src/fakenews/pipeline/split.py\n"
    assert generated.count(removed) == 1
    (tmp_path / "dvc.yaml").write_text(generated.replace(removed, ""), encoding="utf-8")

    result = subprocess.run(
        [sys.executable, str(tmp_path / "tools" / GENERATOR.name), "--check", "--root", tmp_path],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "+" + removed in result.stdout
    assert "make dvc-yaml" in result.stdout
    # Regenerating puts it back (tests/test_dvc_deps.py would also fail on the edited file).
    assert generate(tmp_path, families)["dvc.yaml"] == generated


# --- the template language, on small synthetic repos ------------------------------------------


def test_expand_writes_loops_and_conditions() -> None:
    template = textwrap.dedent("""\
        #@ a template-only comment
        stages:
          #@for family
          train-{family}:
            cmd: python stages/train.py ${item.dataset} ${item.model} --family {family}
            deps:
              - data/embeddings  #@if family=b,c
          #@end
          #@for stage=get,get-eval source=datasets,evaluate_on
          {stage}:
            foreach: ${{source}}
          #@end
        """)
    text = "".join(line.text for line in expand(template, ("a", "b")))
    assert text == textwrap.dedent("""\
        stages:
          train-a:
            cmd: python stages/train.py ${item.dataset} ${item.model} --family a
            deps:
          train-b:
            cmd: python stages/train.py ${item.dataset} ${item.model} --family b
            deps:
              - data/embeddings
          get:
            foreach: ${datasets}
          get-eval:
            foreach: ${evaluate_on}
        """)


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("stages:\n  x-{family}:\n", "unknown placeholder {family}"),
        ("#@for family\nx\n", "#@for without #@end"),
        ("x  #@if family=a\n", "not a #@for variable"),
        ("#@for a=1,2 b=3\n#@end\n", "lists of different lengths"),
    ],
)
def test_expand_rejects_bad_templates(template: str, message: str) -> None:
    with pytest.raises(GenerateError, match=message):
        expand(template, ("a",))


SYNTHETIC_TEMPLATE = """\
stages:
  prepare:
    foreach: ${datasets}
    do:
      cmd: python stages/prepare.py ${key}
      deps:
        - {code}
        - data/raw/${key}
      outs:
        - data/prepared/${key}
  #@for family
  train-{family}:
    matrix:
      dataset: ${datasets}
      model: ${models.{family}}
    cmd: python stages/train.py ${item.dataset} ${item.model} --family {family}
    deps:
      - {code}
      - data/prepared/${item.dataset}
  #@end
"""
USES_BASE = "from fakenews.classifier.base import Model\n"

SYNTHETIC_FILES = {
    "params.yaml": "datasets: {a: {}}\nmodels: {f: [m1, m2], g: [solo]}\n",
    "stages/prepare.py": "from fakenews.core.run import run\n",
    "stages/train.py": "from fakenews.models import get_model\nfrom fakenews.core import run\n",
    "src/fakenews/__init__.py": DOC,
    "src/fakenews/core/__init__.py": DOC,
    "src/fakenews/core/run.py": "from fakenews.core import util\n",
    "src/fakenews/core/util.py": "X = 1\n",
    "src/fakenews/models/__init__.py": """\
        import importlib


        def get_model(name):
            return importlib.import_module(f"fakenews.models.{name}").Model
        """,
    "src/fakenews/classifier/base.py": "class Model:\n    pass\n",
    "src/fakenews/models/m1.py": USES_BASE + "import fakenews.nn.f\n",
    "src/fakenews/models/m2.py": USES_BASE + "import fakenews.nn.f\n",
    "src/fakenews/models/solo.py": USES_BASE,
    "src/fakenews/nn/__init__.py": DOC,
    "src/fakenews/nn/f.py": "F = 1\n",
    "src/fakenews/nn/g.py": "G = 1\n",
}
SYNTHETIC_FAMILIES = Families(("f", "g"), {"m1": "f", "m2": "f", "solo": "g"})


def synthetic_repo(root: Path, files: Mapping[str, str]) -> Path:
    (root / "dvc.template.yaml").write_text(SYNTHETIC_TEMPLATE, encoding="utf-8")
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def test_generate_folds_folders_and_keeps_the_model_pattern(tmp_path: Path) -> None:
    root = synthetic_repo(tmp_path, SYNTHETIC_FILES)
    text = generate(root, SYNTHETIC_FAMILIES)["dvc.yaml"]
    assert text.startswith(HEADER)
    deps = {
        # Every file of core/ (its docstring-only __init__.py aside): the folder.
        "prepare": ["stages/prepare.py", "src/fakenews/core"],
        # One model module per instance; nn/f.py but not nn/g.py: the file, not the folder.
        "train-f": [
            "stages/train.py",
            "src/fakenews/classifier",  # base.py, all of the folder
            "src/fakenews/core",
            "src/fakenews/models/__init__.py",
            "src/fakenews/models/${item.model}.py",
            "src/fakenews/nn/f.py",
        ],
        "train-g": [
            "stages/train.py",
            "src/fakenews/classifier",  # base.py, all of the folder
            "src/fakenews/core",
            "src/fakenews/models/__init__.py",
            "src/fakenews/models/${item.model}.py",
        ],
    }
    for stage, expected in deps.items():
        block = text.split(f"\n  {stage}:\n", 1)[1].split("\n  train-", 1)[0]
        listed = [line.strip()[2:] for line in block.splitlines() if line.strip().startswith("- ")]
        assert listed[: len(expected)] == expected, stage
    # What it writes is what the stage check requires, instance by instance.
    (root / "dvc.yaml").write_text(text, encoding="utf-8")
    Repo.init(str(root), no_scm=True).close()
    report = check_stage_deps(root)
    assert set(report) == {"prepare@a", "train-f@a-m1", "train-f@a-m2", "train-g@a-solo"}
    assert not format_problems(report)


def test_generate_refuses_a_family_whose_models_run_different_code(tmp_path: Path) -> None:
    files = {**SYNTHETIC_FILES, "src/fakenews/models/m2.py": "import fakenews.nn.g\n"}
    root = synthetic_repo(tmp_path, files)
    with pytest.raises(GenerateError, match=r"train-f: models m1 run different code") as error:
        generate(root, SYNTHETIC_FAMILIES)
    assert "src/fakenews/nn/f.py" in str(error.value)
    assert "src/fakenews/nn/g.py" in str(error.value)


def test_generate_refuses_a_family_without_models(tmp_path: Path) -> None:
    root = synthetic_repo(tmp_path, SYNTHETIC_FILES)
    families = Families(("f", "g", "h"), SYNTHETIC_FAMILIES.of_model)
    with pytest.raises(GenerateError, match="train-h: no model module of family 'h'"):
        generate(root, families)


def test_file_directive_puts_a_group_in_its_own_dvc_yaml(tmp_path: Path) -> None:
    template = SYNTHETIC_TEMPLATE.replace(
        "  #@for family\n", "  #@for family\n  #@file pipelines/train-{family}\n"
    ).replace("  #@end\n", "  #@end\n  #@file dvc.yaml\n  report:\n    cmd: echo\n")
    root = synthetic_repo(tmp_path, SYNTHETIC_FILES)
    (root / "dvc.template.yaml").write_text(template, encoding="utf-8")
    files = generate(root, SYNTHETIC_FAMILIES)
    assert list(files) == ["dvc.yaml", "pipelines/train-f/dvc.yaml", "pipelines/train-g/dvc.yaml"]
    root_stages = yaml.safe_load(files["dvc.yaml"])["stages"]
    assert list(root_stages) == ["prepare", "report"]
    sub = yaml.safe_load(files["pipelines/train-f/dvc.yaml"])
    assert sub["vars"] == ["../../params.yaml"]
    assert sub["stages"]["train-f"]["wdir"] == "../.."
    # Code deps are the same as in one file: paths from the repo root.
    assert "src/fakenews/nn/f.py" in sub["stages"]["train-f"]["deps"]
    # DVC resolves them from the root: the stage's check passes and params interpolate.
    from generate_dvc_yaml import write

    write(root, files)
    Repo.init(str(root), no_scm=True).close()
    report = check_stage_deps(root)
    assert {"train-f@a-m1", "train-g@a-solo", "prepare@a"} <= set(report)
    assert not format_problems(report)
    # A generated file the template no longer makes is a difference, and `write` removes it.
    (root / "pipelines/train-old").mkdir()
    (root / "pipelines/train-old/dvc.yaml").write_text("stages: {}\n")
    assert "pipelines/train-old/dvc.yaml (committed)" in check(root, files)
    assert write(root, files) == ["pipelines/train-old/dvc.yaml"]
    assert not check(root, files)


# --- dataset stages: each dataset's own source code --------------------------------------------

DATASET_TEMPLATE = """\
stages:
  download:
    foreach: ${datasets}
    do:
      cmd: python stages/download.py ${key}
      deps:
        - {code}
        - data/external/${key}
"""
SOURCE_FILES = {
    "params.yaml": "datasets: {s1: {}, b: {source: s2}}\n",
    "stages/download.py": "from fakenews.sources import get_source\n",
    "src/fakenews/__init__.py": DOC,
    "src/fakenews/sources/__init__.py": """\
        import importlib


        def get_source(name):
            return importlib.import_module(f"fakenews.sources.{name}").SOURCE
        """,
    "src/fakenews/sources/base.py": "SHARED = 1\n",
    "src/fakenews/sources/s1.py": "from fakenews.sources.base import SHARED\nSOURCE = SHARED\n",
    # A source built on another: its datasets depend on both modules.
    "src/fakenews/sources/s2.py": "from fakenews.sources import base, s1\nSOURCE = s1.SOURCE\n",
}


def resolved_deps(root: Path) -> dict[str, set[str]]:
    """Each stage's path deps as DVC resolves them (a set: DVC hashes each path once)."""
    from depcheck import load_stages

    return {spec.name: set(spec.deps) for spec in load_stages(root)}


def test_a_dataset_stage_depends_on_its_own_source_only(tmp_path: Path) -> None:
    root = synthetic_repo(tmp_path, SOURCE_FILES)
    (root / "dvc.template.yaml").write_text(DATASET_TEMPLATE, encoding="utf-8")
    for dataset in ("s1", "b", "c"):
        (root / "data" / "external" / dataset).mkdir(parents=True)
    Repo.init(str(root), no_scm=True).close()
    from generate_dvc_yaml import write

    write(root, generate(root, SYNTHETIC_FAMILIES))
    stage = yaml.safe_load((root / "dvc.yaml").read_text())["stages"]["download"]
    sources = "src/fakenews/sources"
    # The foreach lists the datasets, each filling the same slots with its source's own code.
    assert stage["foreach"] == {
        "s1": {"code1": f"{sources}/s1.py", "code2": f"{sources}/s1.py"},
        "b": {"code1": f"{sources}/s1.py", "code2": f"{sources}/s2.py"},
    }
    shared = {"stages/download.py", f"{sources}/__init__.py", f"{sources}/base.py"}
    before = resolved_deps(root)
    assert before == {
        "download@s1": shared | {f"{sources}/s1.py", "data/external/s1"},
        "download@b": shared | {f"{sources}/s1.py", f"{sources}/s2.py", "data/external/b"},
    }
    assert not format_problems(check_stage_deps(root))

    # A new source module and its dataset: the other datasets' deps stay as they were.
    (root / f"{sources}/s3.py").write_text("from fakenews.sources import base\nSOURCE = 3\n")
    (root / "params.yaml").write_text("datasets: {s1: {}, b: {source: s2}, c: {source: s3}}\n")
    write(root, generate(root, SYNTHETIC_FAMILIES))
    after = resolved_deps(root)
    assert {name: after[name] for name in before} == before
    assert after["download@c"] == shared | {f"{sources}/s3.py", "data/external/c"}
    assert not format_problems(check_stage_deps(root))
    # The check reads each dataset's source from params: b without s2.py is caught.
    text = (root / "dvc.yaml").read_text()
    text = text.replace(f"code2: {sources}/s2.py", f"code2: {sources}/s1.py")
    (root / "dvc.yaml").write_text(text)
    report = check_stage_deps(root)
    assert report["download@b"].undeclared == (f"{sources}/s2.py",)
    assert report["download@s1"].ok and report["download@c"].ok


def test_a_dataset_naming_other_sources_rules_depends_on_every_source(tmp_path: Path) -> None:
    files = {**SOURCE_FILES, "params.yaml": "datasets: {s1: {artifact_rules: [x]}}\n"}
    root = synthetic_repo(tmp_path, files)
    (root / "dvc.template.yaml").write_text(DATASET_TEMPLATE, encoding="utf-8")
    stage = yaml.safe_load(generate(root, SYNTHETIC_FAMILIES)["dvc.yaml"])["stages"]["download"]
    # Rules named in params are looked up in every source's catalogue.
    assert set(stage["foreach"]["s1"].values()) == {
        "src/fakenews/sources/s1.py",
        "src/fakenews/sources/s2.py",
    }


def test_an_empty_dataset_section_gives_an_empty_foreach(tmp_path: Path) -> None:
    files = {**SOURCE_FILES, "params.yaml": "datasets: {}\n"}
    root = synthetic_repo(tmp_path, files)
    (root / "dvc.template.yaml").write_text(DATASET_TEMPLATE, encoding="utf-8")
    stage = yaml.safe_load(generate(root, SYNTHETIC_FAMILIES)["dvc.yaml"])["stages"]["download"]
    assert stage["foreach"] == {}
    assert "${item.code1}" not in stage["do"]["deps"]


def test_fakenews_repro_finds_dataset_stages_that_params_outgrew(tmp_path: Path) -> None:
    from fakenews.core.errors import ParamsError
    from fakenews.orchestration.dataset_stages import stale_dataset_stages, sync_dataset_stages

    raw = yaml.safe_load((REPO / "params.yaml").read_text())
    assert stale_dataset_stages(REPO, raw) == []
    added = {**raw, "datasets": {**raw["datasets"], "welfake": {}}}
    assert stale_dataset_stages(REPO, added) == ["download", "prepare"]
    first = next(iter(raw["datasets"]))
    moved = {**raw, "datasets": {**raw["datasets"], first: {"source": "custom"}}}
    assert stale_dataset_stages(REPO, moved) == ["download", "prepare"]
    evaluated = {**raw, "evaluate_on": {"welfake": {}}}
    assert stale_dataset_stages(REPO, evaluated) == ["download-eval", "prepare-eval"]
    # Without the generator beside it, the check names what to do.
    shutil.copy(REPO / "dvc.yaml", tmp_path / "dvc.yaml")
    with pytest.raises(ParamsError, match="download, prepare do not list the datasets"):
        sync_dataset_stages(tmp_path, added)
    assert not sync_dataset_stages(tmp_path, raw)


def test_fakenews_repro_rewrites_the_dataset_stages_for_a_new_dataset(tmp_path: Path) -> None:
    from fakenews.orchestration.dataset_stages import stale_dataset_stages, sync_dataset_stages

    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in ("src", "stages", "tools", "pipelines"):
        shutil.copytree(REPO / name, tmp_path / name, ignore=ignore)
    for name in ("dvc.template.yaml", "dvc.yaml", "params.yaml"):
        shutil.copy2(REPO / name, tmp_path / name)
    raw = yaml.safe_load((tmp_path / "params.yaml").read_text())
    raw["datasets"]["welfake"] = {}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    before = yaml.safe_load((tmp_path / "dvc.yaml").read_text())["stages"]["prepare"]["foreach"]

    assert sync_dataset_stages(tmp_path, raw)
    assert stale_dataset_stages(tmp_path, raw) == []
    after = yaml.safe_load((tmp_path / "dvc.yaml").read_text())["stages"]["prepare"]["foreach"]
    sources = "src/fakenews/sources"
    # WELFake's source builds on ISOT's rules, which use CONSTRAINT's.
    assert {f"{sources}/{s}.py" for s in ("welfake", "isot", "constraint")} == set(
        after["welfake"].values()
    )
    assert {d: set(after[d].values()) for d in before} == {
        d: set(code.values()) for d, code in before.items()
    }
    assert not sync_dataset_stages(tmp_path, raw)
