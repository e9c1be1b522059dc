"""The ``fakenews`` command: use trained models (the pipeline itself runs with ``dvc repro``).

    fakenews predict --model models/liar/lstm "Some headline and text"
    fakenews predict --model models/liar/lstm --input news.csv --output scored.parquet
    fakenews models

Bad input ends with one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import math
import os
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from fakenews.core.errors import FakenewsError, InputError
from fakenews.core.paths import Paths, find_repo_root

PROG = "fakenews"
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130
EXCERPT_CHARS = 70


def note(message: str) -> None:
    print(f"{PROG}: {message}", file=sys.stderr)


def _rows(rows: Sequence[int], limit: int = 10) -> str:
    shown = ", ".join(str(r) for r in rows[:limit])
    return shown + (f", … ({len(rows)} in all)" if len(rows) > limit else "")


def _probability(value: str) -> float:
    number = float(value)
    if not 0 < number < 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1 (exclusive), got {value}")
    return number


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return number


def _add_root(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--root", type=Path, default=None, help="project root (default: found from here)"
    )


def build_parser() -> argparse.ArgumentParser:
    from fakenews.inference.predict import DEFAULT_BATCH_SIZE, DEFAULT_MAX_CHARS, DEFAULT_THRESHOLD

    parser = argparse.ArgumentParser(
        prog=PROG, description="Use the fake-news detectors trained by the pipeline."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    predict = commands.add_parser(
        "predict",
        help="score texts or a file with a trained model",
        description="Print the label, the calibrated P(fake) and the domain check (is the text "
        "like the model's training data?) for each TEXT, or score a whole file with "
        "--input/--output. TEXT '-' reads one text from stdin.",
    )
    predict.add_argument(
        "--model",
        required=True,
        help="a trained model folder (models/<dataset>/<model>), or <dataset>/<model>",
    )
    predict.add_argument("texts", nargs="*", metavar="TEXT", help="text(s) to score")
    predict.add_argument("--title", help="a title for the TEXT (models read title + text)")
    predict.add_argument(
        "--input",
        type=Path,
        help="file to score: .csv, .tsv, .json, .jsonl, .parquet or .txt (one text a line)",
    )
    predict.add_argument(
        "--output",
        type=Path,
        help="where to write the input's columns + prob_fake + label + in_domain_score + "
        "in_domain + error: .csv, .tsv, .jsonl or .parquet (written all at once: an interrupted "
        "run leaves no file)",
    )
    predict.add_argument(
        "--text-column", help="the input's text column (default: text)", default=None
    )
    predict.add_argument(
        "--title-column",
        default=None,
        help="the input's title column (default: title; optional unless named)",
    )
    predict.add_argument(
        "--encoding",
        default=None,
        help="encoding of a text input file (default: UTF-8, else cp1252 with a warning, "
        "as for training files)",
    )
    predict.add_argument(
        "--threshold",
        type=_probability,
        default=DEFAULT_THRESHOLD,
        help=f"P(fake) from which the label is fake (default: {DEFAULT_THRESHOLD})",
    )
    predict.add_argument(
        "--batch-size",
        type=_positive,
        default=DEFAULT_BATCH_SIZE,
        help=f"texts per model call (default: {DEFAULT_BATCH_SIZE})",
    )
    predict.add_argument(
        "--max-chars",
        type=_positive,
        default=DEFAULT_MAX_CHARS,
        help=f"longer texts are cut to their first N characters (default: {DEFAULT_MAX_CHARS})",
    )
    predict.add_argument(
        "--no-clean",
        dest="clean",
        action="store_false",
        help="the text is already prepared: skip the model's preparation (clean-up of HTML, "
        "mojibake, unicode and whitespace, and the training data's artifact rules)",
    )
    predict.add_argument(
        "--device",
        choices=("auto", "cpu", "cuda"),
        default=None,
        help="torch models: where to run (default: the model's config, auto = GPU if present)",
    )
    predict.add_argument(
        "--threads", type=_positive, default=None, help="torch models: CPU threads"
    )
    predict.add_argument(
        "--json", action="store_true", help="TEXT mode: one JSON object per text (full precision)"
    )
    predict.add_argument(
        "--explain",
        type=_positive,
        default=None,
        metavar="K",
        help="also give, per text, the K words (the linear model: n-grams) that moved P(fake) "
        "most, with their signed contributions to its log-odds (> 0: towards fake); a file "
        "output gets an 'explanation' column",
    )
    predict.add_argument(
        "--no-progress", dest="progress", action="store_false", help="no progress bar"
    )
    predict.set_defaults(handler=cmd_predict)

    models = commands.add_parser(
        "models",
        help="list trained models with their test metrics",
        description="Models with metrics under <root>/metrics. ★ marks each dataset's best "
        "validation macro F1: the model the report stage registers in MLflow.",
    )
    _add_root(models)
    models.add_argument("--json", action="store_true", help="JSON instead of a table")
    models.set_defaults(handler=cmd_models)

    check = commands.add_parser(
        "check",
        help="validate params.yaml fully (every dataset and model) before `dvc repro`",
        description="Each stage checks only the params it reads; this runs every check at once "
        "so a mistake anywhere is reported before the first stage. `make repro` runs it.",
    )
    _add_root(check)
    check.set_defaults(handler=cmd_check)

    shard = commands.add_parser(
        "shard",
        help="the stages one machine runs when several share a study (one name per line)",
        description="Machines sharing a DVC remote split the study without coordination: "
        "`data` (everything upstream of training) on one machine first; then shard I/N on "
        "machine I of N (a round-robin share of the train stages, each with its evaluate and "
        "transfer stages); `final` (the report) anywhere last. Use as `dvc repro --pull "
        "$(fakenews shard 0/2)`, then `dvc push --run-cache`; `make worker SHARD=0/2` does both.",
    )
    shard.add_argument("part", help="data, final, or I/N (worker I of N, counting from 0)")
    _add_root(shard)
    shard.set_defaults(handler=cmd_shard)

    repro = commands.add_parser(
        "repro",
        help="`dvc repro` on every core, with progress (what `make repro` runs)",
        description="Validates params.yaml (`fakenews check`), then runs the stages `dvc status` "
        "finds changed and everything downstream, each "
        "as `dvc repro -s <stage>`, several at a time on separate cores (DVC records each one "
        "as usual); nothing to check when nothing under the root changed since the last clean "
        "status. Prints stages done/total and the time left by the recorded stage times; "
        "the log (every stage's output and one JSON event line per stage) is what "
        "`benchmarks/stage_overhead.py --log` reads.",
    )
    repro.add_argument(
        "--jobs", type=_positive, default=None, help="stages at a time (default: one per core)"
    )
    repro.add_argument("--log", type=Path, default=None, help="log file (default logs/repro.log)")
    _add_root(repro)
    repro.set_defaults(handler=cmd_repro)

    replay = commands.add_parser(
        "replay",
        help="send the MLflow runs the stages recorded to MLflow now",
        description="Stages write their MLflow runs to journals in <root>/.mlflow-spool/, sent "
        "by a background process; this sends what is left (after a tracking server was down, "
        "say), waiting for a background replay first. The report stage and `fakenews repro` "
        "do it too.",
    )
    _add_root(replay)
    replay.set_defaults(handler=cmd_replay)

    ui = commands.add_parser(
        "mlflow-ui",
        help="start `mlflow ui` on the project's runs and print their page (`make mlflow-ui`)",
        description="Prints the URL of the MLflow runs table of the project's experiment (its "
        "id looked up in the tracking store: mlflow.db, or MLFLOW_TRACKING_URI), then runs "
        "`mlflow ui` on that store. A tracking server (http URI) serves its own UI: nothing "
        "is started.",
    )
    ui.add_argument("--host", default="127.0.0.1", help="where `mlflow ui` listens")
    ui.add_argument("--port", type=_positive, default=5000, help="its port")
    ui.add_argument("--url", action="store_true", help="print the URL only (1: none tracked)")
    _add_root(ui)
    ui.set_defaults(handler=cmd_mlflow_ui)
    return parser


# --- predict -------------------------------------------------------------------------------------


def read_stdin_text() -> str:
    data = sys.stdin.buffer.read()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError(
            f"stdin: not valid UTF-8: byte 0x{data[error.start : error.start + 1].hex()} at "
            f"byte offset {error.start}"
        ) from None


def excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= EXCERPT_CHARS else flat[: EXCERPT_CHARS - 1] + "…"


def predict_texts(args: argparse.Namespace) -> None:
    from fakenews.inference.predict import (
        check_unicode,
        load_predictor,
        out_of_domain_warning,
        score,
        text_frame,
    )

    texts = [read_stdin_text() if t == "-" else t for t in args.texts]
    for i, text in enumerate(texts, 1):
        check_unicode(text, f"text {i}")
        if not text.strip() and not (args.title or "").strip():
            # Checked again after clean-up; this one spares loading the model first.
            raise InputError(f"text {i}: empty (nothing to score)")
    if args.title is not None:
        check_unicode(args.title, "--title")
    predictor = load_predictor(args.model, device=args.device, threads=args.threads)
    titles = [args.title] * len(texts) if args.title is not None else None
    frame = text_frame(texts, titles, predictor.fields)
    scored = score(
        predictor,
        frame,
        threshold=args.threshold,
        batch_size=args.batch_size,
        max_chars=args.max_chars,
        clean=args.clean,
        where="text",
    )
    if scored.empty_rows:
        which = _rows([i + 1 for i in scored.empty_rows])
        raise InputError(f"text {which}: empty (nothing left to score after clean-up)")
    for i in scored.truncated_rows:
        note(
            f"text {i + 1} is longer than {args.max_chars:,} characters: scored its first "
            f"{args.max_chars:,} (--max-chars)"
        )
    explained: list[Any] = [None] * len(texts)
    if args.explain:
        from fakenews.inference.explain import explain_texts, format_contributions
        from fakenews.inference.predict import model_texts

        preparation = predictor.preparation if args.clean else None
        read, _ = model_texts(frame, predictor.fields, preparation, max_chars=args.max_chars)
        explained = explain_texts(predictor.model, read, args.explain)
    rows = zip(
        texts, scored.probs, scored.labels, scored.domain_scores, scored.in_domain, strict=True
    )
    for i, (text, prob, label, domain_score, in_domain) in enumerate(rows):
        if args.json:
            record = {
                "label": label,
                "prob_fake": float(prob),
                "in_domain_score": float(domain_score),
                "in_domain": in_domain,
                "text": excerpt(text),
                "truncated": i in scored.truncated_rows,
            }
            if args.explain:
                record["explanation"] = [[u, v] for u, v in explained[i]]
            print(json.dumps(record, ensure_ascii=False))
        else:
            where = "in-domain" if in_domain else "OUT-OF-DOMAIN"
            print(f"{label}\t{prob:.6f}\t{where} {domain_score:.4f}\t{excerpt(text)}")
            if args.explain:
                print(f"\ttop {args.explain}: {format_contributions(explained[i])}")
    warning = out_of_domain_warning(predictor, scored)
    if warning:
        note(f"warning: {warning}")


def predict_input_file(args: argparse.Namespace) -> None:
    from fakenews.inference.predict import load_predictor, predict_file

    predictor = load_predictor(args.model, device=args.device, threads=args.threads)
    result = predict_file(
        predictor,
        args.input,
        args.output,
        text_column=args.text_column,
        title_column=args.title_column,
        encoding=args.encoding,
        threshold=args.threshold,
        batch_size=args.batch_size,
        max_chars=args.max_chars,
        clean=args.clean,
        progress=args.progress,
        explain=args.explain,
    )
    for old, new in result.renamed.items():
        note(f"the input's own {old!r} column is written as {new!r}")
    if result.truncated_rows:
        note(
            f"{len(result.truncated_rows)} text(s) longer than {args.max_chars:,} characters "
            f"were cut to that length (--max-chars): rows {_rows(result.truncated_rows)}"
        )
    if result.empty_rows:
        note(
            f"{len(result.empty_rows)} empty text(s) not scored (their error column says so; "
            f"prob_fake, label and the domain columns left empty): rows {_rows(result.empty_rows)}"
        )
    if result.domain_warning:
        note(f"warning: {result.domain_warning}")
    note(f"scored {result.scored:,} of {result.rows:,} rows -> {args.output}")


def cmd_predict(args: argparse.Namespace) -> None:
    if args.input is not None:
        if args.texts or args.title is not None:
            raise InputError("give either TEXT(s) or --input, not both")
        if args.output is None:
            raise InputError("--input needs --output (the scored file to write)")
        predict_input_file(args)
    elif args.texts:
        if args.output is not None:
            raise InputError("--output goes with --input; TEXT results are printed")
        predict_texts(args)
    else:
        raise InputError("nothing to score: give TEXT(s), '-' for stdin, or --input FILE")


# --- models --------------------------------------------------------------------------------------


def _cell(value: Any, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def cmd_models(args: argparse.Namespace) -> None:
    from fakenews.tracking.model_registry import list_models

    paths = Paths((args.root or find_repo_root()).resolve())
    if not paths.metrics_root.is_dir():
        raise InputError(
            f"{paths.metrics_root}: no metrics folder; run `dvc repro` first, or pass --root"
        )
    rows = list_models(paths)
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    if not rows:
        note(f"no model metrics under {paths.metrics_root}; run `dvc repro` first")
        return
    header = ["dataset", "model", "val F1", "test acc", "test F1", "ROC-AUC", "n test", "folder"]
    table = [
        [
            row["dataset"],
            ("★ " if row["best"] else "  ") + row["model"],
            _cell(row["val_f1_macro"]),
            _cell(row["test_accuracy"]),
            _cell(row["test_f1_macro"]),
            _cell(row["test_roc_auc"]),
            _cell(row["test_n"]),
            row["path"] if row["trained"] else f"{row['path']} (missing)",
        ]
        for row in rows
    ]
    widths = [max(len(r[i]) for r in [header, *table]) for i in range(len(header))]
    for line in [header, *table]:
        cells = (cell.ljust(width) for cell, width in zip(line, widths, strict=True))
        print("  ".join(cells).rstrip())
    print("\n★ best validation macro F1 per dataset: the version in MLflow's fakenews-<dataset>")


def cmd_check(args: argparse.Namespace) -> None:
    from fakenews.cli.check import check_params
    from fakenews.core.errors import ParamsError

    paths = Paths(args.root.resolve()) if args.root else Paths.from_cwd()
    try:
        params = check_params(paths)
    except ParamsError as error:
        raise InputError(str(error)) from None
    print(
        f"{paths.params_file}: ok ({len(params.datasets)} datasets, "
        f"{len(params.model_names)} models)"
    )


def cmd_shard(args: argparse.Namespace) -> None:
    from fakenews.orchestration.shard import shard_stages

    paths = Paths(args.root.resolve()) if args.root else Paths.from_cwd()
    for name in shard_stages(paths.root, args.part):
        print(name)


def cmd_repro(args: argparse.Namespace) -> None:
    from fakenews.cli.check import check_params
    from fakenews.core.errors import ParamsError
    from fakenews.core.params import load_params
    from fakenews.orchestration.dataset_stages import sync_dataset_stages
    from fakenews.orchestration.scheduler import repro
    from fakenews.orchestration.unions import sync_unions

    paths = Paths(args.root.resolve()) if args.root else Paths.from_cwd()
    try:
        # Before DVC reads params.yaml: the unions it iterates, derived from `datasets`.
        if sync_unions(paths.params_file, load_params(paths.params_file).raw):
            print(f"{paths.params_file.name}: unions rewritten from `datasets` (union_rule)")
        # And dvc.yaml's download/prepare stages, which list the datasets with their code.
        if sync_dataset_stages(paths.root, load_params(paths.params_file).raw):
            print("dvc.yaml: download/prepare stages rewritten for the datasets of params.yaml")
        code = repro(paths, args.jobs, args.log, check=check_params)
    except ParamsError as error:  # `fakenews check`'s verdict, before DVC reads params.yaml
        raise InputError(str(error)) from None
    if code:
        sys.exit(code)


def cmd_replay(args: argparse.Namespace) -> None:
    from fakenews.tracking.replay import replay_pending

    paths = Paths(args.root.resolve()) if args.root else Paths.from_cwd()
    result = replay_pending(paths)
    print(f"MLflow: {len(result.replayed)} stage journals replayed, {len(result.kept)} kept")
    if result.kept:
        sys.exit(1)


def cmd_mlflow_ui(args: argparse.Namespace) -> None:
    from fakenews.tracking.ui import open_ui

    paths = Paths(args.root.resolve()) if args.root else Paths.from_cwd()
    if not open_ui(paths, args.host, args.port, url_only=args.url):
        sys.exit(1)


# --- entry point ---------------------------------------------------------------------------------


@contextlib.contextmanager
def sigterm_as_exit() -> Iterator[None]:
    """A kill (SIGTERM) unwinds like Ctrl-C, so temporary files are removed on the way out."""

    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format=f"{PROG}: %(levelname)s %(message)s")
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exit_:  # usage errors (status 2) and --help (0), already printed
        return exit_.code if isinstance(exit_.code, int) else EXIT_BAD_INPUT
    try:
        with sigterm_as_exit():
            args.handler(args)
    except FakenewsError as error:
        note(f"error: {error}")
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        note("interrupted: no output file was written")
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `fakenews models | head`: the reader left, nothing to report
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - Python's flush at exit
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
