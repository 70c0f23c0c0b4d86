"""Figures of the sequence tasks: attention alignments, memory-network hops, and
paper-versus-dlzoo bars. Matplotlib (Agg) only here; saved via `pipelines.report.plots.save`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from common.plotting import plt, save


def attention_heatmaps(
    items: Sequence[tuple[np.ndarray, list[str], list[str]]], path: Path
) -> Path:
    """One heatmap per (weights [out, in], input tokens, output tokens), as the
    alignment figures of Bahdanau et al. 2015 (rows: outputs, columns: inputs)."""
    n = len(items)
    widths = [max(3.0, 0.28 * len(src) + 1.2) for _, src, _ in items]
    fig, axes = plt.subplots(1, n, figsize=(sum(widths), 3.6), squeeze=False)
    for ax, (weights, src, out) in zip(axes[0], items):
        ax.imshow(weights, cmap="gray_r", vmin=0, vmax=max(float(weights.max()), 1e-6),
                  aspect="auto")
        ax.set_xticks(range(len(src)), [_show(t) for t in src], fontsize=7)
        ax.set_yticks(range(len(out)), [_show(t) for t in out], fontsize=7)
        ax.set_xlabel("input")
        ax.set_ylabel("output")
    fig.suptitle("attention weights")
    fig.tight_layout()
    return save(fig, path)


def _show(token: str) -> str:
    return {" ": "␣", "\n": "⏎"}.get(token, token)


def memory_hops(weights: np.ndarray, sentences: list[str], question: str, answer: str,
                path: Path) -> Path:
    """Attention of each hop over the story sentences [hops, memory]."""
    fig, ax = plt.subplots(figsize=(2.2 + 0.9 * weights.shape[0], 0.9 + 0.32 * len(sentences)))
    ax.imshow(weights.T, cmap="Blues", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(weights.shape[0]), [f"hop {k + 1}" for k in range(weights.shape[0])])
    ax.set_yticks(range(len(sentences)), sentences, fontsize=7)
    for (k, i), w in np.ndenumerate(weights):
        ax.text(k, i, f"{w:.2f}", ha="center", va="center", fontsize=6,
                color="white" if w > 0.5 else "black")
    ax.set_title(f"{question} -> {answer}", fontsize=8)
    return save(fig, path)


def paper_bars(rows: list[dict], columns: list[str], path: Path, title: str) -> Path:
    """Grouped bars of accuracy per row label, one bar per column (paper, dlzoo...)."""
    labels = [str(r["label"]) for r in rows]
    x = np.arange(len(labels))
    width = 0.8 / max(len(columns), 1)
    fig, ax = plt.subplots(figsize=(max(4.5, 0.55 * len(labels) * len(columns) + 2), 3.4))
    for i, col in enumerate(columns):
        values = [r.get(col) if isinstance(r.get(col), float) else np.nan for r in rows]
        errors = [r.get(f"{col} std", 0.0) or 0.0 for r in rows]
        ax.bar(x + i * width, values, width, yerr=errors, label=col, color=f"C{i}")
    ax.set_xticks(x + width * (len(columns) - 1) / 2, labels, rotation=45, ha="right",
                  fontsize=7)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("test accuracy")
    ax.set_title(title)
    ax.legend(fontsize=7)
    ax.grid(axis="y", alpha=0.3)
    return save(fig, path)
