"""ServedModel: a model folder with its calibrator and domain profile, found beside or inside it."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from helpers.tiny_models import toy_rows, train_folder

from fakenews.analysis.calibration import Calibrator, calibration_dir
from fakenews.analysis.domain import DomainConfig, DomainProfile, domain_dir
from fakenews.classifier.base import model_input
from fakenews.core.errors import ModelError
from fakenews.core.paths import Paths
from fakenews.inference.served import DOMAIN_DIR, ServedModel, repo_sidecars

CONFIG = DomainConfig(sample=50, k=3, min_df=1, hash_bits=12)


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repo with one trained run and its two sidecars where the stages write them."""
    root = tmp_path_factory.mktemp("repo")
    (root / "dvc.yaml").write_text("stages: {}\n", encoding="utf-8")
    paths = Paths(root)
    model_dir = paths.run("demo", "tfidf_logreg", 42)
    model_dir.parent.mkdir(parents=True)
    train_folder(model_dir, "tfidf_logreg", sidecars=False, min_df=1)
    served_model = __import__("fakenews.models", fromlist=["load_model"]).load_model(model_dir)
    val = toy_rows(40, seed=1)
    texts = model_input(val, ["title", "text"])
    raw = served_model.predict_proba(texts)
    Calibrator.fit("platt", raw, val["label"].to_numpy()).save(
        calibration_dir(paths, "demo", "tfidf_logreg", 42) / "calibration.json"
    )
    train_texts = model_input(toy_rows(64), ["title", "text"])
    DomainProfile.fit(train_texts, texts, CONFIG).save(domain_dir(paths, "demo"))
    return root


def test_scores_are_calibrated_and_checked(repo: Path) -> None:
    paths = Paths(repo)
    served = ServedModel.load(paths.run("demo", "tfidf_logreg", 42))
    texts = [*model_input(toy_rows(10, seed=2), ["title", "text"]), "quantum chromodynamics"]
    out = served.score(texts)
    raw = served.model.predict_proba(texts)
    np.testing.assert_array_equal(out.prob_raw, raw)
    np.testing.assert_array_equal(out.prob_fake, served.calibrator.apply(raw))
    assert out.in_domain.dtype == bool and out.domain_score.shape == (11,)
    assert not out.in_domain[-1] and out.in_domain[:-1].mean() > 0.5


def test_sidecar_paths_mirror_the_run_folder(tmp_path: Path) -> None:
    root = tmp_path
    side = repo_sidecars(root / "models" / "d" / "m" / "seed-1" / "fold-2", root)
    assert side.calibration == root / "data/calibration/d/m/seed-1/fold-2/calibration.json"
    assert side.domain == root / "data/domain/d/fold-2"
    with pytest.raises(ModelError, match="not a run folder"):
        repo_sidecars(root / "models" / "d" / "m", root)
    with pytest.raises(ModelError, match="is not under"):
        repo_sidecars(tmp_path / "elsewhere", root)


def test_missing_sidecar_names_file_and_stage(repo: Path, tmp_path: Path) -> None:
    copy = tmp_path / "repo"
    shutil.copytree(repo, copy)
    paths = Paths(copy)
    shutil.rmtree(domain_dir(paths, "demo"))
    with pytest.raises(ModelError, match=r"no domain profile .*data/domain/demo.*domain@demo"):
        ServedModel.load(paths.run("demo", "tfidf_logreg", 42), copy)
    shutil.rmtree(copy / "data" / "calibration")
    with pytest.raises(ModelError, match=r"calibration\.json.*calibrate-linear"):
        ServedModel.load(paths.run("demo", "tfidf_logreg", 42), copy)


def test_bundle_sidecars_inside_the_folder_win(repo: Path, tmp_path: Path) -> None:
    paths = Paths(repo)
    bundle = tmp_path / "bundle"
    shutil.copytree(paths.run("demo", "tfidf_logreg", 42), bundle)
    shutil.copy(calibration_dir(paths, "demo", "tfidf_logreg", 42) / "calibration.json", bundle)
    shutil.copytree(domain_dir(paths, "demo"), bundle / DOMAIN_DIR)
    served = ServedModel.load(bundle)
    reference = ServedModel.load(paths.run("demo", "tfidf_logreg", 42))
    texts = ["shocking secret hoax", "officials reported data"]
    np.testing.assert_array_equal(served.score(texts).prob_fake, reference.score(texts).prob_fake)
