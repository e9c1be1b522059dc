"""Score texts with a trained model folder: the engine behind ``fakenews predict``.

A raw text gets exactly the probability the evaluate stage gives the same row: the model's
fields (``text_fields`` in its config) go through the preparation recorded in its ``model.json``
(the prepare settings and the dataset's artifact rules, e.g. CONSTRAINT's links and handles), are
joined by :func:`~fakenews.classifier.base.model_input` and scored by the model's own
``predict_proba``, whose score for a text does not depend on the texts scored with it (torch
models batch windows of one length in whole row tiles: ``fakenews.nn.batching.uniform_batches``),
so ``--batch-size`` and a file's other rows change nothing. ``--threads`` other than the model's
``num_threads`` may change the last bits.

Decisions on bad input (documented in the README):

* ``prob_fake`` is the calibrated P(fake) (:class:`~fakenews.inference.served.ServedModel`: the
  run's calibrator, fitted on its validation split), and every scored row gets the domain check's
  ``in_domain_score`` and ``in_domain`` flag (its training set's domain profile; the threshold
  passes ``evaluate.domain.pass_rate``, 95%, of its validation texts). When some scored rows are
  out of domain, :func:`out_of_domain_warning` is the one line the CLI prints about them.
* An empty text (nothing left after clean-up) is refused for a text given on the command line;
  in a file or a DataFrame it is not scored: its row gets an ``error`` and empty (null)
  ``prob_fake``, ``label``, ``in_domain_score`` and ``in_domain``, and the row numbers are
  reported.
* A text longer than ``max_chars`` characters (default 100,000) is cut to its first
  ``max_chars`` characters before scoring, and reported. Models truncate tokens further.
* Files are read by the reader training uses (:mod:`fakenews.sources.tables`): same formats,
  same encoding rule (UTF-8, else cp1252 with a warning; ``encoding`` names the one codec to use,
  and a byte it cannot decode is an error naming the file, byte offset and line), same errors.
  A file a model was trained on is a file it can score.
* Only safe formats are loaded: a model folder holding a pickle-based file is refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from fakenews.analysis.selection import best_fold_dir, best_model_dir
from fakenews.classifier.base import model_input
from fakenews.core.errors import DatasetError, InputError, ModelError
from fakenews.core.io import atomic_path, read_json
from fakenews.core.paths import Paths, find_repo_root
from fakenews.models import MODEL_INFO_FILE
from fakenews.sources.tables import read_table
from fakenews.text.preparation import TextPreparation, recorded_preparation

if TYPE_CHECKING:
    from fakenews.classifier.base import TextClassifier
    from fakenews.inference.served import ServedModel

DEFAULT_THRESHOLD = 0.5
DEFAULT_BATCH_SIZE = 512
DEFAULT_MAX_CHARS = 100_000
LABELS = {True: "fake", False: "real"}
PROB_COLUMN, LABEL_COLUMN = "prob_fake", "label"
DOMAIN_SCORE_COLUMN, IN_DOMAIN_COLUMN, ERROR_COLUMN = "in_domain_score", "in_domain", "error"
OUTPUT_COLUMNS = (PROB_COLUMN, LABEL_COLUMN, DOMAIN_SCORE_COLUMN, IN_DOMAIN_COLUMN, ERROR_COLUMN)
EMPTY_ERROR = "empty text (nothing to score after clean-up)"

# Formats whose loading may run pickle (torch.load, joblib, pickle): never read from a folder.
PICKLE_SUFFIXES = frozenset({".pkl", ".pickle", ".bin", ".pt", ".pth", ".ckpt", ".joblib"})

OUTPUT_FORMATS = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".parquet": "parquet"}


# --- loading -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Predictor:
    """A loaded model with its calibrator and domain profile, and what its folder says about it."""

    served: ServedModel
    directory: Path
    info: dict[str, Any]

    @property
    def model(self) -> TextClassifier:
        return self.served.model

    @property
    def name(self) -> str:
        return self.model.name

    @property
    def dataset(self) -> str | None:
        return self.info.get("dataset")

    @property
    def fields(self) -> list[str]:
        return list(self.model.config.text_fields)

    @property
    def preparation(self) -> TextPreparation:
        """The clean-up and artifact rules the model's training text went through."""
        return recorded_preparation(self.info, str(self.directory / MODEL_INFO_FILE))


