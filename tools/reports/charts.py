"""The charts the tools draw, each written to one PNG file (matplotlib, Agg, no display).

Every function refuses empty data with ValueError: an empty chart would look like a result.
The object API (Figure, not pyplot) keeps no global state between charts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

DPI = 100


def _require(name: str, *series: Sequence[object]) -> None:
    if not series or any(len(s) == 0 for s in series):
        raise ValueError(f"chart {name!r}: no data to draw")


def _save(figure: Figure, path: Path) -> Path:
    figure.tight_layout()
    figure.savefig(path, dpi=DPI, format="png")
    return path


def grouped_bars(
    path: Path,
    categories: Sequence[str],
    series: Mapping[str, Sequence[float]],
    title: str,
    ylabel: str,
) -> Path:
    """One group of bars per category (e.g. language), one bar per series (e.g. data set).

    A NaN value (a category a series has no data for) leaves its bar out.
    """
    _require(title, categories, list(series))
    for name, values in series.items():
        if len(values) != len(categories):
            raise ValueError(
                f"chart {title!r}: {name} has {len(values)} values, not {len(categories)}"
            )
    figure = Figure(figsize=(max(6.0, 0.6 * len(categories) * len(series)), 4))
    axes = figure.subplots()
    width = 0.8 / len(series)
    x = np.arange(len(categories))
    for i, (name, values) in enumerate(series.items()):
        bars = axes.bar(x + (i - (len(series) - 1) / 2) * width, values, width, label=name)
        axes.bar_label(bars, fmt="%.2f", fontsize=7, padding=1)
    axes.set_xticks(x, categories)
    axes.set_ylim(0, 1.08)
    axes.set_ylabel(ylabel)
    axes.set_title(title)
    axes.legend(loc="lower right")
    axes.grid(axis="y", alpha=0.3)
    return _save(figure, path)


def confusion_matrix(path: Path, gold: Sequence[str], predicted: Sequence[str], title: str) -> Path:
    """Counts of (gold, predicted) pairs; colour is the share of the gold row."""
    _require(title, gold, predicted)
    if len(gold) != len(predicted):
        raise ValueError(f"chart {title!r}: {len(gold)} gold labels, {len(predicted)} predicted")
    labels = sorted(set(gold) | set(predicted))
    position = {label: i for i, label in enumerate(labels)}
    counts = np.zeros((len(labels), len(labels)), dtype=int)
    for g, p in zip(gold, predicted, strict=True):
        counts[position[g], position[p]] += 1
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    side = max(5.0, 0.45 * len(labels) + 2)
    figure = Figure(figsize=(side + 1, side))
    axes = figure.subplots()
    image = axes.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    for (row, column), count in np.ndenumerate(counts):
        if count:
            colour = "white" if shares[row, column] > 0.6 else "black"
            axes.text(column, row, str(count), ha="center", va="center", fontsize=7, color=colour)
    axes.set_xticks(range(len(labels)), labels, rotation=60, ha="right", fontsize=8)
    axes.set_yticks(range(len(labels)), labels, fontsize=8)
    axes.set_xlabel("predicted")
    axes.set_ylabel("expected")
    axes.set_title(title)
    figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04, label="share of the expected row")
    return _save(figure, path)


def threshold_curve(
    path: Path,
    thresholds: Sequence[float],
    curves: Mapping[str, Sequence[float]],
    marks: Mapping[str, float],
    title: str,
) -> Path:
    """Shares (answered, accuracy, ...) against the answer threshold; chosen values as lines."""
    _require(title, thresholds, list(curves))
    figure = Figure(figsize=(7, 4))
    axes = figure.subplots()
    for name, values in curves.items():
        if len(values) != len(thresholds):
            raise ValueError(f"chart {title!r}: {name} has {len(values)} points")
        axes.plot(thresholds, values, label=name)
    for style, (name, value) in zip(("--", ":", "-."), marks.items(), strict=False):
        axes.axvline(value, color="black", linestyle=style, label=f"{name} {value:.3f}")
    axes.set_xlabel("answer threshold (search confidence)")
    axes.set_ylabel("share")
    axes.set_ylim(0, 1.02)
    axes.set_title(title)
    axes.legend(loc="lower left", fontsize=8)
    axes.grid(alpha=0.3)
    return _save(figure, path)


def histogram(
    path: Path, values: Sequence[float], marks: Mapping[str, float], title: str, xlabel: str
) -> Path:
    """Distribution of `values` with marked points (e.g. p50, p95)."""
    _require(title, values)
    figure = Figure(figsize=(7, 4))
    axes = figure.subplots()
    axes.hist(values, bins=min(40, max(5, len(values) // 5)), color="#4878a8")
    for style, (name, value) in zip(("--", ":", "-."), marks.items(), strict=False):
        axes.axvline(value, color="black", linestyle=style, label=f"{name} {value:.0f}")
    axes.set_xlabel(xlabel)
    axes.set_ylabel("count")
    axes.set_title(title)
    if marks:
        axes.legend()
    return _save(figure, path)


def timeline(
    path: Path,
    seconds: Sequence[float],
    rate: Sequence[float],
    latency: Sequence[float | None],
    title: str,
) -> Path:
    """Throughput bars per second and a latency line on a second axis (gaps where no turn)."""
    _require(title, seconds, rate, latency)
    figure = Figure(figsize=(8, 4))
    axes = figure.subplots()
    axes.bar(seconds, rate, width=0.9, color="#9cc3e6", label="turns/s")
    axes.set_xlabel("second of the run")
    axes.set_ylabel("turns completed per second")
    right = axes.twinx()
    values = [np.nan if v is None else v for v in latency]
    right.plot(seconds, values, color="#c0392b", marker=".", label="p95 ms")
    right.set_ylabel("p95 latency of the second's turns (ms)")
    right.set_ylim(bottom=0)
    axes.set_title(title)
    handles = axes.get_legend_handles_labels()
    more = right.get_legend_handles_labels()
    axes.legend(handles[0] + more[0], handles[1] + more[1], loc="upper right")
    return _save(figure, path)
