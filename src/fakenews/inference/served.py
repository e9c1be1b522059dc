"""A trained model as it is served: its raw P(fake), the calibrated one, and the domain check.

:class:`ServedModel` joins a model folder with its two sidecars:

- its calibrator (``calibration.json``, :mod:`fakenews.analysis.calibration`), fitted on the run's
  validation split by the ``calibrate`` stage;
- the domain profile of its training texts (``domain/``, :mod:`fakenews.analysis.domain`),
  written by the ``domain`` stage.

They are looked for (a) inside the model folder (an exported bundle: the pyfunc's artifacts),
else (b) in the repository's layout, mirroring the model's folder::

    models/<train_set>/<model>/seed-<s>[/fold-<k>]
    data/calibration/<train_set>/<model>/seed-<s>[/fold-<k>]/calibration.json
    data/domain/<train_set>[/fold-<k>]/
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fakenews.analysis.calibration import CALIBRATION_FILE, CALIBRATION_FOLDER, Calibrator
from fakenews.analysis.domain import PROFILE_FILE, DomainProfile, domain_dir
from fakenews.classifier.base import TextClassifier
from fakenews.core.errors import ModelError
from fakenews.core.paths import Paths, find_repo_root
from fakenews.models import load_model

DOMAIN_DIR = "domain"  # inside an exported model folder


@dataclass
class ScoredTexts:
    """Per text: raw and calibrated P(fake), in-domain score and flag (numpy arrays)."""

    prob_raw: np.ndarray
    prob_fake: np.ndarray
    domain_score: np.ndarray
    in_domain: np.ndarray


@dataclass
class Sidecars:
    """Where a model folder's calibrator and domain profile are."""

    calibration: Path
    domain: Path


def repo_sidecars(model_dir: Path, root: Path | None = None) -> Sidecars:
    """The sidecar paths of a model folder under ``<root>/models`` (the repository layout)."""
    model_dir = Path(model_dir).resolve()
    paths = Paths((root or find_repo_root(model_dir)).resolve())
    try:
        parts = model_dir.relative_to(paths.models_root.resolve()).parts
    except ValueError:
        raise ModelError(
            f"{model_dir}: holds no {CALIBRATION_FILE} and {DOMAIN_DIR}/, and is not under "
            f"{paths.models_root} (where the calibrate and domain stages' outputs are found)"
        ) from None
    if len(parts) not in (3, 4) or not parts[2].startswith("seed-"):
        raise ModelError(
            f"{model_dir}: not a run folder models/<train_set>/<model>/seed-<s>[/fold-<k>]"
        )
    train_set, model, run = parts[:3]
    fold = parts[3:]
    return Sidecars(
        calibration=paths.root.joinpath(
            *CALIBRATION_FOLDER, train_set, model, run, *fold, CALIBRATION_FILE
        ),
        domain=domain_dir(paths, train_set).joinpath(*fold),
    )


def find_sidecars(model_dir: Path, root: Path | None = None) -> Sidecars:
    """The model folder's own sidecars when it holds both (an exported bundle), else the
    repository's (see the module docstring)."""
    inside = Sidecars(Path(model_dir) / CALIBRATION_FILE, Path(model_dir) / DOMAIN_DIR)
    if inside.calibration.is_file() and (inside.domain / PROFILE_FILE).is_file():
        return inside
    return repo_sidecars(model_dir, root)


def _stage_hint(kind: str, family: str, sidecar: Path, root: Path | None) -> str:
    # A union's outputs come from the -union stage group; its data lives in data/union/.
    parts = sidecar.parts
    where = parts.index("data") if "data" in parts else -1
    train_set = parts[where + 2] if where >= 0 and len(parts) > where + 2 else ""
    repo = root or find_repo_root(sidecar)
    union = bool(train_set) and (repo / "data" / "union" / train_set).is_dir()
    if kind == "calibration":
        group = f"calibrate-{family}" + ("-union" if union else "")
        return f"`dvc repro pipelines/{group}/dvc.yaml` (stage {group}) writes it"
    stage = "domain-union" if union else "domain"
    return f"`dvc repro {stage}@{train_set}` writes it"


@dataclass
class ServedModel:
    """A model with its calibrator and domain profile (see the module docstring)."""

    model: TextClassifier
    calibrator: Calibrator
    domain: DomainProfile
    directory: Path

    @classmethod
    def load(cls, model_dir: Path, root: Path | None = None) -> ServedModel:
        """Load a model folder and its sidecars; a missing sidecar is a :class:`ModelError`
        naming the file and the stage that writes it."""
        model_dir = Path(model_dir)
        model = load_model(model_dir)
        return cls.with_model(model, model_dir, root)

    @classmethod
    def with_model(
        cls, model: TextClassifier, model_dir: Path, root: Path | None = None
    ) -> ServedModel:
        """The same, for a model already loaded from ``model_dir``."""
        sidecars = find_sidecars(model_dir, root)
        if not sidecars.calibration.is_file():
            hint = _stage_hint("calibration", model.family, sidecars.calibration, root)
            raise ModelError(f"{model_dir}: no calibrator {sidecars.calibration}: {hint}")
        if not (sidecars.domain / PROFILE_FILE).is_file():
            hint = _stage_hint("domain", model.family, sidecars.domain, root)
            raise ModelError(f"{model_dir}: no domain profile {sidecars.domain}/: {hint}")
        try:
            calibrator = Calibrator.load(sidecars.calibration)
            domain = DomainProfile.load(sidecars.domain)
        except (OSError, ValueError, KeyError) as error:
            raise ModelError(f"{model_dir}: unreadable sidecar: {error}") from None
        fields = list(model.config.text_fields)
        if list(domain.text_fields) != fields:
            raise ModelError(
                f"{model_dir}: the model reads {fields} but its domain profile "
                f"{sidecars.domain} was built on {list(domain.text_fields)}"
            )
        return cls(model=model, calibrator=calibrator, domain=domain, directory=model_dir)

    @property
    def threshold(self) -> float:
        """The in-domain score a text needs to count as in domain."""
        return self.domain.threshold

    def score(self, texts: Sequence[str]) -> ScoredTexts:
        """Score the texts the model reads (``model_input`` of prepared rows). Empty texts are
        the caller's business."""
        raw = np.asarray(self.model.predict_proba(list(texts)), dtype=float)
        return self.scored(raw, texts)

    def scored(self, prob_raw: np.ndarray, texts: Sequence[str]) -> ScoredTexts:
        """Calibrate raw P(fake) already computed for ``texts`` and add the domain check."""
        domain_score = self.domain.score(texts)
        return ScoredTexts(
            prob_raw=np.asarray(prob_raw, dtype=float),
            prob_fake=self.calibrator.apply(prob_raw),
            domain_score=domain_score,
            in_domain=self.domain.in_domain(domain_score),
        )
