"""Shared pieces of the sequence families: inputs (token ids or numeric steps),
embedding with a padding mask, and pooling over time that ignores padding.

Token ids use 0 for padding (`pipelines.data.text`), so `Embedding(mask_zero=True)`
gives the mask that recurrent layers follow; pooling and convolutions here apply it
explicitly, so padded and unpadded inputs give the same output.
"""

from __future__ import annotations

from typing import Literal

import keras
from keras import layers, ops

Pooling = Literal["last", "mean", "max", "flatten"]


def sequence_inputs(
    input_shape: tuple[int | None, ...], vocab_size: int | None, embedding_dim: int
) -> tuple[keras.KerasTensor, keras.KerasTensor, keras.KerasTensor | None]:
    """(model input, sequence [batch, steps, features], padding mask or None).

    Token ids (`vocab_size` given) are embedded with padding zeroed and masked.
    Numeric inputs: (steps, features) as is; (steps,) becomes (steps, 1); images
    (rows, cols, channels) become one step per row, as in RNNs read MNIST row by row.
    """
    if vocab_size:
        inputs = keras.Input(input_shape, dtype="int32", name="tokens")
        x = layers.Embedding(vocab_size, embedding_dim, mask_zero=True, name="embedding")(inputs)
        mask = ops.not_equal(inputs, 0)
        return inputs, zero_padding(x, mask), mask
    inputs = keras.Input(input_shape, name="inputs")
    if len(input_shape) == 1:
        return inputs, layers.Reshape((input_shape[0], 1), name="as_steps")(inputs), None
    if len(input_shape) == 3:
        rows, cols, channels = input_shape
        return inputs, layers.Reshape((rows, cols * channels), name="rows_as_steps")(inputs), None
    return inputs, inputs, None


def zero_padding(x, mask):
    """x with padded steps set to 0 (a convolution then sees what an unpadded input
    sees beyond its end: zeros)."""
    if mask is None:
        return x
    return x * ops.expand_dims(ops.cast(mask, x.dtype), -1)


def pool(x, mask, mode: str, *, name: str = "pool"):
    """[batch, steps, features] -> [batch, features] ("flatten": steps * features).

    "mean" and "max" skip padded steps; "last" expects the recurrent layer to have
    returned its final (masked) state already and is not handled here.
    """
    if mode == "flatten":
        return layers.Flatten(name=name)(x)
    if mask is None:
        reduce = layers.GlobalAveragePooling1D if mode == "mean" else layers.GlobalMaxPooling1D
        return reduce(name=name)(x)
    weights = ops.expand_dims(ops.cast(mask, x.dtype), -1)
    if mode == "mean":
        return ops.sum(x * weights, axis=1) / ops.maximum(ops.sum(weights, axis=1), 1.0)
    lowest = ops.min(x) - 1.0
    best = ops.max(ops.where(weights > 0, x, lowest), axis=1)
    return ops.where(ops.any(weights > 0, axis=1), best, ops.zeros_like(best))


def classifier_head(x, num_classes: int, dropout: float, hidden: int = 0):
    """Optional hidden Dense, dropout, then the logits layer."""
    if hidden:
        x = layers.Dense(hidden, activation="relu", name="hidden")(x)
    if dropout:
        x = layers.Dropout(dropout, name="head_dropout")(x)
    return layers.Dense(num_classes, name="logits")(x)
