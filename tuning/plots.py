"""The search's figures: score against trial, and the clean-vs-robust Pareto front."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from common.plotting import plt, save


def score_vs_trial(
    scores: Sequence[float | None],
    path: Path,
    *,
    objective: str,
    direction: str,
    epochs: Sequence[float | None] | None = None,
) -> Path:
    """Each trial's score (marker area ~ epochs trained) and the best so far."""
    x = np.arange(1, len(scores) + 1)
    y = np.array([np.nan if s is None else s for s in scores], dtype=float)
    best = np.fmax.accumulate(y) if direction == "max" else np.fmin.accumulate(y)
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    sizes = 20.0
    if epochs is not None:
        e = np.array([0 if v is None else v for v in epochs], dtype=float)
        sizes = 12 + 60 * e / max(e.max(), 1)
        ax.scatter([], [], s=12 + 60, color="C0", label="trial (size: epochs trained)")
    ax.scatter(x, y, s=sizes, color="C0", alpha=0.7, label=None if epochs is not None else "trial")
    ax.step(x, best, where="post", color="C1", label="best so far")
    ax.set_xlabel("trial (in start order)")
    ax.set_ylabel(objective)
    ax.set_title(f"{objective} per trial ({direction})")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return save(fig, path)


def pareto(
    clean: Sequence[float],
    robust: Sequence[float],
    front: Sequence[int],
    labels: Sequence[str],
    path: Path,
    *,
    attack: str,
) -> Path:
    """Clean vs robust validation accuracy of every trial, the front joined."""
    fig, ax = plt.subplots(figsize=(5.2, 4.2))
    ax.scatter(clean, robust, color="C7", alpha=0.6, label="trial")
    fx = [clean[i] for i in front]
    fy = [robust[i] for i in front]
    ax.plot(fx, fy, "o-", color="C3", label="Pareto front")
    for i in front:
        ax.annotate(labels[i], (clean[i], robust[i]), fontsize=7, xytext=(3, 3),
                    textcoords="offset points")
    ax.set_xlabel("clean val accuracy")
    ax.set_ylabel(f"val accuracy under {attack}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return save(fig, path)