def resolve_model_dir(spec: str | Path, root: Path | None = None) -> Path:
    """A model folder, a run folder (``.../seed-<s>``: its serving model) or a model's folder of
    runs (its best-validation run's), given as a path or as ``<dataset>/<model>[/seed-<s>]``
    under ``<root>/models``."""
    path = Path(spec).expanduser()
    if not path.is_dir() and not path.is_absolute() and len(path.parts) in (2, 3):
        path = Paths(root or find_repo_root()).models_root / path
    if path.is_dir():
        if (path / MODEL_INFO_FILE).is_file():
            return path
        if path.name.startswith("seed-"):
            return best_fold_dir(path)
        if any(path.glob("seed-*")):
            served = best_model_dir(path)
            if served is not None:
                return served
        return path  # load_model names what is missing
    raise InputError(
        f"{spec}: no such model folder (give a trained model's folder, e.g. "
        "models/liar/lstm/seed-42, or <dataset>/<model> for its best-validation run; "
        "`fakenews models` lists them)"
    )


def refuse_pickles(directory: Path) -> None:
    """Pickle-based weights can run code when loaded: refuse the folder before reading it."""
    unsafe = sorted(
        p.relative_to(directory).as_posix()
        for p in directory.rglob("*")
        if p.is_file() and p.suffix.lower() in PICKLE_SUFFIXES
    )
    if unsafe:
        raise ModelError(
            f"{directory}: refusing a model folder with pickle-based files {unsafe}; "
            "fakenews saves only JSON and safetensors files"
        )


def load_predictor(
    spec: str | Path,
    *,
    device: str | None = None,
    threads: int | None = None,
    root: Path | None = None,
) -> Predictor:
    """Load a model folder for prediction; ``device``/``threads`` override torch models' config.

    The calibrator and domain profile come with it (:meth:`ServedModel.load`: inside the folder,
    as a registered model bundles them, else from the repo's ``data/calibration`` and
    ``data/domain``). Any missing, corrupt or mismatched folder or sidecar raises
    :class:`ModelError` naming the file.
    """
    from fakenews.inference.served import ServedModel

    directory = resolve_model_dir(spec, root)
    refuse_pickles(directory)
    served = ServedModel.load(directory, root)
    model = served.model
    info = read_json(directory / MODEL_INFO_FILE)  # load_model has checked that it parses
    overrides: dict[str, Any] = {}
    fields = type(model.config).model_fields
    if device is not None and "device" in fields:
        if device == "cuda":
            import torch

            if not torch.cuda.is_available():
                raise InputError("--device cuda: no CUDA device is available here")
        overrides["device"] = device
    if threads is not None and "num_threads" in fields:
        overrides["num_threads"] = threads
    if overrides:
        # Read at predict time (TorchTrainer), so changing the frozen config is enough.
        model.config = model.config.model_copy(update=overrides)
    return Predictor(served=served, directory=directory, info=info)


# --- texts ---------------------------------------------------------------------------------------


@dataclass
class Scored:
    """What each row got (null where it was not scored), with the rows that needed a note."""

    probs: np.ndarray  # calibrated P(fake); NaN where the row was not scored
    labels: list[str | None]
    domain_scores: np.ndarray  # NaN where the row was not scored
    in_domain: list[bool | None]
    errors: list[str | None]  # why a row was not scored (an empty text)
    empty_rows: list[int] = field(default_factory=list)  # 0-based
    truncated_rows: list[int] = field(default_factory=list)  # 0-based

    @property
    def out_of_domain(self) -> int:
        return sum(flag is False for flag in self.in_domain)

    @property
    def scored(self) -> int:
        return len(self.errors) - len(self.empty_rows)

    def columns(self) -> dict[str, pd.Series]:
        """The output columns, nullable: a row that was not scored has null (never NaN) in
        JSON, and an empty cell in CSV."""
        return {
            PROB_COLUMN: pd.Series(self.probs, dtype=float),
            LABEL_COLUMN: pd.Series(self.labels, dtype=object),
            DOMAIN_SCORE_COLUMN: pd.Series(self.domain_scores, dtype=float),
            IN_DOMAIN_COLUMN: pd.Series(self.in_domain, dtype="boolean"),
            ERROR_COLUMN: pd.Series(self.errors, dtype=object),
        }


