"""AlexNet (Krizhevsky, Sutskever, Hinton 2012, "ImageNet classification with deep
convolutional neural networks", NeurIPS): five convolutions with ReLU, local response
normalization after the first two, *overlapping* max-pooling (3x3, stride 2), and two
dropout-regularized fully connected layers.

`alexnet` is the single-stream ImageNet network (96-256-384-384-256 filters, 227x227
input; the paper split it over two GPUs, which changes nothing but the grouping);
`alexnet_small` keeps the layout for 32x32 images (5x5/stride-1 first layer, padded
pooling, as in cuda-convnet's CIFAR-10 nets). `normalization` swaps LRN for batch norm
(what later nets use) or nothing. Inputs: the pipeline's normalization; logits out.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Literal

import keras
from keras import layers

from models.blocks import LocalResponseNormalization, conv_unit, dense_unit
from models.common import Activation, Initializer, min_size_check
from models.registry import register_model

Normalization = Literal["lrn", "batch_norm", "none"]


@dataclasses.dataclass(frozen=True)
class _Layout:
    convs: tuple[tuple[int, int, int], ...]  # (filters, kernel, stride) of conv1..conv5
    padding: str  # of conv1 and of the poolings
    fc_units: int
    min_size: int


_LAYOUTS = {
    # 227 -> conv1 55 -> pool 27 -> pool 13 -> pool 6: 6x6x256 into fc6, as in the paper
    "alexnet": _Layout(
        ((96, 11, 4), (256, 5, 1), (384, 3, 1), (384, 3, 1), (256, 3, 1)), "valid", 4096, 67
    ),
    # 32 -> 16 -> 8 -> 4
    "alexnet_small": _Layout(
        ((64, 5, 1), (192, 5, 1), (384, 3, 1), (256, 3, 1), (256, 3, 1)), "same", 1024, 8
    ),
}
_POOL_AFTER = (1, 2, 5)
_NORM_AFTER = (1, 2)


def _alexnet(
    name: str,
    *,
    input_shape: tuple[int, ...],
    num_classes: int,
    width: float,
    fc_units: int | None,
    dropout: float,
    normalization: str,
    activation: str,
    kernel_initializer: str,
) -> keras.Model:
    layout = _LAYOUTS[name]
    min_size_check(input_shape, layout.min_size, name)
    inputs = keras.Input(input_shape, name="inputs")
    x = inputs
    for i, (filters, kernel, stride) in enumerate(layout.convs, start=1):
        x = conv_unit(
            x,
            max(1, round(filters * width)),
            kernel,
            strides=stride,
            padding=layout.padding if i == 1 else "same",
            name=f"conv{i}",
            activation=activation,
            init=kernel_initializer,
            batch_norm=normalization == "batch_norm",
        )
        if normalization == "lrn" and i in _NORM_AFTER:
            x = LocalResponseNormalization(name=f"norm{i}")(x)
        if i in _POOL_AFTER:  # overlapping pooling: 3x3 windows, stride 2
            x = layers.MaxPooling2D(3, strides=2, padding=layout.padding, name=f"pool{i}")(x)
    x = layers.Flatten(name="flatten")(x)
    for i in (6, 7):
        x = dense_unit(
            x,
            fc_units or layout.fc_units,
            name=f"fc{i}",
            activation=activation,
            init=kernel_initializer,
            dropout=dropout,
        )
    outputs = layers.Dense(num_classes, name="logits")(x)
    return keras.Model(inputs, outputs, name=name)


def _variant(name: str, doc: str, size: int, classes: int) -> Callable[..., keras.Model]:
    def builder(
        *,
        input_shape: tuple[int, ...] = (size, size, 3),
        num_classes: int = classes,
        width: float = 1.0,
        fc_units: int | None = None,
        dropout: float = 0.5,
        normalization: Normalization = "lrn",
        activation: Activation = "relu",
        kernel_initializer: Initializer = "glorot_uniform",
    ) -> keras.Model:
        return _alexnet(
            name,
            input_shape=input_shape,
            num_classes=num_classes,
            width=width,
            fc_units=fc_units,
            dropout=dropout,
            normalization=normalization,
            activation=activation,
            kernel_initializer=kernel_initializer,
        )

    builder.__name__ = builder.__qualname__ = name
    builder.__doc__ = (
        f"{doc}\n\n    Args:\n        width: multiplies every conv layer's filters.\n"
        f"        fc_units: units of fc6 and fc7 (default {_LAYOUTS[name].fc_units}).\n"
        "        dropout: after fc6 and fc7 (0.5 in the paper).\n"
        "        normalization: lrn (the paper), batch_norm or none.\n"
    )
    return register_model(name, gradcam_layer="conv5")(builder)


alexnet = _variant("alexnet", "AlexNet (2012), single stream, 227x227 inputs.", 227, 1000)
alexnet_small = _variant("alexnet_small", "AlexNet's layout for 32x32 inputs.", 32, 10)
