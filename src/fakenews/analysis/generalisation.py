"""Will a detector work on news it was not trained on? In-domain vs leave-one-dataset-out (LODO)
vs evaluation-only scores, per model and per family, for the report.

Reads the transfer stages' outputs (``data/transfer/<source>/<model>.json``) of the models
trained on each dataset and on each union (``params.unions``), plus the in-domain results the
report already collected. Every score here is ROC-AUC: it does not depend on a threshold, which
a model moved to another source's class balance rarely keeps.

A family's score on one kind of test is the mean, over the datasets of that kind, of its models'
mean ROC-AUC on each dataset. Its 95% interval combines the per-dataset bootstrap intervals:
datasets are independent samples, so their variances add; the models of one family are scored on
the same rows, so within a dataset their standard errors are averaged, not pooled (as if
perfectly correlated: the interval is, if anything, too wide).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from fakenews.core.io import read_json, rounded
from fakenews.core.params import Params
from fakenews.core.paths import Paths

KEY = "roc_auc"
Z95 = 1.959964


@dataclass(frozen=True)
class Score:
    """A ROC-AUC with its 95% bootstrap interval (None when undefined, e.g. one class only)."""

    value: float | None
    low: float | None = None
    high: float | None = None
    n: int | None = None
    metric: str = KEY

    @classmethod
    def of(cls, metrics: dict[str, Any] | None, key: str = KEY) -> Score:
        if not metrics or metrics.get(key) is None:
            return cls(None, n=(metrics or {}).get("n"), metric=key)
        ci = (metrics.get("ci") or {}).get(key) or {}
        return cls(float(metrics[key]), ci.get("low"), ci.get("high"), metrics.get("n"), key)

    @classmethod
    def of_target(cls, metrics: dict[str, Any] | None) -> Score:
        """ROC-AUC, or accuracy where a test set holds one class only (a private set of fakes:
        accuracy is then the share of them caught)."""
        score = cls.of(metrics)
        if score.value is None and metrics and metrics.get("accuracy") is not None:
            return cls.of(metrics, "accuracy")
        return score

    @property
    def se(self) -> float | None:
        if self.low is None or self.high is None:
            return None
        return (float(self.high) - float(self.low)) / (2 * Z95)

    def cell(self) -> str:
        if self.value is None:
            return "n/a"
        prefix = "" if self.metric == KEY else "accuracy "
        if self.low is None or self.high is None:
            return f"{prefix}{self.value:.3f}"
        return f"{prefix}{self.value:.3f} [{self.low:.3f}, {self.high:.3f}]"

    def as_dict(self) -> dict[str, Any]:
        r = {k: None if v is None else rounded(v) for k, v in
             ((self.metric, self.value), ("low", self.low), ("high", self.high))}  # fmt: skip
        return {**r, "n": self.n}


def combine(scores_by_dataset: dict[str, list[Score]]) -> Score:
    """Mean over datasets of the mean over models; interval as in the module's docstring."""
    means, ses = [], []
    for scores in scores_by_dataset.values():
        known = [s for s in scores if s.value is not None]
        if not known:
            continue
        means.append(sum(s.value for s in known) / len(known))  # type: ignore[misc]
        errors = [s.se for s in known if s.se is not None]
        ses.append(sum(errors) / len(errors) if len(errors) == len(known) else None)
    if not means:
        return Score(None)
    mean = sum(means) / len(means)
    if any(se is None for se in ses):
        return Score(mean)
    se = math.sqrt(sum(se * se for se in ses)) / len(means)  # type: ignore[operator]
    return Score(mean, max(0.0, mean - Z95 * se), min(1.0, mean + Z95 * se))


