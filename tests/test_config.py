from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from fakenews.cli.check import check_params, validate_study
from fakenews.core.errors import ParamsError
from fakenews.core.params import load_params, parse_params
from fakenews.core.paths import Paths
from fakenews.models import get_model_class, model_config
from fakenews.models.families import FAMILIES
from fakenews.orchestration.unions import sync_unions
from fakenews.sources.options import dataset_options

# Families by one of their models (no test names a family: adding or renaming one keeps them).
LINEAR, RECURRENT, TRANSFORMER = (
    get_model_class(m).family for m in ("tfidf_logreg", "lstm", "minilm")
)


def _broken(params: dict[str, Any], edit) -> dict[str, Any]:
    changed = copy.deepcopy(params)
    edit(changed)
    return changed


def study(raw: dict[str, Any]) -> None:
    """The whole-file validation `fakenews check` runs (stages validate only what they read)."""
    validate_study(parse_params(raw))


def load_study(path: Path) -> None:
    validate_study(load_params(path))


def full_check(tmp_path: Path, raw: dict[str, Any]) -> None:
    """What `fakenews repro` runs first: the unions derived from `datasets`, then `fakenews
    check` (the shape, then every dataset's and model's own validation)."""
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    sync_unions(tmp_path / "params.yaml", load_params(tmp_path / "params.yaml").raw)
    for name in raw.get("datasets") or {}:
        (tmp_path / "data" / "external" / name).mkdir(parents=True, exist_ok=True)
    check_params(Paths(tmp_path))


def test_project_params_are_valid(real_params: dict[str, Any]) -> None:
    params = parse_params(real_params)
    assert "tfidf_logreg" in params.model_names
    assert params.family_of("lstm") == RECURRENT
    assert model_config(params, "tfidf_logreg").C > 0
    check_params(Paths(Path(__file__).resolve().parents[1]))  # the repo's own params and folders


@pytest.mark.parametrize(
    ("edit", "key"),
    [
        (lambda p: p["split"].update(colour="red"), "split.colour"),
        (lambda p: p["split"].update(train=0.8), "split"),
        (lambda p: p["split"].update(seed="abc"), "split.seed"),
        (lambda p: p["prepare"].update(min_text_chars=0), "prepare.min_text_chars"),
        (lambda p: p["datasets"].update(nosuch={}), "datasets.nosuch"),
        (lambda p: p["models"][LINEAR].append("nosuch_model"), "nosuch_model"),
        (lambda p: p["models"][LINEAR].append("bert_base"), f"models.{LINEAR}"),
        (lambda p: p["models"][LINEAR].append("lstm"), "listed more than once"),
        (lambda p: p["models"].pop(TRANSFORMER), "models"),
        (lambda p: p["models"].update(boosted=[]), "models"),
        (lambda p: p.update(models=["tfidf_logreg"]), "models"),
        (lambda p: p["models"][RECURRENT].append("tfidf_logreg"), "tfidf_logreg"),
        (lambda p: p["train"]["tfidf_logreg"].update(C=-1), "train.tfidf_logreg.C"),
        (lambda p: p["train"]["tfidf_logreg"].update(colour=1), "train.tfidf_logreg.colour"),
        (lambda p: p["train"].update(nosuch_model={}), "train.nosuch_model"),
        (lambda p: p["train"].pop("tfidf_logreg"), "train.tfidf_logreg"),
        (lambda p: p.update(unknown_section={}), "unknown_section"),
        (lambda p: p["union_models"].pop(TRANSFORMER), "union_models"),
        (lambda p: p["union_models"][LINEAR].append("lstm"), f"union_models.{LINEAR}"),
        (
            lambda p: p["train"]["tfidf_logreg"].update(per_dataset={"liar": {"C": 0}}),
            "train.tfidf_logreg.per_dataset.liar.C",
        ),
        (
            lambda p: p["train"]["tfidf_logreg"].update(per_dataset={"liar": 3}),
            "train.tfidf_logreg.per_dataset",
        ),
        (lambda p: p["datasets"]["liar"].update(path="x.csv"), "datasets.liar.path"),
        (
            lambda p: p["datasets"].update(mine={"source": "custom", "path": "x.csv"}),
            "datasets.mine.text_column",
        ),
        (
            lambda p: p["datasets"].update(
                mine={
                    "source": "custom",
                    "path": "data/external/mine.csv",  # outside the dataset's own folder
                    "text_column": "t",
                    "label_column": "l",
                    "label_map": {"a": 1, "b": 0},
                }
            ),
            "datasets.mine.path",
        ),
        (
            lambda p: p["datasets"].update(
                mine={
                    "source": "custom",
                    "path": "x.csv",
                    "text_column": "t",
                    "label_column": "l",
                    "label_map": {"a": 1, "b": 1},
                }
            ),
            "datasets.mine.label_map",
        ),
        (lambda p: p["evaluate"].update(threshold=1.5), "evaluate.threshold"),
        (lambda p: p["near_duplicates"].update(threshold=0), "near_duplicates.threshold"),
        (lambda p: p["near_duplicates"].update(shingles=2), "near_duplicates.shingles"),
        (lambda p: p["containment"].update(threshold=0), "containment.threshold"),
        (lambda p: p["containment"].update(shingle_size=1), "containment.shingle_size"),
        (lambda p: p["containment"].update(min_shared=0), "containment.min_shared"),
        (lambda p: p["split"].update(official_leaks="ignore"), "split.official_leaks"),
        (lambda p: p["prepare"].update(strip_artifacts="maybe"), "prepare.strip_artifacts"),
        (lambda p: p["audit"].update(max_probe_lift=2), "audit.max_probe_lift"),
        (lambda p: p["audit"].update(max_cross_split_leaks=-1), "audit.max_cross_split_leaks"),
        (lambda p: p["audit"].update(colour=1), "audit.colour"),
        (
            lambda p: p["datasets"]["liar"].update(artifact_rules=["nosuch_rule"]),
            "datasets.liar.artifact_rules",
        ),
        (
            lambda p: p["datasets"]["liar"].update(label_checks=["nosuch_check"]),
            "datasets.liar.label_checks",
        ),
    ],
)
def test_invalid_params_name_the_key(
    tmp_path: Path, real_params: dict[str, Any], edit, key: str
) -> None:
    with pytest.raises(ParamsError) as error:
        full_check(tmp_path, _broken(real_params, edit))
    assert key in str(error.value)


