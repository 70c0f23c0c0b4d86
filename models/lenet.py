"""LeNet-5 (LeCun, Bottou, Bengio, Haffner 1998, "Gradient-based learning applied to
document recognition"). 32x32 grey input: C1-S2-C3-S4-C5-F6-output. The pipeline
resizes inputs to 32x32 (the registry's `input_size`); outputs are logits.
"""

from __future__ import annotations

from typing import Literal

import keras
from keras import layers

from models.common import Activation, activation_layer, min_size_check
from models.registry import register_model


@register_model("lenet5", input_size=(32, 32), gradcam_layer="c3_conv")
def lenet5(
    *,
    input_shape: tuple[int, ...] = (32, 32, 1),
    num_classes: int = 10,
    activation: Activation = "tanh",
    pooling: Literal["avg", "max"] = "avg",
    dropout: float = 0.0,
) -> keras.Model:
    """LeNet-5: two conv/subsampling stages, C5 (120), F6 (84), then the classifier.

    Args:
        activation: the 1998 paper used a scaled tanh; "relu" trains faster.
        pooling: "avg" is the paper's subsampling; "max" is the modern choice.
        dropout: before the classifier (0 disables; not in the original).
    """
    min_size_check(input_shape, 32, "lenet5")
    pool = layers.AveragePooling2D if pooling == "avg" else layers.MaxPooling2D
    inputs = keras.Input(input_shape, name="inputs")
    x = layers.Conv2D(6, 5, name="c1_conv")(inputs)
    x = activation_layer(activation, layer_name="c1_act")(x)
    x = pool(2, name="s2_pool")(x)
    x = layers.Conv2D(16, 5, name="c3_conv")(x)
    x = activation_layer(activation, layer_name="c3_act")(x)
    x = pool(2, name="s4_pool")(x)
    x = layers.Conv2D(120, 5, name="c5_conv")(x)  # 1x1 maps at 32x32 input
    x = activation_layer(activation, layer_name="c5_act")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(84, name="f6_dense")(x)
    x = activation_layer(activation, layer_name="f6_act")(x)
    if dropout:
        x = layers.Dropout(dropout, name="f6_dropout")(x)
    outputs = layers.Dense(num_classes, name="logits")(x)
    return keras.Model(inputs, outputs, name="lenet5")
