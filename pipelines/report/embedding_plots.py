"""The embedding-bias figures: occupations' projections on the gender direction before
and after hard debiasing, and a 2-D map of gendered and occupation words (the gender
direction across, the first principal component of the rest up)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from common.plotting import plt, save

GROUP_COLOURS = {"female": "tab:red", "male": "tab:blue", "occupation": "tab:green"}


def projection_bars(words: Sequence[str], before: np.ndarray, after: np.ndarray,
                    path: Path, title: str) -> Path:
    """One row per word (sorted by its projection before), a bar before and after."""
    order = np.argsort(before)
    y = np.arange(len(words))
    fig, ax = plt.subplots(figsize=(7, 1.2 + 0.28 * len(words)))
    colours = ["tab:red" if v > 0 else "tab:blue" for v in before[order]]
    ax.barh(y + 0.2, before[order], height=0.4, color=colours, label="before debiasing")
    ax.scatter(after[order], y - 0.2, marker="o", s=14, color="k", zorder=3,
               label="after hard debiasing")
    ax.set_yticks(y, [words[i] for i in order])
    ax.axvline(0, color="k", lw=0.8)
    ax.set_xlabel("cos(word, g)   (> 0: toward the female words, < 0: toward the male)")
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize=8)
    return save(fig, path)


def gender_map(coords: Sequence[np.ndarray], words: Sequence[str], groups: Sequence[str],
            panel_titles: Sequence[str], path: Path, title: str) -> Path:
    """Words at their 2-D coordinates, one panel per state, coloured by group."""
    fig, axes = plt.subplots(1, len(coords), figsize=(6 * len(coords), 5.5), squeeze=False)
    for ax, xy, panel in zip(axes[0], coords, panel_titles):
        for group, colour in GROUP_COLOURS.items():
            mask = np.array([g == group for g in groups])
            if mask.any():
                ax.scatter(xy[mask, 0], xy[mask, 1], color=colour, s=18, label=group)
        for (x, y), word in zip(xy, words):
            ax.annotate(word, (x, y), fontsize=7, xytext=(2, 2), textcoords="offset points")
        ax.set_title(panel)
        ax.axvline(0, color="0.5", lw=0.8)
        ax.set_xlabel("cos(word, g): the gender direction")
        ax.set_ylabel("first principal component orthogonal to g")
        ax.legend(fontsize=8)
    fig.suptitle(title)
    return save(fig, path)
