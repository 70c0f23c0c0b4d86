"""Choices shared by builders: activations, initializers, regularizers by name.

Builders take these as strings so recipes and search spaces can set them.
"""

from __future__ import annotations

from typing import Literal

import keras
from keras import layers

Activation = Literal[
    "sigmoid", "tanh", "relu", "leaky_relu", "elu", "selu", "gelu", "softplus", "linear"
]
Initializer = Literal[
    "glorot_uniform", "glorot_normal", "he_normal", "he_uniform", "lecun_normal", "small_gaussian"
]


def activation_layer(name: str, *, layer_name: str | None = None) -> layers.Layer:
    """A layer applying activation `name`."""
    if name == "leaky_relu":
        return layers.LeakyReLU(negative_slope=0.2, name=layer_name)
    return layers.Activation(name, name=layer_name)


def initializer(name: str, seed: int | None = None) -> keras.initializers.Initializer:
    """Kernel initializer by name; `small_gaussian` is N(0, 0.01^2), the lecture's
    example of an initialization that makes deep tanh nets' activations vanish."""
    if name == "small_gaussian":
        return keras.initializers.RandomNormal(stddev=0.01, seed=seed)
    return keras.initializers.get({"class_name": name, "config": {"seed": seed}})


def regularizer(l1: float = 0.0, l2: float = 0.0) -> keras.regularizers.Regularizer | None:
    if not (l1 or l2):
        return None
    return keras.regularizers.L1L2(l1=l1, l2=l2)


def min_size_check(input_shape, minimum: int, model: str) -> None:
    """Fail at build time when the spatial size is too small for the architecture."""
    from pipelines.errors import UserError

    h, w = input_shape[0], input_shape[1]
    if h is not None and w is not None and min(h, w) < minimum:
        raise UserError(
            f"model {model!r} needs inputs of at least {minimum}x{minimum} "
            f"pixels, got {h}x{w}; set data.image_size"
        )
