"""The figures of generative runs: sample grids, rows of images (originals above
reconstructions, interpolations, one row per class), the 2-D latent map next to prior
samples, and the class histogram of generated images. Images come in the data's raw
range; 1-D inputs (e.g. MNIST-1D signals) are drawn as curves.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from common.plotting import plt, save


def _show(ax, image: np.ndarray, input_range: tuple[float, float]) -> None:
    lo, hi = input_range
    ax.set_xticks([])
    ax.set_yticks([])
    if image.ndim == 1:  # a signal, not an image
        ax.plot(image, lw=0.8, color="C0")
        ax.set_ylim(lo, hi)
        return
    unit = np.clip((image.astype(np.float32) - lo) / ((hi - lo) or 1.0), 0.0, 1.0)
    if unit.shape[-1] == 1:
        ax.imshow(unit[..., 0], cmap="gray", vmin=0.0, vmax=1.0)
    else:
        ax.imshow(unit)


def image_rows(
    rows: Sequence[np.ndarray],
    path: Path,
    *,
    input_range: tuple[float, float],
    row_titles: Sequence[str] | None = None,
    title: str = "",
) -> Path:
    """One row of images per entry of `rows` (all rows the same length)."""
    n_rows, n_cols = len(rows), max(len(r) for r in rows)
    fig, axes = plt.subplots(
        n_rows, n_cols, figsize=(0.75 * n_cols + 0.8, 0.75 * n_rows + 0.4), squeeze=False
    )
    for i, row in enumerate(rows):
        for j in range(n_cols):
            ax = axes[i][j]
            if j < len(row):
                _show(ax, np.asarray(row[j]), input_range)
            else:
                ax.axis("off")
        if row_titles:
            axes[i][0].set_ylabel(row_titles[i], rotation=0, ha="right", va="center", fontsize=8)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.subplots_adjust(wspace=0.04, hspace=0.04)
    return save(fig, path)


def sample_grid(
    images: np.ndarray,
    path: Path,
    *,
    input_range: tuple[float, float],
    columns: int,
    row_titles: Sequence[str] | None = None,
    title: str = "",
) -> Path:
    """`images` laid out `columns` per row."""
    rows = [images[i : i + columns] for i in range(0, len(images), columns)]
    return image_rows(rows, path, input_range=input_range, row_titles=row_titles, title=title)


def latent_map(
    points: np.ndarray,
    labels: np.ndarray,
    class_names: Sequence[str],
    path: Path,
    *,
    caption: str,
    prior_samples: np.ndarray | None = None,
    input_range: tuple[float, float] = (0.0, 1.0),
    prior_points: np.ndarray | None = None,
) -> Path:
    """Test codes coloured by class (left), and decoded prior samples (right)."""
    panels = 2 if prior_samples is not None else 1
    fig = plt.figure(figsize=(5.2 * panels, 4.6))
    ax = fig.add_subplot(1, panels, 1)
    if prior_points is not None:
        ax.scatter(*prior_points.T, s=3, c="lightgrey", label="prior draws")
    for k, name in enumerate(class_names):
        chosen = labels == k
        ax.scatter(*points[chosen].T, s=4, color=f"C{k % 10}", label=name, alpha=0.7)
    ax.set_title(f"test codes ({caption})", fontsize=9)
    ax.legend(fontsize=6, markerscale=3, loc="best")
    if prior_samples is not None:
        side = int(np.sqrt(len(prior_samples)))
        inner = fig.add_subplot(1, 2, 2)
        inner.axis("off")
        inner.set_title("decoded draws from the prior", fontsize=9)
        grid = fig.add_gridspec(side, side, left=0.55, right=0.95, bottom=0.08, top=0.88)
        for i in range(side * side):
            _show(fig.add_subplot(grid[i // side, i % side]), prior_samples[i], input_range)
    return save(fig, path)


def class_histogram(
    generated: np.ndarray, data: np.ndarray, class_names: Sequence[str], path: Path, title: str
) -> Path:
    """Generated class shares (as the judge labels them) next to the data's."""
    k = np.arange(len(class_names))
    fig, ax = plt.subplots(figsize=(max(4.0, 0.55 * len(k) + 1.5), 3.2))
    ax.bar(k - 0.2, data, width=0.4, label="data (train)", color="C7")
    ax.bar(k + 0.2, generated, width=0.4, label="generated", color="C0")
    ax.set_xticks(k, class_names, rotation=45 if len(k) > 6 else 0, fontsize=7)
    ax.set_ylabel("share")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)
    ax.grid(axis="y", alpha=0.3)
    return save(fig, path)