@dataclass
class Generalisation:
    """What the report shows about models on data from other sources."""

    datasets: list[str]
    eval_only: list[str]
    models: list[str]
    families: dict[str, str]  # model -> family
    in_domain: dict[str, dict[str, Score]]  # model -> dataset -> score (reference run)
    lodo: dict[str, dict[str, Score]]  # model -> held-out dataset -> score
    lodo_union: dict[str, str]  # held-out dataset -> union trained without it
    unions: dict[str, dict[str, dict[str, Score]]]  # union -> model -> target -> score
    eval_scores: dict[str, dict[str, dict[str, Score]]]  # eval dataset -> model -> source -> score
    family_scores: dict[str, dict[str, Score]] = field(default_factory=dict)
    not_on_unions: list[str] = field(default_factory=list)  # params `union_models` leaves out

    @property
    def has_anything(self) -> bool:
        return bool(self.lodo_union or self.unions or self.eval_only)

    def model_lodo_mean(self, model: str) -> Score:
        return combine({d: [s] for d, s in self.lodo.get(model, {}).items()})

    def best_family(self, kind: str = "lodo") -> str | None:
        scored = {f: s[kind] for f, s in self.family_scores.items() if s[kind].value is not None}
        return max(scored, key=lambda f: scored[f].value) if scored else None  # type: ignore

    def summary(self) -> dict[str, Any]:
        best = self.best_family()
        return {
            "lodo": {
                model: {
                    **{d: s.as_dict() for d, s in per.items()},
                    "mean": self.model_lodo_mean(model).as_dict(),
                }
                for model, per in self.lodo.items()
            },
            "lodo_unions": self.lodo_union,
            "unions": {
                union: {m: {t: s.as_dict() for t, s in per.items()} for m, per in models.items()}
                for union, models in self.unions.items()
            },
            "eval_only": {
                target: {m: {src: s.as_dict() for src, s in per.items()} for m, per in ms.items()}
                for target, ms in self.eval_scores.items()
            },
            "families": {
                family: {kind: s.as_dict() for kind, s in kinds.items()}
                for family, kinds in self.family_scores.items()
            },
            "transfers_best": best,
        }


def _transfer(paths: Paths, source: str, model: str) -> dict[str, Any]:
    path = paths.transfer(source, model)
    return read_json(path).get("targets", {}) if path.is_file() else {}


def collect_generalisation(
    params: Params, paths: Paths, in_domain: dict[str, dict[str, dict[str, Any]]]
) -> Generalisation:
    """``in_domain``: model -> dataset -> the reference run's test metrics (with ``ci``)."""
    models = params.model_names
    datasets = list(params.datasets)
    lodo_union = {
        held: union for union in params.unions if (held := params.held_out_by(union)) is not None
    }
    lodo: dict[str, dict[str, Score]] = {m: {} for m in models}
    unions: dict[str, dict[str, dict[str, Score]]] = {}
    for union in params.unions:
        for model in params.union_model_names:  # the others never train on unions
            targets = _transfer(paths, union, model)
            unions.setdefault(union, {})[model] = {
                t: Score.of(v) for t, v in targets.items() if v.get("role") != "eval_only"
            }
    for held, union in lodo_union.items():
        for model in models:
            lodo[model][held] = unions[union].get(model, {}).get(held, Score(None))
    eval_scores: dict[str, dict[str, dict[str, Score]]] = {}
    for target in params.evaluate_on:
        for model in models:
            per = eval_scores.setdefault(target, {}).setdefault(model, {})
            sources = [*datasets, *(params.unions if model in params.union_model_names else [])]
            for source in sources:
                per[source] = Score.of_target(_transfer(paths, source, model).get(target))
    families = {m: params.family_of(m) for m in models}
    result = Generalisation(
        datasets=datasets,
        eval_only=list(params.evaluate_on),
        models=models,
        families=families,
        in_domain={m: {d: Score.of(in_domain.get(m, {}).get(d)) for d in datasets} for m in models},
        lodo=lodo,
        lodo_union=lodo_union,
        unions=unions,
        eval_scores=eval_scores,
        not_on_unions=[m for m in models if m not in params.union_model_names],
    )
    for family in dict.fromkeys(families.values()):
        members = [m for m in models if families[m] == family]
        eval_by_target = {  # ROC-AUC only: a one-class set's accuracy is another measure
            t: [s for m in members for s in eval_scores[t][m].values() if s.metric == KEY]
            for t in eval_scores
        }
        result.family_scores[family] = {
            "in_domain": combine({d: [result.in_domain[m][d] for m in members] for d in datasets}),
            "lodo": combine({d: [lodo[m][d] for m in members] for d in lodo_union}),
            "eval_only": combine(eval_by_target),
        }
    return result


