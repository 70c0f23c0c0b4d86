"""VGG (Simonyan & Zisserman 2015, "Very deep convolutional networks for large-scale
image recognition", arXiv:1409.1556): stacks of 3x3 convolutions, 2x2 max-pooling
after each of five stages, three fully connected layers.

Configurations A/B/D/E are `vgg11`/`vgg13`/`vgg16`/`vgg19`. Layer names follow
keras.applications (`block5_conv3`, `fc1`, `fc2`; the classifier is `logits`), and at
224x224x3 with 1000 classes `vgg16` has exactly keras.applications.VGG16's 138,357,544
parameters. `width` scales every stage (64 is the paper) and `fc_units` the FC layers
(4096), for small data. Inputs: what the pipeline's normalization gives; logits out.
"""

from __future__ import annotations

from collections.abc import Callable

import keras
from keras import layers

from models.blocks import conv_unit, dense_unit
from models.common import Activation, Initializer, min_size_check
from models.registry import register_model

# Convolutions per stage (Table 1 of the paper) and the stages' widths.
_CONVS = {
    "vgg11": (1, 1, 2, 2, 2),
    "vgg13": (2, 2, 2, 2, 2),
    "vgg16": (2, 2, 3, 3, 3),
    "vgg19": (2, 2, 4, 4, 4),
}
_WIDTHS = (64, 128, 256, 512, 512)
MIN_SIZE = 32  # five 2x2 poolings


def _vgg(
    name: str,
    *,
    input_shape: tuple[int, ...],
    num_classes: int,
    width: int,
    fc_units: int,
    dropout: float,
    batch_norm: bool,
    activation: str,
    kernel_initializer: str,
) -> keras.Model:
    min_size_check(input_shape, MIN_SIZE, name)
    inputs = keras.Input(input_shape, name="inputs")
    x = inputs
    for stage, (convs, base) in enumerate(zip(_CONVS[name], _WIDTHS), start=1):
        filters = max(1, round(base * width / 64))
        for i in range(1, convs + 1):
            x = conv_unit(
                x,
                filters,
                3,
                name=f"block{stage}_conv{i}",
                activation=activation,
                init=kernel_initializer,
                batch_norm=batch_norm,
            )
        x = layers.MaxPooling2D(2, name=f"block{stage}_pool")(x)
    x = layers.Flatten(name="flatten")(x)
    for i in (1, 2):
        x = dense_unit(
            x,
            fc_units,
            name=f"fc{i}",
            activation=activation,
            init=kernel_initializer,
            dropout=dropout,
        )
    outputs = layers.Dense(num_classes, name="logits")(x)
    return keras.Model(inputs, outputs, name=name)


def _variant(name: str, doc: str) -> Callable[..., keras.Model]:
    def builder(
        *,
        input_shape: tuple[int, ...] = (224, 224, 3),
        num_classes: int = 1000,
        width: int = 64,
        fc_units: int = 4096,
        dropout: float = 0.5,
        batch_norm: bool = False,
        activation: Activation = "relu",
        kernel_initializer: Initializer = "glorot_uniform",
    ) -> keras.Model:
        return _vgg(
            name,
            input_shape=input_shape,
            num_classes=num_classes,
            width=width,
            fc_units=fc_units,
            dropout=dropout,
            batch_norm=batch_norm,
            activation=activation,
            kernel_initializer=kernel_initializer,
        )

    builder.__name__ = builder.__qualname__ = name
    builder.__doc__ = (
        f"{doc}\n\n    Args:\n        width: channels of the first stage (64 in the paper; the"
        " others scale with it).\n        fc_units: units of fc1 and fc2 (4096).\n"
        "        dropout: after fc1 and fc2 (0.5 in the paper).\n"
        "        batch_norm: conv -> BN -> activation (the later `vgg*_bn` variants).\n"
    )
    last = _CONVS[name][-1]
    return register_model(name, gradcam_layer=f"block5_conv{last}")(builder)


vgg11 = _variant("vgg11", "VGG-11 (configuration A): 8 conv + 3 FC layers.")
vgg13 = _variant("vgg13", "VGG-13 (configuration B): 10 conv + 3 FC layers.")
vgg16 = _variant("vgg16", "VGG-16 (configuration D): 13 conv + 3 FC layers.")
vgg19 = _variant("vgg19", "VGG-19 (configuration E): 16 conv + 3 FC layers.")
