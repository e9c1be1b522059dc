"""What prepare does to one row's text, as a value that travels with every trained model.

prepare cleans each field (``clean_text``) and strips the source's artifact rules from the body;
a model learns from that text only. :class:`TextPreparation` is exactly that per-row transform:
prepare applies it to every row it loads, training records it in ``model.json`` (the rules'
patterns included, so a later edit of a source's rules in ``fakenews/sources/<name>.py`` cannot
change what a saved model serves), and ``fakenews predict``, the MLflow pyfunc and ``transfer``
apply the model's own copy to raw text. Row-level steps (dropping empty rows and duplicates,
label checks) are properties of a dataset, not of one text, and are not part of it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from fakenews.core.errors import DatasetError, ModelError
from fakenews.core.io import read_json
from fakenews.text.cleaning import PrepareConfig, clean_text

if TYPE_CHECKING:  # the rules are the sources': a saved preparation holds its own patterns
    from fakenews.text.artifacts import ArtifactRule

# prepare keeps each field as loaded, before any clean-up, next to the prepared one: transfer
# feeds it to other datasets' models, which prepare it their own way, as a deployed model would.
RAW_COLUMNS = {"title": "raw_title", "text": "raw_text"}
ARTIFACT_FIELD = "text"  # artifact rules are written for the body; titles are only cleaned
# Written by prepare next to data.parquet, copied by split next to the split files it describes.
PREPARATION_FILE = "preparation.json"
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class TextPreparation:
    """The clean-up settings and artifact rules (name, pattern, regex flags) applied to a text."""

    cleaning: PrepareConfig
    rules: tuple[tuple[str, str, int], ...] = ()

    @classmethod
    def of(cls, config: PrepareConfig, rules: list[ArtifactRule]) -> TextPreparation:
        """The preparation prepare applies with ``config`` to a source with ``rules``."""
        applied = rules if config.strip_artifacts else []
        return cls(config, tuple((r.name, r.pattern.pattern, r.pattern.flags) for r in applied))

    @property
    def rule_names(self) -> list[str]:
        return [name for name, _, _ in self.rules]

    def __post_init__(self) -> None:
        compiled = tuple(re.compile(pattern, flags) for _, pattern, flags in self.rules)
        object.__setattr__(self, "_compiled", compiled)

    def strip_artifacts(self, text: str) -> str:
        """Remove every rule's matches, rule by rule, then collapse the spaces they leave."""
        if not self.rules:
            return text
        for pattern in self._compiled:  # type: ignore[attr-defined]
            text = pattern.sub(" ", text)
        return _SPACE.sub(" ", text).strip()

    def clean(self, value: str) -> str:
        """Clean-up alone (HTML, mojibake, unicode form, whitespace)."""
        return clean_text(value, self.cleaning)

    def apply(self, field: str, value: str) -> str:
        """``value`` of column ``field`` (title or text) as prepare would have written it."""
        cleaned = self.clean(value)
        return self.strip_artifacts(cleaned) if field == ARTIFACT_FIELD else cleaned

    def apply_frame(self, frame: pd.DataFrame, fields: list[str]) -> pd.DataFrame:
        """A copy of ``frame`` with ``fields`` prepared (missing values read as empty text)."""
        out = frame.copy()
        for field in fields:
            values = frame[field].fillna("").astype(str)
            out[field] = [self.apply(field, v) for v in values]
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "cleaning": self.cleaning.model_dump(mode="json"),
            "artifact_rules": [
                {"name": n, "pattern": p, "flags": f, "field": ARTIFACT_FIELD}
                for n, p, f in self.rules
            ],
        }

    @classmethod
    def from_json(cls, data: Any, where: str) -> TextPreparation:
        """Read back :meth:`to_json`; ``where`` names the file for the error."""
        try:
            rules = tuple(
                (str(r["name"]), str(r["pattern"]), int(r["flags"])) for r in data["artifact_rules"]
            )
            return cls(PrepareConfig(**data["cleaning"]), rules)
        except (KeyError, TypeError, ValueError, re.error) as error:
            raise ModelError(f"{where}: unreadable 'preparation' ({error})") from None


def read_preparation(folder: Path) -> dict[str, Any]:
    """The ``preparation.json`` of a prepared or split dataset folder, as written."""
    path = Path(folder) / PREPARATION_FILE
    if not path.is_file():
        raise DatasetError(f"{path} not found; run `dvc repro` to rebuild the dataset")
    data = read_json(path)
    TextPreparation.from_json(data, str(path))  # readable, or a clear error now
    return data


def recorded_preparation(info: dict[str, Any], where: str) -> TextPreparation:
    """The preparation a model's ``model.json`` (read as ``info``, from ``where``) records."""
    if "preparation" not in info:
        raise ModelError(
            f"{where}: records no 'preparation' (saved by an older fakenews): retrain the model "
            "with `dvc repro` so raw text can be prepared as its training text was"
        )
    return TextPreparation.from_json(info["preparation"], where)
