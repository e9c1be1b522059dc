"""End to end: `dvc repro` in a temporary git repo on generated data.

Covers the full DAG (audit and overlap included), the no-op rerun, the one-model rerun through
`dvc exp run -S`, a new dataset running only its own branch, the MLflow runs (one per train stage
execution), the registry (one version per dataset across reruns) and `fakenews predict`
reproducing the evaluate stage.

The ``study`` tests share one repo and its first `dvc repro` (module scope): they run in file
order, the read-only checks first; from ``test_a_params_variant_reruns_one_model_and_the_report``
on, each changes the repo (experiments, a new dataset) for the ones after it.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from helpers.news import CLAIM, custom_datasets, custom_options, generated_news, write_news
from helpers.params import tiny_params
from helpers.repo import (
    generate_dvc_yaml,
    make_repo,
    plain_names,
    run,
    stage_name,
    stages_run,
    target,
    write_params,
)

from fakenews.models import get_model_class

pytestmark = pytest.mark.slow

# The shrunk study: tfidf_logreg is seed-free (one run), lstm runs two seeds (a third is added
# by `dvc exp run -S` below).
MODELS = ["tfidf_logreg", "lstm"]
SEEDS_RUN = {"tfidf_logreg": [42], "lstm": [42, 43]}
DATASETS = ("alpha", "beta")


def study_params() -> dict[str, Any]:
    """The real params, shrunk: two generated datasets, the baseline and a small LSTM."""
    return tiny_params(
        custom_datasets(*DATASETS),
        MODELS,
        seeds={get_model_class(m).family: SEEDS_RUN[m] for m in MODELS},
        train={"lstm": {"epochs": 2, "max_len": 64, "embedding_dim": 16, "hidden_sizes": [16]}},
        # test_generalisation_end_to_end has unions and evaluate_on (none here).
        # 120 rows a dataset: below split.folds_below_rows, so each is scored by k-fold CV (3
        # folds here, for time).
        split={"folds": 3},
    )


def model_stage(stage: str, dataset: str, model: str, seed: int | None = None) -> str:
    """A stage's name; train/evaluate stages have one per seed (the first seed by default)."""
    if stage in ("transfer", "explain"):
        return stage_name(stage, dataset, model)
    return stage_name(stage, dataset, model, SEEDS_RUN[model][0] if seed is None else seed)


def seed_stages(stage: str, datasets: tuple[str, ...], models: tuple[str, ...]) -> set[str]:
    """Every seed's stage of ``stage`` for these datasets and models."""
    if stage in ("transfer", "explain"):
        return {model_stage(stage, d, m) for d in datasets for m in models}
    return {model_stage(stage, d, m, s) for d in datasets for m in models for s in SEEDS_RUN[m]}


