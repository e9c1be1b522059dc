"""A text's score depends on nothing but the text: not its batch-mates, their lengths (padding),
the inference batch size, or the cores the process may use.

Exact equality, not a tolerance: a last-bit difference is what made `fakenews predict` on a
file disagree with evaluate's scores (minilm: up to 0.0107 in P(fake) with bf16 autocast).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from helpers.news import custom_datasets
from helpers.params import family_of, tiny_params
from helpers.repo import make_repo, run
from helpers.tiny_models import make_tiny_bert

from fakenews.classifier.base import TextClassifier
from fakenews.models import get_model_class
from fakenews.nn.batching import ROW_TILE, tile_rows, uniform_batches

WORDS = [
    "shocking", "hoax", "secret", "miracle", "exposed", "banned",
    "officials", "reported", "ministry", "according", "data", "study",
    "the", "a", "of", "in", "today", "people",
]  # fmt: skip


def texts_of_mixed_lengths(n: int = 70, seed: int = 1) -> tuple[list[str], np.ndarray]:
    """Lengths 1..60 words, several texts per length (so batches of one length hold many)."""
    rng = np.random.default_rng(seed)
    sizes = [int(rng.integers(1, 61)) for _ in range(n)] + [7] * 12
    texts = [" ".join(rng.choice(WORDS, size=k)) for k in sizes]
    return texts, np.arange(len(texts)) % 2


def assert_batch_free(model: TextClassifier, texts: list[str]) -> None:
    together = model.predict_proba(texts)
    alone = np.concatenate([model.predict_proba([t]) for t in texts])
    reversed_ = model.predict_proba(texts[::-1])[::-1]
    differ = np.flatnonzero(together != alone)
    assert differ.size == 0, (
        f"{model.name}: {differ.size} of {len(texts)} texts score differently alone than in "
        f"one batch (max |diff| {np.abs(together - alone).max():.3g})"
    )
    assert np.array_equal(together, reversed_), f"{model.name}: the order of the texts matters"


def fit_quietly(model: TextClassifier, texts: list[str], labels: np.ndarray) -> TextClassifier:
    model.fit(texts, labels, texts[:16], labels[:16], lambda metrics, step: None)
    return model


def test_uniform_batches_hold_one_length_and_whole_tiles() -> None:
    lengths = [5, 3, 5, 9, 3, 5] * 7
    batches = uniform_batches(lengths, batch_size=20, max_tokens=64)
    assert sorted(np.concatenate(batches).tolist()) == list(range(len(lengths)))
    for batch in batches:
        assert len({lengths[i] for i in batch}) == 1
        assert len(batch) * lengths[batch[0]] <= 64 or len(batch) <= ROW_TILE
        tiled = tile_rows(batch)
        assert len(tiled) % ROW_TILE == 0 and tiled[: len(batch)].tolist() == batch.tolist()
    # Where the token budget allows a tile, all but a length's last batch are whole tiles:
    # tiling repeats rows only there. Length 5: 12 rows fit (21 texts), length 9: 7 (7 texts).
    assert ROW_TILE == 4
    assert [len(b) for b in batches if lengths[b[0]] == 5] == [12, 9]
    assert [len(b) for b in batches if lengths[b[0]] == 9] == [4, 3]
    assert [len(b) for b in uniform_batches([30] * 3, 20, max_tokens=64)] == [2, 1]  # < a tile


def test_linear_scores_do_not_depend_on_the_batch() -> None:
    cls = get_model_class("tfidf_logreg")
    texts, labels = texts_of_mixed_lengths()
    assert_batch_free(fit_quietly(cls(cls.Config(min_df=1)), texts, labels), texts)


@pytest.mark.parametrize("name", ["rnn", "lstm", "gru", "bilstm"])
def test_recurrent_scores_do_not_depend_on_the_batch(name: str) -> None:
    cls = get_model_class(name)
    texts, labels = texts_of_mixed_lengths()
    defaults = cls.Config()
    config = cls.Config(
        vocab_size=200,
        embedding_dim=32,
        hidden_sizes=tuple(max(8, h // 4) for h in defaults.hidden_sizes),
        min_frequency=1,
        max_len=64,
        epochs=1,
        batch_size=16,
        eval_batch_size=24,  # not a whole number of tiles: the last rows of a batch are cut
    )
    model = fit_quietly(cls(config), texts, labels)
    assert_batch_free(model, texts)
    other = cls(config.model_copy(update={"eval_batch_size": 200}), model.tokenizer, model.network)
    assert np.array_equal(other.predict_proba(texts), model.predict_proba(texts))


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_transformer_scores_do_not_depend_on_the_batch(
    precision: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from fakenews.nn.encoder import load_pretrained

    directory = make_tiny_bert(tmp_path_factory.mktemp("tiny_bert"), WORDS)
    cls = get_model_class("tinybert")
    config = cls.Config(pretrained=str(directory), max_len=16, eval_batch_size=20)
    config = config.model_copy(update={"precision": precision})
    tokenizer, network = load_pretrained(str(directory))
    texts, _ = texts_of_mixed_lengths()  # texts over 16 tokens read as several windows
    assert_batch_free(cls(config, tokenizer, network.eval()), texts)


def test_embedding_scores_do_not_depend_on_the_batch() -> None:
    from fakenews.models.minilm_embed import PACKAGED, Config, Head, Model

    rng = np.random.default_rng(0)
    head = Head(rng.normal(size=(1, 384)), np.array([0.1]), np.array([0, 1]), 1.0)
    model = Model(Config(pretrained=PACKAGED, embedding_cache=None, max_len=24), head)
    texts, _ = texts_of_mixed_lengths(n=40)
    assert_batch_free(model, texts)


PROBE = """
import sys, numpy as np
from fakenews.models import get_model_class
cls = get_model_class("rnn")
config = cls.Config(vocab_size=200, embedding_dim=32, hidden_sizes=(32,), min_frequency=1,
                    max_len=64, epochs=2, batch_size=16)  # num_threads: its default
