"""A configurable convolutional network: the lectures' "Lego game" as one builder.

Convolution and pooling stages after LeCun et al. 1998 ("Gradient-based learning
applied to document recognition"), stacked small kernels as in VGG (Simonyan &
Zisserman 2015, arXiv:1409.1556), optional batch normalization (Ioffe & Szegedy
2015, arXiv:1502.03167) and optional identity/projection shortcuts (He et al. 2016,
"Deep residual learning", arXiv:1512.03385). Every choice a search space makes
(blocks, filters and kernel size per block, pooling placement, batch norm, dropout,
residual on/off) is a plain argument, so `tuning/` samples arguments and never
writes the architecture again. Inputs are what the pipeline's normalization gives;
outputs are logits.
"""

from __future__ import annotations

from typing import Literal

import keras
from keras import layers

from models.common import Activation, activation_layer, regularizer
from models.registry import register_model


def _per_block(value: int | list[int], blocks: int, what: str, grow: bool) -> list[int]:
    """One value per block: a list as given, or an int repeated (doubled if `grow`)."""
    if isinstance(value, list):
        if len(value) != blocks:
            raise ValueError(
                f"{what}: {len(value)} values for blocks={blocks}; give one value per "
                f"block or a single int; received {what}={value!r}"
            )
        return list(value)
    return [value * (2**i if grow else 1) for i in range(blocks)]


def _conv_block(x, i: int, *, filters: int, kernel: int, convs: int, opts: dict):
    """`convs` conv(-BN)-activation layers, plus a shortcut when `opts["residual"]`."""
    shortcut = x
    for j in range(1, convs + 1):
        x = layers.Conv2D(
            filters,
            kernel,
            padding="same",
            use_bias=not opts["batch_norm"],
            kernel_regularizer=opts["reg"],
            name=f"block{i}_conv{j}",
        )(x)
        if opts["batch_norm"]:
            x = layers.BatchNormalization(name=f"block{i}_bn{j}")(x)
        if not (opts["residual"] and j == convs):  # residual: activate after the add
            x = activation_layer(opts["activation"], layer_name=f"block{i}_act{j}")(x)
    if opts["residual"]:
        if shortcut.shape[-1] != filters:  # projection shortcut (He et al. option B)
            shortcut = layers.Conv2D(filters, 1, name=f"block{i}_proj")(shortcut)
        x = layers.Add(name=f"block{i}_add")([x, shortcut])
        x = activation_layer(opts["activation"], layer_name=f"block{i}_out")(x)
    return x


@register_model("cnn", gradcam_layer="features")
def cnn(
    *,
    input_shape: tuple[int, ...],
    num_classes: int,
    blocks: int = 2,
    filters: int | list[int] = 32,
    kernel_size: int | list[int] = 3,
    convs_per_block: int = 1,
    pooling: Literal["max", "avg"] = "max",
    pool_every: int = 1,
    batch_norm: bool = False,
    dropout: float = 0.0,
    residual: bool = False,
    activation: Activation = "relu",
    head: Literal["gap", "flatten"] = "gap",
    dense_units: int = 0,
    l2: float = 0.0,
) -> keras.Model:
    """Configurable CNN: `blocks` conv blocks, pooling, then a small classifier head.

    Args:
        blocks: number of conv blocks (each `convs_per_block` convolutions).
        filters: filters per block (list), or the first block's (int), doubled
            at each following block.
        kernel_size: kernel size per block (list) or for every block (int).
        pooling: "max" or "avg" 2x2 pooling ("same" padding, so a 1x1 map stays 1x1).
        pool_every: pool after every `pool_every`-th block; 0 never pools.
        batch_norm: batch normalization after each convolution.
        dropout: spatial dropout rate after each block and before the head's
            dense layers (0 disables).
        residual: add a shortcut around each block (1x1 projection when the
            number of channels changes).
        head: "gap" (global average pooling) or "flatten".
        dense_units: a hidden dense layer before the logits (0: none).
        l2: L2 penalty on every kernel.
    """
    if blocks < 1 or convs_per_block < 1 or pool_every < 0:
        raise ValueError(
            f"blocks and convs_per_block must be >= 1 and pool_every >= 0; received "
            f"blocks={blocks}, convs_per_block={convs_per_block}, pool_every={pool_every}"
        )
    if len(input_shape) == 2:  # grey images given as (H, W)
        input_shape = (*input_shape, 1)
    widths = _per_block(filters, blocks, "filters", grow=True)
    kernels = _per_block(kernel_size, blocks, "kernel_size", grow=False)
    opts = {
        "batch_norm": batch_norm,
        "residual": residual,
        "activation": activation,
        "reg": regularizer(0.0, l2),
    }
    pool = layers.MaxPooling2D if pooling == "max" else layers.AveragePooling2D
    inputs = keras.Input(input_shape, name="inputs")
    x = inputs
    for i, (width, kernel) in enumerate(zip(widths, kernels), start=1):
        x = _conv_block(x, i, filters=width, kernel=kernel, convs=convs_per_block, opts=opts)
        if pool_every and i % pool_every == 0:
            x = pool(2, padding="same", name=f"block{i}_pool")(x)
        if dropout:
            x = layers.SpatialDropout2D(dropout, name=f"block{i}_dropout")(x)
    x = layers.Identity(name="features")(x)  # a fixed name for Grad-CAM, whatever the depth
    if head == "gap":
        x = layers.GlobalAveragePooling2D(name="gap")(x)
    else:
        x = layers.Flatten(name="flatten")(x)
    if dense_units:
        x = layers.Dense(dense_units, kernel_regularizer=opts["reg"], name="head_dense")(x)
        x = activation_layer(activation, layer_name="head_act")(x)
        if dropout:
            x = layers.Dropout(dropout, name="head_dropout")(x)
    outputs = layers.Dense(num_classes, kernel_regularizer=opts["reg"], name="logits")(x)
    return keras.Model(inputs, outputs, name="cnn")
