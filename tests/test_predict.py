"""`fakenews predict` and `fakenews models` on tiny models trained here (seconds, CPU)."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from helpers.tiny_models import TINY_LSTM, served_probs, toy_rows, train_folder

from fakenews.classifier.base import model_input
from fakenews.cli.main import EXIT_BAD_INPUT, EXIT_INTERRUPTED, main
from fakenews.core.errors import ModelError
from fakenews.core.paths import RUN_INFO_FILE, Paths
from fakenews.inference.predict import load_predictor, predict_file
from fakenews.inference.served import ServedModel
from fakenews.models import MODEL_INFO_FILE, get_model_class, load_model
from fakenews.tracking.model_registry import list_models


@pytest.fixture(scope="module")
def tfidf_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return train_folder(tmp_path_factory.mktemp("m") / "tfidf_logreg", "tfidf_logreg", min_df=1)


@pytest.fixture(scope="module")
def lstm_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return train_folder(tmp_path_factory.mktemp("m") / "lstm", "lstm", **TINY_LSTM)


@pytest.fixture(params=["tfidf_logreg", "lstm"])
def model_dir(request: pytest.FixtureRequest) -> Path:
    return request.getfixturevalue("tfidf_dir" if request.param == "tfidf_logreg" else "lstm_dir")


def cli(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def expected_probs(model_dir: Path, frame: pd.DataFrame) -> np.ndarray:
    """What the evaluate stage computes: model_input of the row, the model's predict_proba,
    calibrated by the run's calibrator."""
    model = load_model(model_dir)
    return served_probs(model_dir, model_input(frame, list(model.config.text_fields)))


# --- texts on the command line -------------------------------------------------------------------


def test_cli_texts_match_predict_proba(model_dir: Path, capsys: pytest.CaptureFixture) -> None:
    rows = toy_rows(6, seed=1)
    for _, row in rows.iterrows():
        code, out, _ = cli(
            capsys, "predict", "--model", model_dir, "--json", "--title", row.title, row.text
        )
        assert code == 0
        record = json.loads(out)
        expected = expected_probs(model_dir, rows.loc[[row.name]])[0]
        np.testing.assert_allclose(record["prob_fake"], expected, rtol=0, atol=1e-6)
        assert record["label"] == ("fake" if expected >= 0.5 else "real")
        assert isinstance(record["in_domain"], bool) and 0 <= record["in_domain_score"] <= 1
    # Several texts at once, as a table: label, probability, domain check, excerpt.
    code, out, _ = cli(capsys, "predict", "--model", model_dir, "secret hoax exposed", "data study")
    assert code == 0
    expected = served_probs(model_dir, ["secret hoax exposed", "data study"])
    for line, prob in zip(out.strip().split("\n"), expected, strict=True):
        label, shown, domain, _ = line.split("\t")
        assert label == ("fake" if prob >= 0.5 else "real") and float(shown) == round(prob, 6)
        assert domain.split()[0] in ("in-domain", "OUT-OF-DOMAIN")


def test_threshold_sets_the_label(tfidf_dir: Path, capsys: pytest.CaptureFixture) -> None:
    code, out, _ = cli(capsys, "predict", "--model", tfidf_dir, "--json", "secret hoax")
    prob = json.loads(out)["prob_fake"]
    assert 0.5 < prob < 1  # calibrated scores of such clear toy texts come near 1
    above = prob + (1 - prob) / 2
    code, out, _ = cli(
        capsys, "predict", "--model", tfidf_dir, "--json", "--threshold", str(above), "secret hoax"
    )
    assert code == 0 and json.loads(out)["label"] == "real"
    code, _, err = cli(capsys, "predict", "--model", tfidf_dir, "--threshold", "1.5", "x")
    assert code == EXIT_BAD_INPUT and "between 0 and 1" in err


@pytest.mark.parametrize("text", ["", "   \n\t", "<br><p></p>"])
def test_empty_text_is_a_clear_error(
    tfidf_dir: Path, capsys: pytest.CaptureFixture, text: str
) -> None:
    code, out, err = cli(capsys, "predict", "--model", tfidf_dir, "fine text", text)
    assert code == EXIT_BAD_INPUT and out == ""
    assert "text 2: empty" in err and "Traceback" not in err


def test_undecodable_argument_is_a_clear_error(
    tfidf_dir: Path, capsys: pytest.CaptureFixture
) -> None:
    # What Python makes of a non-UTF-8 byte in argv (surrogateescape).
    code, _, err = cli(capsys, "predict", "--model", tfidf_dir, "caf\udce9 news")
    assert code == EXIT_BAD_INPUT and "text 1: not valid UTF-8 text (byte 0xe9" in err