def check_unicode(value: str, where: str) -> None:
    """Refuse lone surrogates (undecodable bytes in argv, JSON escapes): no model can read them."""
    if value.isascii():
        return
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        bad = value[error.start]
        raw = f"byte 0x{ord(bad) - 0xDC00:02x}" if 0xDC80 <= ord(bad) <= 0xDCFF else repr(bad)
        raise InputError(
            f"{where}: not valid UTF-8 text ({raw} at character {error.start}); "
            "convert it to UTF-8 first"
        ) from None


def model_texts(
    frame: pd.DataFrame,
    fields: Sequence[str],
    preparation: TextPreparation | None,
    *,
    max_chars: int = DEFAULT_MAX_CHARS,
    where: str = "row",
) -> tuple[list[str], list[int]]:
    """What the model sees for each row, and which rows were cut to ``max_chars``.

    ``preparation``: the model's own (clean-up and artifact rules); None for prepared text.
    """
    truncated: set[int] = set()
    columns: dict[str, list[str]] = {}
    for name in fields:
        values = frame[name].fillna("").astype(str).tolist()  # as model_input reads them
        for i, value in enumerate(values):
            check_unicode(value, f"{where} {i + 1}")
            if len(value) > max_chars:
                # Cut before cleaning too: clean-up of a 10 MB text alone would take seconds.
                value = value[:max_chars]
                truncated.add(i)
            values[i] = preparation.apply(name, value) if preparation else value
        columns[name] = values
    texts = model_input(pd.DataFrame(columns, index=range(len(frame))), list(fields))
    for i, text in enumerate(texts):
        if len(text) > max_chars:
            texts[i] = text[:max_chars]
            truncated.add(i)
    return texts, sorted(truncated)


def score(
    predictor: Predictor,
    frame: pd.DataFrame,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_chars: int = DEFAULT_MAX_CHARS,
    clean: bool = True,
    progress: bool = False,
    where: str = "row",
    domain: bool = True,
) -> Scored:
    """Score every row of ``frame`` (columns named like the model's fields) in batches.

    ``domain=False`` skips the domain check (``in_domain_score`` NaN, ``in_domain`` True): only
    to measure what the check costs.
    """
    from tqdm.auto import tqdm

    preparation = predictor.preparation if clean else None
    texts, truncated = model_texts(
        frame, predictor.fields, preparation, max_chars=max_chars, where=where
    )
    served = predictor.served
    probs = np.full(len(texts), np.nan)
    domain_scores = np.full(len(texts), np.nan)
    in_domain: list[bool | None] = [None] * len(texts)
    # Whitespace alone is empty too (--no-clean keeps it; clean-up would have stripped it).
    blank = [not text.strip() for text in texts]
    empty = [i for i, is_blank in enumerate(blank) if is_blank]
    todo = np.flatnonzero([not is_blank for is_blank in blank])
    with tqdm(
        total=len(todo), unit="text", desc="scoring", disable=not progress, dynamic_ncols=True
    ) as bar:
        for start in range(0, len(todo), batch_size):
            rows = todo[start : start + batch_size]
            batch = [texts[i] for i in rows]
            raw = np.asarray(served.model.predict_proba(batch), float)
            if raw.shape != (len(rows),) or not np.all((raw >= 0) & (raw <= 1)):
                raise ModelError(f"{predictor.directory}: the model returned invalid probabilities")
            if domain:
                chunk = served.scored(raw, batch)
                probs[rows] = chunk.prob_fake
                domain_scores[rows] = chunk.domain_score
                flags = [bool(flag) for flag in chunk.in_domain]
            else:
                probs[rows] = served.calibrator.apply(raw)
                flags = [True] * len(rows)
            for i, flag in zip(rows, flags, strict=True):
                in_domain[i] = flag
            bar.update(len(rows))
    labels = [None if np.isnan(p) else LABELS[bool(p >= threshold)] for p in probs]
    errors = [EMPTY_ERROR if is_blank else None for is_blank in blank]
    return Scored(
        probs=probs,
        labels=labels,
        domain_scores=domain_scores,
        in_domain=in_domain,
        errors=errors,
        empty_rows=empty,
        truncated_rows=truncated,
    )


