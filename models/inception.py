"""Inception v1 / GoogLeNet (Szegedy et al. 2015, "Going deeper with convolutions",
arXiv:1409.4842): inception modules run 1x1, 3x3 and 5x5 convolutions and a pooling
branch side by side and concatenate them; 1x1 "reduce" convolutions before the 3x3 and
5x5 ones (and after the pooling) keep the cost down. Global average pooling head.

* `inception_v1`: the ImageNet network of Table 1 (modules 3a-5b, 224x224 inputs).
* `inception_v1_small`: the same modules for 32x32 inputs (a 3x3 stem of 192 channels
  and two poolings instead of the 7x7/2 stem and four poolings; the common CIFAR port).
* `googlenet`, `googlenet_small`: the same networks with the paper's two auxiliary
  classifiers (after 4a and 4d: 5x5/3 average pool, 1x1 conv 128, fc 1024, dropout
  0.7). Their core has three outputs `[logits, aux1, aux2]`; the `classify_aux` task
  (pipelines/tasks/deep_supervision.py) trains them with loss + 0.3 x each auxiliary loss and
  serves the main logits only, as in the paper.

`width` scales every module. Inputs: the pipeline's normalization; logits out.
"""

from __future__ import annotations

from collections.abc import Callable

import keras
from keras import layers

from models.blocks import LocalResponseNormalization, conv_unit, dense_unit
from models.common import Activation, Initializer, min_size_check
from models.registry import register_model

# Table 1: #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj
_MODULES = {
    "3a": (64, 96, 128, 16, 32, 32),
    "3b": (128, 128, 192, 32, 96, 64),
    "4a": (192, 96, 208, 16, 48, 64),
    "4b": (160, 112, 224, 24, 64, 64),
    "4c": (128, 128, 256, 24, 64, 64),
    "4d": (112, 144, 288, 32, 64, 64),
    "4e": (256, 160, 320, 32, 128, 128),
    "5a": (256, 160, 320, 32, 128, 128),
    "5b": (384, 192, 384, 48, 128, 128),
}
_POOL_AFTER = ("3b", "4e")
_AUX_AFTER = ("4a", "4d")


def inception_module(x, name: str, channels: tuple[int, ...], *, width: float, unit: dict):
    """One inception module: four branches concatenated on the channel axis."""
    n1, r3, n3, r5, n5, proj = (max(1, round(c * width)) for c in channels)
    b1 = conv_unit(x, n1, 1, name=f"{name}_1x1", **unit)
    b3 = conv_unit(x, r3, 1, name=f"{name}_3x3_reduce", **unit)
    b3 = conv_unit(b3, n3, 3, name=f"{name}_3x3", **unit)
    b5 = conv_unit(x, r5, 1, name=f"{name}_5x5_reduce", **unit)
    b5 = conv_unit(b5, n5, 5, name=f"{name}_5x5", **unit)
    bp = layers.MaxPooling2D(3, strides=1, padding="same", name=f"{name}_pool")(x)
    bp = conv_unit(bp, proj, 1, name=f"{name}_pool_proj", **unit)
    return layers.Concatenate(name=f"{name}_concat")([b1, b3, b5, bp])


def _stem(x, small: bool, width: float, lrn: bool, unit: dict):
    if small:
        return conv_unit(x, max(1, round(192 * width)), 3, name="conv1", **unit)
    x = conv_unit(x, max(1, round(64 * width)), 7, strides=2, name="conv1", **unit)
    x = layers.MaxPooling2D(3, strides=2, padding="same", name="pool1")(x)
    if lrn:
        x = LocalResponseNormalization(name="norm1")(x)
    x = conv_unit(x, max(1, round(64 * width)), 1, name="conv2_reduce", **unit)
    x = conv_unit(x, max(1, round(192 * width)), 3, name="conv2", **unit)
    if lrn:
        x = LocalResponseNormalization(name="norm2")(x)
    return layers.MaxPooling2D(3, strides=2, padding="same", name="pool2")(x)