def test_huge_text_from_stdin_is_truncated_and_scored(
    tfidf_dir: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    huge = ("secret hoax exposed " * 600_000)[:10_000_000]  # 10 MB, one text
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(huge.encode())))
    code, out, err = cli(capsys, "predict", "--model", tfidf_dir, "--json", "-")
    assert code == 0, err
    record = json.loads(out)
    assert record["truncated"] and "longer than 100,000 characters" in err
    expected = served_probs(tfidf_dir, [huge[:100_000].strip()])[0]
    assert record["prob_fake"] == pytest.approx(expected, abs=1e-12)


# --- files ---------------------------------------------------------------------------------------


def write_input(frame: pd.DataFrame, path: Path) -> None:
    if path.suffix == ".csv":
        frame.to_csv(path, index=False)
    elif path.suffix == ".tsv":
        frame.to_csv(path, sep="\t", index=False)
    elif path.suffix == ".jsonl":
        frame.to_json(path, orient="records", lines=True)
    else:
        frame.to_parquet(path, index=False)


def read_output(path: Path) -> pd.DataFrame:
    if path.suffix == ".csv":
        return pd.read_csv(path, keep_default_na=False, na_values=[""])
    if path.suffix == ".jsonl":
        return pd.read_json(path, lines=True)
    return pd.read_parquet(path)


@pytest.mark.parametrize(
    ("source", "target"),
    [("csv", "parquet"), ("jsonl", "csv"), ("parquet", "jsonl"), ("tsv", "csv")],
)
def test_file_scoring_matches_predict_proba(
    model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture, source: str, target: str
) -> None:
    frame = toy_rows(40, seed=2).drop(columns="label").assign(extra=range(40))
    input_path, output_path = tmp_path / f"in.{source}", tmp_path / "out" / f"scored.{target}"
    write_input(frame, input_path)
    code, _, err = cli(
        capsys,
        "predict",
        "--model",
        model_dir,
        "--input",
        input_path,
        "--output",
        output_path,
        "--batch-size",
        "7",
    )
    assert code == 0, err
    out = read_output(output_path)
    new = ["prob_fake", "label", "in_domain_score", "in_domain", "error"]
    assert list(out.columns) == [*frame.columns, *new]
    assert out["id"].tolist() == frame["id"].tolist()  # same rows, same order
    np.testing.assert_allclose(out["prob_fake"], expected_probs(model_dir, frame), atol=1e-6)
    assert set(out["label"]) <= {"fake", "real"}
    served = ServedModel.load(model_dir).score(model_input(frame, ["title", "text"]))
    np.testing.assert_allclose(out["in_domain_score"], served.domain_score, atol=1e-6)
    assert out["in_domain"].astype(bool).tolist() == served.in_domain.tolist()
    assert out["error"].isna().all()
    assert "scored 40 of 40 rows" in err
    assert [p.name for p in output_path.parent.iterdir()] == [output_path.name]  # no temp left


