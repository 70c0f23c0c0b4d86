"""Figures of the `regress` task: a fitted function against its target (1-D curves,
2-D maps), and the approximation error across a sweep (log-log)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.ticker import NullFormatter

from common.plotting import plt, save


def fit_1d(x: np.ndarray, target: np.ndarray, prediction: np.ndarray,
           train: tuple[np.ndarray, np.ndarray] | None, path: Path, title: str) -> Path:
    """Target and network on the test grid (and the training points), error below."""
    order = np.argsort(x)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 5), sharex=True,
                                      gridspec_kw={"height_ratios": [3, 1]})
    if train is not None:
        top.scatter(*train, s=4, color="0.7", label="training points", zorder=1)
    top.plot(x[order], target[order], color="k", linewidth=1.5, label="target f(x)")
    top.plot(x[order], prediction[order], color="C3", linewidth=1.2, label="network")
    top.set_title(title)
    top.legend(fontsize=8)
    top.grid(alpha=0.3)
    bottom.plot(x[order], (prediction - target)[order], color="C3", linewidth=0.8)
    bottom.axhline(0, color="k", linewidth=0.5)
    bottom.set_ylabel("error")
    bottom.set_xlabel("x")
    bottom.grid(alpha=0.3)
    return save(fig, path)


def fit_2d(x: np.ndarray, target: np.ndarray, prediction: np.ndarray, path: Path,
           title: str) -> Path:
    """Target, network and error as maps over the square (x on a regular grid)."""
    side = int(round(np.sqrt(len(x))))
    extent = (x[:, 0].min(), x[:, 0].max(), x[:, 1].min(), x[:, 1].max())
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    lo, hi = float(target.min()), float(target.max())
    for ax, values, name in zip(axes, (target, prediction, prediction - target),
                                ("target f(x)", "network", "error")):
        limits = {"vmin": lo, "vmax": hi} if name != "error" else {"cmap": "RdBu_r"}
        image = ax.imshow(values.reshape(side, side), origin="lower", extent=extent, **limits)
        fig.colorbar(image, ax=ax, shrink=0.85)
        ax.set_title(name)
    fig.suptitle(title)
    return save(fig, path)


def error_against(series: dict[str, tuple[list[float], list[float], list[float]]],
                  x_label: str, path: Path, title: str) -> Path:
    """Test mean-square and maximum error against `x_label` (log-log), one line per
    group: series maps group -> (x values, mse, max error). An exact fit's error of
    0 is drawn at 1e-12, the bottom of the axis."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for i, (group, (xs, mse, worst)) in enumerate(series.items()):
        order = np.argsort(xs)
        for ax, values in zip(axes, (mse, worst)):
            ax.loglog(np.asarray(xs)[order], np.maximum(np.asarray(values)[order], 1e-12),
                      "o-", color=f"C{i % 10}", label=group)
    for ax, name in zip(axes, ("test mean-square error", "test maximum error")):
        ax.set_xlabel(x_label)
        ax.xaxis.set_minor_formatter(NullFormatter())  # labels on decades only
        ax.set_ylabel(name)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    fig.suptitle(title)
    return save(fig, path)