def test_missing_external_folder_is_named(tmp_path: Path, real_params: dict[str, Any]) -> None:
    text = yaml.safe_dump(real_params, sort_keys=False)
    (tmp_path / "params.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ParamsError, match=r"data/external/liar/ does not exist"):
        check_params(Paths(tmp_path))


def test_stages_validate_only_what_they_use(tmp_path: Path, real_params: dict[str, Any]) -> None:
    """A broken model section does not stop the params every stage loads, only that model."""
    raw = _broken(real_params, lambda p: p["train"]["lstm"].update(hidden_sizes="big"))
    params = parse_params(raw)
    assert model_config(params, "tfidf_logreg").C > 0
    with pytest.raises(ParamsError, match=r"train\.lstm\.hidden_sizes"):
        model_config(params, "lstm")


def test_split_fractions_message(real_params: dict[str, Any]) -> None:
    broken = _broken(real_params, lambda p: p["split"].update(train=0.5))
    with pytest.raises(ParamsError, match="sum to 1"):
        study(broken)


def test_load_params_reports_yaml_errors(tmp_path: Path) -> None:
    path = tmp_path / "params.yaml"
    path.write_text("datasets: [unclosed\n")
    with pytest.raises(ParamsError, match="not valid YAML"):
        load_params(path)
    with pytest.raises(ParamsError, match="not found"):
        load_params(tmp_path / "missing.yaml")


def test_empty_dataset_entry_means_defaults(tmp_path: Path, real_params: dict[str, Any]) -> None:
    text = yaml.safe_dump(real_params).replace("liar: {}", "liar:")
    (tmp_path / "params.yaml").write_text(text)
    assert dataset_options(load_params(tmp_path / "params.yaml"), "liar").source is None


def test_per_dataset_overrides_apply_to_that_dataset_only(real_params: dict[str, Any]) -> None:
    raw = copy.deepcopy(real_params)
    raw["train"]["tfidf_logreg"].update(C=2.0, per_dataset={"liar": {"C": 0.5}})
    params = parse_params(raw)
    assert model_config(params, "tfidf_logreg", "liar").C == 0.5
    assert model_config(params, "tfidf_logreg", "constraint").C == 2.0
    assert model_config(params, "tfidf_logreg").C == 2.0


# --- YAML that DVC and the project must read alike (issue 13) --------------------------------

PROJECT_PARAMS = (Path(__file__).resolve().parents[1] / "params.yaml").read_text(encoding="utf-8")
CUSTOM_ENTRY = (
    "datasets:\n"
    "  mine:\n"
    "    source: custom\n"
    "    path: data/external/mine/mine.csv\n"
    "    text_column: body\n"
    "    label_column: verdict\n"
    "    label_map: {label_map}\n"
    "\n"
)


def params_text_with_label_map(label_map: str) -> str:
    """The project's params.yaml, as text, with one custom dataset whose label_map is as given."""
    start = PROJECT_PARAMS.index("datasets:\n")
    end = PROJECT_PARAMS.index("\n\n", start) + 2
    text = PROJECT_PARAMS[:start] + CUSTOM_ENTRY.format(label_map=label_map) + PROJECT_PARAMS[end:]
    # The project's unions name its own datasets.
    start = text.index("\nunions:") + 1
    end = text.index("\n\n", start) + 2
    return text[:start] + "unions: {}\n\n" + text[end:]


def dvc_hashes_params(text: str) -> bool:
    """Whether DVC can hash these params the way `dvc repro` does (its run-cache key)."""
    from dvc.utils import dict_sha256
    from dvc.utils.serialize import parse_yaml

    try:
        dict_sha256(parse_yaml(text, "params.yaml"))
    except TypeError:
        return False
    return True


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ('{"FAKE": 1, "TRUE": 0}', {"FAKE": 1, "TRUE": 0}),  # the README's example
        ("{TRUE: 0, FALSE: 1}", {"TRUE": 0, "FALSE": 1}),  # booleans to YAML: kept as written
        ("{True: 0, false: 1}", {"True": 0, "false": 1}),
        ("{yes: 1, no: 0}", {"yes": 1, "no": 0}),  # text in YAML 1.2, which DVC reads
        ("{1: 1, 0: 0}", {"1": 1, "0": 0}),  # numbers to YAML
        ("{01: 1, 0: 0}", {"01": 1, "0": 0}),
    ],
)
def test_label_map_keys_are_compared_as_written(tmp_path: Path, written: str, expected) -> None:
    text = params_text_with_label_map(written)
    (tmp_path / "params.yaml").write_text(text, encoding="utf-8")
    assert dataset_options(load_params(tmp_path / "params.yaml"), "mine").label_map == expected
    assert dvc_hashes_params(text)  # and `dvc repro` gets past hashing them