def test_ten_thousand_rows_with_a_progress_bar(
    tfidf_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    frame = toy_rows(10_000, seed=3)
    write_input(frame, tmp_path / "big.csv")
    output = tmp_path / "big.parquet"
    code, _, err = cli(
        capsys,
        "predict",
        "--model",
        tfidf_dir,
        "--input",
        tmp_path / "big.csv",
        "--output",
        output,
        "--batch-size",
        "1000",
    )
    assert code == 0, err
    assert "10000/10000" in err  # tqdm's bar reached the end
    out = pd.read_parquet(output)
    assert len(out) == 10_000
    # The input's own label column is kept, renamed, beside the predicted one.
    assert out["input_label"].tolist() == frame["label"].astype(str).tolist()
    assert "'label' column is written as 'input_label'" in err
    np.testing.assert_allclose(out["prob_fake"], expected_probs(tfidf_dir, frame), atol=1e-12)
    accuracy = ((out["label"] == "fake").astype(int) == frame["label"]).mean()
    assert accuracy > 0.9


def test_interrupted_scoring_leaves_no_output(
    tfidf_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_input(toy_rows(1000), tmp_path / "in.csv")
    output = tmp_path / "out.csv"
    output.write_text("an older result\n")
    cls = get_model_class("tfidf_logreg")
    original = cls.predict_proba
    calls = []

    def interrupt_half_way(self: Any, texts: list[str]) -> np.ndarray:
        calls.append(len(texts))
        if len(calls) == 5:  # of 10 batches
            raise KeyboardInterrupt
        return original(self, texts)

    monkeypatch.setattr(cls, "predict_proba", interrupt_half_way)
    code, _, err = cli(
        capsys,
        "predict",
        "--model",
        tfidf_dir,
        "--input",
        tmp_path / "in.csv",
        "--output",
        output,
        "--batch-size",
        "100",
    )
    assert code == EXIT_INTERRUPTED and "no output file was written" in err
    assert output.read_text() == "an older result\n"  # untouched, not half-replaced
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "out.csv"]

    # A kill (SIGTERM) half way unwinds the same way.
    calls.clear()

    def killed_half_way(self: Any, texts: list[str]) -> np.ndarray:
        calls.append(len(texts))
        if len(calls) == 5:
            os.kill(os.getpid(), signal.SIGTERM)
        return original(self, texts)

    monkeypatch.setattr(cls, "predict_proba", killed_half_way)
    fresh = tmp_path / "fresh.parquet"
    code, _, _ = cli(
        capsys,
        "predict",
        "--model",
        tfidf_dir,
        "--input",
        tmp_path / "in.csv",
        "--output",
        fresh,
        "--batch-size",
        "100",
    )
    assert code == EXIT_INTERRUPTED and not fresh.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "out.csv"]