LODO_LEGEND = (
    "Leave-one-dataset-out: each column's dataset D is scored by the model trained on the union "
    "of every other dataset (params `unions`), next to the same model trained on D itself "
    "(in-domain; the reference seed, on the same test rows). ROC-AUC with 95% bootstrap "
    "intervals; the mean column combines the datasets' intervals (datasets are independent)."
)
FAMILY_LEGEND = (
    "Per family: mean ROC-AUC of its models, in-domain, on the dataset each LODO model never saw, "
    "and on the evaluation-only datasets (every model trained on a dataset or a union). The 95% "
    "interval adds the datasets' variances and treats a family's models on one dataset as fully "
    "correlated, so it is conservative."
)


def not_on_unions_note(g: Generalisation) -> str:
    """What the union tables leave empty, and how to fill it."""
    if not g.not_on_unions:
        return ""
    names = ", ".join(f"`{m}`" for m in g.not_on_unions)
    return (
        f"Not trained on the unions in this study (params `union_models`): {names}; their union "
        "and leave-one-dataset-out cells are empty. Their union fine-tunes are left out of the "
        "default study for CPU time; `make full-study` (or adding them to `union_models`, on a "
        "GPU) runs them."
    )


def lodo_rows(g: Generalisation) -> tuple[list[str], list[list[str]]]:
    held = list(g.lodo_union)
    header = ["model", "family"]
    for d in held:
        header += [f"{d}: in-domain", f"{d}: LODO"]
    header.append("mean LODO")
    rows = []
    for model in g.models:
        row = [model, g.families[model]]
        for d in held:
            row += [g.in_domain[model][d].cell(), g.lodo[model][d].cell()]
        row.append(g.model_lodo_mean(model).cell())
        rows.append(row)
    return header, rows


def union_rows(g: Generalisation, union: str) -> tuple[list[str], list[list[str]]]:
    targets = list(dict.fromkeys(t for per in g.unions[union].values() for t in per))
    header = ["model"]
    for t in targets:
        header += [f"{t}: trained on {t}", f"{t}: trained on {union}"]
    rows = []
    for model in g.models:
        row = [model]
        for t in targets:
            own = g.in_domain[model].get(t, Score(None))
            row += [own.cell(), g.unions[union].get(model, {}).get(t, Score(None)).cell()]
        rows.append(row)
    return header, rows


def eval_only_rows(g: Generalisation, target: str) -> tuple[list[str], list[list[str]]]:
    sources = [*g.datasets, *g.unions]
    header = ["model ↓ / trained on →", *sources]
    rows = [
        [model, *(g.eval_scores[target][model].get(s, Score(None)).cell() for s in sources)]
        for model in g.models
    ]
    return header, rows


def family_rows(g: Generalisation) -> tuple[list[str], list[list[str]]]:
    kinds = {"in_domain": "in-domain", "lodo": "leave-one-dataset-out"}
    if g.eval_only:
        kinds["eval_only"] = "evaluation-only"
    header = ["family", *kinds.values()]
    rows = [
        [family, *(scores[k].cell() for k in kinds)] for family, scores in g.family_scores.items()
    ]
    return header, rows


def verdict(g: Generalisation) -> str:
    """One sentence naming the family that transfers best, with its interval and the runner-up."""
    best = g.best_family()
    if best is None:
        return "No leave-one-dataset-out scores: add unions of all datasets but one."
    ranked = sorted(
        (f for f, s in g.family_scores.items() if s["lodo"].value is not None),
        key=lambda f: -g.family_scores[f]["lodo"].value,  # type: ignore[operator]
    )
    top = g.family_scores[best]["lodo"]
    text = f"The family that transfers best (mean LODO ROC-AUC) is {best}: {top.cell()}"
    if len(ranked) > 1:
        second = g.family_scores[ranked[1]]["lodo"]
        overlap = (
            top.low is not None and second.high is not None and float(top.low) <= float(second.high)
        )
        text += f"; next {ranked[1]}: {second.cell()}" + (
            " (the intervals overlap: not a clear win)." if overlap else " (intervals apart)."
        )
    else:
        text += "."
    unscored = [f for f, s in g.family_scores.items() if s["lodo"].value is None]
    if unscored:  # e.g. a family left out of `union_models`: not beaten, just not run
        text += f" Not compared (no LODO score in this study): {', '.join(unscored)}."
    return text
