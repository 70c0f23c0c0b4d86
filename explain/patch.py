"""Adversarial patch (Brown, Mane, Roy, Abadi, Gilmer 2017, arXiv:1712.09665).

A small square of pixels, optimized over many training images at random places,
that makes the model predict one target class wherever it is pasted. Unlike the
epsilon-bounded attacks it is not small, but it is universal: one patch for every
image. Its success rate is measured on held-out images at random places, against a
control patch of random noise of the same size.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import tensorflow as tf

from common.errors import UserError
from explain.adapter import as_scorer


def patch_side(input_shape: tuple[int, ...], size: float) -> int:
    if len(input_shape) != 3:
        raise UserError(f"an adversarial patch needs image inputs, got shape {input_shape}")
    return max(1, int(round(size * min(input_shape[:2]))))


def apply_patch(x: np.ndarray, patch: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """`x` with `patch` pasted at (rows[i], cols[i]) in image i."""
    out = np.array(x, np.float32, copy=True)
    p = patch.shape[0]
    for i, (r, c) in enumerate(zip(rows, cols)):
        out[i, r : r + p, c : c + p] = patch
    return out


def random_places(rng: np.random.Generator, n: int, input_shape, side: int):
    h, w = input_shape[:2]
    return rng.integers(0, h - side + 1, n), rng.integers(0, w - side + 1, n)


def train_patch(
    model: Any,
    x: np.ndarray,
    *,
    target: int,
    size: float = 0.3,
    epochs: int = 5,
    learning_rate: float = 0.05,
    batch_size: int = 64,
    seed: int = 0,
    verbose: bool = False,
    **kw: Any,
) -> np.ndarray:
    """Optimize a (side, side, channels) patch in raw units pushing towards `target`.

    Each step pastes the patch at one random place in a batch of images and takes
    an Adam step (learning rate = `learning_rate` x the input range) on the
    target-class cross-entropy; the patch is clipped to valid inputs after each step.
    """
    scorer = as_scorer(model, **kw)
    x = scorer.check_inputs(x)
    lo, hi = scorer.range()
    side = patch_side(scorer.input_shape, size)
    h, w, c = scorer.input_shape
    rng = np.random.default_rng(seed)
    patch = keras.Variable(rng.uniform(lo, hi, (side, side, c)).astype(np.float32), name="patch")
    optimizer = keras.optimizers.Adam(learning_rate * (hi - lo))
    labels = tf.fill([batch_size], int(target))

    @tf.function(reduce_retracing=True)
    def step(images, r, col):
        with tf.GradientTape() as tape:
            canvas = tf.image.pad_to_bounding_box(patch, r, col, h, w)
            mask = tf.image.pad_to_bounding_box(tf.ones_like(patch), r, col, h, w)
            patched = images * (1 - mask) + canvas * mask
            logits = scorer.logits(patched)
            loss = tf.reduce_mean(
                tf.nn.sparse_softmax_cross_entropy_with_logits(
                    labels[: tf.shape(images)[0]], logits
                )
            )
        optimizer.apply([tape.gradient(loss, patch)], [patch])
        patch.assign(tf.clip_by_value(patch, lo, hi))
        return loss

    steps = epochs * -(-len(x) // batch_size)
    bar = keras.utils.Progbar(steps, unit_name="step") if verbose else None
    for _ in range(epochs):
        order = rng.permutation(len(x))
        for i in range(0, len(x), batch_size):
            (r,), (col,) = random_places(rng, 1, scorer.input_shape, side)
            loss = step(
                tf.constant(x[order[i : i + batch_size]]),
                tf.constant(int(r)),
                tf.constant(int(col)),
            )
            if bar is not None:
                bar.add(1, values=[("loss", float(loss))])
    return np.asarray(patch.numpy())


def patch_success(
    model: Any,
    x: np.ndarray,
    y: np.ndarray,
    patch: np.ndarray,
    *,
    target: int,
    placements: int = 4,
    seed: int = 0,
    **kw: Any,
) -> dict[str, float]:
    """Targeted success rate on images not of class `target`, `placements` random
    places each; the same for a random-noise control patch of the same size."""
    scorer = as_scorer(model, **kw)
    x = scorer.check_inputs(x)
    keep = np.asarray(y).reshape(-1) != target
    x = x[keep]
    if not len(x):
        raise UserError(f"no held-out images outside the target class {target}")
    lo, hi = scorer.range()
    rng = np.random.default_rng(seed)
    control = rng.uniform(lo, hi, patch.shape).astype(np.float32)
    side = patch.shape[0]
    rates = {"success_rate": [], "control_success_rate": []}
    for _ in range(placements):
        rows, cols = random_places(rng, len(x), scorer.input_shape, side)
        for key, p in (("success_rate", patch), ("control_success_rate", control)):
            predicted = scorer.predict(apply_patch(x, p, rows, cols)).argmax(-1)
            rates[key].append(np.mean(predicted == target))
    clean = float(np.mean(scorer.predict(x).argmax(-1) == target))
    return {
        **{k: float(np.mean(v)) for k, v in rates.items()},
        "clean_target_rate": clean,
        "patch_fraction_of_image": float(side * side / np.prod(scorer.input_shape[:2])),
        "n": int(len(x)),
    }