def test_interrupted_write_leaves_no_output(
    tfidf_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_input(toy_rows(50), tmp_path / "in.csv")

    def half_written(self: pd.DataFrame, path: Any, **kwargs: Any) -> None:
        Path(path).write_bytes(b"PAR1 half of a file")
        raise KeyboardInterrupt

    monkeypatch.setattr(pd.DataFrame, "to_parquet", half_written)
    predictor = load_predictor(tfidf_dir)
    with pytest.raises(KeyboardInterrupt):
        predict_file(predictor, tmp_path / "in.csv", tmp_path / "out.parquet")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


def test_missing_text_column_names_column_and_file(
    tfidf_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    path = tmp_path / "news.csv"
    toy_rows(5).rename(columns={"text": "body"}).to_csv(path, index=False)
    out = tmp_path / "out.csv"
    code, _, err = cli(capsys, "predict", "--model", tfidf_dir, "--input", path, "--output", out)
    assert code == EXIT_BAD_INPUT and "Traceback" not in err
    assert f"{path}: no column 'text'" in err and "--text-column" in err and not out.exists()
    code, _, err = cli(
        capsys,
        "predict",
        "--model",
        tfidf_dir,
        "--input",
        path,
        "--output",
        out,
        "--text-column",
        "body",
    )
    assert code == 0 and len(pd.read_csv(out)) == 5
    # A title column named on the command line must exist too.
    code, _, err = cli(
        capsys,
        "predict",
        "--model",
        tfidf_dir,
        "--input",
        path,
        "--output",
        out,
        "--text-column",
        "body",
        "--title-column",
        "headline",
    )
    assert code == EXIT_BAD_INPUT and "no column 'headline'" in err


def test_file_without_titles_scores_text_alone(tfidf_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "texts.txt").write_text("secret hoax exposed\n\nofficials reported data\n")
    result = predict_file(load_predictor(tfidf_dir), tmp_path / "texts.txt", tmp_path / "out.jsonl")
    out = pd.read_json(tmp_path / "out.jsonl", lines=True)
    assert out["text"].tolist() == ["secret hoax exposed", "", "officials reported data"]
    assert out["label"].fillna("-").tolist() == ["fake", "-", "real"]
    second = json.loads((tmp_path / "out.jsonl").read_text().splitlines()[1])
    # An empty row is not scored: its error says why, the rest is null; its row is reported.
    assert second == {
        "text": "",
        "prob_fake": None,
        "label": None,
        "in_domain_score": None,
        "in_domain": None,
        "error": "empty text (nothing to score after clean-up)",
    }
    assert np.isnan(out["prob_fake"][1]) and result.empty_rows == [2]
    expected = served_probs(tfidf_dir, ["secret hoax exposed"])[0]
    assert out["prob_fake"][0] == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("clean", [True, False])
def test_blank_rows_get_an_error_and_empty_cells(
    tfidf_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture, clean: bool
) -> None:
    frame = pd.DataFrame({"text": ["secret hoax", "   \t ", "", "officials reported"]})
    frame.to_json(tmp_path / "in.jsonl", orient="records", lines=True)
    args = ["predict", "--model", tfidf_dir, "--input", tmp_path / "in.jsonl"]
    if not clean:
        args.append("--no-clean")
    code, _, err = cli(capsys, *args, "--output", tmp_path / "out.csv")
    assert code == 0, err
    # Whitespace alone is empty too, with or without the clean-up that strips it.
    assert "2 empty text(s) not scored" in err and "rows 2, 3" in err
    assert "scored 2 of 4 rows" in err
    lines = (tmp_path / "out.csv").read_text().splitlines()
    assert lines[0] == "text,prob_fake,label,in_domain_score,in_domain,error"
    # CSV: empty cells, not "nan", for a row that was not scored.
    assert lines[3] == ",,,,,empty text (nothing to score after clean-up)"
    out = pd.read_csv(tmp_path / "out.csv")
    assert out["error"].notna().tolist() == [False, True, True, False]
    assert out["in_domain"].dropna().isin([True, False]).all()


def test_one_warning_line_for_out_of_domain_rows(
    tfidf_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    # Toy training texts use a dozen words; a text sharing none of them is out of domain.
    inside = toy_rows(6, seed=3)["text"].tolist()
    outside = ["Quarterly earnings beat analyst expectations", "Volcano erupts near Naples"]
    pd.DataFrame({"text": inside + outside}).to_csv(tmp_path / "in.csv", index=False)
    args = ["predict", "--model", tfidf_dir, "--input", tmp_path / "in.csv"]
    code, _, err = cli(capsys, *args, "--output", tmp_path / "out.csv")
    assert code == 0, err
    out = pd.read_csv(tmp_path / "out.csv")
    assert out["in_domain"].tolist()[-2:] == [False, False]
    flagged = int((~out["in_domain"]).sum())
    warnings = [line for line in err.splitlines() if "warning:" in line]
    assert len(warnings) == 1
    assert f"{flagged} of 8 texts look unlike tfidf_logreg's training data (demo)" in warnings[0]
    assert "least reliable" in warnings[0]
    # The same for texts on the command line; none when every text is in domain.
    code, out_text, err = cli(capsys, "predict", "--model", tfidf_dir, *outside)
    assert code == 0 and out_text.count("OUT-OF-DOMAIN") == 2
    assert "2 of 2 texts look unlike" in err
    # A training-like text (the toy rows' words and length: the profile also checks length).
    in_domain = next(t for t, ok in zip(inside, out["in_domain"], strict=False) if ok)
    code, _, err = cli(capsys, "predict", "--model", tfidf_dir, in_domain)
    assert code == 0 and "warning" not in err


def test_non_utf8_file_is_read_as_training_reads_it(
    tfidf_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture, caplog: pytest.LogCaptureFixture
) -> None:
    # One encoding rule for training and predict (fakenews.sources.tables): not UTF-8 -> cp1252,
    # with a warning naming the file and the first non-UTF-8 byte.
    path = tmp_path / "latin.csv"
    content = b"title,text\nfine,ok text\nbad,caf\xe9 news\n"
    path.write_bytes(content)
    out = tmp_path / "out.csv"
    offset = content.index(b"\xe9")
    code, _, err = cli(capsys, "predict", "--model", tfidf_dir, "--input", path, "--output", out)
    assert code == 0, err
    warning = f"{path}: not valid UTF-8: byte 0xe9 at byte offset {offset} (line 3); read as cp1252"
    assert warning in caplog.text
    assert pd.read_csv(out)["text"].tolist() == ["ok text", "café news"]
    # An explicit encoding is used alone: a byte it cannot decode names file, byte and line.
    out.unlink()
    args = ["predict", "--model", tfidf_dir, "--input", path, "--output", out, "--encoding"]
    code, _, err = cli(capsys, *args, "utf-8")
    assert code == EXIT_BAD_INPUT and not out.exists() and "Traceback" not in err
    assert f"{path}: not valid utf-8: byte 0xe9 at byte offset {offset} (line 3)" in err
    caplog.clear()
    code, _, err = cli(capsys, *args, "cp1252")
    assert code == 0 and "not valid" not in caplog.text
    assert pd.read_csv(out)["text"].tolist() == ["ok text", "café news"]
    code, _, err = cli(capsys, *args, "no-such-codec")
    assert code == EXIT_BAD_INPUT and "unknown encoding 'no-such-codec'" in err


def test_huge_text_in_a_file_is_truncated(
    tfidf_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    huge = ("secret hoax exposed " * 600_000)[:10_000_000]
    pd.DataFrame({"text": ["officials reported data", huge]}).to_parquet(tmp_path / "in.parquet")
    out = tmp_path / "out.parquet"
    code, _, err = cli(
        capsys, "predict", "--model", tfidf_dir, "--input", tmp_path / "in.parquet", "--output", out
    )
    assert code == 0, err
    assert "1 text(s) longer than 100,000 characters were cut" in err and "rows 2" in err
    scored = pd.read_parquet(out)
    assert scored["label"].tolist() == ["real", "fake"]
    assert len(scored["text"][1]) == 10_000_000  # the input column is written back unchanged


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty file"),
        (b'{"text": "ok"}\n{"text": \n', "line 2: malformed JSON"),
        (b'["not", "an object"]\n', "line 1: expected a JSON object"),
    ],
)
def test_malformed_files_are_clear_errors(
    tfidf_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture, content: bytes, message: str
) -> None:
    path = tmp_path / ("in.csv" if message == "empty file" else "in.jsonl")
    path.write_bytes(content)
    code, _, err = cli(
        capsys, "predict", "--model", tfidf_dir, "--input", path, "--output", tmp_path / "o.csv"
    )
    assert code == EXIT_BAD_INPUT and message in err and "Traceback" not in err


def test_usage_errors(tfidf_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    for args, message in [
        ([], "nothing to score"),
        (["--input", tmp_path / "x.csv"], "--input needs --output"),
        (["--input", tmp_path / "x.csv", "--output", tmp_path / "o.xlsx"], "unknown output"),
        (["--input", tmp_path / "x.csv", "--output", tmp_path / "o.csv"], "file not found"),
        (["--input", tmp_path / "x.docx", "--output", tmp_path / "o.csv"], "unknown input"),
        (["text", "--output", tmp_path / "o.csv"], "--output goes with --input"),
    ]:
        code, _, err = cli(capsys, "predict", "--model", tfidf_dir, *args)
        assert code == EXIT_BAD_INPUT and message in err, (args, err)
    code, _, err = cli(capsys, "predict", "--model", tmp_path / "nowhere", "text")
    assert code == EXIT_BAD_INPUT and "no such model folder" in err


# --- model folders -------------------------------------------------------------------------------


def damaged_copy(source: Path, tmp_path: Path) -> Path:
    target = tmp_path / source.name
    shutil.copytree(source, target)
    return target


def lstm_info() -> dict[str, Any]:
    """A recurrent model's model.json, to put in a folder holding other files."""
    cls = get_model_class("lstm")
    return {"model": "lstm", "config": cls.Config(**TINY_LSTM).model_dump(mode="json")}


def edit_info(directory: Path, **changes: Any) -> None:
    info = json.loads((directory / MODEL_INFO_FILE).read_text())
    info.update(changes)
    (directory / MODEL_INFO_FILE).write_text(json.dumps(info))


@pytest.mark.parametrize(
    ("source", "damage", "message"),
    [
        ("lstm_dir", lambda d: (d / "model.safetensors").unlink(), "missing model.safetensors"),
        ("lstm_dir", lambda d: (d / "model.safetensors").write_bytes(b"\0" * 64), "cannot load"),
        ("lstm_dir", lambda d: (d / "tokenizer.json").write_text("{"), "cannot load"),
        ("tfidf_dir", lambda d: (d / "weights.safetensors").write_bytes(b"garbage"), "cannot load"),
        ("tfidf_dir", lambda d: (d / "vocabulary.json").unlink(), "no vocabulary.json"),
        ("tfidf_dir", lambda d: edit_info(d, model="nosuch"), "unknown model 'nosuch'"),
        ("tfidf_dir", lambda d: edit_info(d, model="lstm"), "config does not fit model 'lstm'"),
        ("tfidf_dir", lambda d: edit_info(d, **lstm_info()), "missing model.safetensors"),
        ("lstm_dir", lambda d: edit_info(d, model="gru"), "config does not fit model 'gru'"),
        ("tfidf_dir", lambda d: (d / MODEL_INFO_FILE).write_text("not json"), "unreadable"),
        ("tfidf_dir", lambda d: (d / MODEL_INFO_FILE).unlink(), "not a model folder"),
        ("lstm_dir", lambda d: (d / "weights.pt").write_bytes(b"x"), "pickle-based files"),
    ],
)
def test_damaged_model_folder_is_a_clear_error(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    capsys: pytest.CaptureFixture,
    source: str,
    damage: Any,
    message: str,
) -> None:
    directory = damaged_copy(request.getfixturevalue(source), tmp_path)
    damage(directory)
    with pytest.raises(ModelError, match=message):
        load_predictor(directory)
    code, out, err = cli(capsys, "predict", "--model", directory, "some text")
    assert code == EXIT_BAD_INPUT and out == "" and message.split()[0] in err
    assert "Traceback" not in err and str(directory) in err


# --- fakenews models -----------------------------------------------------------------------------


def test_models_lists_trained_models_from_metrics(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    metrics = tmp_path / "metrics"
    for model, val_f1, test_f1 in (("a", 0.7, 0.9), ("b", 0.8, 0.6)):
        (metrics / "demo" / model).mkdir(parents=True, exist_ok=True)
        (metrics / "demo" / model / "seed-42.json").write_text(
            json.dumps(
                {
                    "dataset": "demo",
                    "model": model,
                    "accuracy": test_f1,
                    "f1_macro": test_f1,
                    "roc_auc": 0.5,
                    "n": 10,
                }
            )
        )
        folder = tmp_path / "models" / "demo" / model / "seed-42"
        folder.mkdir(parents=True)
        (folder / MODEL_INFO_FILE).write_text(json.dumps({"model": model}))
        (folder / RUN_INFO_FILE).write_text(
            json.dumps({"seed": 42, "training": {"val": {"f1_macro": val_f1}}})
        )
    (metrics / "summary.json").write_text("{}")  # not a model
    (metrics / "demo" / "transfer").mkdir()
    (metrics / "demo" / "transfer" / "a.json").write_text('{"targets": {}}')
    code, out, _ = cli(capsys, "models", "--root", tmp_path)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["dataset", "model", "val"]
    # ★ goes to the best validation F1 (b), not the best test F1 (a).
    assert "★ b" in out and "★ a" not in out and "models/demo/a/seed-42" in out
    code, out, _ = cli(capsys, "models", "--root", tmp_path, "--json")
    rows = json.loads(out)
    assert [(r["model"], r["seed"], r["best"], r["test_f1_macro"]) for r in rows] == [
        ("a", 42, False, 0.9),
        ("b", 42, True, 0.6),
    ]
    assert list_models(Paths(tmp_path)) == rows
    code, _, err = cli(capsys, "models", "--root", tmp_path / "elsewhere")
    assert code == EXIT_BAD_INPUT and "no metrics folder" in err


def test_repo_models_and_union_models_read_their_sidecars_from_the_stages(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In a repo, a model's calibrator and domain profile are the calibrate and domain stages'
    outputs; a union's model is served the same way, and a missing one names its stage."""
    from fakenews.analysis.calibration import CALIBRATION_FILE, calibration_dir
    from fakenews.analysis.domain import domain_dir
    from fakenews.inference.served import DOMAIN_DIR

    paths = Paths(tmp_path)
    (tmp_path / "dvc.yaml").write_text("stages: {}\n")
    (paths.union("without_demo")).mkdir(parents=True)  # what makes a training set a union
    monkeypatch.chdir(tmp_path)
    texts = ["secret hoax exposed", "officials reported data"]
    for train_set in ("demo", "without_demo"):
        run = train_folder(paths.run(train_set, "tfidf_logreg", 42), "tfidf_logreg", min_df=1)
        expected = served_probs(run, texts)  # with the sidecars still inside the folder
        calibration = calibration_dir(paths, train_set, "tfidf_logreg", 42)
        calibration.mkdir(parents=True)
        shutil.move(run / CALIBRATION_FILE, calibration / CALIBRATION_FILE)
        domain_dir(paths, train_set).parent.mkdir(parents=True, exist_ok=True)
        shutil.move(run / DOMAIN_DIR, domain_dir(paths, train_set))

        code, out, err = cli(
            capsys, "predict", "--model", f"{train_set}/tfidf_logreg/seed-42", "--json", *texts
        )
        assert code == 0, err
        got = [json.loads(line)["prob_fake"] for line in out.splitlines()]
        np.testing.assert_allclose(got, expected, atol=1e-12)

        (calibration / CALIBRATION_FILE).unlink()
        code, _, err = cli(capsys, "predict", "--model", f"{train_set}/tfidf_logreg/seed-42", "x")
        group = "calibrate-linear" + ("-union" if train_set.startswith("without") else "")
        assert code == EXIT_BAD_INPUT and "no calibrator" in err and group in err