words = "shocking hoax secret officials reported ministry the a of in".split()
rng = np.random.default_rng(0)
texts = [" ".join(rng.choice(words, size=int(rng.integers(1, 60)))) for _ in range(96)]
labels = np.arange(96) % 2
model = cls(config)
model.fit(texts, labels, texts[:32], labels[:32], lambda m, s: None)
import threadpoolctl, torch
blas = {pool["num_threads"] for pool in threadpoolctl.threadpool_info()}
print(torch.get_num_threads(), sorted(blas), model.predict_proba(texts).tobytes().hex())
"""


@pytest.mark.skipif(
    not hasattr(os, "sched_setaffinity") or len(os.sched_getaffinity(0)) < 2,
    reason="needs two cores to compare one with two",
)
def test_a_fit_does_not_depend_on_the_cores_it_gets() -> None:
    """num_threads comes from params: pinned to one core or free on all, the same model."""
    cores = sorted(os.sched_getaffinity(0))

    def run(allowed: list[int]) -> str:
        return subprocess.run(
            [sys.executable, "-c", PROBE],
            check=True,
            capture_output=True,
            text=True,
            preexec_fn=lambda: os.sched_setaffinity(0, allowed),
        ).stdout

    pinned, free = run(cores[:1]).split(), run(cores)
    # The count itself: this tiny fit may not reach the sizes where torch splits work.
    assert free.split()[:2] == pinned[:2] == ["1", "[1]"], (pinned[:2], free.split()[:2])
    assert free.split() == pinned


# --- a study built twice ------------------------------------------------------------------------

TRACKED = ("data", "models", "metrics", "plots", "reports")


def output_digests(repo: Path) -> dict[str, str]:
    """Every file DVC tracks or a stage writes for git, by path: its bytes' SHA-256.

    A .gitignore DVC writes lists the outputs in the order their stages ran (another order here
    by design; a clone has them committed): its lines are compared as a set."""
    digests = {}
    for top in TRACKED:
        for path in sorted((repo / top).rglob("*")):
            relative = path.relative_to(repo).as_posix()
            if not path.is_file() or relative.startswith("data/external/"):
                continue
            content = path.read_bytes()
            if path.name == ".gitignore":
                content = b"\n".join(sorted(content.splitlines()))
            digests[relative] = hashlib.sha256(content).hexdigest()
    return digests


def lock_hashes(repo: Path) -> dict[str, str]:
    """Every stage output's md5 in every dvc.lock: what `dvc status` and a remote compare."""
    hashes = {}
    for lock in sorted(repo.rglob("dvc.lock")):
        for name, entry in (yaml.safe_load(lock.read_text()) or {})["stages"].items():
            for out in entry.get("outs", []):
                hashes[f"{name}:{out['path']}"] = out["md5"]
    return hashes


@pytest.mark.slow
@pytest.mark.skipif(
    shutil.which("taskset") is None or len(os.sched_getaffinity(0)) < 2,
    reason="needs taskset and two cores to run the study once on one and once on two",
)
def test_a_study_built_twice_in_other_ways_is_the_same_byte_for_byte(tmp_path: Path) -> None:
    """Once a plain `dvc repro` pinned to one core, once `fakenews repro` on two cores (stages
    side by side, another order, a torch stage alone on both cores): the same bytes in every
    output and the same hashes in every dvc.lock. A timing, host name, path or date written into
    an output, or a score that follows the cores or batch, fails it."""
    params = tiny_params(
        custom_datasets("alpha", "beta"),
        ["tfidf_logreg", "rnn"],
        seeds={family_of("tfidf_logreg"): [42], family_of("rnn"): [42]},
        train={"rnn": {"epochs": 2, "max_len": 64, "embedding_dim": 16, "hidden_sizes": [16]}},
        split={"folds": 3},
    )
    first = make_repo(tmp_path / "first", params)
    second = make_repo(tmp_path / "second", params)
    cores = sorted(os.sched_getaffinity(0))
    run(first, "taskset", "-c", str(cores[0]), "dvc", "repro")
    run(second, sys.executable, "-m", "fakenews", "repro", "--jobs", "2")
    one, two = output_digests(first), output_digests(second)
    assert sorted(one) == sorted(two), "the two builds wrote different files"
    differ = sorted(path for path in one if one[path] != two[path])
    assert not differ, f"{len(differ)} outputs differ between the two builds: {differ}"
    locks_one, locks_two = lock_hashes(first), lock_hashes(second)
    assert locks_one.keys() == locks_two.keys()
    changed = sorted(out for out in locks_one if locks_one[out] != locks_two[out])
    assert not changed, f"dvc.lock hashes differ: {changed}"
