"""Explanation quality, measured rather than assumed.

- Completeness (Sundararajan et al. 2017): IG attributions sum to f(x) - f(baseline).
- Sanity check (Adebayo et al. 2018, "Sanity checks for saliency maps",
  arXiv:1810.03292): a model with re-drawn random weights must get different maps;
  we report the Spearman rank correlation of |map| between trained and randomized.
- Deletion / insertion (Petsiuk, Das, Saenko 2018, RISE, arXiv:1806.07421): remove
  (or add) pixels in attribution order; the target probability should fall fast (or
  rise fast). Area under each curve, against a random pixel order.
- Pointing game (Zhang et al. 2016, arXiv:1608.00507): is the map's peak on the object?
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import numpy as np
from scipy.stats import spearmanr

from common.errors import UserError
from explain.adapter import as_scorer, unwrap
from explain.integrated_gradients import baseline_for, integrated_gradients
from explain.methods import attribute, to_map


def completeness(
    model: Any,
    x: np.ndarray,
    *,
    target: Any = None,
    baseline: str | float = "black",
    steps: int = 64,
    **kw: Any,
) -> dict[str, Any]:
    """|sum(IG) - (f(x) - f(x'))| / |f(x) - f(x')| per example (f: the target logit)."""
    scorer = as_scorer(model, **kw)
    x = scorer.check_inputs(x)
    targets = scorer.targets(x, target)
    base = baseline_for(x, baseline, scorer.range())
    ig = integrated_gradients(scorer, x, target=targets, baseline=base, steps=steps)
    rows = np.arange(len(x))
    gap = scorer.predict(x)[rows, targets] - scorer.predict(base)[rows, targets]
    total = ig.reshape(len(x), -1).sum(axis=1)
    error = np.abs(total - gap) / np.maximum(np.abs(gap), 1e-6)
    return {
        "steps": steps,
        "baseline": baseline,
        "relative_error_median": float(np.median(error)),
        "relative_error_max": float(error.max()),
        "per_example": [float(e) for e in error],
    }


def randomized_copy(model: keras.Model, seed: int = 0) -> keras.Model:
    """A structural copy of `model` with every trainable weight re-drawn (Adebayo's
    full randomization): kernels Glorot-uniform, BN scales 1, other vectors 0.
    Non-trainable state (the input normalization, BN statistics) is kept."""
    model = unwrap(model)
    clone = keras.models.clone_model(model, recursive=True)
    clone.set_weights(model.get_weights())
    rng = np.random.default_rng(seed)
    for var in clone.trainable_variables:
        shape = tuple(var.shape)
        if len(shape) >= 2:
            receptive = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
            limit = np.sqrt(6.0 / ((shape[-2] + shape[-1]) * receptive))
            value = rng.uniform(-limit, limit, shape)
        else:
            value = np.ones(shape) if "gamma" in var.path else np.zeros(shape)
        var.assign(value.astype(var.dtype))
    return clone


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    rho = spearmanr(a.ravel(), b.ravel()).statistic
    return 0.0 if np.isnan(rho) else float(rho)


def sanity_check(
    model: Any,
    x: np.ndarray,
    *,
    methods: Sequence[str],
    target: Any = None,
    seed: int = 0,
    **kw: Any,
) -> dict[str, float]:
    """Mean Spearman correlation of |map| between the trained and a randomized model,
    per method (the same targets for both). Near 1 means the method ignores the
    weights, which is the failure Adebayo et al. found for guided backprop."""
    scorer = as_scorer(model, **kw)
    if scorer.keras_model is None:
        raise UserError(
            "the sanity check re-draws weights: it needs a Keras model, not a SavedModel"
        )
    x = scorer.check_inputs(x)
    targets = scorer.targets(x, target)
    random_scorer = as_scorer(
        randomized_copy(scorer.keras_model, seed), input_range=scorer.input_range
    )
    out = {}
    for method in methods:
        trained = to_map(
            method, attribute(method, scorer, x, target=targets, seed=seed), x.shape[1:]
        )
        randomized = to_map(
            method, attribute(method, random_scorer, x, target=targets, seed=seed), x.shape[1:]
        )
        out[method] = float(
            np.mean([spearman(np.abs(a), np.abs(b)) for a, b in zip(trained, randomized)])
        )
    return out


def _ordered_images(x, base, order, fractions, insert: bool) -> np.ndarray:
    """Images with the first fraction of pixels in `order` removed (or inserted)."""
    flat_x, flat_b = (
        x.reshape(-1, x.shape[-1] if x.ndim == 3 else 1),
        base.reshape(-1, x.shape[-1] if x.ndim == 3 else 1),
    )
    out = []
    for f in fractions:
        chosen = order[: int(round(f * len(order)))]
        img = (flat_b if insert else flat_x).copy()
        img[chosen] = (flat_x if insert else flat_b)[chosen]
        out.append(img.reshape(x.shape))
    return np.stack(out)


def deletion_insertion(
    model: Any,
    x: np.ndarray,
    maps: np.ndarray,
    *,
    target: Any = None,
    steps: int = 16,
    seed: int = 0,
    **kw: Any,
) -> dict[str, Any]:
    """Deletion (pixels -> range low, most important first) and insertion (blurred
    image <- pixels) curves of the target probability, with their AUCs, for `maps`
    and for a random order (seeded)."""
    scorer = as_scorer(model, **kw)
    x = scorer.check_inputs(x)
    targets = scorer.targets(x, target)
    lo, _ = scorer.range()
    spatial = x.shape[1:-1] if x.ndim == 4 else x.shape[1:]
    maps = np.asarray(maps).reshape(len(x), -1)
    if maps.shape[1] != int(np.prod(spatial)):
        raise UserError(f"maps of shape {maps.shape} do not match inputs {x.shape}")
    fractions = np.linspace(0, 1, steps + 1)
    blurred = baseline_for(x, "blur", scorer.range())
    rng = np.random.default_rng(seed)
    curves = {k: [] for k in ("deletion", "insertion", "deletion_random", "insertion_random")}
    for i in range(len(x)):
        orders = {
            "": np.argsort(-maps[i], kind="stable"),
            "_random": rng.permutation(maps.shape[1]),
        }
        for suffix, order in orders.items():
            black = np.full_like(x[i], lo)
            batch = np.concatenate(
                [
                    _ordered_images(x[i], black, order, fractions, insert=False),
                    _ordered_images(x[i], blurred[i], order, fractions, insert=True),
                ]
            )
            p = scorer.probabilities(batch)[:, targets[i]]
            curves[f"deletion{suffix}"].append(p[: steps + 1])
            curves[f"insertion{suffix}"].append(p[steps + 1 :])
    out: dict[str, Any] = {"fractions": [float(f) for f in fractions]}
    for key, values in curves.items():
        mean = np.mean(values, axis=0)
        out[f"{key}_auc"] = float(np.trapezoid(mean, fractions))
        out[f"{key}_curve"] = [float(v) for v in mean]
    return out


def pointing_game(maps: np.ndarray, masks: np.ndarray, tolerance: int = 0) -> dict[str, float]:
    """Fraction of maps whose maximum lies on the object (within `tolerance` pixels),
    with two baselines: the mask area (a random point's chance) and the image centre."""
    maps, masks = np.asarray(maps), np.asarray(masks).astype(bool)
    if maps.shape != masks.shape:
        raise UserError(f"maps {maps.shape} and masks {masks.shape} differ in shape")
    hits, centre = [], []
    h, w = maps.shape[1:]
    for m, mask in zip(maps, masks):
        r, c = np.unravel_index(np.argmax(m), m.shape)
        window = mask[
            max(r - tolerance, 0) : r + tolerance + 1, max(c - tolerance, 0) : c + tolerance + 1
        ]
        hits.append(bool(window.any()))
        # the centre baseline is judged by the same rule (tolerance) as the maps
        centre.append(bool(mask[max(h // 2 - tolerance, 0) : h // 2 + tolerance + 1,
                                max(w // 2 - tolerance, 0) : w // 2 + tolerance + 1].any()))
    return {
        "hit_rate": float(np.mean(hits)),
        "chance": float(masks.mean()),
        "centre_baseline": float(np.mean(centre)),
        "n": len(maps),
    }
