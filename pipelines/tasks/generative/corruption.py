"""The denoising autoencoder's corruption, made in tf.data (Vincent et al. 2008)."""

from __future__ import annotations

from typing import Any

import tensorflow as tf


def corruption_fn(corruption: dict[str, Any], input_range: tuple[float, float], seed: int):
    """Batch (x, y) -> ((x_corrupted, x), y), in the raw range (Vincent et al. 2008)."""
    lo, hi = input_range
    kind, level = corruption["kind"], float(corruption["level"])
    generator = tf.random.Generator.from_seed(seed)

    def corrupt(x, y):
        if kind == "masking":
            keep = generator.uniform(tf.shape(x)) >= level
            noisy = tf.where(keep, x, tf.cast(lo, x.dtype))
        else:
            noisy = x + generator.normal(tf.shape(x)) * (level * (hi - lo))
            noisy = tf.clip_by_value(noisy, lo, hi)
        return (noisy, x), y

    return corrupt
