"""Figures of the `pivot` task: the classifier's output f(x) at fixed values of the
nuisance z (the paper's Figure 2 panels), and AUC and z-dependence across a lambda
sweep."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from common.plotting import plt, save

BINS = np.linspace(0.0, 1.0, 41)


def _histograms(ax, scores: np.ndarray, groups: list[tuple[str, np.ndarray]], title: str):
    for i, (name, mask) in enumerate(groups):
        ax.hist(scores[mask], bins=BINS, density=True, histtype="step", linewidth=1.4,
                color=f"C{i}", label=name)
    ax.set_title(title, fontsize=9)
    ax.set_xlabel("f(x)")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)


def output_by_z(scores: np.ndarray, groups: list[tuple[str, np.ndarray]], path: Path,
                title: str) -> Path:
    """Densities of f(x) on the test split, one line per z group."""
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    _histograms(ax, scores, groups, title)
    ax.set_ylabel("density")
    return save(fig, path)


def sweep_panels(panels: list[tuple[str, np.ndarray, list[tuple[str, np.ndarray]]]],
                 path: Path) -> Path:
    """`output_by_z` for every variant side by side: (title, scores, groups) each."""
    fig, axes = plt.subplots(1, len(panels), figsize=(3.6 * len(panels), 3.4), squeeze=False)
    for ax, (title, scores, groups) in zip(axes[0], panels):
        _histograms(ax, scores, groups, title)
    axes[0][0].set_ylabel("density")
    return save(fig, path)


def tradeoff(lams: list[float], auc: list[float], ks: list[float], gap: list[float],
             path: Path, title: str) -> Path:
    """Test AUC and two measures of z-dependence against lambda (symlog: lambda = 0)."""
    order = np.argsort(lams)
    xs = np.asarray(lams)[order]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    left.plot(xs, np.asarray(auc)[order], "o-", color="C0")
    left.set_ylabel("test AUC")
    right.plot(xs, np.asarray(ks)[order], "o-", color="C3", label="mean KS distance of f(x)")
    right.plot(xs, np.asarray(gap)[order], "s--", color="C2",
               label="adversary loss: maximum - value (nats)")
    right.set_ylabel("dependence of f(x) on z")
    right.legend(fontsize=8)
    for ax in (left, right):
        ax.set_xscale("symlog", linthresh=max(min([v for v in lams if v > 0], default=1), 1e-3))
        ax.set_xlabel("lambda")
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    return save(fig, path)
