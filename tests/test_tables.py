"""One table reader for training and serving: a file that trains is a file that scores.

The same rows, cp1252-encoded (what Excel writes on Windows), as .csv, .json and .txt: the custom
source loads them for training (prepare), and ``fakenews predict --input`` reads and scores the
very same texts; given an encoding the bytes do not fit, both refuse with the same message.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers.tiny_models import train_folder

from fakenews.cli.main import EXIT_BAD_INPUT, main
from fakenews.core.errors import DatasetError, InputError
from fakenews.inference.predict import load_predictor, predict_file, predict_frame, read_input
from fakenews.pipeline.prepare import prepare_dataset
from fakenews.sources import load_source
from fakenews.sources.options import DatasetConfig
from fakenews.sources.tables import FORMATS, read_table
from fakenews.text.cleaning import PrepareConfig

# Characters cp1252 encodes but latin-1 does not (curly quotes, dashes, euro), and accents.
TEXTS = [
    "Le café “Central” a fermé — c’est officiel, dit le maire.",  # noqa: RUF001
    "Secret hoax exposed: a miracle cure for 5 € banned!",
    "Officials reported data from the ministry – according to a study.",  # noqa: RUF001
    "Shocking secret hoax exposed, naïve people fooled again…",
]
LABELS = ["TRUE", "FAKE", "TRUE", "FAKE"]


def write_siblings(folder: Path) -> dict[str, Path]:
    """news.csv, news.json and news.txt holding the same rows, all encoded as cp1252."""
    folder.mkdir(parents=True, exist_ok=True)
    csv_text = "text,label\n" + "".join(
        f'"{t}",{lab}\n' for t, lab in zip(TEXTS, LABELS, strict=True)
    )
    records = [{"text": t, "label": lab} for t, lab in zip(TEXTS, LABELS, strict=True)]
    contents = {
        "csv": csv_text,
        "json": json.dumps(records, ensure_ascii=False, indent=1),
        "txt": "".join(f"{t}\n" for t in TEXTS),
    }
    paths = {}
    for fmt, content in contents.items():
        paths[fmt] = folder / f"news.{fmt}"
        paths[fmt].write_bytes(content.encode("cp1252"))
        with pytest.raises(UnicodeDecodeError):
            paths[fmt].read_bytes().decode("utf-8")  # the test is not vacuous
    return paths


def custom_options(path: Path, **extra: str) -> DatasetConfig:
    return DatasetConfig(
        source="custom",
        path=f"data/external/mine/{path.name}",
        text_column="text",
        label_column="label",
        label_map={"FAKE": 1, "TRUE": 0},
        **extra,
    )


@pytest.fixture(scope="module")
def tfidf_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return train_folder(tmp_path_factory.mktemp("m") / "tfidf_logreg", "tfidf_logreg", min_df=1)


def test_every_format_is_read_by_suffix() -> None:
    assert set(FORMATS.values()) == {"csv", "tsv", "json", "jsonl", "parquet", "txt"}


def test_cp1252_siblings_train_and_score_the_same_rows(
    tfidf_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = write_siblings(tmp_path / "raw")

    # Training: the custom source loads the csv and the json alike, and prepare keeps every row.
    trained: dict[str, pd.DataFrame] = {}
    for fmt in ("csv", "json"):
        frame = load_source("mine", "custom", paths[fmt].parent, custom_options(paths[fmt]))
        assert frame["text"].tolist() == TEXTS, fmt
        assert frame["label"].tolist() == [0, 1, 0, 1], fmt
        trained[fmt] = frame
        stats = prepare_dataset(
            "mine",
            custom_options(paths[fmt]),
            PrepareConfig(),
            paths[fmt].parent,
            tmp_path / "prepared" / fmt,
        )
        assert stats["rows_kept"] == len(TEXTS), fmt
    prepared = {
        fmt: pd.read_parquet(tmp_path / "prepared" / fmt / "data.parquet") for fmt in trained
    }
    assert prepared["csv"]["text"].tolist() == prepared["json"]["text"].tolist()

    # Serving: predict reads the same texts from all three, and scores them as it scores the
    # rows the training loader read.
    predictor = load_predictor(tfidf_dir)
    expected = predict_frame(predictor, trained["csv"][["title", "text"]])["prob_fake"]
    assert expected.notna().all() and expected.nunique() > 1
    for fmt, path in paths.items():
        assert read_input(path)["text"].tolist() == TEXTS, fmt
        out = tmp_path / f"scored_{fmt}.jsonl"
        result = predict_file(predictor, path, out)
        assert result.rows == result.scored == len(TEXTS), fmt
        scored = pd.read_json(out, lines=True)
        assert scored["text"].tolist() == TEXTS, fmt
        np.testing.assert_allclose(scored["prob_fake"], expected, atol=1e-12, err_msg=fmt)

    # And through the command line, as a user would.
    out = tmp_path / "cli.csv"
    code = main(
        ["predict", "--model", str(tfidf_dir), "--input", str(paths["csv"]), "--output", str(out)]
    )
    _, err = capsys.readouterr()
    assert code == 0, err
    np.testing.assert_allclose(pd.read_csv(out)["prob_fake"], expected, atol=1e-12)


def test_a_wrong_encoding_is_the_same_error_for_training_and_predict(
    tfidf_dir: Path, tmp_path: Path
) -> None:
    paths = write_siblings(tmp_path / "raw")
    for fmt in ("csv", "json"):
        options = custom_options(paths[fmt], encoding="utf-8")
        with pytest.raises(DatasetError) as training:
            load_source("mine", "custom", paths[fmt].parent, options)
        with pytest.raises(InputError) as serving:
            predict_file(
                load_predictor(tfidf_dir), paths[fmt], tmp_path / "o.csv", encoding="utf-8"
            )
        offset = paths[fmt].read_bytes().index("é".encode("cp1252"))
        message = f"{paths[fmt]}: not valid utf-8: byte 0xe9 at byte offset {offset}"
        assert message in str(training.value) and message in str(serving.value), fmt
        assert str(training.value).endswith(str(serving.value)), fmt  # plus the dataset's name


def test_undecodable_bytes_fall_back_to_latin1_for_both(tmp_path: Path) -> None:
    # 0x81 is undefined in cp1252: latin-1, the last resort, maps every byte.
    path = tmp_path / "odd.txt"
    path.write_bytes(b"bad \x81 byte and caf\xe9\n")
    assert read_table(path)["text"].tolist() == ["bad \x81 byte and café"]
    assert read_input(path)["text"].tolist() == ["bad \x81 byte and café"]


def test_exit_status_of_an_unreadable_file(tmp_path: Path, tfidf_dir: Path) -> None:
    path = tmp_path / "in.json"
    path.write_text('[{"text": "ok"}, 3]', "utf-8")
    code = main(["predict", "--model", str(tfidf_dir), "--input", str(path), "--output", "o.csv"])
    assert code == EXIT_BAD_INPUT
    with pytest.raises(DatasetError, match="record 2: expected a JSON object"):
        read_table(path)