def _aux_head(x, name: str, num_classes: int, width: float, unit: dict):
    x = layers.AveragePooling2D(5, strides=3, name=f"{name}_pool")(x)
    x = conv_unit(x, max(1, round(128 * width)), 1, name=f"{name}_conv", **unit)
    x = layers.Flatten(name=f"{name}_flatten")(x)
    x = dense_unit(
        x,
        max(1, round(1024 * width)),
        name=f"{name}_fc",
        activation=unit["activation"],
        init=unit["init"],
        dropout=0.7,
    )
    return layers.Dense(num_classes, name=f"{name}_logits")(x)


def _inception(
    name: str,
    *,
    input_shape,
    num_classes,
    small: bool,
    aux: bool,
    width: float,
    dropout: float,
    batch_norm: bool,
    activation: str,
    kernel_initializer: str,
) -> keras.Model:
    # Aux heads need 5x5 maps after 4a (stride 2 or 16 from the input).
    minimum = (9 if aux else 4) if small else (65 if aux else 32)
    min_size_check(input_shape, minimum, name)
    unit = {"activation": activation, "init": kernel_initializer, "batch_norm": batch_norm}
    inputs = keras.Input(input_shape, name="inputs")
    x = _stem(inputs, small, width, lrn=not batch_norm, unit=unit)
    aux_logits = []
    for module, channels in _MODULES.items():
        x = inception_module(x, f"inception{module}", channels, width=width, unit=unit)
        if aux and module in _AUX_AFTER:
            head = f"aux{len(aux_logits) + 1}"
            aux_logits.append(_aux_head(x, head, num_classes, width, unit))
        if module in _POOL_AFTER:
            x = layers.MaxPooling2D(3, strides=2, padding="same", name=f"pool{module[0]}")(x)
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    if dropout:
        x = layers.Dropout(dropout, name="head_dropout")(x)
    logits = layers.Dense(num_classes, name="logits")(x)
    return keras.Model(inputs, [logits, *aux_logits] if aux else logits, name=name)


def _variant(name: str, doc: str, *, small: bool, aux: bool) -> Callable[..., keras.Model]:
    size, classes = (32, 10) if small else (224, 1000)

    def builder(
        *,
        input_shape: tuple[int, ...] = (size, size, 3),
        num_classes: int = classes,
        width: float = 1.0,
        dropout: float = 0.4,
        batch_norm: bool = False,
        activation: Activation = "relu",
        kernel_initializer: Initializer = "glorot_uniform",
    ) -> keras.Model:
        return _inception(
            name,
            input_shape=input_shape,
            num_classes=num_classes,
            small=small,
            aux=aux,
            width=width,
            dropout=dropout,
            batch_norm=batch_norm,
            activation=activation,
            kernel_initializer=kernel_initializer,
        )

    builder.__name__ = builder.__qualname__ = name
    builder.__doc__ = (
        f"{doc}\n\n    Args:\n        width: multiplies every layer's channels.\n"
        "        dropout: before the classifier (0.4 in the paper).\n"
        "        batch_norm: conv -> BN -> activation instead of LRN (Inception v2's change).\n"
    )
    task = "classify_aux" if aux else "classify"
    return register_model(name, task=task, gradcam_layer="inception5b_concat")(builder)


inception_v1 = _variant(
    "inception_v1", "Inception v1 (GoogLeNet) for 224x224 inputs.", small=False, aux=False
)
inception_v1_small = _variant(
    "inception_v1_small", "Inception v1 modules for 32x32 inputs.", small=True, aux=False
)
googlenet = _variant(
    "googlenet", "GoogLeNet with its two auxiliary classifiers (224x224).", small=False, aux=True
)
googlenet_small = _variant(
    "googlenet_small", "GoogLeNet with auxiliary classifiers, 32x32.", small=True, aux=True
)
