"""Dense networks: the perceptron (Rosenblatt 1958; softmax regression) and the MLP.

Inputs are whatever the pipeline's normalization produces; outputs are logits.
"""

from __future__ import annotations

import keras
from keras import layers

from models.common import (
    Activation,
    Initializer,
    activation_layer,
    initializer,
    regularizer,
    widen,
)
from models.registry import register_model


@register_model("perceptron")
def perceptron(*, input_shape: tuple[int, ...], num_classes: int) -> keras.Model:
    """Single-layer perceptron: logistic / softmax regression on the flattened input."""
    inputs = keras.Input(input_shape, name="inputs")
    x = layers.Flatten(name="flatten")(inputs)
    outputs = layers.Dense(num_classes, name="logits")(x)
    return keras.Model(inputs, outputs, name="perceptron")


@register_model("mlp")
def mlp(
    *,
    input_shape: tuple[int, ...],
    num_classes: int,
    depth: int = 2,
    width: int | list[int] = 128,
    activation: Activation = "relu",
    dropout: float = 0.0,
    batch_norm: bool = False,
    l1: float = 0.0,
    l2: float = 0.0,
    kernel_initializer: Initializer = "glorot_uniform",
) -> keras.Model:
    """Multi-layer perceptron: `depth` hidden Dense layers of `width` units.

    Args:
        width: one width for every hidden layer, or a list (then `depth` is ignored).
        dropout: dropout rate after each hidden layer (0 disables).
        batch_norm: batch normalization before each activation.
        l1, l2: weight penalties on every kernel.
        kernel_initializer: see `models.common.initializer`.
    """
    widths = list(width) if isinstance(width, list) else [width] * depth
    inputs = keras.Input(input_shape, name="inputs")
    x = layers.Flatten(name="flatten")(inputs)
    for i, units in enumerate(widths, start=1):
        x = layers.Dense(
            widen(activation, units),  # maxout keeps `units` after its max
            use_bias=not batch_norm,
            name=f"dense{i}",
            kernel_initializer=initializer(kernel_initializer),
            kernel_regularizer=regularizer(l1, l2),
        )(x)
        if batch_norm:
            x = layers.BatchNormalization(name=f"dense{i}_bn")(x)
        x = activation_layer(activation, layer_name=f"dense{i}_act")(x)
        if dropout:
            x = layers.Dropout(dropout, name=f"dense{i}_dropout")(x)
    outputs = layers.Dense(num_classes, name="logits", kernel_regularizer=regularizer(l1, l2))(x)
    return keras.Model(inputs, outputs, name="mlp")