def text_frame(
    texts: Sequence[str], titles: Sequence[str] | None, fields: Sequence[str]
) -> pd.DataFrame:
    """Rows for texts given directly; a model that reads only titles gets the text as title."""
    titles = list(titles) if titles is not None else [""] * len(texts)
    if "text" not in fields and not any(titles):
        titles, texts = list(texts), [""] * len(texts)
    return pd.DataFrame({"title": titles, "text": list(texts)})


def predict_frame(
    predictor: Predictor,
    frame: pd.DataFrame,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_chars: int = DEFAULT_MAX_CHARS,
) -> pd.DataFrame:
    """The output columns (``prob_fake``, ``label``, ``in_domain_score``, ``in_domain``,
    ``error``) for each row of a frame with ``text`` (and ``title``) columns."""
    fields = select_fields(frame, predictor.fields, "model input", hint=False)
    scored = score(
        predictor, fields, threshold=threshold, batch_size=batch_size, max_chars=max_chars
    )
    return pd.DataFrame(scored.columns())


def out_of_domain_warning(predictor: Predictor, scored: Scored) -> str | None:
    """One line when some scored rows are out of domain: how many, and what it means."""
    flagged = scored.out_of_domain
    if not flagged:
        return None
    trained_on = f" ({predictor.dataset})" if predictor.dataset else ""
    pass_rate = predictor.served.domain.config.pass_rate
    return (
        f"{flagged} of {scored.scored} texts look unlike {predictor.name}'s training "
        f"data{trained_on} (in_domain false: in_domain_score below "
        f"{predictor.served.threshold:.4f}, which {pass_rate:.0%} of its validation texts "
        "reach); its P(fake) is least reliable on them"
    )


# --- files ---------------------------------------------------------------------------------------


def file_format(path: Path, formats: dict[str, str], what: str) -> str:
    fmt = formats.get(path.suffix.lower())
    if fmt is None:
        raise InputError(
            f"{path}: unknown {what} format {path.suffix or '(no extension)'!r}; "
            f"use one of {', '.join(sorted(formats))}"
        )
    return fmt


def read_input(path: Path, encoding: str | None = None) -> pd.DataFrame:
    """An input file, read exactly as a training file is (by
    :func:`fakenews.sources.tables.read_table`; ``.txt``: one text per line, column ``text``)."""
    try:
        return read_table(Path(path), encoding=encoding)
    except DatasetError as error:
        raise InputError(str(error)) from None


def select_fields(
    table: pd.DataFrame,
    fields: Sequence[str],
    source: str,
    *,
    text_column: str | None = None,
    title_column: str | None = None,
    hint: bool = True,
) -> pd.DataFrame:
    """The model's fields from the file's columns.

    A column named on the command line must exist. Without one, the text is read from ``text``
    and the title from ``title``; a file without a ``title`` column has empty titles, as long
    as the model also reads the text.
    """
    chosen = {"text": text_column or "text", "title": title_column or "title"}
    explicit = {"text": text_column is not None, "title": title_column is not None}
    columns = [str(c) for c in table.columns]
    out = {}
    for name in fields:
        column = chosen[name]
        if column in columns:
            out[name] = table[table.columns[columns.index(column)]].reset_index(drop=True)
        elif name == "title" and not explicit["title"] and "text" in fields:
            out[name] = pd.Series([""] * len(table))
        else:
            raise InputError(
                f"{source}: no column {column!r} (the {name} this model reads); its columns "
                f"are {columns}" + (f"; name the right one with --{name}-column" if hint else "")
            )
    return pd.DataFrame(out, index=range(len(table)))


