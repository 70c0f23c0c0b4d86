"""Every figure of the explain package (the only matplotlib user in explain/).

Figures are written atomically as PNG through `pipelines.report.plots.save` (Agg backend).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from common.plotting import plt, save

SIGNED = ("gradxinput", "ig", "occlusion", "lime")


def _show_input(ax, image: np.ndarray, input_range: tuple[float, float]) -> None:
    lo, hi = input_range
    unit = np.clip((np.asarray(image, np.float32) - lo) / ((hi - lo) or 1), 0, 1)
    if unit.ndim == 3 and unit.shape[-1] == 1:
        ax.imshow(unit[..., 0], cmap="gray", vmin=0, vmax=1)
    elif unit.ndim == 3:
        ax.imshow(unit)
    else:
        ax.plot(unit.reshape(-1), color="k", lw=1)
    ax.set_xticks([])
    ax.set_yticks([])


def _overlay(ax, image, heat: np.ndarray, method: str, input_range) -> None:
    if heat.ndim == 1:  # 1-D input: the curve coloured by attribution
        ax.plot(np.asarray(image).reshape(-1), color="0.6", lw=1)
        scale = np.abs(heat).max() or 1.0
        ax.scatter(
            np.arange(len(heat)),
            np.asarray(image).reshape(len(heat), -1)[:, 0],
            c=heat,
            cmap="bwr",
            vmin=-scale,
            vmax=scale,
            s=8,
        )
        ax.set_xticks([])
        ax.set_yticks([])
        return
    _show_input(ax, image, input_range)
    if method in SIGNED:
        scale = np.abs(heat).max() or 1.0
        ax.imshow(heat, cmap="bwr", vmin=-scale, vmax=scale, alpha=0.6)
    else:
        ax.imshow(heat, cmap="jet", vmin=0, vmax=heat.max() or 1.0, alpha=0.5)


def explanation_grid(
    images: np.ndarray,
    maps: dict[str, np.ndarray],
    captions: Sequence[str],
    path: Path,
    input_range: tuple[float, float],
) -> Path:
    """Rows: images; columns: the input (captioned with prediction and confidence)
    and each method's map over it (red: evidence for the class, blue: against)."""
    n, cols = len(images), 1 + len(maps)
    fig, axes = plt.subplots(n, cols, figsize=(1.9 * cols, 1.9 * n), squeeze=False)
    for i in range(n):
        _show_input(axes[i][0], images[i], input_range)
        axes[i][0].set_title(captions[i], fontsize=7)
        for j, (method, m) in enumerate(maps.items(), start=1):
            _overlay(axes[i][j], images[i], np.asarray(m[i]), method, input_range)
            if i == 0:
                axes[i][j].set_title(method, fontsize=8)
    fig.tight_layout()
    return save(fig, path)


def attack_figure(
    x: np.ndarray,
    x_adv: np.ndarray,
    before: Sequence[str],
    after: Sequence[str],
    path: Path,
    input_range: tuple[float, float],
    title: str = "",
) -> Path:
    """The lecture's figure: original, perturbation (stretched to be visible),
    adversarial, each with its predicted label and confidence."""
    n = len(x)
    fig, axes = plt.subplots(n, 3, figsize=(6.0, 2.0 * n), squeeze=False)
    lo, hi = input_range
    for i in range(n):
        delta = np.asarray(x_adv[i], np.float32) - x[i]
        span = np.abs(delta).max() or 1.0
        _show_input(axes[i][0], x[i], input_range)
        axes[i][0].set_title(before[i], fontsize=8)
        _show_input(axes[i][1], lo + (delta / span + 1) / 2 * (hi - lo), input_range)
        axes[i][1].set_title(f"perturbation (max {span:.3g})", fontsize=8)
        _show_input(axes[i][2], x_adv[i], input_range)
        axes[i][2].set_title(after[i], fontsize=8)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return save(fig, path)


def robustness_curves(curves: dict[str, list[dict[str, Any]]], path: Path) -> Path:
    """Accuracy vs epsilon, one panel per norm, one line per (model, attack)."""
    norms = sorted({r["norm"] for rows in curves.values() for r in rows})
    fig, axes = plt.subplots(1, len(norms), figsize=(5 * len(norms), 3.6), squeeze=False)
    styles = ["-", "--", ":", "-."]
    for ax, norm in zip(axes[0], norms):
        for m, (label, rows) in enumerate(curves.items()):
            for a, attack in enumerate(sorted({r["attack"] for r in rows if r["norm"] == norm})):
                pts = sorted((r["epsilon"], r["accuracy"]) for r in rows if r["attack"] == attack)
                name = f"{label}: {attack}" if len(curves) > 1 else attack
                ax.plot(*zip(*pts), styles[m % 4], marker="o", ms=3, color=f"C{a}", label=name)
        ax.set_xlabel(f"epsilon (L{norm}, raw input units)")
        ax.set_ylabel("accuracy")
        ax.set_ylim(-0.02, 1.02)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    return save(fig, path)


