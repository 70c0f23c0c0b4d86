"""The figures every run's report has: learning curves and the confusion matrix."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from common.plotting import plt, save


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