def write_table(frame: pd.DataFrame, path: Path) -> None:
    """Write by extension, all or nothing: a temporary file beside ``path``, renamed at the end."""
    fmt = file_format(path, OUTPUT_FORMATS, "output")
    with atomic_path(path) as tmp:
        if fmt in ("csv", "tsv"):
            frame.to_csv(tmp, sep="\t" if fmt == "tsv" else ",", index=False)
        elif fmt == "jsonl":
            frame.to_json(tmp, orient="records", lines=True, force_ascii=False, double_precision=15)
        else:
            try:
                frame.to_parquet(tmp, index=False, engine="pyarrow")
            except (TypeError, ValueError) as error:  # pyarrow's errors subclass these
                raise InputError(
                    f"{path}: cannot write these columns to parquet ({error}); "
                    "write .csv or .jsonl instead"
                ) from None


def free_name(name: str, taken: Sequence[str]) -> str:
    while name in taken:
        name = f"input_{name}"
    return name


@dataclass
class FileResult:
    rows: int
    scored: int
    empty_rows: list[int]  # 1-based data rows (the header is not counted)
    truncated_rows: list[int]  # 1-based
    renamed: dict[str, str]  # input columns renamed to make room for the predictions
    out_of_domain: int = 0  # scored rows whose in_domain is false
    domain_warning: str | None = None  # the one line saying so


def predict_file(
    predictor: Predictor,
    input_path: Path,
    output_path: Path,
    *,
    text_column: str | None = None,
    title_column: str | None = None,
    encoding: str | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_chars: int = DEFAULT_MAX_CHARS,
    clean: bool = True,
    progress: bool = False,
    domain: bool = True,
    explain: int | None = None,
) -> FileResult:
    """Score a file; write its columns plus the output columns (``prob_fake``, ``label``,
    ``in_domain_score``, ``in_domain``, ``error``; with ``explain`` K, ``explanation``) to
    ``output_path``.

    Nothing is written until every row is scored, and the output appears in one rename, so an
    interrupted run leaves no output file (and no partial one).
    """
    input_path, output_path = Path(input_path), Path(output_path)
    file_format(output_path, OUTPUT_FORMATS, "output")  # refuse a bad name before any work
    table = read_input(input_path, encoding)
    fields = select_fields(
        table,
        predictor.fields,
        str(input_path),
        text_column=text_column,
        title_column=title_column,
    )
    scored = score(
        predictor,
        fields,
        threshold=threshold,
        batch_size=batch_size,
        max_chars=max_chars,
        clean=clean,
        progress=progress,
        where=f"{input_path}: row",
        domain=domain,
    )
    out = table.reset_index(drop=True)
    renamed: dict[str, str] = {}
    added = [*OUTPUT_COLUMNS, *(["explanation"] if explain else [])]
    for column in added:
        if column in out.columns:
            renamed[column] = free_name(f"input_{column}", [str(c) for c in out.columns])
    out = out.rename(columns=renamed)
    for column, values in scored.columns().items():
        out[column] = values
    if explain:  # --explain K: the K units that moved P(fake) most, as a JSON list per row
        from fakenews.inference.explain import EXPLANATION_COLUMN, explanation_column

        preparation = predictor.preparation if clean else None
        texts, _ = model_texts(fields, predictor.fields, preparation, max_chars=max_chars)
        out[EXPLANATION_COLUMN] = explanation_column(predictor.model, texts, explain)
    write_table(out, output_path)
    return FileResult(
        rows=len(out),
        scored=scored.scored,
        empty_rows=[i + 1 for i in scored.empty_rows],
        truncated_rows=[i + 1 for i in scored.truncated_rows],
        renamed=renamed,
        out_of_domain=scored.out_of_domain,
        domain_warning=out_of_domain_warning(predictor, scored),
    )