@pytest.mark.parametrize("written", ["{FAKE: 1, TRUE: 0}", "{fake: 1, 0: 0}", "{yes: 1, false: 0}"])
def test_label_map_keys_dvc_cannot_hash_are_named_with_the_fix(
    tmp_path: Path, written: str
) -> None:
    text = params_text_with_label_map(written)
    assert not dvc_hashes_params(text)  # what the project's message stands in for
    (tmp_path / "params.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ParamsError) as error:
        load_params(tmp_path / "params.yaml")
    message = str(error.value)
    assert "datasets.mine.label_map" in message and "quote every key" in message
    assert "\n" not in message
    quoted = written.replace("{", "").replace("}", "").split(", ")
    for pair in quoted:
        key, value = pair.split(": ")
        assert f'"{key}": {value}' in message


def test_label_map_built_in_code_needs_text_keys(real_params: dict[str, Any]) -> None:
    raw = copy.deepcopy(real_params)
    raw["datasets"] = {
        "mine": {"source": "custom", "path": "x.csv", "text_column": "t", "label_column": "l",
                 "label_map": {True: 1, False: 0}}
    }  # fmt: skip
    with pytest.raises(ParamsError, match=r"datasets\.mine\.label_map.*quote it"):
        study(raw)


def test_params_are_read_as_dvc_reads_them(tmp_path: Path) -> None:
    """YAML 1.2, like DVC: `on`/`yes` are text and `1e-3` a number, not YAML 1.1's readings."""
    from dvc.utils.serialize import parse_yaml

    text = PROJECT_PARAMS.replace("  C: 4.0\n", "  C: 4e0\n", 1)
    (tmp_path / "params.yaml").write_text(text, encoding="utf-8")
    params = load_params(tmp_path / "params.yaml")
    assert params.train["tfidf_logreg"]["C"] == parse_yaml(text, "p")["train"]["tfidf_logreg"]["C"]
    assert params.train["tfidf_logreg"]["C"] == 4.0


def test_duplicate_yaml_keys_give_one_line(tmp_path: Path) -> None:
    (tmp_path / "params.yaml").write_text(params_text_with_label_map("{1: 1, true: 0}"))
    with pytest.raises(ParamsError, match=r"not valid YAML at line \d+: found duplicate key") as e:
        load_params(tmp_path / "params.yaml")
    assert "\n" not in str(e.value)


KNOWN = (
    "known models: bert_base, bilstm, distilbert, gru, lstm, minilm, minilm_embed, rnn, "
    "tfidf_logreg"
)


@pytest.mark.parametrize(
    ("models", "key"),
    [
        ("models: [xgboost]", "models: expected a mapping of family -> list of models"),
        ("models: tfidf_logreg", "models: expected a mapping of family -> list of models"),
        (
            "models: {"
            + ", ".join(f"{f}: {'[xgboost]' if f == LINEAR else []}" for f in FAMILIES)
            + "}",
            f"models.{LINEAR}: unknown model 'xgboost'",
        ),
        (
            "models: {"
            + ", ".join(f"{f}: {'tfidf_logreg' if f == LINEAR else []}" for f in FAMILIES)
            + "}",
            f"models.{LINEAR}: expected a list of model names",
        ),
    ],
)
def test_models_mistakes_give_one_line_with_the_known_models(
    tmp_path: Path, models: str, key: str
) -> None:
    start = PROJECT_PARAMS.index("models:\n")
    end = PROJECT_PARAMS.index("\n\n", start) + 2
    text = PROJECT_PARAMS[:start] + models + "\n\n" + PROJECT_PARAMS[end:]
    (tmp_path / "params.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ParamsError) as error:
        load_study(tmp_path / "params.yaml")
    message = str(error.value)
    assert message.startswith(f"params.yaml: {key}")
    assert KNOWN in message and "\n" not in message


def test_dataset_text_options_are_taken_as_written(tmp_path: Path) -> None:
    """A sha256 of digits only, a column named 2020: text, whatever YAML makes of them."""
    digits = "0" + "1" * 63
    text = params_text_with_label_map('{"FAKE": 1, "TRUE": 0}').replace(
        "    text_column: body\n", f"    text_column: 2020\n    sha256: {digits}\n"
    )
    (tmp_path / "params.yaml").write_text(text, encoding="utf-8")
    options = dataset_options(load_params(tmp_path / "params.yaml"), "mine")
    assert options.text_column == "2020" and options.sha256 == digits


def test_seeds_are_checked_per_family(real_params: dict[str, Any]) -> None:
    params = parse_params(real_params)
    assert params.seeds_of("lstm") == real_params["seeds"][RECURRENT]
    assert params.seeds_of("tfidf_logreg") == real_params["seeds"][LINEAR]
    for change, message in [
        (lambda p: p["seeds"].pop(LINEAR), f"missing \\['{LINEAR}'\\]"),
        (lambda p: p["seeds"].update({RECURRENT: []}), f"seeds.{RECURRENT}: expected a non-empty"),
        (lambda p: p["seeds"].update({RECURRENT: [1, 1]}), "listed twice"),
        (lambda p: p["seeds"].update({RECURRENT: ["a"]}), f"seeds.{RECURRENT}"),
        (lambda p: p["train"]["lstm"].update(seed=3), "train.lstm.seed: seeds are set"),
    ]:
        broken = copy.deepcopy(real_params)
        change(broken)
        with pytest.raises(ParamsError, match=message):
            study(broken)
