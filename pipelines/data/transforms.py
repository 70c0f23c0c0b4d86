"""Normalization fitted on the training split and carried inside the model.

The model takes inputs in their raw range (uint8 pixels, raw features); the first
layer maps them to what the network expects. So an exported model needs no
preprocessing code, and attacks and explanations work on the raw input range.
"""

from __future__ import annotations

import keras
import numpy as np

from pipelines.data.spec import DataSpec


def fit_standardize(train_x) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Per-channel (last axis) mean and variance of a dataset of batches of x, via
    `keras.layers.Normalization.adapt` (streams, so large sets fit in memory)."""
    layer = keras.layers.Normalization(axis=-1)
    layer.adapt(train_x)
    mean = np.asarray(layer.mean).reshape(-1)
    variance = np.asarray(layer.variance).reshape(-1)
    return tuple(float(v) for v in mean), tuple(float(v) for v in variance)


def preprocess_layer(spec: DataSpec) -> keras.layers.Layer:
    """The normalization layer for `spec` (name "preprocess")."""
    lo, hi = spec.input_range
    span = (hi - lo) or 1.0
    if spec.normalize == "rescale":  # -> [0, 1]
        return keras.layers.Rescaling(1.0 / span, offset=-lo / span, name="preprocess")
    if spec.normalize == "tanh":  # -> [-1, 1]
        return keras.layers.Rescaling(2.0 / span, offset=-1.0 - 2.0 * lo / span, name="preprocess")
    if spec.normalize == "standardize":
        return keras.layers.Normalization(
            axis=-1, mean=list(spec.norm_mean), variance=list(spec.norm_variance), name="preprocess"
        )
    return keras.layers.Identity(name="preprocess")