def mlflow_runs(repo: Path) -> list[Any]:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{repo / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("fakenews")
    assert experiment is not None
    return client.search_runs([experiment.experiment_id])


def registered_versions(repo: Path, dataset: str) -> list[Any]:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{repo / 'mlflow.db'}")
    return client.search_model_versions(f"name = 'fakenews-{dataset}'")


@dataclass
class Study:
    repo: Path
    first: str  # the first `dvc repro`'s output
    n_runs: int  # the MLflow runs it logged


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Study:
    """The shrunk study's repo after its first `dvc repro` (run once for the module)."""
    repo = make_repo(tmp_path_factory.mktemp("study") / "repo", study_params())
    first = run(repo, "dvc", "repro")
    return Study(repo, first, len(mlflow_runs(repo)))


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A fresh repo of the shrunk study, nothing run yet."""
    return make_repo(tmp_path / "repo", study_params())


# --- the first `dvc repro` ---------------------------------------------------------------------


def test_the_first_repro_runs_every_stage(study: Study) -> None:
    repo = study.repo
    expected = {
        f"{stage}@{d}"
        for stage in ("download", "prepare", "split", "audit")
        for d in ("alpha", "beta")
    }
    for stage in ("train", "calibrate", "evaluate", "transfer", "explain"):
        expected |= seed_stages(stage, ("alpha", "beta"), ("tfidf_logreg", "lstm"))
    # embed@<dataset> runs per dataset; with no embedding model listed it writes an empty cache.
    embeds = {"embed@alpha", "embed@beta"}
    domains = {"domain@alpha", "domain@beta"}
    assert stages_run(study.first) == expected | embeds | domains | {"overlap", "report"}
    assert json.loads((repo / "data/embeddings/alpha/index.json").read_text())["keys"] == []


def test_every_row_is_scored_once_by_k_fold_and_audited(study: Study) -> None:
    repo = study.repo
    for dataset in ("alpha", "beta"):
        metrics = json.loads(
            (repo / "metrics" / dataset / "tfidf_logreg" / "seed-42.json").read_text()
        )
        assert metrics["accuracy"] > 0.8 and metrics["roc_auc"] > 0.8
        assert metrics["seed_free"] is True and metrics["folds"] == 3
        for seed in (42, 43):
            assert (repo / "metrics" / dataset / "lstm" / f"seed-{seed}.json").is_file()
            assert (
                len(list((repo / "models" / dataset / "lstm" / f"seed-{seed}").glob("fold-*"))) == 3
            )
        assert set(metrics["confusion_matrix"]) == {"tn", "fp", "fn", "tp"}
        predictions = pd.read_parquet(
            repo
            / "data"
            / "evaluation"
            / dataset
            / "tfidf_logreg"
            / "seed-42"
            / "predictions.parquet"
        )
        # k-fold: every row of the dataset is scored once, by the fold model that did not see it.
        prepared = pd.read_parquet(repo / "data" / "prepared" / dataset / "data.parquet")
        assert metrics["n"] == len(prepared) and sorted(predictions["id"]) == sorted(prepared["id"])
        assert len(predictions) == metrics["n"] and predictions["prob_fake"].between(0, 1).all()
        assert (repo / "plots" / dataset / "tfidf_logreg" / "seed-42" / "roc.json").is_file()
        assert metrics["reading"]["min_share"] == 1.0  # a bag of words reads every token
        audit = json.loads((repo / "metrics" / dataset / "audit.json").read_text())
        assert audit["passed"] and audit["duplicates"]["cross_split_groups"] == 0
        assert audit["probes"]["majority"]["accuracy"] > 0
    lstm = json.loads((repo / "plots" / "alpha" / "lstm" / "seed-42" / "training.json").read_text())
    assert [row["epoch"] for row in lstm["history"]] == [1, 2]


def quoting_rows(repo: Path) -> pd.Series:
    """The ids of beta's test rows that quote alpha's claim."""
    # beta is k-fold: its test rows, here and in transfer, are all of its rows.
    beta_test = pd.concat(
        pd.read_parquet(repo / "data" / "split" / "beta" / f"{name}.parquet")
        for name in ("train", "val", "test")
    )
    return beta_test.loc[beta_test["text"].str.contains(CLAIM, regex=False), "id"]


def test_overlap_finds_the_quoted_claim_by_containment(study: Study) -> None:
    repo = study.repo
    overlap = json.loads((repo / "metrics" / "overlap.json").read_text())
    assert set(overlap["pairs"]["alpha"]) == {"beta"}
    # alpha's claim sits in its train split and is quoted by beta test articles (if the split
    # changes and this fails, quote the claim in more beta rows): containment finds exactly those.
    alpha_train = pd.read_parquet(repo / "data" / "split" / "alpha" / "train.parquet")
    quoting = quoting_rows(repo)
    assert CLAIM in alpha_train["text"].tolist() and len(quoting) > 0
    contained = overlap["pairs"]["alpha"]["beta"]["containment"]
    assert contained["source_in_target"] == contained["test_rows"] == len(quoting)
    overlap_rows = json.loads((repo / "data" / "overlap" / "rows.json").read_text())["pairs"]
    assert sorted(overlap_rows["alpha"]["beta"]["containment"]) == sorted(quoting.astype(str))


def test_the_summary_pools_seeds_and_tests_nothing_on_two_runs(study: Study) -> None:
    repo = study.repo
    summary = json.loads((repo / "metrics" / "summary.json").read_text())
    assert set(summary) == {"alpha", "beta", "domain_gap", "across_datasets"}
    lstm_row = summary["alpha"]["lstm"]
    assert lstm_row["runs"] == 2 and lstm_row["seeds"] == [42, 43]
    assert lstm_row["accuracy_min"] <= lstm_row["accuracy"] <= lstm_row["accuracy_max"]
    per_seed = [
        json.loads((repo / "metrics" / "alpha" / "lstm" / f"seed-{s}.json").read_text())
        for s in (42, 43)
    ]
    assert lstm_row["accuracy"] == pytest.approx(
        np.mean([m["accuracy"] for m in per_seed]), abs=1e-6
    )
    assert lstm_row["accuracy_std"] == pytest.approx(
        np.std([m["accuracy"] for m in per_seed], ddof=1), abs=1e-6
    )
    assert summary["alpha"]["tfidf_logreg"]["seed_free"] is True
    # Two lstm runs: too few to test against anything, so nothing is marked worse.
    assert lstm_row["tested_against_best"] in (False, None)
    assert lstm_row["significantly_worse_than_best"] is False


def test_the_report_has_every_section_and_is_self_contained(study: Study) -> None:
    repo = study.repo
    report_md = (repo / "reports" / "report.md").read_text()
    assert "mean ± std" in report_md and "[95% CI]" in report_md
    assert "3-fold cross-validation" in report_md and "not tested" in report_md
    assert "## Across datasets" in report_md
    assert "## Cross-dataset transfer" in report_md and "AUC " in report_md
    assert "## Audit: leaks and shortcuts" in report_md and "| alpha |" in report_md
    assert "## What the models read" in report_md
    html = (repo / "reports" / "report.html").read_text()
    for section in (
        "leaderboard",
        "reading",
        "audit",
        "significance",
        "across",
        "confusion",
        "curves",
        "training",
        "calibration",
        "transfer",
        "efficiency",
        "errors",
    ):
        assert f"id='{section}'" in html, section
    # Self-contained: figures inline, nothing fetched from elsewhere.
    assert html.count("<svg") >= 10 and not re.search(r"(src|href)=[\"']https?:", html)


def test_transfer_scores_alpha_models_on_beta_with_and_without_overlap(study: Study) -> None:
    repo = study.repo
    overlap = json.loads((repo / "metrics" / "overlap.json").read_text())
    overlap_rows = json.loads((repo / "data" / "overlap" / "rows.json").read_text())["pairs"]
    removed = {i for ids in overlap_rows["alpha"]["beta"].values() for i in ids}
    report_md = (repo / "reports" / "report.md").read_text()
    transfer = json.loads(
        (repo / "metrics" / "alpha" / "transfer" / "tfidf_logreg.json").read_text()
    )
    assert set(transfer["targets"]) == {"beta"} and transfer["seed"] == 42
    # A k-fold source transfers its reference run's best-validation fold model.
    assert re.fullmatch(r"models/alpha/tfidf_logreg/seed-42/fold-\d", transfer["model_dir"])
    beta = transfer["targets"]["beta"]
    assert set(beta["ci"]) == {"accuracy", "f1_macro", "roc_auc"} and beta["constant"] is False
    assert beta["ci"]["roc_auc"]["low"] <= beta["roc_auc"] <= beta["ci"]["roc_auc"]["high"]
    without = beta["without_overlap"]
    assert (without["n"], without["n_removed"]) == (beta["n"] - len(removed), len(removed))
    assert "### Transfer without the rows that overlap the training data" in report_md
    assert f"| alpha → beta | {overlap['pairs']['alpha']['beta']['near']} |" in report_md


def test_dvc_shows_the_plots_and_metrics(study: Study) -> None:
    plots = run(study.repo, "dvc", "plots", "show", "--json")
    assert "plots/curves/roc.json" in plots and "plots/curves/pr.json" in plots
    shown = run(study.repo, "dvc", "metrics", "show", "--json")
    assert "alpha" in shown and "accuracy" in shown
    # The headline only, one screen: the per-run detail is shown on request.
    table = run(study.repo, "dvc", "metrics", "show").splitlines()
    assert len(table) <= 150 and max(map(len, table)) <= 250
    assert any("headline/alpha/lstm.json" in line for line in table)
    assert not any(line.startswith("metrics/") for line in table)
    assert "confusion_matrix" in run(study.repo, "dvc", "metrics", "show", "metrics/alpha/lstm")


# --- what the first `dvc repro` tracked, registered and serves ----------------------------------


def test_mlflow_holds_a_run_per_stage_execution(study: Study, real_params: dict[str, Any]) -> None:
    # MLflow: one parent per dataset x model, a train and an evaluate child per seed, each with
    # its own true duration, the split as its dataset input; a model-training experiment.
    repo = study.repo
    runs = mlflow_runs(repo)
    assert len(runs) == study.n_runs
    kinds = [r.data.tags.get("fakenews.run_kind") for r in runs]
    n_seeded = 2 * sum(len(s) for s in SEEDS_RUN.values())  # (dataset, model, seed) triples
    folds = 3 * n_seeded  # each train run holds one child run per fold
    assert sorted(kinds) == sorted(
        ["parent"] * 4 + ["train"] * n_seeded + ["evaluate"] * n_seeded + ["register"] * 2
        + ["fold"] * folds
    )  # fmt: skip
    by_id = {r.info.run_id: r for r in runs}
    manifests = {
        d: json.loads((repo / "data" / "split" / d / "manifest.json").read_text())
        for d in ("alpha", "beta")
    }
    for r in runs:
        tags = r.data.tags
        assert tags["fakenews.model"] in {"tfidf_logreg", "lstm"}
        if tags["fakenews.run_kind"] == "parent":
            continue
        parent = by_id[tags["mlflow.parentRunId"]]
        if tags["fakenews.run_kind"] == "fold":  # under its seed's train run
            assert parent.data.tags["fakenews.run_kind"] == "train"
            assert "val_accuracy" in r.data.metrics and " fold-" in r.info.run_name
            if tags["fakenews.model"] == "lstm":
                assert "val_loss" in r.data.metrics  # per-epoch curve, logged as step metrics
            continue
        assert parent.data.tags["fakenews.run_kind"] == "parent"
        assert parent.data.tags["fakenews.dataset"] == tags["fakenews.dataset"]
        if tags["fakenews.run_kind"] == "register":
            continue
        (split_input,) = r.inputs.dataset_inputs
        dataset = tags["fakenews.dataset"]
        assert split_input.dataset.name == f"{dataset}-split"
        assert split_input.dataset.digest == manifests[dataset]["hash"][:12]
        if tags["fakenews.run_kind"] == "train":
            assert tags["git_commit"] != "unknown" and "data_hash" in tags
            assert "val_accuracy" in r.data.metrics
            assert "test_accuracy" not in r.data.metrics
            if tags["fakenews.model"] == "tfidf_logreg":
                assert r.data.params["C"] == str(real_params["train"]["tfidf_logreg"]["C"])
            # Its duration is the fit's: evaluation runs later, in a run of its own.
            evaluations = [
                e for e in runs
                if e.data.tags.get("fakenews.run_kind") == "evaluate"
                and e.data.tags["mlflow.parentRunId"] == tags["mlflow.parentRunId"]
                and e.data.tags["fakenews.seed"] == tags["fakenews.seed"]
            ]  # fmt: skip
            (evaluation,) = evaluations
            assert r.info.end_time <= evaluation.info.start_time
            assert "test_accuracy" in evaluation.data.metrics
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{repo / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("fakenews")
    assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"


def test_fakenews_predict_gives_what_evaluate_got(study: Study) -> None:
    # `fakenews predict <dataset>/<model>` serves the best-validation run's best fold model: it
    # gives the probabilities evaluate got from that model on its test fold.
    from fakenews.inference.predict import resolve_model_dir

    repo = study.repo
    for model in ("tfidf_logreg", "lstm"):
        served = resolve_model_dir(f"alpha/{model}", root=repo)
        seed_dir, fold = served.parent.name, served.name
        assert seed_dir.startswith("seed-") and fold.startswith("fold-")
        scored = repo.parent / "scored" / f"{model}.parquet"  # outside the git repo
        fold_test = f"data/split/alpha/folds/{fold}/test.parquet"
        run(repo, sys.executable, "-m", "fakenews.cli.main", "predict", "--model",
            f"alpha/{model}", "--input", fold_test, "--output", str(scored))  # fmt: skip
        evaluated = pd.read_parquet(
            repo / "data" / "evaluation" / "alpha" / model / seed_dir / "predictions.parquet"
        ).set_index("id")
        predicted = pd.read_parquet(scored)
        # The calibrated P(fake) and the domain check, as evaluate got them.
        expected = evaluated.loc[predicted["id"].astype(str)]
        np.testing.assert_allclose(predicted["prob_fake"], expected["prob_fake"], atol=1e-6)
        np.testing.assert_allclose(
            predicted["in_domain_score"], expected["domain_score"], atol=1e-6
        )
        assert predicted["in_domain"].tolist() == expected["in_domain"].tolist()


def test_the_registry_holds_each_datasets_best_model(study: Study) -> None:
    # The report registered each dataset's best model by mean validation F1 over its runs
    # (ties: first listed), serving its best-validation run.
    repo = study.repo
    summary = json.loads((repo / "metrics" / "summary.json").read_text())
    models = MODELS
    for dataset in ("alpha", "beta"):
        val_f1 = {
            m: {
                seed: json.loads(
                    (repo / "models" / dataset / m / f"seed-{seed}" / "run.json").read_text()
                )["training"]["val"]["f1_macro"]
                for seed in SEEDS_RUN[m]
            }
            for m in models
        }
        mean = {m: float(np.mean(list(v.values()))) for m, v in val_f1.items()}
        (version,) = registered_versions(repo, dataset)
        best = max(models, key=lambda m: (mean[m], -models.index(m)))
        assert version.tags["fakenews.model"] == best
        best_seed = max(SEEDS_RUN[best], key=lambda s: (val_f1[best][s], -s))
        assert version.tags["fakenews.seed"] == str(best_seed)
        assert "data_hash" in version.tags and version.run_id
        # One "best": the report's ★ and summary.json name the registry's model.
        assert [m for m in models if summary[dataset][m]["best"]] == [best]
        assert summary[dataset][best]["serving_seed"] == best_seed
        assert f"★ {best} |" in (repo / "reports" / "report.md").read_text()


# --- reruns: what each change invalidates --------------------------------------------------------


def test_a_second_repro_does_nothing_and_logs_nothing(study: Study) -> None:
    # A second repro does nothing, and logs nothing; a forced report registers nothing new.
    repo = study.repo
    report_before = (repo / "reports" / "report.md").read_bytes()
    assert stages_run(run(repo, "dvc", "repro")) == set()
    assert stages_run(run(repo, "dvc", "repro", "--force", "--single-item", "report")) == {"report"}
    assert json.loads(run(repo, "dvc", "status", "--json")) == {}
    assert len(mlflow_runs(repo)) == study.n_runs
    assert (repo / "reports" / "report.md").read_bytes() == report_before
    assert [len(registered_versions(repo, d)) for d in ("alpha", "beta")] == [1, 1]


def test_code_edits_invalidate_exactly_the_stages_that_run_that_code(study: Study) -> None:
    # dvc.yaml deps are true: an edit changes the stages that import the edited module only.
    repo = study.repo
    every_stage = plain_names(run(repo, "dvc", "stage", "list", "--all", "--name-only").split())
    model_stages = {
        m: set().union(
            *(
                seed_stages(s, ("alpha", "beta"), (m,))
                for s in ("train", "calibrate", "evaluate", "transfer", "explain")
            )
        )
        for m in MODELS
    }
    # Every explain stage runs inference/attribution.py, whose torch families' code it imports
    # lazily (nn/recurrent.py and what it imports): listed for each family.
    every_explain = seed_stages("explain", ("alpha", "beta"), tuple(MODELS))
    for edited, expected_changed in (
        ("src/fakenews/nn/recurrent.py", model_stages["lstm"] | every_explain | {"report"}),
        # No transformer here; embed@ loads its frozen encoder through nn/encoder.py, which the
        # transformer family shares, not through nn/transformer.py.
        ("src/fakenews/nn/encoder.py", {"report", "embed@alpha", "embed@beta"}),
        ("src/fakenews/nn/transformer.py", {"report"}),
        ("src/fakenews/models/tfidf_logreg.py", model_stages["tfidf_logreg"] | {"report"}),
        # A dataset's download and prepare run its own source module only (both are custom).
        (
            "src/fakenews/sources/custom.py",
            {f"{s}@{d}" for s in ("download", "prepare") for d in ("alpha", "beta")},
        ),
        ("src/fakenews/sources/liar.py", set()),
        (
            "src/fakenews/analysis/near_duplicates.py",
            {"split@alpha", "split@beta", "audit@alpha", "audit@beta", "overlap"},
        ),
        ("src/fakenews/analysis/containment.py", {"overlap"}),
        (
            "src/fakenews/analysis/overlap_rows.py",  # which rows are a dataset's test rows
            {model_stage("transfer", d, m) for d in ("alpha", "beta") for m in MODELS}
            | {"overlap"},
        ),
        ("src/fakenews/core/io.py", None),  # every stage: io.py writes and reads every output
    ):
        original = (repo / edited).read_text()
        (repo / edited).write_text(original + "# an edit\n")
        changed = plain_names(json.loads(run(repo, "dvc", "status", "--json")))
        (repo / edited).write_text(original)
        assert changed == (every_stage if expected_changed is None else expected_changed), edited
    assert json.loads(run(repo, "dvc", "status", "--json")) == {}


def test_editing_a_custom_datasets_file_reruns_its_branch(study: Study) -> None:
    # Editing a custom dataset's file in place reruns its branch (the folder is a dependency).
    repo = study.repo
    csv = repo / "data" / "external" / "alpha" / "alpha.csv"
    saved = csv.read_bytes()
    csv.write_bytes(saved + b"extra headline,extra body words here,FAKE\n")
    assert "download@alpha" in json.loads(run(repo, "dvc", "status", "--json"))
    csv.write_bytes(saved)
    assert json.loads(run(repo, "dvc", "status", "--json")) == {}


NEW_FAMILY_MODEL = """\
\"\"\"`newfam_model`: a new family's one model (tfidf_logreg's code).\"\"\"

from fakenews.models import tfidf_logreg


class Model(tfidf_logreg.Model):
    name = "newfam_model"
    family = "newfam"
"""


def test_adding_a_family_by_the_recipe_reruns_no_existing_stage_but_the_report(
    study: Study,
) -> None:
    """README "A family", step by step: the family in FAMILIES, a model module naming it, its
    `models:`, `seeds:` and `union_models:` keys and the model's `train:` section, then
    `make dvc-yaml`. Of the stages that ran, `dvc status` shows only the report (the new
    family's stages are new). Everything is put back afterwards."""
    repo = study.repo
    existing = plain_names(run(repo, "dvc", "stage", "list", "--all", "--name-only").split())
    families_file = repo / "src" / "fakenews" / "models" / "families.py"
    module = repo / "src" / "fakenews" / "models" / "newfam_model.py"
    saved = {p: p.read_text() for p in [repo / "params.yaml", families_file]}
    saved.update({p: p.read_text() for p in repo.glob("**/dvc.yaml")})
    try:
        text = families_file.read_text()
        families_file.write_text(text.replace("\n}\n", '\n    "newfam": "newfam_model",\n}\n'))
        module.write_text(NEW_FAMILY_MODEL)
        params = yaml.safe_load((repo / "params.yaml").read_text())
        params["models"]["newfam"] = ["newfam_model"]
        params["seeds"]["newfam"] = [42]
        params["union_models"]["newfam"] = ["newfam_model"]
        params["train"]["newfam_model"] = dict(params["train"]["tfidf_logreg"])
        write_params(repo, params)
        generate_dvc_yaml(repo)  # make dvc-yaml
        status = plain_names(json.loads(run(repo, "dvc", "status", "--json")))
        assert status & existing == {"report"}
        assert {s for s in status - existing if not s.startswith("report")} == {
            f"{stage}-newfam@{d}-newfam_model{suffix}"
            for stage, suffix in (
                ("train", "-42"),
                ("calibrate", "-42"),
                ("evaluate", "-42"),
                ("transfer", ""),
                ("explain", ""),
            )
            for d in DATASETS
        }
    finally:
        for path, text in saved.items():
            path.write_text(text)
        module.unlink(missing_ok=True)
        for group in repo.glob("pipelines/*newfam*"):
            shutil.rmtree(group)
    assert json.loads(run(repo, "dvc", "status", "--json")) == {}


NEW_SOURCE = """\
\"\"\"delta: a made-up source (headline, body, verdict FAKE/TRUE), its file placed by hand.\"\"\"

from pathlib import Path

import pandas as pd

from fakenews.sources.base import (
    ROW,
    RemoteFile,
    Source,
    finish,
    lower,
    map_labels,
    read_rows,
    require_columns,
    standard_frame,
)
from fakenews.sources.options import DatasetConfig


def load(raw_dir: Path, options: DatasetConfig) -> pd.DataFrame:
    path = raw_dir / "delta.csv"
    table = read_rows(path)
    require_columns(table, path, ("headline", "body", "verdict"))
    labels = map_labels(lower(table["verdict"]), {"fake": 1, "true": 0}, table[ROW], path)
    ids = "row-" + table[ROW].astype(str)
    title, text = table["headline"], table["body"]
    return finish([standard_frame(table, ids=ids, label=labels, title=title, text=text)])


SOURCE = Source(
    name="delta",
    title="delta (made up for the recipe test)",
    homepage="https://example.org/delta",
    manual="Place delta.csv in data/external/delta/.",
    files=(RemoteFile("delta.csv"),),
    load=load,
)
"""


def test_adding_a_dataset_by_the_recipe_reruns_only_what_reads_it(study: Study) -> None:
    """README "A built-in dataset", step by step: the source module, its data/external/ folder
    (README and the file placed by hand), its `datasets:` entry, then `make dvc-yaml` (what
    `fakenews repro` does on its own when `datasets:` changed). No existing dataset's stages are
    invalidated (each depends on its own source module only): `dvc status` shows the new
    dataset's stages, `overlap`, the report and the existing models' transfers (they score every
    dataset's test split). This study has no unions (tiny_params: `union_rule: custom`); with the
    derived ones the unions it joins would rerun too (tests/test_unions.py). The new dataset's
    download and prepare run. Everything is put back afterwards."""
    repo = study.repo
    existing = plain_names(run(repo, "dvc", "stage", "list", "--all", "--name-only").split())
    module = repo / "src" / "fakenews" / "sources" / "delta.py"
    external = repo / "data" / "external" / "delta"
    saved = {p: p.read_text() for p in [repo / "params.yaml", *repo.glob("**/dvc.yaml")]}
    saved.update({p: p.read_text() for p in repo.glob("**/dvc.lock")})
    saved.update({p: p.read_text() for p in repo.glob("data/*/.gitignore")})
    try:
        module.write_text(NEW_SOURCE)
        external.mkdir()
        (external / "README.md").write_text("# data/external/delta/: delta.csv, placed by hand\n")
        news = generated_news(seed=4)
        news.to_csv(external / "delta.csv", index=False)
        params = yaml.safe_load((repo / "params.yaml").read_text())
        params["datasets"]["delta"] = {}
        (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
        generate_dvc_yaml(repo)  # make dvc-yaml
        status = plain_names(json.loads(run(repo, "dvc", "status", "--json")))
        transfers = {s for s in existing if s.startswith("transfer-")}
        assert transfers  # the study's models transfer to every dataset
        assert status & existing == {"report", "overlap"} | transfers
        kinds = ("download", "prepare", "split", "audit", "embed", "domain")
        new = {f"{kind}@delta" for kind in kinds}
        per_model = ("train-", "calibrate-", "evaluate-")
        new |= {s for s in status - existing if s.startswith(per_model)}
        assert new <= status
        assert all("@delta-" in s for s in new if s.startswith(per_model))
        assert stages_run(run(repo, "dvc", "repro", "prepare@delta")) == {
            "download@delta",
            "prepare@delta",
        }
        prepared = pd.read_parquet(repo / "data" / "prepared" / "delta" / "data.parquet")
        assert len(prepared) == len(news)
    finally:
        for path, text in saved.items():
            path.write_text(text)
        module.unlink(missing_ok=True)
        for folder in (
            external,
            repo / "data" / "raw" / "delta",
            repo / "data" / "prepared" / "delta",
        ):
            shutil.rmtree(folder, ignore_errors=True)
    assert json.loads(run(repo, "dvc", "status", "--json")) == {}


# --- changes that stay: experiments and a new dataset (these tests change the repo) -------------


def test_a_params_variant_reruns_one_model_and_the_report(study: Study) -> None:
    # A variant of one model's params reruns that model's train/evaluate and the report only.
    repo = study.repo
    exp = run(repo, "dvc", "exp", "run", "-S", "train.tfidf_logreg.C=0.5", "-n", "low-c")
    assert stages_run(exp) == {
        model_stage(stage, d, "tfidf_logreg")
        for stage in ("train", "calibrate", "evaluate", "transfer", "explain")
        for d in ("alpha", "beta")
    } | {"report"}
    runs = mlflow_runs(repo)
    # A new config: a new parent per dataset, and its train, fold and evaluate runs (plus a
    # register run per dataset where it became the best model).
    registered = sum(r.data.tags.get("fakenews.run_kind") == "register" for r in runs)
    assert len(runs) - registered == study.n_runs - 2 + 2 * (1 + 1 + 3 + 1)
    low_c = [r for r in runs if r.data.tags.get("dvc_experiment") == "low-c"]
    assert sorted(r.data.tags["fakenews.run_kind"] for r in low_c) == ["fold"] * 6 + ["train"] * 2


def test_adding_a_seed_trains_only_that_seed_and_removing_it_retrains_nothing(
    study: Study,
) -> None:
    # Adding a seed trains and evaluates only that seed, then the report; no transfer reruns
    # (it uses the first seed). With 3 runs, lstm is now tested against the seed-free model.
    repo = study.repo
    exp = run(repo, "dvc", "exp", "run", "-S", "seeds.recurrent=[42,43,44]", "-n", "seed-44")
    assert stages_run(exp) == {
        model_stage(stage, d, "lstm", 44)
        for stage in ("train", "calibrate", "evaluate")
        for d in ("alpha", "beta")
    } | {"report"}
    summary = json.loads((repo / "metrics" / "summary.json").read_text())
    for dataset in ("alpha", "beta"):
        assert summary[dataset]["lstm"]["runs"] == 3
        tested = [summary[dataset][m]["tested_against_best"] for m in MODELS]
        assert True in tested  # the non-best model, against the best
    shown = run(repo, "dvc", "exp", "show", "--json")
    assert "seed-44" in shown
    # Removing it again retrains nothing.
    exp = run(repo, "dvc", "exp", "run", "-S", "seeds.recurrent=[42,43]", "-n", "no-44")
    assert stages_run(exp) <= {"report"}


def test_a_new_dataset_runs_only_its_own_branch_and_the_transfers_to_it(study: Study) -> None:
    # A new dataset runs only its own branch, plus the existing models' transfer to its test
    # split (nothing is retrained or re-evaluated), and the report.
    repo = study.repo
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["datasets"]["gamma"] = custom_options("gamma")
    write_params(repo, params)
    assert stages_run(run(repo, "dvc", "repro")) == {
        "download@gamma",
        "prepare@gamma",
        "split@gamma",
        "audit@gamma",
        "embed@gamma",
        "domain@gamma",
        "overlap",
        *seed_stages("train", ("gamma",), ("tfidf_logreg", "lstm")),
        *seed_stages("calibrate", ("gamma",), ("tfidf_logreg", "lstm")),
        *seed_stages("evaluate", ("gamma",), ("tfidf_logreg", "lstm")),
        *seed_stages("explain", ("gamma",), ("tfidf_logreg", "lstm")),
        *(
            model_stage("transfer", d, m)
            for d in ("alpha", "beta", "gamma")
            for m in ("tfidf_logreg", "lstm")
        ),
        "report",
    }


# --- fresh repos -------------------------------------------------------------------------------


def test_same_params_give_identical_split_and_metrics(repo: Path) -> None:
    run(
        repo,
        "dvc",
        "repro",
        target(model_stage("evaluate", "alpha", "tfidf_logreg")),
        target(model_stage("evaluate", "alpha", "lstm")),
    )
    split_dir = repo / "data" / "split" / "alpha"
    split = {
        str(p.relative_to(split_dir)): p.read_bytes() for p in split_dir.rglob("*") if p.is_file()
    }
    # Only evaluate ran (the report publishes metrics/): its cached metrics.json.
    evaluation = repo / "data" / "evaluation" / "alpha"
    before = {
        m: (evaluation / m / "seed-42" / "metrics.json").read_bytes()
        for m in ("tfidf_logreg", "lstm")
    }
    stages = ["split@alpha"] + [
        model_stage(s, "alpha", m) for m in ("tfidf_logreg", "lstm") for s in ("train", "evaluate")
    ]
    for stage in stages:
        assert stages_run(run(repo, "dvc", "repro", "--force", "-s", target(stage))) == {stage}
    again = {
        str(p.relative_to(split_dir)): p.read_bytes() for p in split_dir.rglob("*") if p.is_file()
    }
    assert again == split
    for model, metrics in before.items():
        # Byte for byte: no wall time (efficiency holds parameters and size on disk only).
        assert (evaluation / model / "seed-42" / "metrics.json").read_bytes() == metrics, model


def test_generalisation_end_to_end(tmp_path: Path) -> None:
    """Unions, leave-one-dataset-out and an evaluation-only dataset through `dvc repro`, with the
    baseline and the embedding family (the packaged MiniLM, frozen)."""
    params = tiny_params(
        custom_datasets("alpha", "beta"),
        ["tfidf_logreg", "minilm_embed"],
        seeds=42,
        unions={"both": ["alpha", "beta"], "without_alpha": ["beta"]},
        split={"folds": 3},
    )
    repo = make_repo(tmp_path / "repo", params)
    models = ("tfidf_logreg", "minilm_embed")
    family = {m: get_model_class(m).family for m in models}

    first = stages_run(run(repo, "dvc", "repro"))
    for union in ("both", "without_alpha"):
        assert f"union@{union}" in first
        for model in models:
            assert f"train-{family[model]}-union@{union}-{model}" in first
            assert f"transfer-{family[model]}-union@{union}-{model}" in first
            assert f"calibrate-{family[model]}-union@{union}-{model}" in first
        assert f"domain-union@{union}" in first
    assert {"embed@alpha", "embed@beta"} <= first
    both = json.loads((repo / "data/transfer/both/minilm_embed.json").read_text())
    assert {t: v["role"] for t, v in both["targets"].items()} == {
        "alpha": "member",
        "beta": "member",
    }
    # A union member is scored on its test split only: the union trained on its train rows.
    alpha_test = pd.read_parquet(repo / "data/split/alpha/test.parquet")
    assert both["targets"]["alpha"]["n"] == len(alpha_test)
    lodo = json.loads((repo / "data/transfer/without_alpha/tfidf_logreg.json").read_text())
    assert lodo["targets"]["alpha"]["role"] == "held_out"
    # A k-fold dataset left out is scored on every row, as its own models are.
    splits = ("train", "val", "test")
    assert lodo["targets"]["alpha"]["n"] == sum(
        len(pd.read_parquet(repo / f"data/split/alpha/{s}.parquet")) for s in splits
    )
    summary = json.loads((repo / "metrics/summary.json").read_text())
    general = summary["generalisation"]
    assert general["lodo_unions"] == {"alpha": "without_alpha"}
    for model in models:
        cell = general["lodo"][model]["alpha"]
        assert cell["roc_auc"] is not None and cell["low"] <= cell["roc_auc"] <= cell["high"]
    assert general["transfers_best"] in {
        get_model_class(m).family for m in ("tfidf_logreg", "minilm_embed")
    }
    report = (repo / "reports/report.md").read_text()
    assert "### Leave-one-dataset-out (ROC-AUC)" in report
    assert "### Union both (ROC-AUC)" in report

    # An evaluation-only dataset: its own branch, every transfer and the report; no training.
    write_news(repo, "omega", 7)
    params["evaluate_on"] = {"omega": custom_options("omega")}
    write_params(repo, params)
    stage_names = plain_names(run(repo, "dvc", "stage", "list", "--all", "--name-only").split())
    assert not [s for s in stage_names if "omega" in s and not s.endswith("@omega")]
    assert {"download-eval@omega", "prepare-eval@omega", "holdout@omega"} <= set(stage_names)
    second = stages_run(run(repo, "dvc", "repro"))
    assert {"download-eval@omega", "prepare-eval@omega", "holdout@omega", "overlap"} <= second
    assert not {s for s in second if s.startswith(("train-", "evaluate-", "embed@"))}, second
    allowed = ("download-eval@", "prepare-eval@", "holdout@", "overlap", "union@", "transfer-",
               "report")  # fmt: skip
    assert all(s.startswith(allowed) for s in second), second
    transfers = {s for s in second if s.startswith("transfer-")}
    assert len(transfers) == 2 * len(models) + 2 * len(models)  # per dataset and per union
    omega_rows = len(pd.read_parquet(repo / "data/split/omega/test.parquet"))
    for source in ("alpha", "beta", "both", "without_alpha"):
        for model in models:
            scored = json.loads((repo / f"data/transfer/{source}/{model}.json").read_text())
            assert scored["targets"]["omega"]["role"] == "eval_only"
            assert scored["targets"]["omega"]["n"] == omega_rows
    summary = json.loads((repo / "metrics/summary.json").read_text())
    assert summary["alpha"]["tfidf_logreg"]["transfer_roc_auc_omega"] is not None
    assert set(summary["generalisation"]["eval_only"]["omega"]["minilm_embed"]) == {
        "alpha", "beta", "both", "without_alpha"
    }  # fmt: skip
    report = (repo / "reports/report.md").read_text()
    assert "### Evaluation-only: omega (ROC-AUC)" in report
    overlap = json.loads((repo / "metrics/overlap.json").read_text())
    assert "omega" in overlap["pairs"]["alpha"] and "omega" not in overlap["pairs"]
    # Nothing is trained on it, and a second run has nothing to do.
    assert not (repo / "models/omega").exists()
    assert stages_run(run(repo, "dvc", "repro")) == set()
