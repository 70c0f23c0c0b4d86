"""Figures of the vision stages: segmentation overlays, class activation maps, per-layer
activation statistics. Saved with `pipelines.report.plots.save` (Agg backend, atomic write)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from common.plotting import plt, save


def _show_image(ax, image: np.ndarray) -> None:
    image = np.asarray(image, np.float32)
    low, high = float(image.min()), float(image.max())
    image = (image - low) / (high - low or 1.0)
    ax.imshow(image[..., 0] if image.shape[-1] == 1 else image, cmap="gray")
    ax.axis("off")


def segmentation_examples(
    examples: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]],
    class_names: Sequence[str],
    path: Path,
) -> Path:
    """One row per (image, true mask, predicted mask)."""
    n = max(1, len(examples))
    fig, axes = plt.subplots(n, 3, figsize=(6.6, 2.2 * n), squeeze=False)
    vmax = max(1, len(class_names) - 1)
    for row, (image, true, pred) in zip(axes, examples):
        _show_image(row[0], image)
        for ax, mask in zip(row[1:], (true, pred)):
            ax.imshow(mask, cmap="tab10", vmin=0, vmax=max(vmax, 9), interpolation="nearest")
            ax.axis("off")
    for ax, title in zip(axes[0], ("image", "true mask", "predicted")):
        ax.set_title(title, fontsize=9)
    fig.suptitle("classes: " + ", ".join(f"{i}={c}" for i, c in enumerate(class_names)), y=1.0)
    return save(fig, path)


def cam_overlays(
    images: np.ndarray,
    cams: np.ndarray,
    peaks: np.ndarray,
    titles: Sequence[str],
    path: Path,
    masks: np.ndarray | None = None,
) -> Path:
    """Each image with its class activation map on top, its peak (+), and the object
    outline when known."""
    n = len(images)
    cols = min(n, 6)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(2.0 * cols, 2.2 * rows), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for i, ax in enumerate(axes.ravel()[:n]):
        _show_image(ax, images[i])
        ax.imshow(cams[i], cmap="jet", alpha=0.45, vmin=0, vmax=1)
        if masks is not None:
            ax.contour(masks[i], levels=[0.5], colors="white", linewidths=0.8)
        ax.plot(peaks[i][1], peaks[i][0], "w+", markersize=8)
        ax.set_title(titles[i], fontsize=8)
    return save(fig, path)


def activation_statistics(
    stats: dict[str, dict[str, list[float]]],
    histograms: dict[str, list[np.ndarray]],
    path: Path,
    title: str,
) -> Path:
    """The lecture's figure: mean and std of each hidden layer's activations, and their
    histograms layer by layer.

    Args:
        stats: `{"at init": {"layers": [...], "mean": [...], "std": [...]}, "trained": ...}`.
        histograms: per state, one array of activation values per layer.
    """
    states = list(stats)
    layers = stats[states[0]]["layers"]
    fig = plt.figure(figsize=(max(8, 1.3 * len(layers)), 2.6 + 1.6 * len(histograms)))
    grid = fig.add_gridspec(1 + len(histograms), len(layers))
    for col, key in enumerate(("mean", "std")):
        ax = fig.add_subplot(grid[0, col * len(layers) // 2 : (col + 1) * len(layers) // 2])
        for state in states:
            ax.plot(range(1, len(layers) + 1), stats[state][key], "o-", label=state)
        ax.set_title(f"activation {key} per layer")
        ax.set_xlabel("hidden layer")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    for row, (state, values) in enumerate(histograms.items(), start=1):
        for col, layer_values in enumerate(values):
            ax = fig.add_subplot(grid[row, col])
            ax.hist(np.ravel(layer_values), bins=40, color=f"C{row - 1}")
            ax.set_yticks([])
            ax.tick_params(labelsize=6)
            ax.locator_params(axis="x", nbins=3)
            if row == 1:
                ax.set_title(layers[col], fontsize=7)
            if col == 0:
                ax.set_ylabel(state, fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    return save(fig, path)
