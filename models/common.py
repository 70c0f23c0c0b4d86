"""Choices shared by builders: activations, initializers, regularizers by name.

Builders take these as strings so recipes and search spaces can set them.
"""

from __future__ import annotations

from typing import Literal

import keras
from keras import layers, ops

# Element-wise activations keep the width; maxout does not (see `Maxout`), so blocks
# that add tensors after the activation (residual blocks) take `ElementwiseActivation`.
ElementwiseActivation = Literal[
    "sigmoid", "tanh", "relu", "leaky_relu", "elu", "selu", "gelu", "softplus", "linear"
]
Activation = Literal[ElementwiseActivation, "maxout"]
MAXOUT_PIECES = 2
Initializer = Literal[
    "glorot_uniform", "glorot_normal", "he_normal", "he_uniform", "lecun_normal", "small_gaussian"
]


@keras.saving.register_keras_serializable(package="dlzoo")
class Maxout(layers.Layer):
    """Maxout (Goodfellow et al. 2013, arXiv:1302.4389): each unit is the max of
    `pieces` linear pieces, taken over groups of consecutive channels (last axis).

    Keras has no Maxout layer (tensorflow-addons had one), so it is written here.
    A layer of C channels gives C / pieces units: builders ask the layer before it
    for `widen(activation, units)` channels so the width they document is kept.
    """

    def __init__(self, pieces: int = MAXOUT_PIECES, **kwargs) -> None:
        super().__init__(**kwargs)
        self.pieces = pieces

    def call(self, x):
        channels = x.shape[-1]
        if channels % self.pieces:
            raise ValueError(f"Maxout: {channels} channels are not a multiple of {self.pieces}")
        shape = ops.shape(x)
        grouped = ops.reshape(x, (*shape[:-1], channels // self.pieces, self.pieces))
        return ops.max(grouped, axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], input_shape[-1] // self.pieces)

    def get_config(self) -> dict:
        return {**super().get_config(), "pieces": self.pieces}


def widen(activation: str, units: int) -> int:
    """Channels the layer before `activation` needs so that `units` come out of it."""
    return units * MAXOUT_PIECES if activation == "maxout" else units


def activation_layer(name: str, *, layer_name: str | None = None) -> layers.Layer:
    """A layer applying activation `name` (`maxout` divides the channels by
    `MAXOUT_PIECES`; see `widen`)."""
    if name == "maxout":
        return Maxout(MAXOUT_PIECES, name=layer_name)
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
    h, w = input_shape[0], input_shape[1]
    if h is not None and w is not None and min(h, w) < minimum:
        raise ValueError(
            f"model {model!r} needs inputs of at least {minimum}x{minimum} "
            f"pixels; received input_shape={tuple(input_shape)}"
        )
