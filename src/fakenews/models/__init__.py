"""Model registry: every public module in this package but :data:`NOT_MODELS` is one model, named
like its file (:func:`known_models` lists them); ``families`` lists the families."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from fakenews.core.errors import ModelError, ParamsError
from fakenews.core.io import read_json, write_json
from fakenews.core.params import PER_DATASET, Params, format_validation_error
from fakenews.core.paths import MODEL_INFO_FILE

if TYPE_CHECKING:
    from fakenews.classifier.base import ModelConfig, TextClassifier

# Modules of this package that are not models.
NOT_MODELS = frozenset({"families"})


def known_models() -> list[str]:
    """The model names: this package's public modules, listed, not imported (no torch)."""
    return sorted(
        m.name
        for m in pkgutil.iter_modules([str(Path(__file__).parent)])
        if not m.name.startswith("_") and m.name not in NOT_MODELS
    )


MODEL_NAMES: list[str] = known_models()


def get_model_class(name: str) -> type[TextClassifier]:
    if name not in MODEL_NAMES:
        raise ModelError(f"unknown model {name!r}; known models: {', '.join(MODEL_NAMES)}")
    return importlib.import_module(f"fakenews.models.{name}").Model


def model_config(params: Params, model: str, dataset: str | None = None) -> ModelConfig:
    """``train.<model>`` (with ``per_dataset.<dataset>`` applied) as the model's typed Config."""
    key = f"train.{model}" + (f".{PER_DATASET}.{dataset}" if dataset else "")
    try:
        cls = get_model_class(model)
    except ModelError as error:
        raise ParamsError(f"params.yaml: {key}: {error}") from None
    try:
        return cls.Config(**params.model_section(model, dataset))
    except ValidationError as error:
        raise ParamsError(f"params.yaml: {format_validation_error(error, prefix=key)}") from None


def check_family(name: str, family: str) -> None:
    """A model listed under ``models.<family>`` must be of that family: dvc.yaml runs it in
    that family's stage group, whose deps name that family's code."""
    actual = get_model_class(name).family
    if actual != family:
        raise ParamsError(
            f"params.yaml: models.{family}: {name!r} belongs to family {actual!r}; "
            f"list it under models.{actual}"
        )


def check_model_params(params: Params) -> None:
    """Every ``models:`` entry and ``train.<model>`` section, as each model validates it.

    Imports every model listed (torch included): for ``fakenews check``, not for stages, which
    each validate only the model they run.
    """
    for family, names in params.models.items():
        for name in names:  # known names: parse_params checked them
            check_family(name, family)
    for model, section in params.train.items():
        if model not in MODEL_NAMES:
            raise ParamsError(
                f"params.yaml: train.{model}: unknown model; known models: {', '.join(MODEL_NAMES)}"
            )
        for dataset in (None, *(section.get(PER_DATASET) or {})):
            model_config(params, model, dataset)


def save_model(model: TextClassifier, directory: Path, extra: dict[str, Any]) -> None:
    """Write the model plus ``model.json`` (which model, its config) into ``directory``."""
    model.save(directory)
    write_json(
        directory / MODEL_INFO_FILE,
        {
            "model": model.name,
            "family": model.family,
            "config": model.config.model_dump(mode="json"),
            **extra,
        },
    )


def load_model(directory: Path, expected: str | None = None) -> TextClassifier:
    """Load a saved model folder; a missing, corrupt or mismatched folder gives ModelError."""
    directory = Path(directory)
    info_path = directory / MODEL_INFO_FILE
    if not info_path.is_file():
        raise ModelError(f"{directory}: not a model folder (no {MODEL_INFO_FILE})")
    try:
        info = read_json(info_path)
        name = info["model"]
    except (ValueError, KeyError, TypeError) as error:
        raise ModelError(f"{info_path}: unreadable ({error})") from None
    if expected is not None and name != expected:
        raise ModelError(f"{directory}: holds model {name!r}, expected {expected!r}")
    try:
        cls = get_model_class(name)
    except ModelError as error:
        raise ModelError(f"{info_path}: {error}") from None
    try:
        config: ModelConfig = cls.Config(**info.get("config", {}))
    except (ValidationError, TypeError) as error:
        # Saved by another version of fakenews, or edited by hand.
        raise ModelError(f"{info_path}: config does not fit model {name!r}: {error}") from None
    try:
        return cls.load(directory, config)
    except ModelError:
        raise
    except Exception as error:  # a truncated or foreign file surfaces as many error types
        raise ModelError(f"{directory}: cannot load {name!r} model: {error}") from error
