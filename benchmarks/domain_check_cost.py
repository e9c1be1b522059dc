"""What the domain check adds to ``fakenews predict``: the same file scored with and without it.

For each model, ``fakenews predict --input FILE --output OUT``'s work (read the file, prepare each
text with the model's recorded rules, score in batches, calibrate, write the output) runs through
:func:`fakenews.inference.predict.predict_file` twice per round — with the domain check (the
default) and without it (``domain=False``: calibrated P(fake) only) — in alternating order, so
both see the same machine state. Prints the median seconds of each, texts per second and the
ratio with/without (the issue's bound: <= 1.10), plus the one-off cost of loading the domain
profile (``DomainProfile.load``, paid once per ``fakenews predict`` call).

Then the whole command as a user runs it: ``python -m fakenews predict --input ... --output ...``
(process start, imports, model and sidecar loading included), median wall time of ``--rounds``
runs; "without" there is that time less the in-process difference (the command has no switch to
skip the check), and its ratio is what the check adds to a ``fakenews predict`` call.

The models are trained runs of this repo (``models/<dataset>/<model>``: their best-validation
run) with their calibrate and domain stage outputs; the texts are the dataset's test split
(``--rows`` of them, raw ``title``/``text`` as a user's file would hold them) or ``--input``.
Usage (after `dvc repro` has built the models and sidecars):

    python benchmarks/domain_check_cost.py [--root .] [--dataset constraint]
        [--models tfidf_logreg gru] [--input FILE] [--rows 2000] [--rounds 5]

``--smoke`` runs the same code on tiny models trained on generated texts (tests/helpers), with
their sidecars in the model folder: a check that the script still works, not a measurement.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from fakenews.core.io import read_split
from fakenews.core.paths import Paths
from fakenews.inference.predict import load_predictor, predict_file, read_input
from fakenews.inference.served import find_sidecars

REPO = Path(__file__).resolve().parents[1]
LIMIT = 1.10  # the bound on predict time with the check / without


def timed_predict(predictor: object, source: Path, out: Path, domain: bool) -> float:
    start = time.perf_counter()
    predict_file(predictor, source, out, domain=domain, progress=False)  # type: ignore[arg-type]
    return time.perf_counter() - start


def measure(model_spec: str | Path, source: Path, rounds: int, root: Path | None) -> dict:
    """Median seconds with and without the check over ``rounds`` alternating rounds."""
    from fakenews.analysis.domain import DomainProfile

    predictor = load_predictor(model_spec, root=root)
    rows = len(read_input(source))
    sidecars = find_sidecars(predictor.directory, root)
    start = time.perf_counter()
    DomainProfile.load(sidecars.domain)
    profile_load = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "scored.csv"
        timed_predict(predictor, source, out, True)  # warm-up: caches, lazy imports, threads
        timed_predict(predictor, source, out, False)
        with_check: list[float] = []
        without: list[float] = []
        for i in range(rounds):
            order = (True, False) if i % 2 == 0 else (False, True)
            for domain in order:
                (with_check if domain else without).append(
                    timed_predict(predictor, source, out, domain)
                )
    return {
        "model": predictor.name,
        "folder": predictor.directory,
        "rows": rows,
        "with": statistics.median(with_check),
        "without": statistics.median(without),
        "profile_load": profile_load,
    }


def command_seconds(
    model_dir: Path, source: Path, rounds: int, root: Path | None, cwd: Path
) -> float:
    """Median wall time of the whole ``fakenews predict`` command on the file."""
    # This checkout's package, as the in-process measurement uses.
    paths = [str(REPO / "src"), os.environ.get("PYTHONPATH", "")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p)}
    command = [sys.executable, "-m", "fakenews", "predict", "--model", str(model_dir)]
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        subprocess.run(
            [*command, "--input", str(source), "--output", str(cwd / "cli.csv"), "--no-progress"],
            cwd=root or cwd,
            env=env,
            check=True,
            capture_output=True,
        )
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def report(result: dict) -> float:
    ratio = result["with"] / result["without"]
    rows = result["rows"]
    print(
        f"{result['model']:>14}  {rows:>6} texts  scoring the file: without check "
        f"{result['without']:7.3f} s ({rows / result['without']:6.0f}/s), with "
        f"{result['with']:7.3f} s ({rows / result['with']:6.0f}/s): ratio {ratio:.3f}"
        + ("" if ratio <= LIMIT else f" > {LIMIT:.2f}")
        + f"; profile load {result['profile_load'] * 1000:.0f} ms once"
    )
    if "command" in result:
        whole = result["command"]
        less = whole - (result["with"] - result["without"])
        print(
            f"{'':>14}  whole `fakenews predict` command: {whole:7.3f} s with the check, "
            f"~{less:7.3f} s without: ratio {whole / less:.3f}"
            + ("" if whole / less <= LIMIT else f" > {LIMIT:.2f}")
        )
    return ratio


def test_texts(root: Path, dataset: str, rows: int, into: Path) -> Path:
    """The test split's title/text columns, as a user's file to score."""
    test = read_split(Paths(root).split(dataset), "test")
    frame = test[["title", "text"]].head(rows)
    path = into / f"{dataset}-test.csv"
    frame.to_csv(path, index=False)
    return path


def smoke_models(into: Path) -> list[Path]:
    sys.path.insert(0, str(REPO / "tests"))
    from helpers.tiny_models import TINY_LSTM, train_folder

    return [
        train_folder(into / "tfidf_logreg", "tfidf_logreg", min_df=1),
        train_folder(into / "lstm", "lstm", **TINY_LSTM),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--root", type=Path, default=REPO, help="the project (models/, data/)")
    parser.add_argument("--dataset", default="constraint")
    parser.add_argument("--models", nargs="+", default=["tfidf_logreg", "gru"])
    parser.add_argument("--input", type=Path, help="a .csv of texts (default: the test split)")
    parser.add_argument("--rows", type=int, default=2000, help="test rows to score")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds each way")
    parser.add_argument("--smoke", action="store_true", help="tiny generated models and texts")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if args.smoke:
            specs: list[str | Path] = list(smoke_models(work / "models"))
            source = work / "texts.csv"
            pd.DataFrame(
                {"text": ["secret hoax exposed today", "officials reported data", " "] * 20}
            ).to_csv(source, index=False)
            root, rounds = None, 1
        else:
            specs = [f"{args.dataset}/{m}" for m in args.models]
            source = args.input or test_texts(args.root, args.dataset, args.rows, work)
            root, rounds = args.root, args.rounds
        print(f"domain check cost: {source.name}, median of {rounds} round(s) each way")
        ratios = []
        for spec in specs:
            result = measure(spec, source, rounds, root)
            result["command"] = command_seconds(result["folder"], source, rounds, root, work)
            ratios.append(report(result))
    print(f"worst ratio {max(ratios):.3f} (bound {LIMIT:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
