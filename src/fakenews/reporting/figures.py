"""Matplotlib figures for the HTML report, returned as inline SVG text.

SVG is written with a fixed hash salt and no date, so the same data gives the same bytes and a
rerun of the report stage on unchanged inputs stays a DVC no-op.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from inspect import signature
from typing import Any

import matplotlib

matplotlib.use("Agg")  # headless: the report stage never opens a window

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

plt.rcParams.update(
    {
        "svg.hashsalt": "fakenews",  # stable element ids
        "svg.fonttype": "none",  # text stays text: smaller files
        "font.size": 9,
        "axes.grid": True,
        "grid.alpha": 0.3,
    }
)

Curve = Sequence[tuple[float, float]]


def to_svg(fig: Figure) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg") :]  # drop the XML prologue: the SVG sits inside HTML


def curves(
    series: Mapping[str, Curve],
    title: str,
    xlabel: str,
    ylabel: str,
    diagonal: bool = False,
    limits: tuple[float, float] | None = (0.0, 1.0),
) -> str:
    """One line per model (ROC, PR, training curves, reliability diagrams)."""
    fig, ax = plt.subplots(figsize=(4.6, 3.6))
    for name, points in series.items():
        if len(points):
            xs, ys = zip(*points, strict=True)
            ax.plot(
                xs,
                ys,
                label=name,
                linewidth=1.4,
                marker="o" if len(xs) < 25 else None,
                markersize=3,
            )
    if diagonal:
        ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=0.8)
    if limits is not None:
        ax.set_xlim(*limits)
        ax.set_ylim(*limits)
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    ax.legend(fontsize=7, loc="best")
    return to_svg(fig)


def heatmap(
    matrix: np.ndarray,
    rows: Sequence[str],
    cols: Sequence[str],
    title: str,
    xlabel: str,
    ylabel: str,
    fmt: str = "{:.3f}",
    vmin: float | None = None,
    vmax: float | None = None,
) -> str:
    """Annotated heatmap (confusion matrices, cross-dataset accuracy)."""
    fig, ax = plt.subplots(figsize=(1.2 + 1.1 * len(cols), 0.9 + 0.6 * len(rows)))
    masked = np.ma.masked_invalid(np.asarray(matrix, dtype=float))
    ax.imshow(masked, cmap="Blues", vmin=vmin, vmax=vmax, aspect="auto")
    ax.set_xticks(range(len(cols)), labels=list(cols), rotation=30, ha="right")
    ax.set_yticks(range(len(rows)), labels=list(rows))
    ax.grid(False)
    finite = masked.compressed()
    middle = (finite.min() + finite.max()) / 2 if finite.size else 0
    for i in range(len(rows)):
        for j in range(len(cols)):
            value = matrix[i][j]
            text = "n/a" if value is None or not np.isfinite(value) else fmt.format(value)
            dark = value is not None and np.isfinite(value) and value > middle
            ax.text(
                j, i, text, ha="center", va="center", fontsize=8, color="white" if dark else "black"
            )
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    return to_svg(fig)


def scatter(
    points: Mapping[str, tuple[float, float]],
    title: str,
    xlabel: str,
    ylabel: str,
    log_x: bool = True,
) -> str:
    """Labelled points (accuracy versus model size)."""
    fig, ax = plt.subplots(figsize=(4.6, 3.6))
    for name, (x, y) in points.items():
        ax.scatter([x], [y], s=22)
        ax.annotate(name, (x, y), textcoords="offset points", xytext=(4, 3), fontsize=7)
    if log_x:
        ax.set_xscale("log")
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    return to_svg(fig)


def critical_difference_svg(result: dict[str, Any], title: str) -> str:
    """Critical-difference diagram of a Friedman result, as inline SVG text.

    ``result`` is what :func:`fakenews.analysis.comparison.friedman_ranks` returns.

    Models joined by a bar do not differ significantly (Nemenyi, at the result's alpha); the
    title carries the Friedman p-value and the critical difference. Raises ValueError when the
    Friedman test could not run (``result["p_value"]`` is None): without it there is nothing
    to draw, and a caller shows ``result["reason"]`` instead. The same result gives the same
    bytes (see :func:`to_svg`).
    """
    if result.get("p_value") is None or result.get("nemenyi") is None:
        reason = result.get("reason", "no Friedman test in the result")
        raise ValueError(f"no critical-difference diagram: {reason}")
    import pandas as pd
    import scikit_posthocs  # pulls in seaborn and statsmodels: only when a diagram is drawn

    ranks = pd.Series(result["average_ranks"], dtype=np.float64)
    names = list(ranks.index)
    p_values = pd.DataFrame(result["nemenyi"], dtype=np.float64).loc[names, names]
    # Significance as 0 (differ) / 1 (do not): honours our alpha even in scikit-posthocs
    # releases whose diagram has no ``alpha`` and always thresholds at 0.05.
    sig = (p_values >= result["alpha"]).astype(np.float64)
    draw = scikit_posthocs.critical_difference_diagram
    # Releases before the ``cd`` argument draw no CD bar; the title still gives the value.
    extra = {"cd": result["critical_difference"]} if "cd" in signature(draw).parameters else {}
    fig, ax = plt.subplots(figsize=(5.6, 1.2 + 0.3 * len(names)))
    drawn = draw(ranks, sig, ax=ax, **extra)
    # scikit-posthocs draws each crossbar through its models in set order, which varies with
    # Python's string hashing between processes: sort the points so the SVG bytes do not.
    for lines in drawn.get("crossbars", []):
        for line in lines:
            xs, ys = line.get_data()
            order = np.argsort(np.asarray(xs, dtype=np.float64), kind="stable")
            line.set_data(np.asarray(xs)[order], np.asarray(ys)[order])
    ax.grid(False)  # figures.py turns the grid on; here it would cross the elbows
    ax.set_title(
        f"{title}\nFriedman p = {result['p_value']:.3g} "
        f"({result['n_models']} models, {result['n_datasets']} datasets); "
        f"Nemenyi CD = {result['critical_difference']:.3f} at alpha = {result['alpha']:g}",
        fontsize=8,
        pad=24,  # room for the CD bar and its label above the rank axis
    )
    return to_svg(fig)
