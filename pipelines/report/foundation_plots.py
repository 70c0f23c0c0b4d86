"""Figures of the foundations stages: a linear unit's decision boundary with its
mistakes per epoch (stages/learning_rule.py), and the input square coloured by the
activation pattern of a ReLU network, with region counts against their bounds
(stages/linear_regions.py)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from common.plotting import plt, save


def rule_boundary(
    points: np.ndarray,
    labels: np.ndarray,
    weights: np.ndarray,
    mistakes: Sequence[float],
    path: Path,
    title: str,
    reference: np.ndarray | None = None,
) -> Path:
    """Left: the data and the unit's line w.x + b = 0 (and a reference line, e.g. the
    max-margin separator); right: mistakes (updates) per epoch."""
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(10, 4.2))
    for cls, marker in ((0, "o"), (1, "^")):
        sel = labels == cls
        ax.scatter(points[sel, 0], points[sel, 1], s=14, marker=marker, label=f"class {cls}")
    low, high = points.min(0) - 0.2, points.max(0) + 0.2
    for w, style, name in ((weights, "k-", "learned"), (reference, "g--", "max margin")):
        if w is not None:
            _line(ax, w, low, high, style, name)
    ax.set_xlim(low[0], high[0])
    ax.set_ylim(low[1], high[1])
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)
    bx.plot(range(1, len(mistakes) + 1), mistakes, "o-", ms=3)
    bx.set_xlabel("epoch")
    bx.set_ylabel("mistakes in the epoch")
    bx.grid(alpha=0.3)
    return save(fig, path)


def _line(ax, w: np.ndarray, low: np.ndarray, high: np.ndarray, style: str, name: str) -> None:
    """w = (w1, w2, b): the line w1 x + w2 y + b = 0 across the plot."""
    if abs(w[1]) >= abs(w[0]) and w[1] != 0:
        xs = np.array([low[0], high[0]])
        ax.plot(xs, -(w[0] * xs + w[2]) / w[1], style, label=name)
    elif w[0] != 0:
        ys = np.array([low[1], high[1]])
        ax.plot(-(w[1] * ys + w[2]) / w[0], ys, style, label=name)


def region_maps(
    panels: Sequence[tuple[str, np.ndarray, tuple[float, float]]],
    path: Path,
    points: np.ndarray | None = None,
) -> Path:
    """Each panel: (title, region id per grid point (side x side), (low, high)); regions
    in random colours (neighbours rarely share one); `points` over the first panel."""
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 4.2), squeeze=False)
    for i, (ax, (title, ids, (low, high))) in enumerate(zip(axes[0], panels)):
        side = int(round(np.sqrt(ids.size)))
        shuffle = np.random.default_rng(0).permutation(int(ids.max()) + 1)
        ax.imshow(shuffle[ids.reshape(side, side)], origin="lower", cmap="tab20",
                  extent=(low, high, low, high), interpolation="nearest")
        if points is not None and i == 0:
            ax.scatter(points[:, 0], points[:, 1], s=3, c="k", alpha=0.4)
            ax.set_xlim(low, high)
            ax.set_ylim(low, high)
        ax.set_title(title, fontsize=9)
    return save(fig, path)


def region_counts(
    counts: np.ndarray,
    bounds: dict[str, float],
    depth_rows: Sequence[dict],
    path: Path,
    title: str,
) -> Path:
    """Left: histogram of region counts over random inits, with the bounds as lines;
    right: mean and max count over inits vs depth, with the bounds per depth."""
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(10, 4))
    ax.hist(counts, bins=np.arange(counts.min(), counts.max() + 2) - 0.5, color="C0")
    for i, (name, value) in enumerate(bounds.items()):
        ax.axvline(value, color=f"C{i + 1}", ls="--", label=f"{name}: {value:g}")
    ax.set_xlabel("linear regions in the square")
    ax.set_ylabel("random initializations")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)
    if depth_rows:
        depths = [r["depth"] for r in depth_rows]
        for key, style in (("mean", "o-"), ("max", "s-"), ("construction", "k--"),
                           ("upper bound", "r:")):
            bx.plot(depths, [r[key] for r in depth_rows], style, label=key)
        bx.set_yscale("log")
        bx.set_xlabel(f"hidden layers of {depth_rows[0]['width']} units")
        bx.set_ylabel("linear regions")
        bx.set_xticks(depths)
        bx.grid(alpha=0.3)
        bx.legend(fontsize=7)
    return save(fig, path)