def deletion_curves(results: dict[str, dict[str, Any]], path: Path) -> Path:
    """Deletion and insertion curves per method, the random order dashed."""
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    for ax, kind in zip(axes, ("deletion", "insertion")):
        for i, (method, r) in enumerate(results.items()):
            ax.plot(
                r["fractions"],
                r[f"{kind}_curve"],
                color=f"C{i}",
                label=f"{method} (AUC {r[f'{kind}_auc']:.3f})",
            )
        first = next(iter(results.values()))
        ax.plot(
            first["fractions"],
            first[f"{kind}_random_curve"],
            "k--",
            label=f"random (AUC {first[f'{kind}_random_auc']:.3f})",
        )
        ax.set_xlabel(f"fraction of pixels {'removed' if kind == 'deletion' else 'inserted'}")
        ax.set_ylabel("target probability")
        ax.set_title(kind)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    return save(fig, path)


def patch_figure(
    patch: np.ndarray, patched: np.ndarray, captions: Sequence[str], path: Path, input_range
) -> Path:
    n = len(patched)
    fig, axes = plt.subplots(1, n + 1, figsize=(1.9 * (n + 1), 2.2), squeeze=False)
    _show_input(axes[0][0], patch, input_range)
    axes[0][0].set_title("patch", fontsize=8)
    for i in range(n):
        _show_input(axes[0][i + 1], patched[i], input_range)
        axes[0][i + 1].set_title(captions[i], fontsize=7)
    fig.tight_layout()
    return save(fig, path)


def feature_grid(
    maps: dict[str, np.ndarray],
    feature_names: Sequence[str],
    captions: Sequence[str],
    path: Path,
    top: int = 8,
) -> Path:
    """Tables and 1-D inputs: per input (row) and method (column), the `top`
    features by |attribution| as horizontal bars (red: for the class, blue: against)."""
    methods = list(maps)
    n = len(next(iter(maps.values())))
    fig, axes = plt.subplots(
        n, len(methods), figsize=(3.6 * len(methods), 0.5 + 0.28 * top * n), squeeze=False
    )
    for i in range(n):
        for j, method in enumerate(methods):
            values = np.asarray(maps[method][i]).reshape(-1)
            order = np.argsort(-np.abs(values))[:top][::-1]
            ax = axes[i][j]
            ax.barh(
                [feature_names[k] for k in order],
                values[order],
                color=["C3" if values[k] > 0 else "C0" for k in order],
            )
            ax.tick_params(labelsize=6)
            ax.grid(axis="x", alpha=0.3)
            ax.set_title(f"{method}: {captions[i]}" if j == 0 else method, fontsize=7)
    fig.tight_layout()
    return save(fig, path)


def universal_figure(
    v: np.ndarray,
    x: np.ndarray,
    x_adv: np.ndarray,
    before: Sequence[str],
    after: Sequence[str],
    path: Path,
    input_range: tuple[float, float],
    title: str = "",
) -> Path:
    """The universal perturbation (stretched to be visible, mid-grey = 0) and, per
    column, a held-out image above and the same image plus the perturbation below."""
    n = len(x)
    fig, axes = plt.subplots(2, n + 1, figsize=(1.9 * (n + 1), 4.2), squeeze=False)
    lo, hi = input_range
    span = float(np.abs(v).max()) or 1.0
    stretched = lo + (np.asarray(v, np.float32) / span + 1) / 2 * (hi - lo)
    _show_input(axes[0][0], stretched, input_range)
    axes[0][0].set_title(f"perturbation (max {span:.3g})", fontsize=7)
    axes[1][0].axis("off")
    for i in range(n):
        _show_input(axes[0][i + 1], x[i], input_range)
        axes[0][i + 1].set_title(before[i], fontsize=7)
        _show_input(axes[1][i + 1], x_adv[i], input_range)
        axes[1][i + 1].set_title(after[i], fontsize=7)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return save(fig, path)
