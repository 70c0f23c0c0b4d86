"""Every matplotlib figure of the pipelines (learning curves, confusion matrix, ...).

Figures are saved as PNG (Agg backend: no display needed) and closed right away.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from pipelines.io import atomic_write  # noqa: E402


def save(fig, path: Path) -> Path:
    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=110, bbox_inches="tight", format="png"))
    plt.close(fig)
    return path


def learning_curves(
    histories: dict[str, dict[str, list[float]]], path: Path, marks: dict[str, int] | None = None
) -> Path:
    """Loss and every metric per epoch, train solid and validation dashed.

    `histories` maps a label (one run, or each variant of a sweep) to its history;
    `marks` optionally marks an epoch per label (e.g. the early-stopping point).
    """
    metrics = sorted(
        {
            k.removeprefix("val_")
            for h in histories.values()
            for k in h
            if k not in ("learning_rate", "lr")
        }
    )
    fig, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 3.6), squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        for i, (label, h) in enumerate(histories.items()):
            colour = f"C{i % 10}"
            if metric in h:
                ax.plot(
                    np.arange(1, len(h[metric]) + 1),
                    h[metric],
                    color=colour,
                    label=f"{label} train" if len(histories) > 1 else "train",
                )
            if f"val_{metric}" in h:
                ax.plot(
                    np.arange(1, len(h[f"val_{metric}"]) + 1),
                    h[f"val_{metric}"],
                    "--",
                    color=colour,
                    label=f"{label} val" if len(histories) > 1 else "validation",
                )
            if marks and label in marks and f"val_{metric}" in h:
                epoch = marks[label]
                ax.axvline(epoch + 1, color=colour, linestyle=":", alpha=0.8)
        ax.set_xlabel("epoch")
        ax.set_title(metric)
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=7)
    return save(fig, path)


def confusion_matrix(matrix: np.ndarray, class_names: Sequence[str], path: Path) -> Path:
    n = len(class_names)
    fig, ax = plt.subplots(figsize=(1.0 + 0.45 * n, 0.8 + 0.45 * n))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(n), class_names, rotation=90 if n > 6 else 0)
    ax.set_yticks(range(n), class_names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    top = matrix.max() or 1
    for i in range(n):
        for j in range(n):
            ax.text(
                j,
                i,
                str(matrix[i, j]),
                ha="center",
                va="center",
                fontsize=7,
                color="white" if matrix[i, j] > top / 2 else "black",
            )
    ax.set_title("confusion matrix (test)")
    return save(fig, path)


def bar_table(values: dict[str, float], path: Path, title: str, ylabel: str) -> Path:
    fig, ax = plt.subplots(figsize=(max(4, 0.9 * len(values)), 3.2))
    ax.bar(list(values), list(values.values()), color="C0")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.tick_params(axis="x", rotation=30)
    ax.grid(axis="y", alpha=0.3)
    return save(fig, path)
