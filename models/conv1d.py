"""1-D convolutional classifiers: convolutions over time (Kim 2014, "Convolutional
Neural Networks for Sentence Classification"; the MNIST-1D paper's CNN, Greydanus 2020).

Token ids are embedded; with stride 1 the padding is zeroed after every convolution
and ignored by the pooling, so padded and unpadded inputs give the same logits.
Strided convolutions (MNIST-1D's) shift with the input length, so there padding is
not masked. Numeric sequences (steps, features) go in as they are; outputs are logits.
"""

from __future__ import annotations

from typing import Literal

import keras

from models.common import Activation, activation_layer
from models.registry import register_model
from models.sequence_common import classifier_head, pool, sequence_inputs, zero_padding


def _per_layer(value: int | list[int], n: int, what: str) -> list[int]:
    if isinstance(value, int):
        return [value] * n
    if len(value) != n:
        raise ValueError(f"{what}: give one value or {n} (one per layer); received {value!r}")
    return list(value)


@register_model("conv1d", task="sequence")
def conv1d(
    *,
    input_shape: tuple[int | None, ...],
    num_classes: int,
    vocab_size: int | None = None,
    layers: int = 2,
    filters: int | list[int] = 64,
    kernel_size: int | list[int] = 5,
    strides: int | list[int] = 1,
    activation: Activation = "relu",
    pooling: Literal["max", "mean", "flatten"] = "max",
    embedding_dim: int = 64,
    dropout: float = 0.0,
    hidden: int = 0,
) -> keras.Model:
    """Stacked Conv1D ("same" padding), then pooling over time and the classifier.

    Args:
        layers: number of convolutions.
        filters, kernel_size, strides: one value, or one per convolution.
        pooling: "max"/"mean" over time (padding ignored) or "flatten" (fixed length).
        hidden: units of a ReLU layer before the logits (0: none).
    """
    n = layers
    widths = _per_layer(filters, n, "filters")
    kernels = _per_layer(kernel_size, n, "kernel_size")
    steps = _per_layer(strides, n, "strides")
    inputs, x, mask = sequence_inputs(input_shape, vocab_size, embedding_dim)
    if any(s > 1 for s in steps):
        mask = None  # see the module docstring
    for i, (width, kernel, stride) in enumerate(zip(widths, kernels, steps), start=1):
        x = keras.layers.Conv1D(width, kernel, strides=stride, padding="same", name=f"conv{i}")(x)
        x = zero_padding(activation_layer(activation, layer_name=f"conv{i}_act")(x), mask)
    x = pool(x, mask, pooling)
    outputs = classifier_head(x, num_classes, dropout, hidden)
    return keras.Model(inputs, outputs, name="conv1d")
