"""Which words of a text moved a model's P(fake), per family, in logit units (log-odds of fake).

A unit is a distinct word (case-folded; the linear model's units are its n-gram features) with
every place it occurs in the text the model reads; its contribution is signed: > 0 pushes towards
fake. Only units the model reads count (a recurrent model's first ``max_len`` words, a windowed
encoder's first ``max_chunks`` windows, the TF-IDF vocabulary's n-grams).

- ``linear`` (tfidf_logreg): exact. logit = intercept + sum_f w_f * x_f; a feature's contribution
  is w_f * x_f, so the contributions plus the intercept are the logit.
- ``recurrent``: Captum's integrated gradients on the embedding layer (baseline: the padding
  embedding, a zero vector), tokens summed to words.
- ``transformer``: integrated gradients on the word embeddings, every window of a text in one
  input (baseline: [PAD] for every non-special token), of the text's pooled log-odds (the mean of
  its windows' logit differences, as the model predicts).
- ``embedding`` (minilm_embed): integrated gradients through the frozen encoder, its token-weighted
  mean pooling over all windows, the L2 normalisation and the logistic head (a linear layer).

Integrated gradients is complete: a text's contributions sum to f(text) - f(baseline), up to the
error of ``n_steps`` Riemann steps (``delta``, reported per text). These modules are not imported by
training, so train stages do not depend on them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from fakenews.core.errors import ModelError

if TYPE_CHECKING:
    import torch

    from fakenews.classifier.base import TextClassifier

# Words as the recurrent family's pre-tokenizer cuts them (tokenizers' Whitespace): runs of word
# characters, or of other non-space characters (punctuation).
WORD = re.compile(r"\w+|[^\w\s]+")
DEFAULT_STEPS = 16
# Sequences (windows x steps) per encoder forward pass in integrated gradients.
DEFAULT_INTERNAL_BATCH = 64
# Encoder families: at most this many tokens x steps per text (never under MIN_STEPS steps), so
# a long text costs a few passes over it, not n_steps of them. `fakenews predict --explain` uses
# this default (a tweet gets all 16 steps, within the 1 s per text goal); the explain stage
# takes params.yaml's explain.step_tokens, smaller, for the study's CPU budget. The completeness
# error ``delta`` says what fewer steps cost in accuracy, and the stage's faithfulness check
# whether the attributions still find what matters. None: always n_steps.
DEFAULT_STEP_TOKENS: int | None = 2048
MIN_STEPS = 2


@dataclass
class Unit:
    """A word (or the linear model's n-gram) and its signed contribution to the logit of fake."""

    text: str
    contribution: float
    spans: list[tuple[int, int]] = field(default_factory=list)  # in Explanation.text


@dataclass
class Explanation:
    """One text's attribution: ``units`` (every unit the model reads, in no particular order)."""

    text: str  # the text the spans refer to (the linear model: as its analyzer lower-cases it)
    units: list[Unit]
    logit: float  # the model's log-odds of fake for the text (as attributed)
    baseline: float  # linear: the intercept; IG: f(baseline input)
    method: str
    delta: float = 0.0  # IG: sum(contributions) - (logit - baseline); exact methods: 0
    steps: int = 0  # IG steps taken (0: exact)

    def top(self, k: int, towards: int | None = None) -> list[Unit]:
        """The ``k`` units that moved the score most: by |contribution|, or towards class
        ``towards`` (1 fake, 0 real) when given."""
        if towards is None:
            key: Callable[[Unit], float] = lambda u: -abs(u.contribution)  # noqa: E731
        else:
            sign = 1.0 if towards == 1 else -1.0
            key = lambda u: -sign * u.contribution  # noqa: E731
        # Ties broken by the unit's text: the same order on every run.
        return sorted(self.units, key=lambda u: (key(u), u.text))[:k]


def delete_units(text: str, units: Sequence[Unit]) -> str:
    """``text`` without every occurrence of ``units`` (each replaced by one space, so the words on
    either side stay apart)."""
    spans = sorted(s for u in units for s in u.spans)
    out: list[str] = []
    at = 0
    for start, end in spans:
        if end <= at:
            continue  # inside a span already cut (overlapping n-grams)
        out.append(text[at : max(at, start)])
        out.append(" ")
        at = end
    out.append(text[at:])
    return "".join(out)


def word_spans(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in WORD.finditer(text)]


def group_words(
    text: str, token_spans: Sequence[tuple[int, int]], scores: np.ndarray
) -> list[Unit]:
    """Token scores summed to the words that hold them, then to distinct (case-folded) words.

    ``token_spans``: each token's characters in ``text`` (tokens without characters, e.g. [CLS],
    are left out by the caller). A word counts as read when one of its tokens is."""
    words = word_spans(text)
    starts = np.asarray([s for s, _ in words], dtype=np.int64)
    per_word: dict[int, float] = {}
    for (start, end), score in zip(token_spans, scores, strict=True):
        if end <= start or not len(starts):
            continue
        w = int(np.searchsorted(starts, start, side="right")) - 1
        if w < 0 or start >= words[w][1]:
            continue  # whitespace only
        per_word[w] = per_word.get(w, 0.0) + float(score)
    units: dict[str, Unit] = {}
    for w, score in sorted(per_word.items()):
        start, end = words[w]
        key = text[start:end].casefold()
        unit = units.setdefault(key, Unit(key, 0.0))
        unit.contribution += score
        unit.spans.append((start, end))
    return list(units.values())


# --- linear: exact -------------------------------------------------------------------------------


def explain_linear(model: Any, texts: Sequence[str]) -> list[Explanation]:
    """tfidf_logreg: w_f * x_f per n-gram feature present in the text (exact)."""
    pipeline = model.pipeline
    if pipeline is None:
        raise ModelError(f"{model.name}: explain before fit/load")
    tfidf, logreg = pipeline.named_steps["tfidf"], pipeline.named_steps["logreg"]
    sign = 1.0 if int(logreg.classes_[1]) == 1 else -1.0  # coef_ is for classes_[1]
    coef = sign * np.asarray(logreg.coef_[0], dtype=np.float64)
    intercept = sign * float(logreg.intercept_[0])
    names = _feature_names(tfidf)
    matrix = tfidf.transform(list(texts)).tocsr()
    pattern = re.compile(tfidf.token_pattern)
    low, high = tfidf.ngram_range
    out = []
    for i, text in enumerate(texts):
        row = matrix.getrow(i)
        shown = text.lower() if tfidf.lowercase else text
        spans = _ngram_spans(shown, pattern, low, high)
        units = [
            Unit(names[j], float(coef[j] * x), spans.get(names[j], []))
            for j, x in zip(row.indices, row.data, strict=True)
        ]
        logit = intercept + float(np.sum(coef[row.indices] * row.data))
        out.append(Explanation(shown, units, logit, intercept, "exact (w_f * x_f)"))
    return out


_NAMES: dict[int, np.ndarray] = {}


def _feature_names(tfidf: Any) -> np.ndarray:
    # 200k names: built once per loaded vectorizer.
    key = id(tfidf)
    if key not in _NAMES:
        _NAMES.clear()
        _NAMES[key] = tfidf.get_feature_names_out()
    return _NAMES[key]


def _ngram_spans(
    text: str, pattern: re.Pattern[str], low: int, high: int
) -> dict[str, list[tuple[int, int]]]:
    """Every n-gram of the analyzer's tokens (sklearn joins them with one space) -> its spans."""
    tokens = [(m.group(), m.start(), m.end()) for m in pattern.finditer(text)]
    spans: dict[str, list[tuple[int, int]]] = {}
    for n in range(low, high + 1):
        for i in range(len(tokens) - n + 1):
            gram = " ".join(t[0] for t in tokens[i : i + n])
            spans.setdefault(gram, []).append((tokens[i][1], tokens[i + n - 1][2]))
    return spans


# --- integrated gradients (torch families) -------------------------------------------------------


def _integrated(
    forward: Callable[[torch.Tensor], torch.Tensor],
    inputs: torch.Tensor,
    baseline: torch.Tensor,
    n_steps: int,
    internal_batch: int,
) -> tuple[np.ndarray, float, float, float]:
    """Captum IG of a scalar ``forward`` of one example ``inputs`` (shape (1, ...)): per-element
    attributions summed over the last (embedding) dimension, f(input), f(baseline), delta."""
    import torch
    from captum.attr import IntegratedGradients

    ig = IntegratedGradients(forward)
    attributions, delta = ig.attribute(
        inputs,
        baselines=baseline,
        n_steps=n_steps,
        method="gausslegendre",
        internal_batch_size=max(1, internal_batch),
        return_convergence_delta=True,
    )
    with torch.no_grad():
        ends = forward(torch.cat([inputs, baseline]))
    summed = attributions.sum(dim=-1)[0].detach().double().numpy()
    return summed, float(ends[0]), float(ends[1]), float(delta[0])


def explain_recurrent(
    model: Any, texts: Sequence[str], n_steps: int = DEFAULT_STEPS
) -> list[Explanation]:
    """rnn/lstm/gru/bilstm: IG on the embedding layer of the first ``max_len`` words."""
    import torch

    from fakenews.nn.cores import fix_threads

    tokenizer, network = model.tokenizer, model.network
    if tokenizer is None or network is None:
        raise ModelError(f"{model.name}: explain before fit/load")
    fix_threads(model.typed_config.num_threads)
    network.eval()
    unk = tokenizer.token_to_id("[UNK]")
    out = []
    for text in texts:
        encoding = tokenizer.encode(text)
        ids = encoding.ids or [unk]  # as the model reads an empty text
        offsets = encoding.offsets if encoding.ids else [(0, 0)]
        length = torch.tensor([len(ids)])
        embedded = network.embedding(torch.tensor([ids])).detach()

        def forward(x: torch.Tensor, length: torch.Tensor = length) -> torch.Tensor:
            logits = _recurrent_from_embeddings(network, x, length.expand(x.shape[0]))
            return logits[:, 1] - logits[:, 0]

        scores, logit, base, delta = _integrated(
            forward, embedded, torch.zeros_like(embedded), n_steps, DEFAULT_INTERNAL_BATCH
        )
        units = group_words(text, offsets, scores)
        out.append(Explanation(text, units, logit, base, "integrated gradients", delta, n_steps))
    return out


def _recurrent_from_embeddings(network: Any, x: torch.Tensor, lengths: torch.Tensor) -> Any:
    """RecurrentNet.forward from its embedding layer's output (the same layers, in order)."""
    from fakenews.nn.recurrent import reverse_index

    last = lengths - 1
    reverse = reverse_index(lengths, x.shape[1]) if network.bidirectional else None
    final = x[:, 0]
    for layer in network.layers:
        x, final = layer(x, last, reverse)
    return network.head(final)


def _encoder_windows(
    tokenizer: Any, text: str, max_len: int, stride: int, max_chunks: int | None
) -> tuple[list[list[int]], list[list[tuple[int, int]]], list[list[int]]]:
    """A text's windows as :func:`fakenews.nn.encoder.split_windows` cuts them, with each token's
    characters and which tokens are special."""
    encoded = tokenizer(
        [text],
        truncation=True,
        max_length=max_len,
        stride=stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
        return_special_tokens_mask=True,
        padding=False,
        return_attention_mask=False,
        return_token_type_ids=False,
    )
    keep = len(encoded["input_ids"]) if max_chunks is None else max_chunks
    ids = [list(w) for w in encoded["input_ids"][:keep]]
    offsets = [[tuple(o) for o in w] for w in encoded["offset_mapping"][:keep]]
    special = [list(w) for w in encoded["special_tokens_mask"][:keep]]
    return ids, offsets, special


def _padded(
    windows: list[list[int]], special: list[list[int]], pad: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(input ids, attention mask, baseline ids: [PAD] for every non-special token)."""
    import torch

    width = max(len(w) for w in windows)
    ids = torch.full((len(windows), width), pad, dtype=torch.long)
    mask = torch.zeros((len(windows), width), dtype=torch.long)
    base = torch.full((len(windows), width), pad, dtype=torch.long)
    for i, (w, s) in enumerate(zip(windows, special, strict=True)):
        ids[i, : len(w)] = torch.tensor(w)
        mask[i, : len(w)] = 1
        base[i, : len(w)] = torch.tensor([t if sp else pad for t, sp in zip(w, s, strict=True)])
    return ids, mask, base


def _window_scores(
    text: str,
    attributions: np.ndarray,
    windows: list[list[int]],
    offsets: list[list[tuple[int, int]]],
    special: list[list[int]],
) -> list[Unit]:
    spans, scores = [], []
    for w in range(len(windows)):
        for t in range(len(windows[w])):
            if not special[w][t]:
                spans.append(offsets[w][t])
                scores.append(attributions[w, t])
    return group_words(text, spans, np.asarray(scores, dtype=np.float64))


def steps_for(tokens: int, n_steps: int, step_tokens: int | None) -> int:
    """IG steps for a text of ``tokens`` tokens (see DEFAULT_STEP_TOKENS)."""
    if step_tokens is None:
        return n_steps
    return max(MIN_STEPS, min(n_steps, step_tokens // max(1, tokens)))


def explain_transformer(
    model: Any,
    texts: Sequence[str],
    n_steps: int = DEFAULT_STEPS,
    internal_batch: int = DEFAULT_INTERNAL_BATCH,
    step_tokens: int | None = DEFAULT_STEP_TOKENS,
) -> list[Explanation]:
    """Fine-tuned encoders: IG on the word embeddings of all a text's windows at once, of the
    mean of the windows' logit differences (the log-odds the model predicts from)."""
    import torch

    from fakenews.nn.cores import fix_threads

    tokenizer, network = model.tokenizer, model.network
    if tokenizer is None or network is None:
        raise ModelError(f"{model.name}: explain before fit/load")
    c = model.typed_config
    fix_threads(c.num_threads)
    network.float().eval()  # attributions in fp32, whatever precision predict runs in
    embeddings = network.get_input_embeddings()
    pad = tokenizer.pad_token_id or 0
    out = []
    for text in texts:
        windows, offsets, special = _encoder_windows(
            tokenizer, text, model._max_len(), c.stride, c.max_chunks
        )
        ids, mask, base_ids = _padded(windows, special, pad)
        n_windows = ids.shape[0]

        def forward(x: torch.Tensor, mask: torch.Tensor = mask, n: int = n_windows) -> Any:
            flat = x.reshape(-1, mask.shape[1], x.shape[-1])
            logits = network(inputs_embeds=flat, attention_mask=mask.repeat(x.shape[0], 1)).logits
            return (logits[:, 1] - logits[:, 0]).reshape(x.shape[0], n).mean(dim=1)

        with torch.no_grad():
            inputs, baseline = embeddings(ids)[None], embeddings(base_ids)[None]
        steps = steps_for(int(mask.sum()), n_steps, step_tokens)
        scores, logit, base, delta = _integrated(
            forward, inputs, baseline, steps, internal_batch // n_windows
        )
        units = _window_scores(text, scores, windows, offsets, special)
        out.append(Explanation(text, units, logit, base, "integrated gradients", delta, steps))
    return out


def explain_embedding(
    model: Any,
    texts: Sequence[str],
    n_steps: int = DEFAULT_STEPS,
    internal_batch: int = DEFAULT_INTERNAL_BATCH,
    step_tokens: int | None = DEFAULT_STEP_TOKENS,
) -> list[Explanation]:
    """minilm_embed: IG through the frozen encoder, the token-weighted mean over every window
    read, the L2 normalisation and the logistic head (the model's own arithmetic, in torch)."""
    import torch

    from fakenews.nn.cores import fix_threads

    head = model.head
    if head is None:
        raise ModelError(f"{model.name}: explain before fit/load")
    c = model.typed_config
    fix_threads(c.num_threads)
    embedder = model.embedder
    loaded = embedder._load()
    tokenizer, encoder = loaded.tokenizer, loaded.encoder
    sign = 1.0 if int(head.classes[1]) == 1 else -1.0
    coef = torch.tensor(sign * head.coef[0], dtype=torch.float32)
    intercept = sign * float(head.intercept[0])
    embeddings = encoder.get_input_embeddings()
    pad = tokenizer.pad_token_id or 0
    out = []
    for text in texts:
        windows, offsets, special = _encoder_windows(
            tokenizer, text, embedder.window_len, 0, c.max_chunks
        )
        ids, mask, base_ids = _padded(windows, special, pad)
        n_windows = ids.shape[0]
        weights = mask.sum(dim=1).to(torch.float32)  # each window's tokens

        def forward(x: torch.Tensor, mask: torch.Tensor = mask, w: Any = weights) -> Any:
            steps = x.shape[0]
            flat = x.reshape(-1, mask.shape[1], x.shape[-1])
            m = mask.repeat(steps, 1)
            hidden = encoder(inputs_embeds=flat, attention_mask=m).last_hidden_state
            sums = (hidden * m[..., None]).sum(dim=1).reshape(steps, -1, hidden.shape[-1])
            vector = sums.sum(dim=1) / w.sum()  # the mean over every token read
            unit = vector / vector.norm(dim=1, keepdim=True).clamp(min=1e-12)
            return unit @ coef.to(unit.dtype) + intercept

        with torch.no_grad():
            inputs, baseline = embeddings(ids)[None], embeddings(base_ids)[None]
        steps = steps_for(int(mask.sum()), n_steps, step_tokens)
        scores, logit, base, delta = _integrated(
            forward, inputs, baseline, steps, internal_batch // n_windows
        )
        units = _window_scores(text, scores, windows, offsets, special)
        out.append(Explanation(text, units, logit, base, "integrated gradients", delta, steps))
    return out


def explain(
    model: TextClassifier,
    texts: Sequence[str],
    n_steps: int = DEFAULT_STEPS,
    internal_batch: int = DEFAULT_INTERNAL_BATCH,
    step_tokens: int | None = DEFAULT_STEP_TOKENS,
) -> list[Explanation]:
    """Every unit's contribution to each text's log-odds of fake, by the model's family."""
    family = getattr(model, "family", None)
    if model.name == "tfidf_logreg":
        return explain_linear(model, texts)
    if family == "recurrent":
        return explain_recurrent(model, texts, n_steps)
    if family == "transformer":
        return explain_transformer(model, texts, n_steps, internal_batch, step_tokens)
    if model.name == "minilm_embed":
        return explain_embedding(model, texts, n_steps, internal_batch, step_tokens)
    raise ModelError(f"{model.name}: no attribution method for the {family!r} family")
