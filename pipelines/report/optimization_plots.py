"""Figures of the variance-reduction stage: suboptimality against gradient evaluations."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from common.plotting import plt, save

# One colour per method, the same in every figure of the stage.
COLOURS = {"sgd": "C0", "averaged_sgd": "C1", "svrg": "C3", "sag": "C2", "nesterov": "C4"}
LABELS = {
    "sgd": "SGD (constant step)",
    "averaged_sgd": "SGD + Polyak-Juditsky averaging",
    "svrg": "SVRG (Johnson & Zhang 2013)",
    "sag": "SAG (Le Roux et al. 2012)",
    "nesterov": "Nesterov, full gradient",
}


def suboptimality_curves(
    curves: dict[str, tuple[np.ndarray, np.ndarray]],
    n: int,
    floor: float,
    path: Path,
    title: str,
) -> Path:
    """f(w) - f* (log scale) against gradient evaluations / n, one line per method, with
    SGD's noise floor dashed."""
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    for method, (evaluations, gap) in curves.items():
        ax.semilogy(np.asarray(evaluations) / n, np.maximum(gap, 1e-16),
                    color=COLOURS.get(method), label=LABELS.get(method, method))
    ax.axhline(floor, color=COLOURS["sgd"], linestyle="--", linewidth=1,
               label=f"SGD's noise floor {floor:.2g}")
    ax.set_xlabel("gradient evaluations / n (passes over the data)")
    ax.set_ylabel("suboptimality f(w) - f*")
    ax.set_title(title)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    return save(fig, path)
