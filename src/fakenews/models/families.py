"""The model families, in report order, each with an example model for error messages.

Each family has its own train/evaluate/transfer stage groups in dvc.yaml
(`train-<family>@<dataset>-<model>`, generated per family by tools/generate_dvc_yaml.py), whose
deps name only that family's code, so an edit to one family reruns only its stages. A model
module declares its family (`Model.family`). No stage imports this module (a stage learns its
model's family from the model itself): adding a family reruns no existing stage but the report.
Adding a family: an entry here, a model module, its `models:` and `seeds:` keys in params.yaml,
then `make dvc-yaml` (README "Adding a family").
"""

from __future__ import annotations

FAMILIES: dict[str, str] = {
    "linear": "tfidf_logreg",
    "recurrent": "lstm",
    "transformer": "minilm",
    "embedding": "minilm_embed",
}
